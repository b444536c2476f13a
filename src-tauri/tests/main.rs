//! The app's commands and deep-link routing on Tauri's mock runtime (no window system needed), against
//! the real identity provider and demo API. The browser launch is recorded instead of opening a browser;
//! the full flow in a real webview is the end-to-end suite's job.

use std::{
    sync::{Arc, Mutex, Once},
    time::{Duration, Instant},
};

use native_oidc::Config;
use okta_signin_app_lib::{test_context, with_core, ConfigLoader, Launcher};
use serde_json::Value;
use tauri::{
    ipc::{CallbackFn, Channel, InvokeBody, InvokeResponseBody},
    test::{get_ipc_response, mock_builder, INVOKE_KEY},
    webview::InvokeRequest,
    App, Emitter, Manager, WebviewWindow,
};
use tauri_plugin_oidc::OidcExt;
use tauri_plugin_oidc_core::store::VAULT_FILE;
use tauri_plugin_oidc_core::AppConfig;
use testkit::{Browser, Idp, LoginAction, CLIENT_ID};
use url::Url;

/// Tests write the store and scheme registrations under a temporary HOME, never the user's, and reach
/// no session bus (so no keyring) but one a test starts itself.
fn isolate_home() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let home = tempfile::tempdir().unwrap().keep();
        std::env::set_var("HOME", &home);
        std::env::set_var("XDG_DATA_HOME", home.join("data"));
        std::env::set_var("XDG_CONFIG_HOME", home.join("config"));
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", no_bus());
    });
}

/// A session bus address where nothing listens.
fn no_bus() -> String {
    let home = std::env::var("HOME").unwrap();
    format!("unix:path={home}/no-session-bus")
}

/// The app's store lives in the (shared) app data folder: one test at a time, each with a fresh folder.
static SERIAL: Mutex<()> = Mutex::new(());

struct TestApp {
    _serial: std::sync::MutexGuard<'static, ()>,
    app: App<tauri::test::MockRuntime>,
    window: WebviewWindow<tauri::test::MockRuntime>,
    opened: Arc<Mutex<Vec<Url>>>,
    /// Every message sent on the UI's channel (subscribed as the UI does, at start).
    messages: Arc<Mutex<Vec<String>>>,
    api: Option<DemoApi>,
}

/// The demo API, on a runtime thread of its own.
struct DemoApi {
    url: Url,
    _runtime: tokio::runtime::Runtime,
}

fn start(idp: &Idp) -> TestApp {
    let test = start_on(idp, native_oidc::TokenStorage::File, |_| {});
    test.wait_for("the app to start", |state| state["status"] != "restoring");
    test
}

/// The app against `idp` with tokens kept as `storage`, once `prepare` has had the (empty) app data
/// folder; it may not have finished starting.
fn start_on(
    idp: &Idp,
    storage: native_oidc::TokenStorage,
    prepare: impl FnOnce(&std::path::Path),
) -> TestApp {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let issuer = idp.issuer().to_string();
    let api_url = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let verifier = Arc::new(demo_api::Api::new(demo_api::Verifier::new(
            issuer,
            "api://default",
            [CLIENT_ID],
        )));
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
        api_base_url: Some(api_url.clone()),
        // Mostly a file only the user can read: these tests must not touch the keyring of the machine
        // (the keystore is tested by signin-cli's and the end-to-end suites, and here on a private
        // bus).
        token_storage: storage,
    };
    let api = DemoApi {
        url: api_url,
        _runtime: runtime,
    };
    start_prepared(Box::new(move |_| Ok(config)), Some(api), prepare)
}

/// The app with this configuration (on the mock runtime, with a recorded browser).
fn start_with(config: ConfigLoader, api: Option<DemoApi>) -> TestApp {
    start_prepared(config, api, |_| {})
}

