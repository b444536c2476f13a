//! `make bench`: how fast the sign-in is and how much it costs, against the real local identity
//! provider (`dev/idp`) over real HTTP on loopback, printed as one JSON line per figure:
//!
//! - `sign_in`: N sign-ins (the browser's part untimed); median and p95 wall time of the engine's
//!   `complete_sign_in` (code exchange, ID token validation, the profile), and the client CPU per
//!   sign-in, all threads of this process (the process CPU-time clock), split into the part until the
//!   app shows the user signed in (`finish_sign_in`: code exchange, ID token validation, save) and
//!   the userinfo that follows (`load_profile`); next to them, the CPU of one bare request with the
//!   same HTTP client, the floor under each round trip, back to back and after 5 ms of idle;
//! - `time_to_profile`: from the callback to the app's first signed-in state, with the vault's durable
//!   save (a file) and without it (memory);
//! - `restore`: start-up's `restore()` from a file and from the Secret Service (gnome-keyring on a
//!   private bus), median time, and how many requests reached the identity provider (must be 0);
//! - `refresh_fan_in`: 1, 10 and 100 concurrent API calls on an expired access token: the refresh
//!   requests that reach the identity provider (must be 1) and the wall time;
//! - `footprint`: size of the release binary of the app and of an empty Tauri window built with the same
//!   profile, and the idle memory of each window after start-up (needs an X display: `make bench` runs
//!   under Xvfb).
//!
//! Every figure runs as a task on a worker of the runtime, as the app's sign-in does on Tauri's.
//!
//! `bench [--sign-ins N] [--only FIGURE]`

mod cpu;
mod footprint;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use native_oidc::{Auth, Config, OidcClient, PendingAuthorizations, SessionStore, SignInOptions};
use serde_json::{json, Value};
use tauri_plugin_oidc_core::{AuthView, Controller, Platform};
use testkit::{Browser, Idp, IdpOptions, LoginAction, SessionBus, CLIENT_ID};
use url::Url;

const REDIRECT: &str = "com.okta.example:/callback";

/// Prints one figure.
fn report(figure: &str, mut fields: Value) {
    fields["figure"] = figure.into();
    println!("{fields}");
}

/// Median and 95th percentile of `samples`, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |p: f64| {
        let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
        samples[index].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.95))
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn config(idp: &Idp) -> Config {
    Config::new(idp.issuer(), CLIENT_ID, REDIRECT).unwrap()
}

