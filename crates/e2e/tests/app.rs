//! The built app in a real webview (tauri-driver → WebKitWebDriver), the real identity provider and
//! demo API, and Chromium as the system browser. Every hand-off is the browser's and the OS's: the app
//! opens the browser with `xdg-open`, Chromium follows the provider's redirect to `com.okta.example:` and
//! launches the OS URL handler, which starts the app or (through single-instance) wakes the running one.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use e2e::{free_port, pids_of, wait_for, Process, Session};
use serde_json::{json, Value};
use testkit::{Idp, IdpOptions, CLIENT_ID};

use crate::support::{shots, target_debug, wait_port, Desktop};

const TIMEOUT: Duration = Duration::from_secs(45);

/// The app's single-instance name on the session bus (tauri-plugin-single-instance: `<identifier>.SingleInstance`).
const SINGLE_INSTANCE: &str = "com.okta.example.SingleInstance";
/// What the app logs when a sign-out callback came back to it.
const SIGNED_OUT_LINK: &str = "the browser finished signing out";

/// One identity provider, demo API and tauri-driver, on a desktop of its own.
pub struct Stack {
    pub idp: Idp,
    pub desktop: Desktop,
    pub app: PathBuf,
    name: String,
    driver_url: String,
    _api: Process,
    _driver: Process,
}

/// The app's log is kept beside the screenshots (`target/e2e/<stack>-app.log`), for a step that
/// failed: the desktop's folder goes with it.
impl Drop for Stack {
    fn drop(&mut self) {
        let _ = std::fs::write(
            shots().join(format!("{}-app.log", self.name)),
            self.app_log(),
        );
    }
}

impl Stack {
    fn start(name: &str, idp: IdpOptions) -> Result<Self, String> {
        Self::start_app(
            name,
            idp,
            target_debug().join("okta-signin-app"),
            |_, _, _| Vec::new(),
        )
    }

    /// A stack for the app at `app`, with settings of its own (`config` gets the desktop, the issuer
    /// and the API's URL, and returns environment variables for the app).
    pub fn start_app(
        name: &str,
        idp: IdpOptions,
        app: PathBuf,
        config: impl FnOnce(&Desktop, &str, &str) -> Vec<(String, String)>,
    ) -> Result<Self, String> {
        let mut desktop = Desktop::new(name)?;
        let idp = Idp::start_with(idp);
        let api_port = free_port();
        let api = Process::spawn(
            "demo-api",
            Command::new(target_debug().join("demo-api"))
                .env("ISSUER", idp.issuer())
                .env("CLIENT_IDS", CLIENT_ID)
                .env("PORT", api_port.to_string())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(desktop.path("api.log")).map_err(|e| e.to_string())?),
        )?;
        wait_port(api_port)?;
        let api_url = format!("http://127.0.0.1:{api_port}/");
        let settings = config(&desktop, idp.issuer(), &api_url);
        for (name, value) in [
            ("OIDC_ISSUER", idp.issuer().to_string()),
            ("OIDC_CLIENT_ID", CLIENT_ID.to_string()),
            ("API_BASE_URL", api_url),
            ("RUST_LOG", "info,tao=warn,wry=warn".to_string()),
        ] {
            desktop.env.push((name.to_string(), value));
        }
        desktop.env.extend(settings);