/// [`start_with`], once `prepare` has had the (empty) app data folder.
fn start_prepared(
    config: ConfigLoader,
    api: Option<DemoApi>,
    prepare: impl FnOnce(&std::path::Path),
) -> TestApp {
    isolate_home();
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let opened = Arc::new(Mutex::new(Vec::new()));
    let record = opened.clone();
    let launcher: Launcher = Arc::new(move |url: &Url| {
        record.lock().unwrap().push(url.clone());
        Ok(())
    });
    let data = std::path::PathBuf::from(std::env::var("XDG_DATA_HOME").unwrap());
    let _ = std::fs::remove_dir_all(&data);
    let app_data = data.join("com.okta.example");
    std::fs::create_dir_all(&app_data).unwrap();
    prepare(&app_data);
    let mut app = with_core(mock_builder(), config, Some(launcher))
        .build(test_context())
        .unwrap();
    // One turn of the (mock) event loop runs the setup hook, which creates the "main" window of
    // tauri.conf.json, installs the controller and starts listening for deep links.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = app.get_webview_window("main").expect("the main window");
    let messages = Arc::new(Mutex::new(Vec::new()));
    let record = messages.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        let text = match body {
            InvokeResponseBody::Json(json) => json,
            InvokeResponseBody::Raw(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        };
        record.lock().unwrap().push(text);
        Ok(())
    });
    app.handle().oidc().subscribe(channel).unwrap();
    TestApp {
        _serial: serial,
        app,
        window,
        opened,
        messages,
        api,
    }
}

/// Calls a command from `window`, as its page would.
fn invoke_in(
    window: &WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    body: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
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

impl TestApp {
    fn invoke(&self, cmd: &str, body: Value) -> Result<Value, Value> {
        invoke_in(&self.window, cmd, body)
    }

    fn state(&self) -> Value {
        self.invoke("plugin:oidc|get_state", Value::Null).unwrap()
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
        app.invoke("plugin:oidc|sign_in", Value::Null).unwrap()["status"],
        "waiting_for_browser"
    );
    let callback = app.browser(&LoginAction::demo());
    app.open_link(callback.as_str());
    let state = app.wait_for("sign-in", |s| s["status"] == "signed_in");
    assert_eq!(state["profile"]["name"], "Demo User");
    assert_eq!(state["profile"]["email"], "demo@example.com");

    let session = app.stored_session().expect("the session is in the store");
    let response = app
        .invoke(
            "plugin:oidc|fetch_api",
            serde_json::json!({ "path": "/api/messages" }),
        )
        .unwrap();
    assert_eq!(response["status"], 200);
    let refused = app
        .invoke(
            "plugin:oidc|fetch_api",
            serde_json::json!({ "path": "https://evil.example.com/" }),
        )
        .unwrap_err();
    assert_eq!(refused["kind"], "forbidden_url", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("configured API"),
        "{refused}"
    );

    // The app's own Rust code calls its APIs with the same session, through `app.oidc()`.
    let oidc = app.app.oidc();
    assert!(oidc.state().unwrap().is_signed_in());
    let token = tauri::async_runtime::block_on(oidc.access_token()).unwrap();
    assert_eq!(token.secret(), session.access_token().secret());
    let url = app.api.as_ref().unwrap().url.join("api/messages").unwrap();
    let request = oidc.request(reqwest::Method::GET, url).unwrap();
    let answer = tauri::async_runtime::block_on(oidc.send(request)).unwrap();
    assert_eq!(answer.status(), 200);
    assert!(tauri::async_runtime::block_on(answer.text())
        .unwrap()
        .contains("Hello from the demo API"));

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
        app.invoke("plugin:oidc|sign_out", Value::Null).unwrap()["status"],
        "signed_out"
    );
    assert!(app.stored_session().is_none(), "the store holds no session");
}

#[test]
fn stale_forged_and_foreign_links_are_ignored() {
    let idp = Idp::start();
    let app = start(&idp);

    // A stale callback: its sign-in was replaced by a new attempt.
    app.invoke("plugin:oidc|sign_in", Value::Null).unwrap();
    let stale = app.browser(&LoginAction::demo());
    app.invoke("plugin:oidc|sign_in", Value::Null).unwrap();
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

    // /login for our issuer while signed in only asks; the UI accepts with the suggested account.
    app.open_link(&format!(
        "com.okta.example:/login?iss={}&login_hint=demo",
        idp.issuer()
    ));
    let asked = app.wait_for("the request to show", |s| !s["login_request"].is_null());
    assert_eq!(asked["login_request"]["issuer"], idp.issuer());
    assert_eq!(app.opened.lock().unwrap().len(), opened, "nothing opened");
    let started = app
        .invoke(
            "plugin:oidc|sign_in",
            serde_json::json!({ "loginHint": "demo" }),
        )
        .unwrap();
    assert_eq!(started["status"], "waiting_for_browser");
    assert!(app.last_opened().as_str().contains("login_hint=demo"));
}