/// The callback of a sign-in: the browser's part, untimed.
async fn callback(auth: &Auth) -> (String, PendingAuthorizations) {
    let request = auth.begin_sign_in(SignInOptions::default()).await.unwrap();
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let url = Browser::new()
        .open(request.url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    (url.to_string(), pending)
}

async fn sign_in(idp: &Idp, n: usize) {
    let auth = Auth::new(
        OidcClient::new(config(idp)).unwrap(),
        SessionStore::memory(),
    );
    for _ in 0..5 {
        let (url, mut pending) = callback(&auth).await;
        auth.complete_sign_in(&url, &mut pending).await.unwrap();
    }
    let mut wall = Vec::with_capacity(n);
    let (mut cpu_first_round_trip, mut cpu_userinfo) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..n {
        let (url, mut pending) = callback(&auth).await;
        // `complete_sign_in` is these two steps; timed apart, they show what the app's critical path
        // (the first) costs.
        let (cpu_before, started) = (cpu::used(), Instant::now());
        auth.finish_sign_in(&url, &mut pending).await.unwrap();
        let cpu_between = cpu::used();
        auth.load_profile().await.unwrap();
        wall.push(started.elapsed());
        let cpu_after = cpu::used();
        cpu_first_round_trip += cpu_between - cpu_before;
        cpu_userinfo += cpu_after - cpu_between;
    }
    let (median, p95) = percentiles(&mut wall);
    let per_sign_in = |cpu: Duration| round(cpu.as_secs_f64() * 1000.0 / n as f64);
    // The floor under those figures: one bare request with the engine's HTTP client to the same
    // server (the discovery document), nothing parsed; back to back, and after 5 ms without work,
    // as each request of a sign-in comes (after the browser, after the identity provider's wait).
    let http = native_oidc::HttpClient::new().unwrap();
    let discovery = format!("{}/.well-known/openid-configuration", idp.issuer());
    let bare_back_to_back = bare_requests(&http, &discovery, n, Duration::ZERO).await;
    let bare_after_idle = bare_requests(&http, &discovery, n, Duration::from_millis(5)).await;
    report(
        "sign_in",
        json!({
            "n": n,
            "complete_sign_in_median_ms": round(median),
            "complete_sign_in_p95_ms": round(p95),
            "client_cpu_ms_per_sign_in": per_sign_in(cpu_first_round_trip + cpu_userinfo),
            "client_cpu_ms_until_signed_in": per_sign_in(cpu_first_round_trip),
            "client_cpu_ms_userinfo": per_sign_in(cpu_userinfo),
            "client_cpu_ms_bare_http_request": per_sign_in(bare_back_to_back),
            "client_cpu_ms_bare_http_request_after_idle": per_sign_in(bare_after_idle),
            "store": "memory",
        }),
    );
}

/// The client CPU of `n` bare GETs of `url`, each after `idle` without work.
async fn bare_requests(
    http: &native_oidc::HttpClient,
    url: &str,
    n: usize,
    idle: Duration,
) -> Duration {
    let mut used = Duration::ZERO;
    for _ in 0..n {
        if !idle.is_zero() {
            tokio::time::sleep(idle).await;
        }
        let before = cpu::used();
        let response = http.reqwest().get(url).send().await.unwrap();
        response.bytes().await.unwrap();
        used += cpu::used() - before;
    }
    used
}

/// Records when the app first shows a signed-in state, and the URL it opens in the browser.
#[derive(Clone, Default)]
struct Watch {
    shown: Arc<Mutex<Option<Instant>>>,
    opened: Arc<Mutex<Option<Url>>>,
}

impl Platform for Watch {
    fn open_browser(&self, url: &Url) -> Result<(), String> {
        *self.opened.lock().unwrap() = Some(url.clone());
        Ok(())
    }
    fn state_changed(&self, view: &AuthView) {
        let mut shown = self.shown.lock().unwrap();
        if view.is_signed_in() && shown.is_none() {
            *shown = Some(Instant::now());
        }
    }
}

async fn time_to_profile(idp: &Idp, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    for (store, durable) in [
        (SessionStore::file(dir.path().join("session.json")), true),
        (SessionStore::memory(), false),
    ] {
        let watch = Watch::default();
        let app = Controller::new(
            Auth::new(OidcClient::new(config(idp)).unwrap(), store),
            watch.clone(),
            None,
        );
        app.start().await;
        let mut samples = Vec::with_capacity(n);
        for round in 0..n + 3 {
            app.sign_in(None).await.unwrap();
            let opened = watch
                .opened
                .lock()
                .unwrap()
                .clone()
                .expect("the sign-in page");
            let url = Browser::new()
                .open(opened.as_str(), &LoginAction::demo())
                .await
                .app_redirect();
            *watch.shown.lock().unwrap() = None;
            let started = Instant::now();
            app.handle_url(url.as_str()).await;
            let shown = watch.shown.lock().unwrap().expect("a signed-in state");
            if round >= 3 {
                samples.push(shown - started);
            }
        }
        let (median, p95) = percentiles(&mut samples);
        report(
            "time_to_profile",
            json!({
                "n": n,
                "save": if durable { "file, fsync" } else { "none (memory)" },
                "median_ms": round(median),
                "p95_ms": round(p95),
            }),
        );
    }
}

/// A session signed in and stored in `store`, restored `n` times by new `Auth`s.
async fn restore(idp: &Idp, n: usize, what: &str, store: impl Fn() -> SessionStore) {
    let first = Auth::new(OidcClient::new(config(idp)).unwrap(), store());
    let (url, mut pending) = callback(&first).await;
    first.complete_sign_in(&url, &mut pending).await.unwrap();
    let requests = idp.request_count().await;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let auth = Auth::new(OidcClient::new(config(idp)).unwrap(), store());
        let started = Instant::now();
        let restored = auth.restore().await.unwrap();
        samples.push(started.elapsed());
        assert!(restored.is_some());
    }
    let (median, p95) = percentiles(&mut samples);
    report(
        "restore",
        json!({
            "n": n,
            "from": what,
            "median_ms": round(median),
            "p95_ms": round(p95),
            "requests_to_identity_provider": idp.request_count().await - requests,
        }),
    );
}