        let driver = std::env::var("E2E_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let (port, native) = (free_port(), free_port());
        let log = std::fs::File::create(desktop.path("app.log")).map_err(|e| e.to_string())?;
        let driver_process = Process::spawn(
            "tauri-driver",
            Command::new(&driver)
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .envs(desktop.env.iter().map(|(k, v)| (k, v)))
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log),
        )?;
        // tauri-driver listens at once; WebKitWebDriver behind it may take a moment.
        wait_port(port)?;
        wait_port(native)?;
        Ok(Self {
            idp,
            desktop,
            app,
            name: name.to_string(),
            driver_url: format!("http://127.0.0.1:{port}"),
            _api: api,
            _driver: driver_process,
        })
    }

    /// This desktop's app processes (not a developer's own `make run` of the same binary).
    pub fn app_processes(&self) -> Vec<u32> {
        let ours = self.desktop.processes();
        pids_of(&self.app)
            .into_iter()
            .filter(|pid| ours.contains(pid))
            .collect()
    }

    /// Waits until one app process is left: a link the OS started a second one for was handed over
    /// to the first through single-instance, and the second exited.
    pub async fn one_app_process(&self) -> Result<(), String> {
        wait_for(
            "the app's own process only",
            Duration::from_secs(10),
            || async { Ok(self.app_processes().len().eq(&1).then_some(())) },
        )
        .await
    }

    /// Ends the app's WebDriver session and waits until the app has exited (a second instance
    /// started too early would hand over to it and exit, as single-instance should).
    pub async fn quit(&self, session: Session) -> Result<(), String> {
        session.end().await?;
        wait_for("the app to exit", TIMEOUT, || async {
            Ok(self.app_processes().is_empty().then_some(()))
        })
        .await
        .map_err(|error| {
            let left: Vec<String> = self
                .app_processes()
                .into_iter()
                .map(|pid| {
                    let args = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                    format!(
                        "{pid}: {}",
                        String::from_utf8_lossy(&args).replace('\0', " ")
                    )
                })
                .collect();
            format!("{error}; still running: {left:?}")
        })?;
        // An exiting process leaves /proc's exe before it closes its sockets: wait for its
        // single-instance name to go too, or the next start would try to hand over to it.
        wait_for("the app's single-instance name to go", TIMEOUT, || async {
            Ok((!self.desktop.bus.name_owned(SINGLE_INSTANCE)).then_some(()))
        })
        .await
    }

    /// Launches the app in a webview and waits for its first screen.
    pub async fn launch(&self) -> Result<Session, String> {
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

    /// Quits `app` and launches it again; the step `name` checks that it shows Demo User with no
    /// request to the identity provider and no browser opened. Returns the new session.
    async fn relaunched_quietly(&self, app: Session, name: &str) -> Result<Session, String> {
        let (requests, browsers) = (self.idp.request_count().await, self.desktop.browser_runs());
        self.quit(app).await?;
        let app = self.launch().await?;
        step(name, Some(&app), || async {
            wait_text(&app, "#profile-name", "Demo User").await?;
            let after = self.idp.request_count().await;
            (after == requests).then_some(()).ok_or(format!(
                "{} requests to the identity provider",
                after - requests
            ))?;
            (self.desktop.browser_runs() == browsers)
                .then_some(())
                .ok_or("the browser was opened".to_string())
        })
        .await?;
        Ok(app)
    }

    pub fn app_log(&self) -> String {
        self.desktop.file("app.log")
    }

    fn ignored_links(&self) -> usize {
        self.app_log().matches("ignored a deep link").count()
    }

    /// The app's session, as it is in the desktop's keyring (item `com.okta.example` / `session`,
    /// the session's JSON after a one-byte format mark); `Null` when there is none.
    pub fn stored(&self) -> Value {
        self.desktop
            .secret("com.okta.example", "session")
            .and_then(|bytes| serde_json::from_slice(&bytes[1..]).ok())
            .unwrap_or(Value::Null)
    }

    /// Fails when a token of the stored session is in any file of the desktop (the app's data, the
    /// keyring's own files, logs).
    fn no_token_in_files(&self) -> Result<(), String> {
        let session = self.stored();
        for name in ["access_token", "refresh_token", "id_token"] {
            let token = session[name]
                .as_str()
                .ok_or(format!("no {name} in the keyring: {session}"))?;
            let found = self.desktop.files_containing(token);
            if !found.is_empty() {
                return Err(format!("the {name} is in plaintext in {found:?}"));
            }
        }
        Ok(())
    }

    /// How many times the browser handed `what` (`com.okta.example:/callback`, …) to the OS.
    pub fn handoffs(&self, what: &str) -> usize {
        self.desktop
            .file("browser.log")
            .matches(&format!("Chromium handed {what} to the OS"))
            .count()
    }

    /// The person opens the provider's dashboard in their browser and clicks the app's tile; waits
    /// until the browser has handed the initiate-login link to the OS.
    pub async fn click_app_tile(&self) -> Result<(), String> {
        let handed = self.handoffs("com.okta.example:/login");
        self.desktop
            .browse(&format!("{}/app/UserHome", self.idp.origin()))?;
        self.handed_over("com.okta.example:/login", handed + 1)
            .await
    }

    /// Waits until the browser says it handed `what` (`com.okta.example:/callback`, …) to the OS for
    /// the `nth` time (counting from 1).
    pub async fn handed_over(&self, what: &str, nth: usize) -> Result<(), String> {
        let line = format!("Chromium handed {what} to the OS");
        wait_for(&line, TIMEOUT, || async {
            let log = self.desktop.file("browser.log");
            if log.contains("FAILED") {
                return Err(format!("the browser failed:\n{log}"));
            }
            Ok((log.matches(&line).count() >= nth).then_some(()))
        })
        .await
    }
}

