//! End-to-end: the built app in a real webview (tauri-driver → WebKitWebDriver), the real identity
//! provider and demo API, and headless Debian Chromium as the system browser, which hands the
//! `com.okta.example:` redirects to the OS URL handler (`gio open`) like any browser. Needs Xvfb and a
//! D-Bus session: run with `make e2e` (part of `make test`). Screenshots go to `target/e2e/`.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use e2e::{free_port, kill_pids, pids_of, pids_with_arg, wait_for, Process, Session};
use serde_json::{json, Value};
use testkit::{Idp, IdpOptions, CLIENT_ID};

const TIMEOUT: Duration = Duration::from_secs(45);

/// Where the built binaries are (the test binary lives in `<target>/debug/deps`).
fn target_debug() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shots() -> PathBuf {
    repo().join("target/e2e")
}

fn wait_port(port: u16) -> Result<(), String> {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on port {port} after 15 s"))
}

/// One identity provider, demo API and tauri-driver, with an isolated HOME for the app.
struct Stack {
    idp: Idp,
    home: PathBuf,
    env: Vec<(String, String)>,
    app: PathBuf,
    driver_url: String,
    _api: Process,
    _driver: Process,
}

impl Stack {
    fn start(name: &str, idp: IdpOptions, chromedriver: &str) -> Result<Self, String> {
        let run = shots().join(name);
        let _ = std::fs::remove_dir_all(&run);
        let home = run.join("home");
        let data = home.join(".local/share");
        let config = home.join(".config");
        std::fs::create_dir_all(data.join("applications")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;

        // The "system browser": the default web browser of this HOME, reached by the app's xdg-open.
        let browser = PathBuf::from(env!("CARGO_BIN_EXE_e2e-browser"));
        std::fs::write(
            data.join("applications/e2e-browser.desktop"),
            format!(
                "[Desktop Entry]\nType=Application\nName=E2E Browser\nExec={} %u\nMimeType=x-scheme-handler/http;x-scheme-handler/https;\n",
                browser.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            config.join("mimeapps.list"),
            "[Default Applications]\nx-scheme-handler/http=e2e-browser.desktop\nx-scheme-handler/https=e2e-browser.desktop\n",
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(run.join("browser-action"), "signin").map_err(|e| e.to_string())?;

        let idp = Idp::start_with(idp);
        let api_port = free_port();
        let api = Process::spawn(
            "demo-api",
            Command::new(target_debug().join("demo-api"))
                .env("ISSUER", idp.issuer())
                .env("PORT", api_port.to_string())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(run.join("api.log")).map_err(|e| e.to_string())?),
        )?;
        wait_port(api_port)?;

        let env: Vec<(String, String)> = [
            ("HOME", home.display().to_string()),
            ("XDG_DATA_HOME", data.display().to_string()),
            ("XDG_CONFIG_HOME", config.display().to_string()),
            ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
            (
                "XDG_STATE_HOME",
                home.join(".local/state").display().to_string(),
            ),
            ("BROWSER", browser.display().to_string()),
            ("E2E_DIR", run.display().to_string()),
            ("E2E_CHROMEDRIVER", chromedriver.to_string()),
            ("OIDC_ISSUER", idp.issuer().to_string()),
            ("OIDC_CLIENT_ID", CLIENT_ID.to_string()),
            ("API_BASE_URL", format!("http://127.0.0.1:{api_port}/")),
            ("RUST_LOG", "info,tao=warn,wry=warn".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();

        let driver = std::env::var("E2E_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let (port, native) = (free_port(), free_port());
        let driver_process = Process::spawn(
            "tauri-driver",
            Command::new(&driver)
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .envs(env.iter().map(|(k, v)| (k, v)))
                .stdout(std::fs::File::create(run.join("app.log")).map_err(|e| e.to_string())?)
                .stderr(
                    std::fs::OpenOptions::new()
                        .append(true)
                        .open(run.join("app.log"))
                        .map_err(|e| e.to_string())?,
                ),
        )?;
        // tauri-driver listens at once; WebKitWebDriver behind it may take a moment.
        wait_port(port)?;
        wait_port(native)?;
        Ok(Self {
            idp,
            home: run,
            env,
            app: target_debug().join("okta-signin-app"),
            driver_url: format!("http://127.0.0.1:{port}"),
            _api: api,
            _driver: driver_process,
        })
    }

    /// Ends the app's WebDriver session and waits until the app has exited (a second instance
    /// started too early would hand over to it and exit, as single-instance should).
    async fn quit(&self, session: Session) -> Result<(), String> {
        session.end().await?;
        wait_for("the app to exit", TIMEOUT, || async {
            Ok(pids_of(&self.app).is_empty().then_some(()))
        })
        .await
    }

    /// Launches the app in a webview and waits for its first screen.
    async fn launch(&self) -> Result<Session, String> {
        let session = Session::start(
            &self.driver_url,
            json!({ "browserName": "wry", "tauri:options": { "application": self.app } }),
        )
        .await?;
        wait_for("the app's first screen", TIMEOUT, || async {
            let status = session.attribute("#app", "data-status").await?;
            Ok(status.filter(|s| s != "restoring"))
        })
        .await?;
        Ok(session)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.home.join(name)).unwrap_or_default()
    }

    fn set_browser_action(&self, action: &str) {
        std::fs::write(self.home.join("browser-action"), action).unwrap();
    }

    fn browser_runs(&self) -> usize {
        self.file("browser.log").matches("opened ").count()
    }

    fn ignored_links(&self) -> usize {
        self.file("app.log").matches("ignored a deep link").count()
    }

    /// Opens a URL through the OS URL handler, as a browser or another app would.
    fn open_url(&self, url: &str) -> Result<(), String> {
        let status = Command::new("gio")
            .args(["open", url])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| format!("gio open: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or(format!("gio open {url}: {status}"))
    }

    fn store(&self) -> Value {
        let path = self
            .home
            .join("home/.local/share/com.okta.example/session.json");
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or(Value::Null)
    }
}

async fn status(session: &Session) -> Result<String, String> {
    Ok(session
        .attribute("#app", "data-status")
        .await?
        .unwrap_or_default())
}

/// Clicks a control of the app once it has finished its last action (`aria-busy` of `#app`): the UI
/// ignores clicks while a command runs, as a person sees from the dimmed buttons.
async fn click(app: &Session, css: &str) -> Result<(), String> {
    wait_for("the app to finish its last action", TIMEOUT, || async {
        let busy = app.attribute("#app", "aria-busy").await?;
        Ok((busy.as_deref() != Some("true")).then_some(()))
    })
    .await?;
    app.click(css).await
}

async fn wait_text(session: &Session, css: &str, expected: &str) -> Result<(), String> {
    wait_for(
        &format!("{css} to show \"{expected}\""),
        TIMEOUT,
        || async { Ok(session.text(css).await?.contains(expected).then_some(())) },
    )
    .await
}

async fn wait_status(session: &Session, expected: &str) -> Result<(), String> {
    wait_for(&format!("the app to be {expected}"), TIMEOUT, || async {
        Ok((status(session).await? == expected).then_some(()))
    })
    .await
}

/// Runs a step; on failure, says which step and what was on screen, and saves a screenshot.
async fn step<F, Fut>(name: &str, session: Option<&Session>, run: F) -> Result<(), String>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    eprintln!("e2e: {name}");
    match tokio::time::timeout(Duration::from_secs(120), run()).await {
        Ok(Ok(())) => Ok(()),
        outcome => {
            let error = match outcome {
                Ok(Err(e)) => e,
                _ => "the step took longer than 120 s".into(),
            };
            let mut screen = String::new();
            if let Some(session) = session {
                screen = session.text("body").await.unwrap_or_default();
                let _ = session.screenshot(&shots().join("failure.png")).await;
            }
            Err(format!(
                "step \"{name}\" failed: {error}\n--- on screen ---\n{screen}\n(screenshot: target/e2e/failure.png)"
            ))
        }
    }
}

/// Delivers a made-up callback through the OS URL handler; the app must log that it ignored it and
/// stay `expected`.
async fn forged_callback_is_ignored(
    stack: &Stack,
    app: &Session,
    expected: &str,
) -> Result<(), String> {
    let before = stack.ignored_links();
    stack.open_url("com.okta.example:/callback?code=x&state=y")?;
    wait_for("the app to ignore the link", TIMEOUT, || async {
        Ok((stack.ignored_links() > before).then_some(()))
    })
    .await?;
    let now = status(app).await?;
    (now == expected)
        .then_some(())
        .ok_or(format!("the app went from {expected} to {now}"))
}

async fn journey(chromedriver: &str) -> Result<(), String> {
    let stack = Stack::start("main", IdpOptions::default(), chromedriver)?;
    let app = stack.launch().await?;

    step(
        "1. a fresh start shows the signed-out screen",
        Some(&app),
        || async {
            wait_status(&app, "signed_out").await?;
            app.find("#sign-in").await?.ok_or("no Sign in button")?;
            Ok(())
        },
    )
    .await?;

    step(
        "6a. a forged callback while signed out is ignored",
        Some(&app),
        || forged_callback_is_ignored(&stack, &app, "signed_out"),
    )
    .await?;

    step(
        "1. Sign in → Chromium signs in → the app shows Demo User",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            wait_text(&app, "#profile-email", "demo@example.com").await?;
            app.screenshot(&shots().join("1-signed-in.png")).await
        },
    )
    .await?;

    step(
        "2. Call API shows the demo API's messages",
        Some(&app),
        || async {
            click(&app, "#call-api").await?;
            wait_text(&app, "#api-result", "Hello from the demo API").await?;
            let log = stack.file("api.log");
            log.contains("authorized")
                .then_some(())
                .ok_or(format!("the demo API saw no valid token:\n{log}"))?;
            app.screenshot(&shots().join("2-api.png")).await
        },
    )
    .await?;

    step(
        "6b. a forged callback while signed in is ignored",
        Some(&app),
        || forged_callback_is_ignored(&stack, &app, "signed_in"),
    )
    .await?;

    let app = {
        let (requests, browsers) = (stack.idp.request_count().await, stack.browser_runs());
        stack.quit(app).await?;
        let app = stack.launch().await?;
        step(
            "3. relaunched: signed in with no login page and no token request",
            Some(&app),
            || async {
                wait_text(&app, "#profile-name", "Demo User").await?;
                let after = stack.idp.request_count().await;
                (after == requests).then_some(()).ok_or(format!(
                    "{} requests to the identity provider",
                    after - requests
                ))?;
                (stack.browser_runs() == browsers)
                    .then_some(())
                    .ok_or("the browser was opened".to_string())
            },
        )
        .await?;
        app
    };

    step(
        "7. Sign out: signed out, refresh token refused, no tokens stored",
        Some(&app),
        || async {
            let refresh_token = stack.store()["session"]["refresh_token"]
                .as_str()
                .ok_or("no refresh token in the store")?
                .to_string();
            click(&app, "#sign-out").await?;
            wait_status(&app, "signed_out").await?;
            wait_text(&app, "h1", "Welcome").await?;
            app.find("#sign-in").await?.ok_or("no Sign in button")?;
            app.screenshot(&shots().join("7-signed-out.png")).await?;
            let refused = stack.idp.refresh_grant(&refresh_token).await;
            (refused["error"] == "invalid_grant")
                .then_some(())
                .ok_or(format!("refresh token still works: {refused}"))?;
            let store = stack.store().to_string();
            (!store.contains("refresh_token") && !store.contains("access_token"))
                .then_some(())
                .ok_or(format!("the store still holds tokens: {store}"))
        },
    )
    .await?;

    step(
        "5. Cancel on the login page → 'sign-in cancelled', then sign in again",
        Some(&app),
        || async {
            stack.set_browser_action("cancel");
            click(&app, "#sign-in").await?;
            wait_text(&app, "h1", "Sign-in cancelled").await?;
            stack.set_browser_action("signin");
            click(&app, "#sign-in").await?;
            wait_text(&app, "#profile-name", "Demo User").await
        },
    )
    .await?;

    let before = stack.store()["session"]["refresh_token"].clone();
    stack.quit(app).await?;
    step(
        "8. cold start through com.okta.example:/login starts the app and signs in",
        None,
        || async {
            let leftover = pids_of(&stack.app);
            (leftover.is_empty())
                .then_some(())
                .ok_or(format!("the app still runs: {leftover:?}"))?;
            let browsers = stack.browser_runs();
            stack.open_url(&format!(
                "com.okta.example:/login?iss={}",
                stack.idp.issuer()
            ))?;
            let result = wait_for(
                "a new session from the cold-started app",
                TIMEOUT,
                || async {
                    let now = stack.store()["session"]["refresh_token"].clone();
                    Ok(
                        (now.is_string() && now != before && stack.browser_runs() > browsers)
                            .then_some(()),
                    )
                },
            )
            .await;
            let started = pids_of(&stack.app);
            kill_pids(&started);
            result?;
            (!started.is_empty())
                .then_some(())
                .ok_or("no app process was started".to_string())
        },
    )
    .await?;
    Ok(())
}

async fn short_lived_tokens(chromedriver: &str) -> Result<(), String> {
    let stack = Stack::start(
        "short-lived",
        IdpOptions {
            access_token_ttl: Some(4),
            ..Default::default()
        },
        chromedriver,
    )?;
    let app = stack.launch().await?;
    step(
        "4. after the access token lapses, Call API still works",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            tokio::time::sleep(Duration::from_secs(5)).await;
            click(&app, "#call-api").await?;
            wait_text(&app, "#api-result", "Hello from the demo API").await?;
            let refreshes = stack.idp.grants("refresh_token").await;
            (refreshes >= 1)
                .then_some(())
                .ok_or("no refresh happened".to_string())
        },
    )
    .await?;
    stack.quit(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "end-to-end: needs Xvfb, D-Bus, tauri-driver, WebKitWebDriver, Chromium; run `make e2e`"]
async fn the_app_signs_in_through_the_system_browser() {
    std::fs::create_dir_all(shots()).expect("target/e2e");
    let port = free_port();
    let _chromedriver = Process::spawn(
        "chromedriver",
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                shots().join("chromedriver.log").display()
            ))
            // Headless Chromium needs no D-Bus; on the test's session bus it can wait on desktop
            // portals the app's WebKit started.
            .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("chromedriver");
    wait_port(port).expect("chromedriver listens");
    let chromedriver = format!("http://127.0.0.1:{port}");
    let result = async {
        journey(&chromedriver).await?;
        short_lived_tokens(&chromedriver).await
    }
    .await;
    // Chromium outlives a killed chromedriver: stop every process of this run's browser profiles and
    // any app the OS started for a link.
    kill_pids(&pids_with_arg(&shots().display().to_string()));
    kill_pids(&pids_of(&target_debug().join("okta-signin-app")));
    if let Err(error) = result {
        panic!("{error}");
    }
}
