//! The "system browser" of the end-to-end tests: registered as the default web browser of the test's
//! isolated HOME, so the app's normal `xdg-open <url>` lands here.
//!
//! It drives headless Debian Chromium through chromedriver (`E2E_CHROMEDRIVER`): opens the URL, does
//! on the identity provider's login page what `$E2E_DIR/browser-action` says (`signin` as demo/demo, or
//! `cancel`), and when the provider redirects to the app's scheme (`com.okta.example:`), hands that URL
//! to the OS URL handler (`gio open`), as a browser does. Each run appends a line to
//! `$E2E_DIR/browser.log`: the URL it was given and what happened.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use e2e::Session;
use serde_json::{json, Value};

const APP_SCHEME: &str = "com.okta.example:";

fn log(dir: &Path, line: &str) {
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("browser.log"))
    {
        let _ = writeln!(file, "{line}");
    }
}

/// The app-scheme `Location` of a redirect, from Chromium's network log.
fn app_redirect(entries: &Value) -> Option<String> {
    entries.as_array()?.iter().find_map(|entry| {
        let message: Value = serde_json::from_str(entry["message"].as_str()?).ok()?;
        let headers = &message["message"]["params"]["headers"];
        let location = headers["Location"]
            .as_str()
            .or(headers["location"].as_str())?;
        location
            .starts_with(APP_SCHEME)
            .then(|| location.to_string())
    })
}

async fn run(url: &str, dir: &Path) -> Result<String, String> {
    let driver = std::env::var("E2E_CHROMEDRIVER").map_err(|_| "E2E_CHROMEDRIVER is not set")?;
    let action =
        std::fs::read_to_string(dir.join("browser-action")).unwrap_or_else(|_| "signin".into());
    let profile = profile_dir(dir)?;
    let session = Session::start(
        &driver,
        json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         format!("--user-data-dir={}", profile.display())],
            },
            "goog:loggingPrefs": { "performance": "ALL" },
        }),
    )
    .await?;
    let result = async {
        session.goto(url).await?;
        if session.find("#username").await?.is_some() {
            match action.trim() {
                "cancel" => session.click("#cancel").await?,
                _ => {
                    session.type_into("#username", "demo").await?;
                    session.type_into("#password", "demo").await?;
                    session.click("#sign-in").await?;
                }
            }
        }
        // The network log is drained by each read: keep what was seen.
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let callback = loop {
            let entries = session
                .post("/se/log", json!({ "type": "performance" }))
                .await?;
            seen.extend(entries.as_array().cloned().unwrap_or_default());
            if let Some(callback) = app_redirect(&Value::Array(seen.clone())) {
                break callback;
            }
            if Instant::now() > deadline {
                let page = session.text("body").await.unwrap_or_default();
                return Err(format!(
                    "no redirect to the app within 20 s; the page says: {page}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let status = std::process::Command::new("gio")
            .args(["open", &callback])
            .status()
            .map_err(|e| format!("gio open: {e}"))?;
        if !status.success() {
            return Err(format!("gio open {callback}: {status}"));
        }
        Ok(callback)
    }
    .await;
    let _ = session.end().await;
    let _ = std::fs::remove_dir_all(&profile);
    result
}

fn profile_dir(dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join(format!("chromium-{}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
    Ok(path)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = PathBuf::from(std::env::var("E2E_DIR").unwrap_or_else(|_| ".".into()));
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: e2e-browser URL");
        std::process::exit(2);
    };
    // Logged without the query: an end-session URL carries an ID token.
    let shown = url.split('?').next().unwrap_or_default().to_string();
    match run(&url, &dir).await {
        Ok(callback) => {
            let path = callback.split('?').next().unwrap_or_default().to_string();
            log(&dir, &format!("opened {shown}\n  handed {path} to the OS"));
        }
        Err(error) => {
            log(&dir, &format!("opened {shown}\n  FAILED: {error}"));
            eprintln!("e2e-browser: {error}");
            std::process::exit(1);
        }
    }
}
