//! The "system browser" of the end-to-end tests: registered as the default web browser of the test's
//! isolated HOME, so the app's normal `xdg-open <url>` lands here (and `signin --browser` can name it).
//!
//! It plays the person at a real browser: Debian's Chromium, with a window (on the tests' Xvfb display),
//! driven through its own chromedriver. It opens the URL and, on the identity provider's pages, does what
//! `$E2E_DIR/browser-action` says: `signin` (demo / demo, the default), `alice` (alice / alice) or
//! `cancel` on the login page; on the second-factor page, dev/idp's one-time code (`123456`); on a
//! device activation page (RFC 8628), Continue, then the sign-in; and a click on the app's tile on the
//! dashboard. Everything after that is Chromium's own doing: it follows
//! the redirects, applies the pages' Content-Security-Policy, and hands a `com.okta.example:` URL to the
//! OS URL handler (xdg-open), because the profile allows the provider's origin to open that scheme, as
//! a person does by ticking "Always allow" in Chromium's "Open Okta Sign-In Example?" prompt. This
//! program never hands a URL to anything itself; it watches Chromium's console for "Launched external
//! handler", or for the page Chromium ends on (a loopback redirect, "device activated"), and then
//! closes the browser.
//!
//! Each run appends to `$E2E_DIR/browser.log` the URL it was given (without its query: an end-session URL
//! carries an ID token) and what Chromium did; chromedriver's log goes to `$E2E_DIR/chromedriver-<pid>.log`.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use e2e::{free_port, wait_for, Process, Session};
use serde_json::{json, Value};
use url::Url;

/// The scheme Chromium may open for the identity provider's origin.
const APP_SCHEME: &str = "com.okta.example";
/// How long a page may take to end in a hand-off or on a page of another origin.
const TIMEOUT: Duration = Duration::from_secs(30);
/// dev/idp's one-time code (its `IDP_OTP_CODE` default).
const OTP_CODE: &str = "123456";

fn log(dir: &Path, line: &str) {
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("browser.log"))
    {
        let _ = writeln!(file, "{line}");
    }
}

/// A URL without its query and fragment, for logs.
fn shown(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

/// A new Chromium profile that lets `origin` open the app's scheme without asking.
fn profile(dir: &Path, origin: &str) -> Result<PathBuf, String> {
    let path = dir.join(format!("chromium-{}", std::process::id()));
    std::fs::create_dir_all(path.join("Default")).map_err(|e| e.to_string())?;
    let preferences = json!({
        "protocol_handler": {
            "allowed_origin_protocol_pairs": { origin: { APP_SCHEME: true } }
        }
    });
    std::fs::write(path.join("Default/Preferences"), preferences.to_string())
        .map_err(|e| e.to_string())?;
    // chromedriver cannot use a profile whose path has `..` in it.
    path.canonicalize().map_err(|e| e.to_string())
}

/// What Chromium did once the person's part was done.
enum Ending {
    /// It launched the OS handler for this URL.
    HandedOver(String),
    /// It shows a page of another origin (a loopback redirect to a command-line app), or the
    /// provider's "device activated" page (a device sign-in, which hands nothing to an app).
    Page(String),
}

/// Writes to the log what Chromium did with `url`.
fn report(dir: &Path, url: &str, ending: &Ending) {
    let what = match ending {
        Ending::HandedOver(to) => format!("Chromium handed {} to the OS", shown(to)),
        Ending::Page(page) => format!("Chromium ended on {}", shown(page)),
    };
    log(dir, &format!("opened {}\n  {what}", shown(url)));
}

/// The URL of the first "Launched external handler for '`<url>`'" console message.
fn launched(entries: &[Value]) -> Option<String> {
    const MARK: &str = "Launched external handler for '";
    entries.iter().find_map(|entry| {
        let message = entry["message"].as_str()?;
        let start = message.find(MARK)? + MARK.len();
        let end = message[start..].find('\'')? + start;
        Some(message[start..end].to_string())
    })
}

/// The person's part: sign in (or cancel) on the login page, or click the app's tile.
async fn person(session: &Session, action: &str) -> Result<(), String> {
    if session.find("#username").await?.is_some() {
        match action {
            "cancel" => session.click("#cancel").await?,
            other => {
                let user = if other == "alice" { "alice" } else { "demo" };
                // The page may have it pre-filled (login_hint): type over it, as a person would.
                session.clear("#username").await?;
                session.type_into("#username", user).await?;
                session.type_into("#password", user).await?;
                session.click("#sign-in").await?;
            }
        }
    } else if session.find("a.tile").await?.is_some() {
        session.click("a.tile").await?;
    }
    Ok(())
}

/// What the person does (`$E2E_DIR/browser-action`; `signin` when it says nothing).
fn action_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("browser-action"))
        .unwrap_or_else(|_| "signin".into())
        .trim()
        .to_string()
}