async fn restores(idp: &Idp, n: usize, keyring: Option<&SessionBus>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.json");
    restore(idp, n, "file", || SessionStore::file(&file)).await;
    if keyring.is_some() {
        let options = native_oidc::StoreOptions {
            storage: native_oidc::TokenStorage::Keystore,
            file: dir.path().join("keystore-session.json"),
            service: "com.okta.example.bench".into(),
            account_prefix: String::new(),
        };
        let store = options.open().await.expect("the Secret Service answers");
        restore(idp, n, "secret_service", || store.clone()).await;
    }
}

async fn refresh_fan_in(n_values: &[usize]) {
    let idp = Idp::start_with(IdpOptions {
        access_token_ttl: Some(2),
        ..Default::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let app = demo_api::app(Arc::new(demo_api::Api::new(demo_api::Verifier::new(
        idp.issuer(),
        "api://default",
        [CLIENT_ID],
    ))));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let messages = api.join("api/messages").unwrap();
    for &n in n_values {
        let auth = Arc::new(Auth::new(
            OidcClient::new(config(&idp)).unwrap(),
            SessionStore::memory(),
        ));
        let (url, mut pending) = callback(&auth).await;
        auth.complete_sign_in(&url, &mut pending).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await; // the access token has lapsed
        let before = idp.grants("refresh_token").await;
        let started = Instant::now();
        let calls: Vec<_> = (0..n)
            .map(|_| {
                let (auth, messages) = (auth.clone(), messages.clone());
                tokio::spawn(async move {
                    let request = auth.request(reqwest::Method::GET, messages).unwrap();
                    auth.send(request).await.unwrap().status().as_u16()
                })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), 200);
        }
        let wall = started.elapsed();
        report(
            "refresh_fan_in",
            json!({
                "concurrent_calls": n,
                "refresh_requests": idp.grants("refresh_token").await - before,
                "wall_ms": round(wall.as_secs_f64() * 1000.0),
            }),
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut n, mut only) = (200, None::<String>);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sign-ins" => {
                n = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--sign-ins N")
            }
            "--only" => only = args.next(),
            other => {
                panic!("unknown argument {other}; usage: bench [--sign-ins N] [--only FIGURE]")
            }
        }
    }
    let wanted = move |figure: &str| only.as_deref().is_none_or(|o| o == figure);
    // A Secret Service of the bench's own, set up before any thread reads the environment.
    let bus_dir = tempfile::tempdir().unwrap();
    let keyring = wanted("restore").then(|| SessionBus::with_secret_service(bus_dir.path()));
    if let Some(bus) = &keyring {
        // SAFETY of intent: no other thread exists yet (the runtime is built below).
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", bus.address());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let figures = async move {
        let idp = Idp::start();
        if wanted("sign_in") {
            sign_in(&idp, n).await;
        }
        if wanted("time_to_profile") {
            time_to_profile(&idp, n.min(100)).await;
        }
        if wanted("restore") {
            restores(&idp, n.min(100), keyring.as_ref()).await;
        }
        if wanted("refresh_fan_in") {
            refresh_fan_in(&[1, 10, 100]).await;
        }
        if wanted("footprint") {
            footprint::report_footprint(&idp).await;
        }
    };
    // On a worker of the runtime, where the app's sign-in runs (a Tauri command or deep-link handler
    // is a task on Tauri's runtime). `block_on`'s own thread is not a worker: a future polled there
    // hands every I/O wake-up across threads, which costs about 0.1 ms of CPU per request.
    runtime.block_on(async { tokio::spawn(figures).await.expect("a figure failed") });
}
