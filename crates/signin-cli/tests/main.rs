//! End-to-end tests of the `signin` binary against the real local identity provider (`dev/idp`), with
//! `testkit-browser` as the `--browser` command (it signs in over HTTP like a person in a browser).
//! Unless a test says otherwise, tokens are kept in a file (`--token-storage file`) and no session bus
//! is reachable, so no test touches a keyring outside it; `vault` runs a real Secret Service.
//! `device` signs in with the device grant while a browser completes the activation page;
//! `native_sso` signs a second app in with the first one's sign-in; `loopback` sends the listeners of `login` and `logout` real requests while they wait;
//! `accounts` keeps two users signed in side by side;
//! `provider_text` feeds `signin` hostile provider texts; `store_states` breaks the store's files.

mod accounts;
mod device;
mod loopback;
mod native_sso;
mod provider_text;
mod request;
mod store_states;
mod vault;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::Once,
};

use serde_json::Value;
use testkit::{Idp, IdpOptions, CLIENT_ID};

fn browser() -> String {
    static BUILD: Once = Once::new();
    let path = Path::new(env!("CARGO_BIN_EXE_signin"))
        .parent()
        .unwrap()
        .join("testkit-browser");
    // Built every time (a no-op when it is fresh): `cargo test` builds no other package's binary,
    // and a copy left in the target folder by an earlier build may not know today's pages.
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "testkit", "--bin", "testkit-browser"])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build testkit-browser");
    });
    path.display().to_string()
}

/// The `--browser` command that signs in as dev/idp's second user, alice.
fn alice_browser() -> String {
    format!("{} --user alice --password alice", browser())
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    fn error_line(&self) -> &str {
        assert_eq!(
            self.code, 1,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        let line = self.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "one error line: {line}");
        line
    }

    /// The last line on standard error (where `signin` says how it ended), or "".
    fn last_line(&self) -> &str {
        self.stderr.trim_end().lines().last().unwrap_or_default()
    }
}

struct Env {
    idp: Idp,
    dir: tempfile::TempDir,
}

impl Env {
    /// A provider with `options`; without pushed authorization requests unless they say so (the
    /// listener tests read `redirect_uri` and `state` from the browser's URL, which a pushed request
    /// leaves out; `request` tests PAR).
    fn new(mut options: IdpOptions) -> Self {
        options.par = options.par.or(Some("off"));
        Self {
            idp: Idp::start_with(options),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn session(&self) -> PathBuf {
        self.dir.path().join("session.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        self.command_at(&self.session(), args)
    }

    /// A `signin` command with `session` as its session file (another app's, say). Its data folder
    /// (the SSO group's share) is in this test's folder, as for every command of the test.
    fn command_at(&self, session: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_signin"));
        command
            .args(args)
            .arg("--session")
            .arg(session)
            .env("HOME", self.dir.path())
            .env_remove("XDG_DATA_HOME")
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .stdin(Stdio::null());
        if !args.contains(&"--token-storage") {
            command.args(["--token-storage", "file"]);
        }
        for var in native_oidc::ENV_VARS {
            command.env_remove(var);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args).output().unwrap())
    }

    fn login(&self, extra: &[&str]) -> Run {
        finish(self.login_command(&browser(), extra).output().unwrap())
    }

    /// `signin login` against this test's provider, through `browser`.
    fn login_command(&self, browser: &str, extra: &[&str]) -> Command {
        let issuer = self.idp.issuer().to_string();
        let mut args = vec![
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            CLIENT_ID,
            "--browser",
            browser,
        ];
        args.extend_from_slice(extra);
        self.command(&args)
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// dev/idp's demo API, served on a thread of its own; its base URL.
fn demo_api(env: &Env) -> String {
    let issuer = env.idp.issuer().to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let api = demo_api::Api::new(demo_api::Verifier::new(
                    &issuer,
                    "api://default",
                    [testkit::CLIENT_ID],
                ));
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, demo_api::app(std::sync::Arc::new(api)))
                    .await
                    .unwrap();
            })
    });
    format!("http://{address}")
}

fn refresh_grant(idp: &Idp, refresh_token: &str) -> Value {
    block_on(idp.refresh_grant(refresh_token))
}

