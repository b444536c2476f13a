//! The app's commands and deep-link routing on Tauri's mock runtime (no window system needed), against
//! the real identity provider and demo API. The browser launch is recorded instead of opening a browser;
//! the full flow in a real webview is the end-to-end suite's job.

use std::{
    sync::{Arc, Mutex, Once},
    time::{Duration, Instant},
};

use app_core::AppConfig;
use native_oidc::Config;
use okta_signin_app_lib::{test_context, with_core, Launcher, VAULT_FILE};
use serde_json::Value;
use tauri::{
    ipc::{CallbackFn, InvokeBody},
    test::{get_ipc_response, mock_builder, INVOKE_KEY},
    webview::InvokeRequest,
    App, Emitter, Manager, WebviewWindow,
};
use testkit::{Browser, Idp, LoginAction, CLIENT_ID};
use url::Url;

/// Tests write the store and scheme registrations under a temporary HOME, never the user's.
fn isolate_home() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let home = tempfile::tempdir().unwrap().keep();
        std::env::set_var("HOME", &home);
        std::env::set_var("XDG_DATA_HOME", home.join("data"));
        std::env::set_var("XDG_CONFIG_HOME", home.join("config"));
    });
}

/// The app's store lives in the (shared) app data folder: one test at a time, each with a fresh folder.
static SERIAL: Mutex<()> = Mutex::new(());

struct TestApp {
    _serial: std::sync::MutexGuard<'static, ()>,
    app: App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    opened: Arc<Mutex<Vec<Url>>>,
    _api: tokio::runtime::Runtime,
}

fn start(idp: &Idp) -> TestApp {
    isolate_home();
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The demo API, on its own runtime thread.
    let api = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let issuer = idp.issuer().to_string();
    let api_url = api.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let verifier = Arc::new(demo_api::Verifier::new(issuer, "api://default"));
        tokio::spawn(async move {
            axum::serve(listener, demo_api::app(verifier))
                .await
                .unwrap()
        });
        url
    });
    let config = AppConfig {
        oidc: Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback")
            .unwrap()
            .with_post_logout_redirect_uri("com.okta.example:/logout")
            .unwrap(),
        api_base_url: Url::parse(&api_url).unwrap(),
        // A file only the user can read: these tests must not touch the keyring of the machine
        // (the keystore is tested by signin-cli's and the end-to-end suites).
        token_storage: native_oidc::TokenStorage::File,
    };
    let opened = Arc::new(Mutex::new(Vec::new()));
    let record = opened.clone();
    let launcher: Launcher = Arc::new(move |url: &Url| {
        record.lock().unwrap().push(url.clone());
        Ok(())
    });
    let data = std::path::PathBuf::from(std::env::var("XDG_DATA_HOME").unwrap());
    let _ = std::fs::remove_dir_all(&data);
    let mut app = with_core(mock_builder(), config, Some(launcher))
        .build(test_context())
        .unwrap();
    // One turn of the (mock) event loop runs the setup hook, which creates the "main" window of
    // tauri.conf.json, installs the controller and starts listening for deep links.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = app.get_webview_window("main").expect("the main window");
    let test = TestApp {
        _serial: serial,
        app,
        window,
        opened,
        _api: api,
    };
    test.wait_for("the app to start", |state| state["status"] != "restoring");
    test
}

impl TestApp {
    fn invoke(&self, cmd: &str, body: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|response| response.deserialize::<Value>().unwrap())
    }

    fn state(&self) -> Value {
        self.invoke("auth_state", Value::Null).unwrap()
    }

    /// Delivers a URL the way the deep-link plugin does when the OS (or a second instance) opens one.
    fn open_link(&self, url: &str) {
        self.app
            .emit("deep-link://new-url", vec![url.to_string()])
            .unwrap();
    }

    fn wait_for(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let state = self.state();
            if done(&state) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; state: {state}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn last_opened(&self) -> Url {
        self.opened
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a browser was opened")
    }

    fn browser(&self, action: &LoginAction) -> Url {
        tauri::async_runtime::block_on(Browser::new().open(self.last_opened().as_str(), action))
            .app_redirect()
    }

    fn stored_session(&self) -> Option<native_oidc::Session> {
        let path = self.app.path().app_data_dir().unwrap().join(VAULT_FILE);
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

#[test]
fn sign_in_through_a_deep_link_then_call_the_api_and_sign_out() {
    let idp = Idp::start();
    let app = start(&idp);
    assert_eq!(app.state()["status"], "signed_out");

    assert_eq!(
        app.invoke("sign_in", Value::Null).unwrap()["status"],
        "waiting_for_browser"
    );
    let callback = app.browser(&LoginAction::demo());
    app.open_link(callback.as_str());
    let state = app.wait_for("sign-in", |s| s["status"] == "signed_in");
    assert_eq!(state["profile"]["name"], "Demo User");
    assert_eq!(state["profile"]["email"], "demo@example.com");

    let session = app.stored_session().expect("the session is in the store");
    let response = app
        .invoke("call_api", serde_json::json!({ "path": "/api/messages" }))
        .unwrap();
    assert_eq!(response["status"], 200);
    let refused = app
        .invoke(
            "call_api",
            serde_json::json!({ "path": "https://evil.example.com/" }),
        )
        .unwrap_err();
    assert!(
        refused.as_str().unwrap().contains("configured API"),
        "{refused}"
    );

    // No command result carries a token.
    for result in [
        state.to_string(),
        response.to_string(),
        app.state().to_string(),
    ] {
        assert!(!result.contains(session.access_token().secret()));
        assert!(!result.contains(session.refresh_token().unwrap().secret()));
        assert!(!result.contains(&session.id_token().unwrap().to_string()));
    }

    assert_eq!(
        app.invoke("sign_out", Value::Null).unwrap()["status"],
        "signed_out"
    );
    assert!(app.stored_session().is_none(), "the store holds no session");
}

#[test]
fn stale_forged_and_foreign_links_are_ignored() {
    let idp = Idp::start();
    let app = start(&idp);

    // A stale callback: its sign-in was replaced by a new attempt.
    app.invoke("sign_in", Value::Null).unwrap();
    let stale = app.browser(&LoginAction::demo());
    app.invoke("sign_in", Value::Null).unwrap();
    app.open_link(stale.as_str());
    app.open_link("com.okta.example:/callback?code=forged&state=forged");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(app.state()["status"], "waiting_for_browser");
    assert!(app.stored_session().is_none());

    // /login for another issuer opens nothing.
    let opened = app.opened.lock().unwrap().len();
    app.open_link("com.okta.example:/login?iss=https%3A%2F%2Fevil.example.com%2Foauth2%2Fdefault");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(app.opened.lock().unwrap().len(), opened);

    // The current attempt still completes.
    let callback = app.browser(&LoginAction::demo());
    app.open_link(callback.as_str());
    app.wait_for("sign-in", |s| s["status"] == "signed_in");
    assert!(app.stored_session().is_some());

    // /login for our issuer starts a sign-in.
    app.open_link(&format!("com.okta.example:/login?iss={}", idp.issuer()));
    app.wait_for("a new sign-in", |s| s["status"] == "waiting_for_browser");
    assert_eq!(app.opened.lock().unwrap().len(), opened + 1);
}