async fn browse(url: &str, dir: &Path) -> Result<(), String> {
    let start = Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let origin = start.origin().ascii_serialization();
    let action = action_of(dir);
    let profile = profile(dir, &origin)?;
    let (_driver, session) = chromium(dir, &profile).await?;
    let result = async {
        session.goto(url).await?;
        person(&session, &action).await?;
        follow(&session, dir, url, &origin).await
    }
    .await;
    let _ = session.end().await;
    let _ = std::fs::remove_dir_all(&profile);
    result
}

/// chromedriver, and a Chromium session on the display with `profile` (its WebDriver session).
async fn chromium(dir: &Path, profile: &Path) -> Result<(Process, Session), String> {
    let port = free_port();
    let driver = Process::spawn(
        "chromedriver",
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join(format!("chromedriver-{}.log", std::process::id()))
                    .display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )?;
    wait_for("chromedriver", Duration::from_secs(10), || async {
        Ok(std::net::TcpStream::connect(("127.0.0.1", port))
            .is_ok()
            .then_some(()))
    })
    .await?;
    let session = Session::start(
        &format!("http://127.0.0.1:{port}"),
        json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                // A window on the display, not --headless: headless Chromium never launches
                // external protocol handlers.
                "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--password-store=basic",
                         format!("--user-data-dir={}", profile.display())],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }),
    )
    .await?;
    Ok((driver, session))
}

/// Watches where the page goes after the person's part, until Chromium hands a URL to the OS
/// (reported as handed over) or shows a page of another origin (reported as that page).
async fn follow(session: &Session, dir: &Path, url: &str, origin: &str) -> Result<(), String> {
    let mut seen = Vec::new();
    let mut code_entered = false;
    let (mut device_confirmed, mut signed_in_after) = (false, false);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        // A device sign-in (RFC 8628): the person checks the code the device shows and continues,
        // signs in on the page that follows, and is told the device is activated.
        if !device_confirmed && session.find("#user-code").await?.is_some() {
            device_confirmed = true;
            session.click("#continue").await?;
            continue;
        }
        if device_confirmed && !signed_in_after && session.find("#username").await?.is_some() {
            signed_in_after = true;
            person(session, &action_of(dir)).await?;
            continue;
        }
        if session.find("#device-activated").await?.is_some() {
            let now = session.get("/url").await?;
            report(
                dir,
                url,
                &Ending::Page(now.as_str().unwrap_or_default().to_string()),
            );
            return Ok(());
        }
        // The second-factor page, after the password: the person types the code from their app.
        if !code_entered && session.find("#code").await?.is_some() {
            code_entered = true;
            session.type_into("#code", OTP_CODE).await?;
            session.click("#verify").await?;
            continue;
        }
        let entries = session
            .post("/se/log", json!({ "type": "browser" }))
            .await?;
        seen.extend(entries.as_array().cloned().unwrap_or_default());
        if let Some(to) = launched(&seen) {
            report(dir, url, &Ending::HandedOver(to));
            // xdg-open runs on after Chromium has started it; give it a moment before the browser
            // closes, as a person does not close it at once either.
            tokio::time::sleep(Duration::from_secs(2)).await;
            return Ok(());
        }
        let now = session.get("/url").await?;
        let now = now.as_str().unwrap_or_default();
        if Url::parse(now).is_ok_and(|u| {
            u.scheme().starts_with("http") && u.origin().ascii_serialization() != origin
        }) && session.find("body").await?.is_some()
        {
            report(dir, url, &Ending::Page(now.to_string()));
            return Ok(());
        }
        if Instant::now() > deadline {
            let page = session.text("body").await.unwrap_or_default();
            return Err(format!(
                "Chromium handed nothing to the OS within {TIMEOUT:?}; it shows {} saying: {page}",
                shown(now)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = PathBuf::from(std::env::var("E2E_DIR").unwrap_or_else(|_| ".".into()));
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: e2e-browser URL");
        std::process::exit(2);
    };
    if let Err(error) = browse(&url, &dir).await {
        log(&dir, &format!("opened {}\n  FAILED: {error}", shown(&url)));
        eprintln!("e2e-browser: {error}");
        std::process::exit(1);
    }
}