pub async fn status(session: &Session) -> Result<String, String> {
    Ok(session
        .attribute("#app", "data-status")
        .await?
        .unwrap_or_default())
}

/// Clicks a control of the app once it has finished its last action (`aria-busy` of `#app`): the UI
/// ignores clicks while a command runs, as a person sees from the dimmed buttons. The view is drawn
/// anew when a state arrives (the profile from userinfo comes after the sign-in is shown): a control
/// replaced between finding and clicking it is found again and clicked, as a person's click lands on
/// what is on screen.
pub async fn click(app: &Session, css: &str) -> Result<(), String> {
    wait_for("the app to finish its last action", TIMEOUT, || async {
        let busy = app.attribute("#app", "aria-busy").await?;
        Ok((busy.as_deref() != Some("true")).then_some(()))
    })
    .await?;
    let mut attempts = 0;
    loop {
        match app.click(css).await {
            Err(error) if error.contains("stale element reference") && attempts < 3 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

pub async fn wait_text(session: &Session, css: &str, expected: &str) -> Result<(), String> {
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
pub async fn step<F, Fut>(name: &str, session: Option<&Session>, run: F) -> Result<(), String>
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
                "step \"{name}\" failed: {error}\n--- on screen ---\n{screen}\n(screenshot: target/e2e/failure.png; \
                 the app's log: target/e2e/<stack>-app.log)"
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
    stack
        .desktop
        .open_url("com.okta.example:/callback?code=x&state=y")?;
    wait_for("the app to ignore the link", TIMEOUT, || async {
        Ok((stack.ignored_links() > before).then_some(()))
    })
    .await?;
    let now = status(app).await?;
    (now == expected)
        .then_some(())
        .ok_or(format!("the app went from {expected} to {now}"))
}

async fn journey() -> Result<(), String> {
    let stack = Stack::start("main", IdpOptions::default())?;
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
        "1. Sign in → Chromium signs in and hands the callback to the OS → the app shows Demo User",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            stack.handed_over("com.okta.example:/callback", 1).await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            wait_text(&app, "#profile-email", "demo@example.com").await?;
            wait_text(&app, "#storage", "in the system keychain").await?;
            stack.no_token_in_files()?;
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
            let log = stack.desktop.file("api.log");
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

    let app = stack
        .relaunched_quietly(
            app,
            "3. relaunched: signed in with no login page and no token request",
        )
        .await?;

    step(
        "7. Sign out: signed out, the browser comes back through com.okta.example:/logout, refresh token refused, no tokens stored",
        Some(&app),
        || async {
            let refresh_token = stack.stored()["refresh_token"]
                .as_str()
                .ok_or("no refresh token in the keyring")?
                .to_string();
            click(&app, "#sign-out").await?;
            wait_status(&app, "signed_out").await?;
            wait_text(&app, "h1", "Welcome").await?;
            app.find("#sign-in").await?.ok_or("no Sign in button")?;
            app.screenshot(&shots().join("7-signed-out.png")).await?;
            stack.handed_over("com.okta.example:/logout", 1).await?;
            wait_for("the app to take the sign-out callback", TIMEOUT, || async {
                Ok(stack.app_log().contains(SIGNED_OUT_LINK).then_some(()))
            })
            .await?;
            let refused = stack.idp.refresh_grant(&refresh_token).await;
            (refused["error"] == "invalid_grant")
                .then_some(())
                .ok_or(format!("refresh token still works: {refused}"))?;
            (stack.stored().is_null())
                .then_some(())
                .ok_or("the keyring still holds the session".to_string())
        },
    )
    .await?;

    step(
        "5. Cancel on the login page → 'sign-in cancelled', then sign in again",
        Some(&app),
        || async {
            stack.desktop.set_browser_action("cancel");
            click(&app, "#sign-in").await?;
            wait_text(&app, "h1", "Sign-in cancelled").await?;
            stack.desktop.set_browser_action("signin");
            click(&app, "#sign-in").await?;
            wait_text(&app, "#profile-name", "Demo User").await
        },
    )
    .await?;

    step(
        "9. signed in, the dashboard's tile only asks; the user accepts and signs in again",
        Some(&app),
        || async {
            let before = stack.stored()["refresh_token"].clone();
            let callbacks = stack.handoffs("com.okta.example:/callback");
            stack.click_app_tile().await?;
            wait_text(
                &app,
                "#login-request",
                &format!("A sign-in was requested by {}", stack.idp.origin()),
            )
            .await?;
            (stack.handoffs("com.okta.example:/callback") == callbacks)
                .then_some(())
                .ok_or("the link started a sign-in by itself".to_string())?;
            app.screenshot(&shots().join("9-sign-in-requested.png"))
                .await?;
            click(&app, "#accept-login-request").await?;
            stack
                .handed_over("com.okta.example:/callback", callbacks + 1)
                .await?;
            wait_for("a new session", TIMEOUT, || async {
                let now = stack.stored()["refresh_token"].clone();
                Ok((now.is_string() && now != before).then_some(()))
            })
            .await?;
            wait_text(&app, "#profile-name", "Demo User").await
        },
    )
    .await?;

    step("signed out before the cold start", Some(&app), || async {
        let logouts = stack.handoffs("com.okta.example:/logout");
        let taken = stack.app_log().matches(SIGNED_OUT_LINK).count();
        click(&app, "#sign-out").await?;
        wait_status(&app, "signed_out").await?;
        stack
            .handed_over("com.okta.example:/logout", logouts + 1)
            .await?;
        // The OS starts a second process for the link, which hands it to this one: quitting before
        // that happened would leave that process to start as the app of its own.
        wait_for("the app to take the sign-out callback", TIMEOUT, || async {
            Ok((stack.app_log().matches(SIGNED_OUT_LINK).count() > taken).then_some(()))
        })
        .await
    })
    .await?;
    stack.quit(app).await?;
    step(
        "8. signed out, the app's tile on the provider's dashboard starts the app through com.okta.example:/login and signs in",
        None,
        || async {
            let leftover = stack.app_processes();
            (leftover.is_empty())
                .then_some(())
                .ok_or(format!("the app still runs: {leftover:?}"))?;
            stack.click_app_tile().await?;
            wait_for(
                "a new session from the cold-started app",
                TIMEOUT,
                || async { Ok(stack.stored()["refresh_token"].is_string().then_some(())) },
            )
            .await?;
            (!stack.app_processes().is_empty())
                .then_some(())
                .ok_or("no app process was started".to_string())
        },
    )
    .await?;
    Ok(())
}

async fn short_lived_tokens() -> Result<(), String> {
    let stack = Stack::start(
        "short-lived",
        IdpOptions {
            access_token_ttl: Some(4),
            ..Default::default()
        },
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

/// The app with DPoP on, against a provider that requires it: the tokens are bound to the device's
/// key, kept in the keyring with them, and the API still answers after a relaunch.
async fn dpop() -> Result<(), String> {
    let stack = Stack::start_app(
        "dpop",
        IdpOptions {
            dpop: Some("required"),
            ..Default::default()
        },
        target_debug().join("okta-signin-app"),
        |_, _, _| vec![("OIDC_DPOP".to_string(), "true".to_string())],
    )?;
    let app = stack.launch().await?;
    step(
        "10. DPoP: sign in, call the API, relaunch, call the API again",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            wait_text(&app, "#dpop", "Tokens bound to this device (DPoP)").await?;
            (stack.stored()["dpop_key"].is_object())
                .then_some(())
                .ok_or("the key is not kept with the tokens".to_string())?;
            click(&app, "#call-api").await?;
            wait_text(&app, "#api-result", "Hello from the demo API").await?;
            app.screenshot(&shots().join("10-dpop.png")).await
        },
    )
    .await?;
    stack.quit(app).await?;
    let app = stack.launch().await?;
    step("10. DPoP after a relaunch", Some(&app), || async {
        click(&app, "#call-api").await?;
        wait_text(&app, "#api-result", "Hello from the demo API").await
    })
    .await?;
    stack.quit(app).await
}

/// Step-up (RFC 9470): the demo API's sensitive route asks a password sign-in for a second factor;
/// the app says so, the browser shows dev/idp's one-time-code page, and back in the app the call is
/// made again and succeeds. Cancelling keeps the user signed in; a step-up that comes back as another
/// user is refused, and the user stays signed in as before.
async fn step_up() -> Result<(), String> {
    // Pushed authorization requests on, as `make run` has them: the real app pushes its step-up.
    let stack = Stack::start(
        "step-up",
        IdpOptions {
            par: Some("on"),
            ..Default::default()
        },
    )?;
    let app = stack.launch().await?;
    step(
        "11. signed in with a password, Call sensitive API asks for a second factor",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            stack.handed_over("com.okta.example:/callback", 1).await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            click(&app, "#call-sensitive").await?;
            wait_text(&app, "#step-up-message", "This needs a second factor").await?;
            app.screenshot(&shots().join("11-step-up-asked.png")).await
        },
    )
    .await?;
    step(
        "11. cancelled on the provider's page: still signed in, nothing called",
        Some(&app),
        || async {
            stack.desktop.set_browser_action("cancel");
            click(&app, "#step-up").await?;
            stack.handed_over("com.okta.example:/callback", 2).await?;
            wait_text(&app, "#notice", "Sign-in was cancelled").await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            (status(&app).await? == "signed_in")
                .then_some(())
                .ok_or("not signed in after a cancelled step-up".to_string())
        },
    )
    .await?;
    step(
        "11. a step-up that comes back as alice is refused; demo stays signed in",
        Some(&app),
        || async {
            stack.desktop.set_browser_action("alice");
            click(&app, "#call-sensitive").await?;
            click(&app, "#step-up").await?;
            stack.handed_over("com.okta.example:/callback", 3).await?;
            wait_text(&app, "#notice", "Another account signed in").await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            (stack.stored()["subject"] == "00u1demo0000000000001")
                .then_some(())
                .ok_or(format!(
                    "the stored session is {}",
                    stack.stored()["subject"]
                ))
        },
    )
    .await?;
    step(
        "11. the second factor in the browser, then the call succeeds",
        Some(&app),
        || async {
            stack.desktop.set_browser_action("signin");
            click(&app, "#call-sensitive").await?;
            click(&app, "#step-up").await?;
            stack.handed_over("com.okta.example:/callback", 4).await?;
            wait_text(&app, "#api-result", "Only after a second factor").await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            app.screenshot(&shots().join("11-step-up-done.png")).await
        },
    )
    .await?;
    stack.quit(app).await
}

/// Native SSO: the app (in the SSO group `com.okta.example.shared`) signs in through Chromium;
/// `signin`, another app of the vendor with its own client id and the same group, is then signed in
/// with no browser from the keyring item the app left; "Sign out of all apps" in the app ends the
/// other's session at its next refresh.
async fn native_sso() -> Result<(), String> {
    const GROUP: &str = "com.okta.example.shared";
    let stack = Stack::start_app(
        "native-sso",
        IdpOptions::default(),
        target_debug().join("okta-signin-app"),
        |_, _, _| vec![("OIDC_SSO_GROUP".to_string(), GROUP.to_string())],
    )?;
    // `signin` on the same desktop (its keyring, its data folder), as the vendor's second app.
    // (Not with the app's settings, which are in the desktop's environment: they name its client.)
    let signin = |args: &[&str]| -> Result<(i32, String, String), String> {
        let mut command = Command::new(target_debug().join("signin"));
        command
            .args(args)
            .args([
                "--session",
                &stack.desktop.path("signin.json").display().to_string(),
            ])
            .args(["--sso-group", GROUP, "--token-storage", "keystore"])
            .envs(stack.desktop.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        for var in native_oidc::ENV_VARS {
            command.env_remove(var);
        }
        let output = command
            .output()
            .map_err(|e| format!("cannot run signin: {e}"))?;
        Ok((
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    };
    let app = stack.launch().await?;
    step(
        "12. Native SSO: the app signs in in the browser, signin with no browser",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            stack.handed_over("com.okta.example:/callback", 1).await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            wait_text(&app, "#sign-out-all", "Sign out of all apps").await?;
            let browser_runs = stack.desktop.browser_runs();
            let issuer = stack.idp.issuer().to_string();
            let (code, stdout, stderr) = signin(&[
                "login",
                "--issuer",
                &issuer,
                "--client-id",
                "0oa1localsecond0002",
                "--browser",
                "false",
            ])?;
            let summary: Value = serde_json::from_str(&stdout)
                .map_err(|e| format!("signin login ({code}): {e}: {stdout} {stderr}"))?;
            if summary["signed_in_with"] != "native_sso" || summary["email"] != "demo@example.com" {
                return Err(format!("signin login: {summary} {stderr}"));
            }
            if stack.desktop.browser_runs() != browser_runs {
                return Err("signin opened a browser".into());
            }
            app.screenshot(&shots().join("12-native-sso.png")).await
        },
    )
    .await?;
    step(
        "12. Sign out of all apps in the app: signin is signed out at its next refresh",
        Some(&app),
        || async {
            click(&app, "#sign-out-all").await?;
            wait_status(&app, "signed_out").await?;
            // The app is signed out at once; the shared sign-in is revoked right after.
            wait_for("the app to revoke the shared sign-in", TIMEOUT, || async {
                Ok(stack
                    .app_log()
                    .contains("revoked the sign-in the SSO group's apps share")
                    .then_some(()))
            })
            .await?;
            let (code, _, stderr) = signin(&["refresh"])?;
            (code == 1 && stderr.contains("error: session_expired"))
                .then_some(())
                .ok_or(format!(
                    "signin refresh after the sign-out of all apps: {code}: {stderr}"
                ))
        },
    )
    .await?;
    stack.quit(app).await
}

/// How many API calls the demo API authorized for the subject `sub` (its log says each).
fn api_calls_of(stack: &Stack, sub: &str) -> usize {
    stack
        .desktop
        .file("api.log")
        .lines()
        .filter(|line| line.contains("authorized") && line.contains(sub))
        .count()
}

/// Clicks Call API and waits for the demo API to authorize a call as `sub`.
async fn call_api_as(stack: &Stack, app: &Session, sub: &str) -> Result<(), String> {
    let before = api_calls_of(stack, sub);
    click(app, "#call-api").await?;
    wait_text(app, "#api-result", "Hello from the demo API").await?;
    wait_for(&format!("the demo API to see {sub}"), TIMEOUT, || async {
        Ok((api_calls_of(stack, sub) > before).then_some(()))
    })
    .await
}

/// Several accounts: demo signs in, alice is added (the provider asks for credentials again), the
/// API sees each as itself, switching needs no sign-in, signing alice out revokes her tokens and
/// leaves demo's, and a relaunch restores demo with no request to the provider.
async fn accounts() -> Result<(), String> {
    const DEMO: &str = "00u1demo0000000000001";
    const ALICE: &str = "00u1alice000000000002";
    let stack = Stack::start("accounts", IdpOptions::default())?;
    let app = stack.launch().await?;
    step(
        "13. demo signs in, then Add account signs alice in: both are listed",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            stack.handed_over("com.okta.example:/callback", 1).await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            stack.desktop.set_browser_action("alice");
            click(&app, "#add-account").await?;
            stack.handed_over("com.okta.example:/callback", 2).await?;
            wait_text(&app, "#profile-name", "Alice Example").await?;
            wait_text(&app, "#accounts .account", "Demo User").await?;
            stack.desktop.set_browser_action("signin");
            app.screenshot(&shots().join("13-two-accounts.png")).await
        },
    )
    .await?;
    step(
        "13. the API sees alice, then, after a switch with no sign-in, demo",
        Some(&app),
        || async {
            call_api_as(&stack, &app, ALICE).await?;
            let browsers = stack.desktop.browser_runs();
            click(&app, "#accounts .switch-account").await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            wait_text(&app, "#accounts .account", "Alice Example").await?;
            (stack.desktop.browser_runs() == browsers)
                .then_some(())
                .ok_or("switching opened the browser".to_string())?;
            call_api_as(&stack, &app, DEMO).await
        },
    )
    .await?;
    step(
        "13. signing alice out revokes her tokens; demo stays signed in and calls the API",
        Some(&app),
        || async {
            let id = app
                .attribute("#accounts .account", "data-account")
                .await?
                .ok_or("no other account listed")?;
            let item = format!("account-{id}.session");
            let alice = stack
                .desktop
                .secret("com.okta.example", &item)
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes[1..]).ok())
                .ok_or(format!("no keyring item {item}"))?;
            let refresh_token = alice["refresh_token"]
                .as_str()
                .ok_or("alice has no refresh token")?
                .to_string();
            let logouts = stack.handoffs("com.okta.example:/logout");
            click(&app, "#accounts .sign-out-account").await?;
            wait_for("alice to leave the list", TIMEOUT, || async {
                Ok(app
                    .find("#accounts .account")
                    .await?
                    .is_none()
                    .then_some(()))
            })
            .await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            stack
                .handed_over("com.okta.example:/logout", logouts + 1)
                .await?;
            let refused = stack.idp.refresh_grant(&refresh_token).await;
            (refused["error"] == "invalid_grant")
                .then_some(())
                .ok_or(format!("alice's refresh token still works: {refused}"))?;
            stack
                .desktop
                .secret("com.okta.example", &item)
                .is_none()
                .then_some(())
                .ok_or("alice's session is still in the keyring".to_string())?;
            call_api_as(&stack, &app, DEMO).await
        },
    )
    .await?;
    let app = stack
        .relaunched_quietly(
            app,
            "13. relaunched: demo is shown with no request to the provider",
        )
        .await?;
    stack.quit(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "end-to-end: needs Xvfb, D-Bus, tauri-driver, WebKitWebDriver, Chromium; run `make e2e`"]
async fn app_signs_in_through_the_system_browser() {
    std::fs::create_dir_all(shots()).expect("target/e2e");
    if let Err(error) = async {
        journey().await?;
        short_lived_tokens().await?;
        dpop().await?;
        step_up().await?;
        native_sso().await?;
        accounts().await
    }
    .await
    {
        panic!("{error}");
    }
}