/// The webview can hear no event (it may not listen: tauri-plugin-deep-link emits every URL, codes
/// included, as `deep-link://new-url`), and nothing sent on its channel carries a code, a state or a
/// token.
#[test]
fn the_webview_never_receives_a_code_a_state_or_a_token() {
    let idp = Idp::start();
    let app = start(&idp);
    for event in ["deep-link://new-url", "auth-changed"] {
        let refused = app
            .invoke(
                "plugin:event|listen",
                serde_json::json!({ "event": event, "target": { "kind": "Any" }, "handler": 7 }),
            )
            .unwrap_err();
        assert!(
            refused.to_string().contains("not allowed"),
            "the window may not listen to {event}: {refused}"
        );
    }

    app.invoke("plugin:oidc|sign_in", Value::Null).unwrap();
    let callback = app.browser(&LoginAction::demo());
    app.open_link("com.okta.example:/callback?code=forged-code&state=forged-state");
    app.open_link(callback.as_str());
    app.wait_for("sign-in", |s| s["status"] == "signed_in");
    app.invoke(
        "plugin:oidc|fetch_api",
        serde_json::json!({ "path": "/api/messages" }),
    )
    .unwrap();
    let session = app.stored_session().unwrap();
    app.invoke("plugin:oidc|sign_out", Value::Null).unwrap();

    let params: std::collections::HashMap<_, _> = callback.query_pairs().into_owned().collect();
    let secrets = [
        params["code"].clone(),
        params["state"].clone(),
        "forged-code".to_string(),
        "forged-state".to_string(),
        session.access_token().secret().clone(),
        session.refresh_token().unwrap().secret().clone(),
        session.id_token().unwrap().to_string(),
    ];
    let messages = app.messages.lock().unwrap().clone();
    assert!(
        messages.iter().any(|m| m.contains("signed_in")),
        "the channel carried the states: {messages:?}"
    );
    for message in &messages {
        for secret in &secrets {
            assert!(!message.contains(secret.as_str()), "{message}");
        }
    }
}

#[test]
fn a_release_build_without_settings_shows_what_to_configure() {
    let loader: ConfigLoader = Box::new(|file| {
        tauri_plugin_oidc_core::AppConfig::load_with(
            tauri_plugin_oidc_core::RELEASE_DEFAULTS,
            file,
            tauri_plugin_oidc_core::Build::Release,
            |_| None,
        )
    });
    let app = start_with(loader, None);
    let state = app.state();
    assert_eq!(state["status"], "not_configured");
    assert_eq!(
        state["missing"],
        serde_json::json!(["issuer", "clientId", "apiBaseUrl"])
    );
    assert!(
        state["file"]
            .as_str()
            .unwrap()
            .ends_with("com.okta.example/okta.json"),
        "{state}"
    );
    let refused = app.invoke("plugin:oidc|sign_in", Value::Null).unwrap_err();
    assert_eq!(refused["kind"], "not_configured", "{refused}");
    assert!(app.opened.lock().unwrap().is_empty());
}

/// The plugin's commands are the main window's only because its capability grants `oidc:default`:
/// another window, with no capability, may call none of them.
#[test]
fn a_window_without_the_plugins_permission_cannot_call_it() {
    let idp = Idp::start();
    let app = start(&idp);
    let other = tauri::WebviewWindowBuilder::new(&app.app, "other", tauri::WebviewUrl::default())
        .build()
        .unwrap();
    for command in [
        "plugin:oidc|get_state",
        "plugin:oidc|sign_in",
        "plugin:oidc|fetch_api",
        "plugin:oidc|sign_out",
        "plugin:oidc|reopen_store",
    ] {
        let refused = invoke_in(
            &other,
            command,
            serde_json::json!({ "path": "/api/messages" }),
        )
        .unwrap_err();
        assert!(
            refused.to_string().contains("not allowed"),
            "{command}: {refused}"
        );
    }
    app.invoke("plugin:oidc|get_state", serde_json::json!({}))
        .expect("the main window, whose capability grants oidc:default, may");
    assert!(app.opened.lock().unwrap().is_empty(), "nothing was opened");
}

