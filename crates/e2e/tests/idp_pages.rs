//! Each page of the identity provider that ends in a redirect to a native app, in a real browser:
//! Chromium follows the redirect itself, under the pages' Content-Security-Policy, and hands the URL to
//! the OS URL handler, which starts the registered handler of `com.okta.example` (here a stand-in app
//! that writes down each URL it is started with). A page that blocks the hand-off (a `form-action`
//! without the app's scheme or loopback) fails here.

use std::{process::Command, time::Duration};

use e2e::wait_for;
use native_oidc::{Config, OidcClient, PendingAuthorizations, SignInOptions};
use testkit::{Idp, CLIENT_ID};

use crate::support::{target_debug, Desktop};

/// The stand-in app: registered for `com.okta.example`, it appends each URL to `handed-over.log`.
fn install_recorder(desktop: &Desktop) -> Result<(), String> {
    let script = desktop.path("recorder.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
            desktop.path("handed-over.log").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    Command::new("chmod")
        .args(["+x", &script.display().to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    desktop.install(
        "recorder",
        &format!("{} %u", script.display()),
        &["com.okta.example"],
    )
}

/// The next URL the stand-in app was started with, starting with `prefix`.
async fn handed_over(desktop: &Desktop, prefix: &str, seen: usize) -> Result<String, String> {
    wait_for(
        &format!("the OS to start the app with {prefix}"),
        Duration::from_secs(20),
        || async {
            Ok(desktop
                .file("handed-over.log")
                .lines()
                .skip(seen)
                .find(|line| line.starts_with(prefix))
                .map(str::to_string))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, chromedriver and an X display; run by `make test` (make browser-check)"]
async fn idp_pages_hand_off_to_the_app_in_a_real_browser() {
    let desktop = Desktop::new("idp-pages").unwrap();
    install_recorder(&desktop).unwrap();
    let idp = Idp::start();
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback")
        .unwrap()
        .with_post_logout_redirect_uri("com.okta.example:/logout")
        .unwrap();
    let client = OidcClient::new(config).unwrap();

    // Sign-in, custom scheme: login form → /authorize → com.okta.example:/callback.
    let request = client
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap();
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    desktop.browse(request.url.as_str()).unwrap();
    let callback = handed_over(&desktop, "com.okta.example:/callback?", 0)
        .await
        .unwrap();
    let session = client
        .complete_sign_in(&callback, &mut pending)
        .await
        .expect("the callback the browser handed over completes the sign-in");
    assert!(desktop
        .file("browser.log")
        .contains("Chromium handed com.okta.example:/callback to the OS"));

    // Sign-out, custom scheme: the auto-submitted confirmation form → com.okta.example:/logout.
    let end_session = client
        .end_session_request(&session, None)
        .await
        .unwrap()
        .expect("dev/idp has an end-session endpoint");
    desktop.browse(end_session.url.as_str()).unwrap();
    let logout = handed_over(&desktop, "com.okta.example:/logout?", 1)
        .await
        .unwrap();
    end_session
        .check_callback(&logout)
        .expect("the logout callback carries the state sent");

    // Cancel on the login page: /abort → com.okta.example:/callback?error=access_denied.
    desktop.set_browser_action("cancel");
    let request = client
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap();
    desktop.browse(request.url.as_str()).unwrap();
    let cancelled = handed_over(&desktop, "com.okta.example:/callback?", 2)
        .await
        .unwrap();
    assert!(cancelled.contains("error=access_denied"), "{cancelled}");
    desktop.set_browser_action("signin");

    // Initiate login: the dashboard's tile → com.okta.example:/login?iss=<org URL>.
    desktop
        .browse(&format!("{}/app/UserHome", idp.origin()))
        .unwrap();
    let login = handed_over(&desktop, "com.okta.example:/login?", 3)
        .await
        .unwrap();
    let login = url::Url::parse(&login).unwrap();
    let iss = login.query_pairs().find(|(k, _)| k == "iss").unwrap().1;
    assert_eq!(iss, idp.origin(), "Okta sends its org URL as iss");

    // Sign-in, loopback: `signin login` listens on 127.0.0.1 and gets the browser's redirect itself.
    let session_file = desktop.path("cli-session.json");
    let output = Command::new(target_debug().join("signin"))
        .args(["login", "--issuer", idp.issuer(), "--client-id", CLIENT_ID])
        .arg("--session")
        .arg(&session_file)
        .args(["--browser", env!("CARGO_BIN_EXE_e2e-browser")])
        .envs(desktop.env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("signin (built by make browser-check)");
    assert!(
        output.status.success(),
        "signin login failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        desktop.file("browser.log")
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["name"], "Demo User");
    assert!(
        desktop
            .file("browser.log")
            .contains("Chromium ended on http://127.0.0.1:"),
        "{}",
        desktop.file("browser.log")
    );

    // The device grant: `signin login --device` polls while the person, in Chromium (on "another
    // device"), opens the activation page with the code, continues and signs in.
    device_sign_in(&desktop, &idp);
}

/// `signin login --device`, the activation done in Chromium from the URL `signin` printed.
fn device_sign_in(desktop: &Desktop, idp: &Idp) {
    use std::io::BufRead;
    let mut signin = Command::new(target_debug().join("signin"))
        .args([
            "login",
            "--device",
            "--issuer",
            idp.issuer(),
            "--client-id",
            CLIENT_ID,
        ])
        .arg("--session")
        .arg(desktop.path("cli-device-session.json"))
        .envs(desktop.env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("signin (built by make browser-check)");
    let mut told = std::io::BufReader::new(signin.stderr.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert_ne!(told.read_line(&mut line).unwrap(), 0, "signin said no URL");
        if let Some(rest) = line.strip_prefix("or scan this code, which opens ") {
            break rest.trim_end().trim_end_matches(':').to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut told, &mut std::io::sink()));
    desktop.browse(&url).unwrap();
    let output = signin.wait_with_output().unwrap();
    assert!(output.status.success(), "signin login --device failed");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["signed_in_with"], "device");
    assert_eq!(summary["email"], "demo@example.com");
    let page = url.split('?').next().unwrap();
    let log = desktop.file("browser.log");
    let run = log
        .split("opened ")
        .find(|run| run.starts_with(page))
        .unwrap_or_else(|| panic!("Chromium never opened {page}: {log}"));
    assert!(run.contains("Chromium ended on "), "{log}");
}
