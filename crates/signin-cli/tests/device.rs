//! `signin login --device` (RFC 8628) against dev/idp: `signin` prints where to go and polls while a
//! browser (`testkit::Browser`, signing in over HTTP like a person on another device) completes
//! dev/idp's activation page; `slow_down`, `expired_token` and `access_denied` as the provider sends them.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Stdio},
};

use testkit::{Browser, IdpOptions, LoginAction, Outcome};

use crate::{block_on, finish, Env, Run};

const SLOW_DOWN: &str = "urn:ietf:params:oauth:grant-type:device_code:slow_down";

/// A running `signin login --device` and what it told the user before it started polling.
struct DeviceLogin {
    child: Child,
    told: String,
    /// The rest of standard error, read to the end so `signin` never blocks on it.
    rest: std::thread::JoinHandle<String>,
}

/// `signin login --device` at `issuer` with dev/idp's client.
fn login_device(issuer: &str) -> [&str; 6] {
    [
        "login",
        "--device",
        "--issuer",
        issuer,
        "--client-id",
        testkit::CLIENT_ID,
    ]
}

impl DeviceLogin {
    fn start(env: &Env, extra: &[&str]) -> Self {
        let issuer = env.idp.issuer().to_string();
        let args = [&login_device(&issuer)[..], extra].concat();
        let mut child = env
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut told = String::new();
        while !told.contains("Waiting for the sign-in") {
            if stderr.read_line(&mut told).unwrap() == 0 {
                panic!("signin ended before it polled: {told}");
            }
        }
        let rest = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
            rest
        });
        Self { child, told, rest }
    }

    /// The URL with the user code in it, as the QR code holds it.
    fn complete_url(&self) -> String {
        let line = self
            .told
            .lines()
            .find(|l| l.starts_with("or scan this code, which opens "))
            .unwrap_or_else(|| panic!("no verification_uri_complete: {}", self.told));
        line.trim_start_matches("or scan this code, which opens ")
            .trim_end_matches(':')
            .to_string()
    }

    fn wait(self) -> Run {
        let mut run = finish(self.child.wait_with_output().unwrap());
        run.stderr = self.told + &self.rest.join().unwrap();
        run
    }
}

/// The person on the other device: opens the activation URL and does `action` there.
fn on_the_other_device(url: &str, action: LoginAction) -> Outcome {
    block_on(Browser::new().open(url, &action))
}

#[test]
fn the_user_signs_in_on_another_device_while_signin_polls() {
    let env = Env::new(IdpOptions {
        device_interval: Some(1),
        ..Default::default()
    });
    let login = DeviceLogin::start(&env, &["--dpop"]);
    // What the user is told: the page, the code, and a QR code of the page with the code.
    let url = login.complete_url();
    let page = url.split('?').next().unwrap();
    let code = url.split("user_code=").nth(1).unwrap();
    assert!(
        login.told.starts_with(&format!(
            "To sign in, open {page} on a phone or another computer and enter the code {code}\n"
        )),
        "{}",
        login.told
    );
    assert!(login.told.contains('█'), "a QR code: {}", login.told);

    match on_the_other_device(&url, LoginAction::demo()) {
        Outcome::Page { status, body, .. } => {
            assert_eq!(status, 200, "{body}");
            assert!(body.contains("Device activated"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    let summary = login.wait().json();
    assert_eq!(summary["email"], "demo@example.com");
    assert_eq!(summary["token_type"], "DPoP");
    assert_eq!(summary["has_refresh_token"], true);
    // Stored like any sign-in, and it refreshes.
    assert_eq!(env.run(&["status"]).json()["subject"], summary["subject"]);
    assert_eq!(env.run(&["refresh"]).code, 0);
    assert_eq!(
        block_on(env.idp.stats())["grants"][SLOW_DOWN],
        serde_json::Value::Null
    );
}

#[test]
fn a_slow_down_makes_signin_poll_5_s_less_often() {
    // The provider announces 1 s but answers slow_down to polls sooner than 3 s apart.
    let env = Env::new(IdpOptions {
        device_interval: Some(1),
        device_poll_limit: Some(3),
        ..Default::default()
    });
    let login = DeviceLogin::start(&env, &[]);
    let url = login.complete_url();
    on_the_other_device(&url, LoginAction::demo());
    login.wait().json();
    // One slow_down: the next poll came 6 s later, not 1 s (which would have earned another).
    assert_eq!(block_on(env.idp.stats())["grants"][SLOW_DOWN], 1);
}

const EXPIRED: &str = "urn:ietf:params:oauth:grant-type:device_code:expired_token";

/// A `signin login --device` nobody completes ends with `expired_token`, storing nothing. Returns
/// how many polls the provider itself answered `expired_token`.
fn nobody_completes(env: &Env) -> u64 {
    let run = DeviceLogin::start(env, &[]).wait();
    assert_eq!(run.code, 1);
    let last = run.last_line();
    assert!(last.starts_with("error: expired_token: "), "{}", run.stderr);
    assert!(!env.session().exists());
    block_on(env.idp.stats())["grants"][EXPIRED]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_code_nobody_uses_expires_with_the_providers_expired_token_and_nothing_stored() {
    // The codes last 3 s, but the provider announces 60: `signin` polls on, and is told.
    let env = Env::new(IdpOptions {
        device_interval: Some(1),
        device_code_ttl: Some(3),
        device_expires_in: Some(60),
        ..Default::default()
    });
    assert_eq!(nobody_completes(&env), 1);
}

#[test]
fn signin_stops_polling_when_the_announced_lifetime_is_over() {
    // Announced 3 s (the codes last 600): `signin` stops by itself, the provider never says so.
    let env = Env::new(IdpOptions {
        device_interval: Some(1),
        device_expires_in: Some(3),
        ..Default::default()
    });
    assert_eq!(nobody_completes(&env), 0);
}

#[test]
fn a_provider_asking_to_wait_longer_than_its_code_lives_is_refused_before_polling() {
    let env = Env::new(IdpOptions {
        device_interval: Some(700),
        device_expires_in: Some(600),
        ..Default::default()
    });
    let run = env.run(&login_device(env.idp.issuer()));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = run.last_line();
    assert!(
        last.contains("device code lives 600 s, less than the 700 s to wait between polls"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Waiting for the sign-in"),
        "{}",
        run.stderr
    );
    // Not one poll.
    let grants = &block_on(env.idp.stats())["grants"];
    assert!(grants.as_object().is_some_and(|g| g.is_empty()), "{grants}");
    assert!(!env.session().exists());
}

#[test]
fn cancelling_on_the_other_device_is_access_denied() {
    let env = Env::new(IdpOptions {
        device_interval: Some(1),
        ..Default::default()
    });
    let login = DeviceLogin::start(&env, &[]);
    let url = login.complete_url();
    match on_the_other_device(&url, LoginAction::Cancel) {
        Outcome::Page { body, .. } => assert!(body.contains("cancelled"), "{body}"),
        other => panic!("{other:?}"),
    }
    let run = login.wait();
    assert_eq!(run.code, 1);
    let last = run.last_line();
    assert!(last.starts_with("error: access_denied"), "{}", run.stderr);
    assert!(!env.session().exists());
}

#[test]
fn device_and_browser_flags_do_not_mix() {
    let env = Env::new(IdpOptions::default());
    let run = env.run(&["login", "--device", "--browser", "true"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}