#[test]
fn loopback_login_then_status_token_call_refresh_logout() {
    // No grace period, so the rotated refresh token is refused at once.
    let env = Env::new(IdpOptions {
        refresh_token_grace: Some(0),
        ..Default::default()
    });
    let login = env.login(&[]);
    let summary = login.json();
    assert_eq!(summary["name"], "Demo User");
    assert_eq!(summary["email"], "demo@example.com");
    assert_eq!(summary["issuer"], env.idp.issuer());
    assert_eq!(summary["has_refresh_token"], true);
    assert!(summary["scopes"]
        .as_array()
        .unwrap()
        .contains(&"offline_access".into()));
    assert!(chrono_like(summary["expires_at"].as_str().unwrap()));
    assert_eq!(summary["claims"]["sub"], summary["subject"]);

    // status needs no flags: issuer and client come from the session.
    let status = env.run(&["status"]).json();
    assert_eq!(status["subject"], summary["subject"]);
    assert_eq!(status["storage"], "file");

    let token = env.run(&["token"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
    let access_token = token.stdout.trim().to_string();
    assert_eq!(token.stdout, format!("{access_token}\n"), "only the token");
    for output in [&login.stdout, &login.stderr, &status.to_string()] {
        assert!(!output.contains(&access_token), "a token was printed");
    }

    let userinfo = format!("{}/v1/userinfo", env.idp.issuer());
    let called = env.run(&["call", &userinfo]);
    assert_eq!(called.code, 0, "{}", called.stderr);
    let body: Value = serde_json::from_str(&called.stdout).unwrap();
    assert_eq!(body["sub"], summary["subject"]);

    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    let old_refresh = stored["refresh_token"].as_str().unwrap().to_string();
    let refreshed = env.run(&["refresh"]).json();
    assert_eq!(refreshed["subject"], summary["subject"]);
    let after = env.run(&["token"]).stdout.trim().to_string();
    assert_ne!(after, access_token, "refresh gave a new access token");
    assert_eq!(
        refresh_grant(&env.idp, &old_refresh)["error"],
        "invalid_grant"
    );

    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    let refresh_token = stored["refresh_token"].as_str().unwrap().to_string();
    let browser = browser();
    let logout = env.run(&["logout", "--browser", &browser]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(!env.session().exists(), "the session file is removed");
    assert_eq!(
        refresh_grant(&env.idp, &refresh_token)["error"],
        "invalid_grant"
    );

    let status = env.run(&["status"]);
    assert_eq!(status.code, 3);
    assert!(status.stderr.starts_with("error: not_signed_in: "));
}

fn chrono_like(text: &str) -> bool {
    // 2026-11-26T05:00:00Z
    text.len() >= 20 && text.as_bytes()[4] == b'-' && text.as_bytes()[10] == b'T'
}

#[test]
fn custom_scheme_login_reads_the_callback_from_the_browser_command() {
    let env = Env::new(IdpOptions::default());
    let summary = env
        .login(&["--redirect-uri", "com.okta.example:/callback"])
        .json();
    assert_eq!(summary["name"], "Demo User");
}

#[test]
fn scopes_can_be_chosen() {
    let env = Env::new(IdpOptions::default());
    let summary = env
        .login(&["--scope", "openid", "--scope", "profile"])
        .json();
    assert_eq!(summary["has_refresh_token"], false);
    assert_eq!(summary["scopes"], serde_json::json!(["openid", "profile"]));
    assert_eq!(summary["email"], Value::Null);
}

#[test]
fn a_forged_callback_is_an_error_line_and_nothing_is_stored() {
    let env = Env::new(IdpOptions::default());
    let issuer = env.idp.issuer().to_string();
    // A "browser" that prints a callback it made up.
    let forged = "sh -c 'echo \"com.okta.example:/callback?code=x&state=forged&iss=$0\"'";
    let forged = forged.replace("$0", &issuer);
    let run = env.run(&[
        "login",
        "--issuer",
        &issuer,
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        "com.okta.example:/callback",
        "--browser",
        &forged,
    ]);
    let line = run.error_line();
    assert!(line.starts_with("error: state_mismatch: "), "{line}");
    assert!(!env.session().exists());
}

#[test]
fn a_callback_pasted_on_stdin_is_checked_too() {
    let env = Env::new(IdpOptions::default());
    // The "system browser" is a stand-in xdg-open on PATH that does nothing.
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("xdg-open");
    std::fs::write(&fake, "#!/bin/sh\nexit 0\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let mut command = env.command(&[
        "login",
        "--issuer",
        env.idp.issuer(),
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        "com.okta.example:/callback",
    ]);
    command
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\ncom.okta.example:/callback?code=x&state=pasted\n")
        .unwrap();
    let run = finish(child.wait_with_output().unwrap());
    assert!(
        run.stderr.contains("Paste that whole URL"),
        "{}",
        run.stderr
    );
    let last = run.stderr.trim_end().lines().last().unwrap();
    assert!(last.starts_with("error: state_mismatch: "), "{last}");
}

#[test]
fn an_identity_provider_that_is_down_is_a_network_error() {
    let mut env = Env::new(IdpOptions {
        access_token_ttl: Some(2),
        ..Default::default()
    });
    env.login(&[]).json();
    let before = std::fs::read(env.session()).unwrap();
    env.idp.stop();
    std::thread::sleep(std::time::Duration::from_millis(2100));

    let token = env.run(&["token"]);
    let line = token.error_line();
    assert!(line.starts_with("error: network: "), "{line}");
    assert_eq!(
        std::fs::read(env.session()).unwrap(),
        before,
        "session kept"
    );

    std::fs::remove_file(env.session()).unwrap();
    let line = env.login(&[]).error_line().to_string();
    assert!(line.starts_with("error: network: "), "{line}");
}

#[test]
fn bad_input_gets_an_error_line_not_a_panic() {
    let env = Env::new(IdpOptions::default());
    let run = env.run(&["token"]);
    assert!(run.error_line().starts_with("error: not_signed_in: "));

    let run = env.login(&["--redirect-uri", "http://example.com/callback"]);
    assert!(
        run.error_line().starts_with("error: config: "),
        "{}",
        run.stderr
    );

    let run = env.run(&["login", "--client-id", CLIENT_ID]);
    assert!(
        run.error_line().contains("no issuer configured"),
        "{}",
        run.stderr
    );

    std::fs::write(env.session(), "{ not json").unwrap();
    let run = env.run(&["status"]);
    assert!(
        run.error_line().starts_with("error: storage: "),
        "{}",
        run.stderr
    );
    // The damaged file was kept aside; a new login works.
    assert!(env.dir.path().join("session.corrupt").exists());
    std::fs::write(env.session(), "{ not json either").unwrap();
    env.login(&[]).json();

    let run = env.run(&["call", "http://example.com/api"]);
    assert!(run.error_line().starts_with("error: config: "));
    let run = env.run(&["call", "not a url"]);
    assert!(run.error_line().starts_with("error: config: "));
}

#[test]
fn config_file_and_environment_are_used() {
    let env = Env::new(IdpOptions::default());
    let file = env.dir.path().join("okta.json");
    std::fs::write(
        &file,
        serde_json::json!({
            "issuer": "https://wrong.example.com/oauth2/default",
            "clientId": CLIENT_ID,
            "redirectUri": "com.okta.example:/callback",
            "scopes": "openid profile",
        })
        .to_string(),
    )
    .unwrap();
    let browser = browser();
    // The environment's issuer wins over the file's; the file supplies the rest.
    let run = finish(
        env.command(&[
            "login",
            "--config",
            file.to_str().unwrap(),
            "--browser",
            &browser,
        ])
        .env("OIDC_ISSUER", env.idp.issuer())
        .output()
        .unwrap(),
    );
    let summary = run.json();
    assert_eq!(summary["issuer"], env.idp.issuer());
    assert_eq!(summary["scopes"], serde_json::json!(["openid", "profile"]));
}

#[test]
fn the_loopback_listener_refuses_other_requests_and_keeps_waiting() {
    let env = Env::new(IdpOptions::default());
    // The browser first sends the listener a made-up callback and a bare request; both get 400, and
    // the real callback that follows still completes the sign-in.
    let browser = format!("{} --poke", browser());
    let run = finish(env.login_command(&browser, &[]).output().unwrap());
    assert_eq!(run.json()["name"], "Demo User");
    assert!(
        !run.stderr.contains("exited with"),
        "the browser saw an answer other than 400: {}",
        run.stderr
    );
}

#[test]
fn logout_comes_back_to_the_logout_redirect_stored_at_login() {
    let env = Env::new(IdpOptions::default());
    env.login(&["--logout-redirect-uri", "http://127.0.0.1/logout"])
        .json();
    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    assert_eq!(
        stored["post_logout_redirect_uri"],
        "http://127.0.0.1/logout"
    );
    // No config file or flag at logout: the session remembers where to come back to.
    let logout = env.run(&["logout", "--browser", &browser()]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(
        logout
            .stderr
            .contains("The browser came back: signed out at the identity provider too."),
        "{}",
        logout.stderr
    );
    assert!(!env.session().exists());
}

#[test]
fn dpop_binds_the_tokens_to_the_device() {
    let env = Env::new(IdpOptions {
        dpop: Some("required"),
        ..Default::default()
    });
    let login = env.login(&["--dpop"]).json();
    assert_eq!(login["token_type"], "DPoP");
    let status = env.run(&["status"]).json();
    assert_eq!(status["token_type"], "DPoP");
    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    assert!(
        stored["dpop_key"].is_object(),
        "the key is kept with the session"
    );
    // A later command proves possession with the stored key.
    let userinfo = format!("{}/v1/userinfo", env.idp.issuer());
    let called = env.run(&["call", &userinfo]);
    assert_eq!(called.code, 0, "{}", called.stderr);
    assert_eq!(env.run(&["refresh"]).json()["token_type"], "DPoP");

    // Without --dpop, an app integration that requires DPoP refuses the sign-in.
    std::fs::remove_file(env.session()).unwrap();
    let refused = env.login(&[]);
    assert_eq!(refused.code, 1);
    let last = refused.last_line();
    assert!(
        last.starts_with("error: invalid_grant: "),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_session_of_another_client_than_the_configured_one_says_so() {
    let env = Env::new(IdpOptions::default());
    env.login(&[]).json();
    // Another app's settings in the environment (its client id): not "not signed in", but which.
    let run = finish(
        env.command(&["refresh"])
            .env("OIDC_CLIENT_ID", "0oa1localsecond0002")
            .output()
            .unwrap(),
    );
    let line = run.error_line();
    assert!(
        line.starts_with(&format!(
            "error: config: the stored session is for client {CLIENT_ID} at {}, but the \
             configuration (flags, OIDC_* variables, --config) names client 0oa1localsecond0002",
            env.idp.issuer()
        )),
        "{line}"
    );
    // The session is untouched: with the session's client, it refreshes.
    assert_eq!(env.run(&["refresh"]).code, 0);
}
