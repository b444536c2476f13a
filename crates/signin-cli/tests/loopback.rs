//! The loopback listeners of `signin login` and `signin logout`, sent real HTTP requests while the
//! command waits: only a `GET` of the exact callback path with one `state` and no repeated parameter
//! reaches the sign-in (or sign-out); anything else gets 4xx and the wait goes on; the port closes
//! once the command is done with it (success, error or cancel).
//!
//! The test plays the browser: `signin` is given a `--browser` command that only records the URL it
//! was opened on and waits to be told to end ([`Waiting`]); the test sends the requests, and signs in
//! on the real identity provider with `testkit::Browser` when it is the real callback's turn.

use std::{
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use reqwest::Method;
use serde_json::Value;
use testkit::{Browser, IdpOptions, LoginAction, Outcome};
use url::Url;

use super::{block_on, finish, Env, Run};

/// A `signin` command waiting on a browser that the test plays.
pub struct Waiting {
    child: Option<Child>,
    dir: PathBuf,
    /// The URL `signin` opened the browser on.
    pub url: Url,
}

impl Waiting {
    /// Runs `signin args… --browser <recorder>` and waits until it has opened the browser.
    pub fn start(env: &Env, args: &[&str]) -> Self {
        let dir = env.dir.path().join(format!(
            "browser-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        // `sh -c SCRIPT DIR URL`: records the URL, then waits for DIR/go.
        let recorder = format!(
            "sh -c 'printf %s \"$1\" > \"$0/url.tmp\" && mv \"$0/url.tmp\" \"$0/url\"; \
             while [ ! -e \"$0/go\" ]; do sleep 0.05; done' '{}'",
            dir.display()
        );
        let mut args = args.to_vec();
        args.extend_from_slice(&["--browser", &recorder]);
        let child = env
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut waiting = Self {
            child: Some(child),
            dir,
            url: Url::parse("about:blank").unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(url) = std::fs::read_to_string(waiting.dir.join("url")) {
                waiting.url = Url::parse(&url).unwrap();
                return waiting;
            }
            if !waiting.is_running() || Instant::now() > deadline {
                let run = waiting.finish();
                panic!(
                    "signin did not open the browser: code {} stderr {}",
                    run.code, run.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A query parameter of the URL the browser was opened on.
    pub fn param(&self, name: &str) -> String {
        self.url
            .query_pairs()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} in {}", self.url))
            .1
            .into_owned()
    }

    /// True while `signin` runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Lets the browser command end and waits for `signin`.
    pub fn finish(&mut self) -> Run {
        std::fs::write(self.dir.join("go"), "").unwrap();
        let child = self.child.take().expect("finished once");
        finish(child.wait_with_output().unwrap())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The status of a `method` request to `url` (no redirects followed).
pub fn send(method: Method, url: &str) -> u16 {
    block_on(async {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .request(method, url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
            .status()
            .as_u16()
    })
}

/// The address a loopback redirect URI listens on.
pub fn address(redirect: &str) -> SocketAddr {
    let url = Url::parse(redirect).unwrap();
    SocketAddr::from(([127, 0, 0, 1], url.port().unwrap()))
}

/// Waits (a few seconds at most) until nothing listens on `addr` any more.
pub fn assert_port_closes(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "{addr} still accepts connections after the command is done with it"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Requests that are not this sign-in's (or sign-out's) callback, whatever `state` they carry: each
/// gets a 4xx and the command keeps waiting.
fn assert_strays_are_refused(waiting: &mut Waiting, redirect: &str, state: &str, issuer: &str) {
    let iss = url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect::<String>();
    let callback = format!("{redirect}?code=made-up&state={state}&iss={iss}");
    let strays = [
        // Another method on the very callback: HEAD is what axum's `get` also served.
        (Method::HEAD, callback.clone(), 405),
        (Method::POST, callback.clone(), 405),
        (Method::PUT, callback.clone(), 405),
        (Method::DELETE, callback.clone(), 405),
        (Method::OPTIONS, callback.clone(), 405),
        // Another path.
        (
            Method::GET,
            format!("{redirect}/more?code=made-up&state={state}"),
            404,
        ),
        (
            Method::GET,
            format!("{redirect}x?code=made-up&state={state}"),
            404,
        ),
        (
            Method::GET,
            format!("http://{}/?code=made-up&state={state}", address(redirect)),
            404,
        ),
        // No state, no query.
        (
            Method::GET,
            format!("{redirect}?code=made-up&iss={iss}"),
            400,
        ),
        (Method::GET, redirect.to_string(), 400),
        // A parameter twice: refused alone, the sign-in still waits for its callback.
        (Method::GET, format!("{callback}&state={state}"), 400),
        (Method::GET, format!("{callback}&code=other"), 400),
        (Method::GET, format!("{callback}&st%61te={state}"), 400),
        (Method::GET, format!("{callback}&iss={iss}"), 400),
    ];
    for (method, url, status) in strays {
        assert_eq!(send(method.clone(), &url), status, "{method} {url}");
        assert!(
            waiting.is_running(),
            "{method} {url} ended the command: {}",
            waiting.finish().stderr
        );
    }
}

#[test]
fn the_login_listener_takes_only_a_get_of_its_callback_and_closes_after() {
    let env = Env::new(IdpOptions::default());
    let issuer = env.idp.issuer().to_string();
    let mut waiting = Waiting::start(
        &env,
        &[
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            testkit::CLIENT_ID,
        ],
    );
    let redirect = waiting.param("redirect_uri");
    let state = waiting.param("state");
    assert_strays_are_refused(&mut waiting, &redirect, &state, &issuer);

    // The real callback, from the provider after the person signs in, still completes the sign-in.
    let url = waiting.url.to_string();
    match block_on(Browser::new().open(&url, &LoginAction::demo())) {
        Outcome::Page { status, body, .. } => {
            assert_eq!(status, 200, "{body}");
            assert!(body.contains("Signed in as Demo User"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    // The sign-in is over: the port is closed while signin still waits for the browser command.
    assert_port_closes(address(&redirect));
    assert!(waiting.is_running());
    let run = waiting.finish();
    assert_eq!(run.json()["name"], "Demo User");
    assert_eq!(env.run(&["status"]).json()["name"], "Demo User");
}

#[test]
fn the_login_listener_closes_when_the_person_cancels() {
    let env = Env::new(IdpOptions::default());
    let issuer = env.idp.issuer().to_string();
    let mut waiting = Waiting::start(
        &env,
        &[
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            testkit::CLIENT_ID,
        ],
    );
    let redirect = waiting.param("redirect_uri");
    let url = waiting.url.to_string();
    match block_on(Browser::new().open(&url, &LoginAction::Cancel)) {
        Outcome::Page { status, body, .. } => {
            assert_eq!(status, 400, "{body}");
            assert!(body.contains("Sign-in failed"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert_port_closes(address(&redirect));
    let run = waiting.finish();
    let line = run.error_line();
    assert!(line.starts_with("error: access_denied: "), "{line}");
    assert!(!env.session().exists());
}

#[test]
fn the_logout_listener_takes_only_a_get_of_its_callback_and_closes_after() {
    let env = Env::new(IdpOptions::default());
    env.login(&["--logout-redirect-uri", "http://127.0.0.1/logout"])
        .json();
    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    let refresh_token = stored["refresh_token"].as_str().unwrap().to_string();

    let mut waiting = Waiting::start(&env, &["logout"]);
    let redirect = waiting.param("post_logout_redirect_uri");
    let state = waiting.param("state");
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    assert_strays_are_refused(&mut waiting, &redirect, &state, env.idp.issuer());

    // The provider's sign-out page sends the browser back with the sign-out's state.
    let url = waiting.url.to_string();
    match block_on(Browser::new().open(&url, &LoginAction::demo())) {
        Outcome::Page { status, body, .. } => {
            assert_eq!(status, 200, "{body}");
            assert!(body.contains("You are signed out"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert_port_closes(address(&redirect));
    let run = waiting.finish();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("The browser came back: signed out at the identity provider too."),
        "{}",
        run.stderr
    );
    assert!(!env.session().exists());
    assert_eq!(
        super::refresh_grant(&env.idp, &refresh_token)["error"],
        "invalid_grant"
    );
}