/// What a storage problem shows must be the app's own words: never the keystore's, D-Bus's or the OS's.
fn assert_in_words(state: &Value) {
    let shown = format!("{} {}", state["message"], state["actions"]);
    for raw in [
        "SS error",
        "D-Bus",
        "DBus",
        "org.freedesktop",
        "os error",
        "session storage",
        "platform storage",
    ] {
        assert!(!shown.contains(raw), "{raw} in {state}");
    }
}

/// `tokenStorage: keystore` and no Secret Service (no session bus at all, or a bus where nothing
/// answers for it): the app opens (it used to print an error and exit), on a screen that says the
/// keyring cannot be reached and what to do, and it stays there until the keyring answers: then "Try
/// again" opens the store, and the user signs in with tokens in the keyring.
#[test]
fn keystore_without_a_secret_service_opens_on_what_to_do_and_try_again_works() {
    isolate_home();
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let bus = testkit::SessionBus::empty(&dir.path().join("empty"));
    for on_a_bus in [false, true] {
        if on_a_bus {
            std::env::set_var("DBUS_SESSION_BUS_ADDRESS", bus.address());
        }
        let app = start_on(&idp, native_oidc::TokenStorage::Keystore, |_| {});
        let state = app.state();
        assert_eq!(state["status"], "storage_problem", "{state}");
        assert_eq!(state["kind"], "keystore_unavailable", "{state}");
        assert_eq!(state["start_over"], false, "{state}");
        assert_in_words(&state);
        let actions = state["actions"].to_string();
        assert!(actions.contains("unlock your keyring"), "{state}");
        assert!(
            actions.contains(r#"\"tokenStorage\" to \"auto\""#),
            "{state}"
        );
        let config_file = state["file"].as_str().unwrap();
        assert!(
            config_file.ends_with("com.okta.example/okta.json"),
            "{state}"
        );
        assert!(actions.contains(config_file), "{state}");

        // Nothing works on the store meanwhile, and nothing is opened or touched.
        let refused = app.invoke("plugin:oidc|sign_in", Value::Null).unwrap_err();
        assert_eq!(refused["kind"], "storage", "{refused}");
        for start_over in [false, true] {
            let again = app
                .invoke(
                    "plugin:oidc|reopen_store",
                    serde_json::json!({ "startOver": start_over }),
                )
                .unwrap();
            assert_eq!(again["kind"], "keystore_unavailable", "{again}");
        }
        assert!(app.opened.lock().unwrap().is_empty());
        if !on_a_bus {
            continue;
        }

        // The user starts the keyring, and tries again. (On a bus of its own: gnome-keyring started
        // on the empty bus above did not come up within testkit's 15 s, not investigated yet.)
        let keyring = testkit::SessionBus::with_secret_service(&dir.path().join("keyring"));
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", keyring.address());
        let state = app
            .invoke(
                "plugin:oidc|reopen_store",
                serde_json::json!({ "startOver": false }),
            )
            .unwrap();
        assert_eq!(state["status"], "signed_out", "{state}");
        assert_eq!(state["notice"], Value::Null, "{state}");
        app.invoke("plugin:oidc|sign_in", Value::Null).unwrap();
        let callback = app.browser(&LoginAction::demo());
        app.open_link(callback.as_str());
        let state = app.wait_for("sign-in", |s| s["status"] == "signed_in");
        assert_eq!(state["storage"], "keystore", "{state}");
        assert!(app.stored_session().is_none(), "nothing in a file");
    }
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", no_bus());
}

/// The plaintext store file of version 0.1 that cannot be parsed: the app opens on a screen that says
/// so, touching nothing; "Start over" sets the file aside (renamed, its bytes kept) and the app is
/// signed out, says where the old copy is, and signs in (deep links work from then on).
#[test]
fn an_unparseable_store_file_of_an_earlier_version_opens_on_what_to_do_and_start_over_works() {
    let idp = Idp::start();
    let garbage = br#"{"session": {"refresh_token": "secret-looking", "#;
    let app = start_on(&idp, native_oidc::TokenStorage::File, |data| {
        std::fs::write(
            data.join(tauri_plugin_oidc_core::store::LEGACY_STORE_FILE),
            garbage,
        )
        .unwrap();
    });
    let data = app.app.path().app_data_dir().unwrap();
    let legacy = data.join(tauri_plugin_oidc_core::store::LEGACY_STORE_FILE);
    let state = app.state();
    assert_eq!(state["status"], "storage_problem", "{state}");
    assert_eq!(state["kind"], "store_unreadable", "{state}");
    assert_eq!(state["start_over"], true, "{state}");
    assert_in_words(&state);
    assert!(
        state["message"]
            .as_str()
            .unwrap()
            .contains(&legacy.display().to_string()),
        "{state}"
    );
    assert!(!state.to_string().contains("secret-looking"));
    assert_eq!(std::fs::read(&legacy).unwrap(), garbage, "untouched");

    // A link that comes meanwhile waits for the store.
    app.open_link("com.okta.example:/callback?code=forged&state=forged");
    let again = app
        .invoke(
            "plugin:oidc|reopen_store",
            serde_json::json!({ "startOver": false }),
        )
        .unwrap();
    assert_eq!(again, state, "trying again changes nothing");
    assert_eq!(std::fs::read(&legacy).unwrap(), garbage);

    let state = app
        .invoke(
            "plugin:oidc|reopen_store",
            serde_json::json!({ "startOver": true }),
        )
        .unwrap();
    assert_eq!(state["status"], "signed_out", "{state}");
    assert_eq!(state["notice"]["kind"], "storage", "{state}");
    let aside = data.join("session.corrupt");
    assert!(
        state["notice"]["message"]
            .as_str()
            .unwrap()
            .contains(&aside.display().to_string()),
        "{state}"
    );
    assert!(!legacy.exists(), "moved away");
    assert_eq!(std::fs::read(&aside).unwrap(), garbage, "kept, whole");

    app.invoke("plugin:oidc|sign_in", Value::Null).unwrap();
    let callback = app.browser(&LoginAction::demo());
    app.open_link(callback.as_str());
    app.wait_for("sign-in", |s| s["status"] == "signed_in");
    assert!(app.stored_session().is_some());
}

/// A debug build registers the scheme for itself (`~/.local/share/applications/<exe>-handler.desktop`),
/// under a name that tells it from the installed package's "Okta Sign-In Example" in an "Open With…"
/// chooser; a file an earlier build wrote with the package's name is renamed.
#[test]
fn a_debug_build_registers_its_handler_under_a_name_of_its_own() {
    let exe = std::env::current_exe().unwrap();
    let file_name = format!(
        "{}-handler.desktop",
        exe.file_name().unwrap().to_string_lossy()
    );
    let handler =
        |data: &std::path::Path| data.parent().unwrap().join("applications").join(&file_name);
    let name_of = |text: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix("Name="))
            .map(str::to_string)
    };
    let idp = Idp::start();
    let earlier = "[Desktop Entry]\nType=Application\nName=Okta Sign-In Example\n\
        Exec=\"/old/okta-signin-app\" %u\nTerminal=false\n\
        MimeType=x-scheme-handler/com.okta.example;\nNoDisplay=true\n";
    for written_before in [None, Some(earlier)] {
        let app = start_on(&idp, native_oidc::TokenStorage::File, |data| {
            if let Some(text) = written_before {
                let file = handler(data);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
        });
        let data = app.app.path().app_data_dir().unwrap();
        let text = std::fs::read_to_string(handler(&data)).unwrap();
        assert_eq!(
            name_of(&text).as_deref(),
            Some("Okta Sign-In Example (development build)"),
            "{text}"
        );
        assert!(text.contains("x-scheme-handler/com.okta.example"), "{text}");
        assert!(
            text.contains(&format!("\"{}\" %u", exe.display())),
            "it opens this build: {text}"
        );
    }
}
