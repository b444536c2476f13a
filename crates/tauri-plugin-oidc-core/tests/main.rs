//! The app's behaviour against the real identity provider (`dev/idp`) and the real demo API, with a
//! recording platform in place of Tauri (the real app in a webview is tested end to end elsewhere).

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use native_oidc::{Auth, Config, OidcClient, SessionStore, Storage};
use tauri_plugin_oidc_core::{AuthView, Controller, LinkOutcome, Notice, Platform};
use testkit::{Browser, Idp, IdpOptions, LoginAction, CLIENT_ID};
use url::Url;

#[derive(Default)]
struct Recorder {
    views: Mutex<Vec<AuthView>>,
    opened: Mutex<Vec<Url>>,
    /// For each sign-in page opened: whether it asked for an ephemeral browser session.
    ephemeral: Mutex<Vec<bool>>,
}

#[derive(Clone, Default)]
struct TestPlatform(Arc<Recorder>);

impl Platform for TestPlatform {
    fn open_browser(&self, url: &Url) -> Result<(), String> {
        self.0.opened.lock().unwrap().push(url.clone());
        Ok(())
    }
    fn state_changed(&self, view: &AuthView) {
        self.0.views.lock().unwrap().push(view.clone());
    }
    fn open_sign_in(&self, url: &Url, ephemeral: bool) -> Result<(), String> {
        self.0.ephemeral.lock().unwrap().push(ephemeral);
        self.open_browser(url)
    }
}

impl TestPlatform {
    fn last_opened(&self) -> Url {
        self.0
            .opened
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a URL was opened")
    }
    fn opened(&self) -> usize {
        self.0.opened.lock().unwrap().len()
    }
}

async fn demo_api(issuer: &str) -> Url {
    let verifier = Arc::new(demo_api::Api::new(demo_api::Verifier::new(
        issuer,
        "api://default",
        [CLIENT_ID],
    )));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, demo_api::app(verifier))
            .await
            .unwrap()
    });
    url
}

/// The app's settings against `idp`.
fn app_config(idp: &Idp) -> Config {
    Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback")
        .unwrap()
        .with_post_logout_redirect_uri("com.okta.example:/logout")
        .unwrap()
}

fn controller(
    idp: &Idp,
    store: &Path,
    platform: TestPlatform,
    api: Url,
) -> Controller<TestPlatform> {
    let config = app_config(idp);
    let auth = Auth::new(OidcClient::new(config).unwrap(), SessionStore::file(store));
    Controller::new(auth, platform, Some(api))
}

/// An app on a file store at `store`, started, and its platform.
async fn started(idp: &Idp, store: &Path, api: Url) -> (Controller<TestPlatform>, TestPlatform) {
    let platform = TestPlatform::default();
    let app = controller(idp, store, platform.clone(), api);
    app.start().await;
    (app, platform)
}

/// Signs in: the "system browser" logs in, and its redirect comes back as a deep link.
async fn sign_in(app: &Controller<TestPlatform>, platform: &TestPlatform) -> LinkOutcome {
    assert_eq!(
        app.sign_in(None).await.unwrap(),
        AuthView::WaitingForBrowser
    );
    browser_returns(app, platform, &LoginAction::demo()).await
}

/// The "system browser" does `action` on the page the app opened last; its redirect comes back as
/// a deep link.
async fn browser_returns(
    app: &Controller<TestPlatform>,
    platform: &TestPlatform,
    action: &LoginAction,
) -> LinkOutcome {
    let callback = Browser::new()
        .open(platform.last_opened().as_str(), action)
        .await
        .app_redirect();
    app.handle_url(callback.as_str()).await
}

fn name(view: &AuthView) -> Option<String> {
    match view {
        AuthView::SignedIn { profile, .. } => profile.name.clone(),
        _ => None,
    }
}

/// What the signed-out screen tells the user; panics on any other view.
fn signed_out_notice(view: AuthView) -> Notice {
    match view {
        AuthView::SignedOut {
            notice: Some(notice),
        } => notice,
        other => panic!("expected a signed-out view with a notice: {other:?}"),
    }
}

#[tokio::test]
async fn sign_in_call_the_api_and_sign_out() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("session.json");
    let platform = TestPlatform::default();
    let app = controller(&idp, &store, platform.clone(), demo_api(idp.issuer()).await);
    assert_eq!(app.start().await, AuthView::SignedOut { notice: None });

    assert_eq!(sign_in(&app, &platform).await, LinkOutcome::SignedIn);
    let view = app.view();
    assert_eq!(name(&view).as_deref(), Some("Demo User"));
    assert!(
        SessionStore::file(&store)
            .load_pending()
            .await
            .unwrap()
            .is_empty(),
        "the pending sign-in is used up"
    );
    match &view {
        AuthView::SignedIn { storage, .. } => assert_eq!(*storage, Storage::File),
        other => panic!("{other:?}"),
    }

    let response = app.call_api("/api/messages").await.unwrap();
    assert_eq!(response.status, 200);
    assert!(response.body["messages"].as_array().unwrap().len() >= 2);
    let error = app
        .call_api("https://evil.example.com/steal")
        .await
        .unwrap_err();
    assert_eq!(error.kind, "forbidden_url");

    // Nothing the UI was ever told contains a token.
    let session = SessionStore::file(&store).load().await.unwrap().unwrap();
    let told = serde_json::to_string(&*platform.0.views.lock().unwrap()).unwrap();
    assert!(!told.contains(session.access_token().secret()));
    assert!(!told.contains(session.refresh_token().unwrap().secret()));

    let opened = platform.opened();
    let (view, task) = app.sign_out().await;
    assert_eq!(view, AuthView::SignedOut { notice: None });
    assert!(!store.exists(), "the store is cleared at once");
    assert_eq!(platform.opened(), opened, "nothing waits for the network");
    app.finish_sign_out(task.expect("tokens to revoke")).await;
    assert_eq!(
        platform.opened(),
        opened + 1,
        "the end-session page is opened"
    );
    assert_eq!(
        browser_returns(&app, &platform, &LoginAction::demo()).await,
        LinkOutcome::SignedOut
    );
    let error = app.auth().client().refresh(&session).await.unwrap_err();
    assert_eq!(error.kind(), "session_expired", "tokens were revoked");
}

/// A `com.okta.example:/logout` link that is not the provider's answer (any page can open one) is
/// ignored and leaves the sign-out pending: the genuine return that follows still completes it, once.
#[tokio::test]
async fn a_stray_logout_link_does_not_cancel_the_sign_out_return() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (app, platform) = started(
        &idp,
        &dir.path().join("s.json"),
        demo_api(idp.issuer()).await,
    )
    .await;
    assert_eq!(sign_in(&app, &platform).await, LinkOutcome::SignedIn);
    let (_, task) = app.sign_out().await;
    app.finish_sign_out(task.expect("tokens to revoke")).await;
    let back = Browser::new()
        .open(platform.last_opened().as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    let state = back
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .expect("the provider sends the state back");

    for stray in [
        "com.okta.example:/logout".to_string(),
        "com.okta.example:/logout?state=forged".to_string(),
        format!("com.okta.example:/logout?state={state}&state=forged"),
    ] {
        assert!(
            matches!(app.handle_url(&stray).await, LinkOutcome::Ignored(_)),
            "{stray}"
        );
    }
    assert_eq!(app.handle_url(back.as_str()).await, LinkOutcome::SignedOut);
    assert!(
        matches!(app.handle_url(back.as_str()).await, LinkOutcome::Ignored(_)),
        "a replay of the return finds no sign-out pending"
    );
}

#[tokio::test]
async fn cancel_forged_and_foreign_links() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (app, platform) = started(
        &idp,
        &dir.path().join("s.json"),
        demo_api(idp.issuer()).await,
    )
    .await;

    // Cancel on the login page.
    app.sign_in(None).await.unwrap();
    assert_eq!(
        browser_returns(&app, &platform, &LoginAction::Cancel).await,
        LinkOutcome::SignInFailed(tauri_plugin_oidc_core::Kind::Engine(
            native_oidc::ErrorKind::AccessDenied
        ))
    );
    let notice = signed_out_notice(app.view());
    assert_eq!(notice.kind, "access_denied");
    assert_eq!(notice.message, "Sign-in was cancelled.");

    // A callback matching no sign-in in progress, however malformed, is ignored before anything else
    // is read: the sign-in that waits for its own callback goes on.
    app.sign_in(None).await.unwrap();
    for stray in [
        "com.okta.example:/callback?state=x&state=x",
        "com.okta.example:/callback?code=a&code=b&state=x",
        "com.okta.example:/callback?error=access_denied&state=x",
        "com.okta.example:/callback",
    ] {
        assert!(
            matches!(app.handle_url(stray).await, LinkOutcome::Ignored(_)),
            "{stray}"
        );
        assert_eq!(app.view(), AuthView::WaitingForBrowser, "{stray}");
    }
    app.cancel_sign_in().await;

    // A sign-in page that could not be shown (a mobile authentication session that failed to
    // start): the attempt is over, the user is told why, and its callback is stale from then on.
    app.sign_in(None).await.unwrap();
    let page = platform.last_opened();
    app.sign_in_page_failed("no browser is installed").await;
    let notice = signed_out_notice(app.view());
    assert_eq!(notice.kind, "browser");
    assert!(
        notice.message.contains("no browser is installed"),
        "{notice:?}"
    );
    let callback = Browser::new()
        .open(page.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    assert!(matches!(
        app.handle_url(callback.as_str()).await,
        LinkOutcome::Ignored(_)
    ));

    // A forged callback while signed out, then while signed in: ignored both times.
    let forged = "com.okta.example:/callback?code=x&state=y";
    assert!(matches!(
        app.handle_url(forged).await,
        LinkOutcome::Ignored(_)
    ));
    assert!(matches!(app.view(), AuthView::SignedOut { .. }));
    assert_eq!(sign_in(&app, &platform).await, LinkOutcome::SignedIn);
    assert!(matches!(
        app.handle_url(forged).await,
        LinkOutcome::Ignored(_)
    ));
    assert!(app.view().is_signed_in());

    // Initiate login: only for our issuer (or its org URL, which Okta sends)...
    let opened = platform.opened();
    let foreign = "com.okta.example:/login?iss=https%3A%2F%2Fevil.example.com%2Foauth2%2Fdefault";
    assert!(matches!(
        app.handle_url(foreign).await,
        LinkOutcome::Ignored(_)
    ));
    assert_eq!(platform.opened(), opened);
    // ... and while signed in, it only asks: the UI shows who asked, nothing is opened.
    let org = idp.origin();
    let ours = format!("com.okta.example:/login?iss={org}&login_hint=demo&target_link_uri=https%3A%2F%2Fevil.example.com");
    assert_eq!(app.handle_url(&ours).await, LinkOutcome::SignInRequested);
    assert_eq!(platform.opened(), opened, "no browser while signed in");
    match app.view() {
        AuthView::SignedIn {
            login_request: Some(request),
            ..
        } => {
            assert_eq!(request.issuer, org);
            assert_eq!(request.login_hint.as_deref(), Some("demo"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        app.handle_url("com.okta.example:/unknown").await,
        LinkOutcome::Ignored(_)
    ));
}

#[tokio::test]
async fn initiate_login_links_cannot_hijack_a_sign_in() {
    // Requests not pushed (PAR), so the browser's URL shows what the sign-in asks for.
    let idp = Idp::start_with(IdpOptions {
        par: Some("off"),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let (app, platform) = started(
        &idp,
        &dir.path().join("s.json"),
        demo_api(idp.issuer()).await,
    )
    .await;
    let link = format!(
        "com.okta.example:/login?iss={}&login_hint=demo&target_link_uri=https%3A%2F%2Fevil.example.com",
        idp.origin()
    );

    // Signed out: the first link starts a sign-in, with the hint and without target_link_uri.
    assert_eq!(app.handle_url(&link).await, LinkOutcome::SignInStarted);
    let started = platform.last_opened();
    assert!(started.as_str().contains("login_hint=demo"));
    assert!(!started.as_str().contains("evil.example.com"));
    let opened = platform.opened();

    // While that sign-in is in progress, another link changes nothing...
    assert!(matches!(
        app.handle_url(&link).await,
        LinkOutcome::Ignored(_)
    ));
    assert_eq!(platform.opened(), opened);
    assert_eq!(app.view(), AuthView::WaitingForBrowser);
    // ... and the user's own callback still completes it.
    let callback = Browser::new()
        .open(started.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    assert_eq!(
        app.handle_url(callback.as_str()).await,
        LinkOutcome::SignedIn
    );

    // Signed out again: a link within 10 s of the last launch opens nothing.
    app.sign_out().await;
    assert!(matches!(
        app.handle_url(&link).await,
        LinkOutcome::Ignored(_)
    ));
    assert_eq!(
        platform.opened(),
        opened,
        "at most one launch per 10 s from links"
    );
    assert!(matches!(app.view(), AuthView::SignedOut { .. }));
}

#[tokio::test]
async fn a_sign_in_survives_the_app_being_killed_and_a_new_attempt_replaces_the_old() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.json");
    let api = demo_api(idp.issuer()).await;
    let platform = TestPlatform::default();
    let first = controller(&idp, &store, platform.clone(), api.clone());
    first.start().await;
    first.sign_in(None).await.unwrap();
    let stale_url = platform.last_opened();
    first.sign_in(None).await.unwrap();
    let url = platform.last_opened();
    drop(first); // killed while the user is in the browser

    let stale = Browser::new()
        .open(stale_url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    let callback = Browser::new()
        .open(url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    let second = controller(&idp, &store, platform.clone(), api);
    assert_eq!(second.start().await, AuthView::WaitingForBrowser);
    assert!(matches!(
        second.handle_url(stale.as_str()).await,
        LinkOutcome::Ignored(_)
    ));
    assert_eq!(
        second.handle_url(callback.as_str()).await,
        LinkOutcome::SignedIn
    );
}

/// A provider whose access tokens live 4 s, and a signed-in app (dropped: the next start is a relaunch).
struct Relaunch {
    idp: Idp,
    _dir: tempfile::TempDir,
    store: std::path::PathBuf,
    api: Url,
    platform: TestPlatform,
}

impl Relaunch {
    async fn signed_in() -> Self {
        let idp = Idp::start_with(IdpOptions {
            access_token_ttl: Some(4),
            ..Default::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.json");
        let api = demo_api(idp.issuer()).await;
        let (app, platform) = started(&idp, &store, api.clone()).await;
        sign_in(&app, &platform).await;
        Self {
            idp,
            _dir: dir,
            store,
            api,
            platform,
        }
    }

    fn app(&self) -> Controller<TestPlatform> {
        controller(
            &self.idp,
            &self.store,
            self.platform.clone(),
            self.api.clone(),
        )
    }
}

#[tokio::test]
async fn start_up_restores_offline_refreshes_or_signs_out() {
    let mut relaunch = Relaunch::signed_in().await;

    // A valid access token: signed in with no request at all.
    let before = relaunch.idp.request_count().await;
    assert_eq!(
        name(&relaunch.app().start().await).as_deref(),
        Some("Demo User")
    );
    assert_eq!(
        relaunch.idp.request_count().await,
        before,
        "no request to the identity provider"
    );

    // Expired and the provider is down: still signed in, offline.
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let saved = std::fs::read(&relaunch.store).unwrap();
    relaunch.idp.stop();
    match relaunch.app().start().await {
        AuthView::SignedIn {
            offline, notice, ..
        } => {
            assert!(offline);
            assert_eq!(notice.unwrap().kind, "network");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(&relaunch.store).unwrap(),
        saved,
        "nothing lost"
    );
}

#[tokio::test]
async fn start_up_with_a_revoked_session_signs_out_with_a_reason() {
    let relaunch = Relaunch::signed_in().await;
    let session = SessionStore::file(&relaunch.store)
        .load()
        .await
        .unwrap()
        .unwrap();
    relaunch
        .idp
        .revoke(session.refresh_token().unwrap().secret())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    assert_eq!(
        signed_out_notice(relaunch.app().start().await).kind,
        "session_expired"
    );
}

/// A real file vault whose erase fails, as on a file system that turned read-only (the tests run as
/// root, for whom permissions cannot make the file system refuse it).
#[derive(Debug)]
struct Unerasable(native_oidc::FileVault);

impl native_oidc::Vault for Unerasable {
    fn storage(&self) -> Storage {
        self.0.storage()
    }
    fn read(&self, name: &str) -> native_oidc::Result<Option<Vec<u8>>> {
        self.0.read(name)
    }
    fn write(&self, name: &str, value: &[u8]) -> native_oidc::Result<()> {
        self.0.write(name, value)
    }
    fn remove(&self, _name: &str) -> native_oidc::Result<()> {
        Err(native_oidc::Error::Storage(
            "read-only file system".to_string(),
        ))
    }
}

#[tokio::test]
async fn sign_out_revokes_the_tokens_even_when_the_device_copy_cannot_be_erased() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback").unwrap();
    let store = SessionStore::new(Arc::new(Unerasable(native_oidc::FileVault::new(&path))));
    let platform = TestPlatform::default();
    let app = Controller::new(
        Auth::new(OidcClient::new(config).unwrap(), store),
        platform.clone(),
        Some(demo_api(idp.issuer()).await),
    );
    app.start().await;
    assert_eq!(sign_in(&app, &platform).await, LinkOutcome::SignedIn);
    let session = SessionStore::file(&path).load().await.unwrap().unwrap();

    let (view, task) = app.sign_out().await;
    // The UI must say so.
    let notice = signed_out_notice(view);
    assert_eq!(notice.kind, "storage");
    assert!(
        notice.message.contains("could not be erased"),
        "{}",
        notice.message
    );
    assert!(notice.message.contains("revoked"), "{}", notice.message);
    app.finish_sign_out(task.expect("the tokens to revoke"))
        .await;
    let error = app.auth().client().refresh(&session).await.unwrap_err();
    assert_eq!(error.kind(), "session_expired", "the tokens are revoked");
}

/// The app's store in the data folder `data`, with the setting `storage`.
fn app_store(data: &Path, storage: native_oidc::TokenStorage) -> tauri_plugin_oidc_core::AppStore {
    tauri_plugin_oidc_core::AppStore {
        data_dir: data.to_path_buf(),
        identifier: "com.okta.example".into(),
        storage,
        config_file: data.join("config/okta.json"),
    }
}

/// A start-up storage problem says what is wrong and what to do in its own words (no engine or OS
/// message), offers to start over, and has touched nothing.
fn assert_unreadable(problem: &tauri_plugin_oidc_core::StorageProblem, broken: &Path) {
    assert_eq!(
        problem.kind,
        tauri_plugin_oidc_core::ProblemKind::StoreUnreadable
    );
    assert_eq!(problem.set_aside.as_deref(), Some(broken));
    assert!(
        problem.message.contains(&broken.display().to_string()),
        "{problem:?}"
    );
    for raw in [
        "Is a directory",
        "not the store file",
        "os error",
        "session storage",
    ] {
        assert!(!problem.message.contains(raw), "{problem:?}");
        assert!(
            problem.actions.iter().all(|action| !action.contains(raw)),
            "{problem:?}"
        );
    }
    assert!(
        problem.actions.iter().any(|a| a.starts_with("Start over")),
        "{problem:?}"
    );
    // Another tokenStorage helps only with the vault's own file (any store reads that of 0.1).
    let vault = broken.ends_with(tauri_plugin_oidc_core::store::VAULT_FILE);
    assert_eq!(
        problem.actions.iter().any(|a| a.contains("tokenStorage")
            && a.contains(&problem.config_file.display().to_string())),
        vault,
        "{problem:?}"
    );
    assert!(
        std::fs::symlink_metadata(broken).is_ok(),
        "nothing is set aside before the user chooses to start over"
    );
}

/// Whatever of the store cannot be read at start-up: the store file of version 0.1 that is not JSON or
/// cannot be read at all (here a folder in its place), or the vault's own file. Each is a problem the
/// app shows; starting over sets exactly that aside (renamed, the bytes kept) and opens a fresh store,
/// and the app starts signed out and says where the old copy is.
#[tokio::test]
async fn an_unreadable_store_is_a_problem_until_the_user_starts_over() {
    let idp = Idp::start();
    let api = demo_api(idp.issuer()).await;
    let truncated = br#"{"session": {"access_token": "eyJsecret", "#;
    for (case, storage) in [
        ("unparseable 0.1 file", native_oidc::TokenStorage::File),
        ("unreadable 0.1 file", native_oidc::TokenStorage::File),
        ("unreadable vault file", native_oidc::TokenStorage::File),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let store = app_store(&data, storage);
        let broken = match case {
            "unreadable vault file" => {
                std::fs::create_dir_all(store.vault_file()).unwrap();
                store.vault_file()
            }
            "unreadable 0.1 file" => {
                std::fs::create_dir_all(store.legacy_file()).unwrap();
                store.legacy_file()
            }
            _ => {
                std::fs::write(store.legacy_file(), truncated).unwrap();
                store.legacy_file()
            }
        };
        let problem = store.open().await.expect_err(case);
        assert_unreadable(&problem, &broken);
        // Trying again changes nothing: the same problem.
        assert_eq!(store.open().await.expect_err(case), problem, "{case}");

        let (vault, aside) = store.start_over(&problem).await.expect(case);
        let aside = aside.expect("something was set aside");
        assert!(
            std::fs::symlink_metadata(&broken).is_err(),
            "{case}: moved away"
        );
        if aside.is_dir() {
            assert!(case.starts_with("unreadable"), "{case}");
        } else {
            assert_eq!(
                std::fs::read(&aside).unwrap(),
                truncated,
                "{case}: kept whole"
            );
        }
        let platform = TestPlatform::default();
        let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback").unwrap();
        let app = Controller::new(
            Auth::new(OidcClient::new(config).unwrap(), vault),
            platform.clone(),
            Some(api.clone()),
        )
        .with_copies_outside_the_store(store.copies_outside_the_vault());
        let notice = tauri_plugin_oidc_core::StorageProblem::started_over(Some(&aside));
        let notice = signed_out_notice(app.start_with(notice).await);
        assert_eq!(notice.kind, "storage", "{case}");
        assert!(
            notice.message.contains(&aside.display().to_string()),
            "{case}: {notice:?}"
        );
        // The fresh store works: sign in, and the session is kept.
        assert_eq!(
            sign_in(&app, &platform).await,
            LinkOutcome::SignedIn,
            "{case}"
        );
        assert!(store.open().await.is_ok(), "{case}");
        // Sign-out erases every copy of a session, the one set aside included.
        if aside.is_file() {
            assert_eq!(app.sign_out().await.0, AuthView::SignedOut { notice: None });
            assert!(!aside.exists(), "{case}: erased at sign-out");
        }
    }
}

/// The plaintext store file of version 0.1 (tauri-plugin-store's JSON: `session` and `pending` keys).
#[tokio::test]
async fn a_session_in_the_plaintext_store_file_of_version_0_1_moves_into_the_vault() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let api = demo_api(idp.issuer()).await;
    // Sign in with a plain file store, then write that session in the old format.
    let signed_in = dir.path().join("signed-in.json");
    let (app, platform) = started(&idp, &signed_in, api.clone()).await;
    sign_in(&app, &platform).await;
    let session: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&signed_in).unwrap()).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let legacy = data.join(tauri_plugin_oidc_core::store::LEGACY_STORE_FILE);
    std::fs::write(
        &legacy,
        serde_json::json!({ "session": session, "pending": { "items": [] } }).to_string(),
    )
    .unwrap();

    let store = app_store(&data, native_oidc::TokenStorage::File)
        .open()
        .await
        .unwrap();
    assert!(!legacy.exists(), "the plaintext copy is erased");
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback").unwrap();
    let upgraded = Controller::new(
        Auth::new(OidcClient::new(config).unwrap(), store),
        TestPlatform::default(),
        Some(api),
    );
    assert_eq!(
        name(&upgraded.start().await).as_deref(),
        Some("Demo User"),
        "still signed in"
    );
    assert_eq!(
        upgraded.call_api("/api/messages").await.unwrap().status,
        200
    );
    assert!(data
        .join(tauri_plugin_oidc_core::store::VAULT_FILE)
        .exists());
}

/// An API answering 2 MiB, once with a content length and once streamed without one, and a small answer.
async fn large_answers_api() -> Url {
    use axum::{body::Body, routing::get, Router};
    let app = Router::new()
        .route("/big", get(|| async { vec![b'x'; 2 * 1024 * 1024] }))
        .route(
            "/stream",
            get(|| async {
                let chunks = (0..32).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 64 * 1024]));
                Body::from_stream(futures_util::stream::iter(chunks))
            }),
        )
        .route("/fine", get(|| async { r#"{"ok":true}"# }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn an_api_answer_over_1_mib_is_a_clear_error() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (app, platform) =
        started(&idp, &dir.path().join("s.json"), large_answers_api().await).await;
    assert_eq!(sign_in(&app, &platform).await, LinkOutcome::SignedIn);
    for path in ["/big", "/stream"] {
        let error = app.call_api(path).await.unwrap_err();
        assert_eq!(error.kind, "response_too_large", "{path}: {error:?}");
    }
    let fine = app.call_api("/fine").await.unwrap();
    assert_eq!(fine.body["ok"], true);
    assert!(app.view().is_signed_in());
}

/// The app shows the user once the ID token is valid, then loads userinfo: one for another subject
/// signs out with `invalid_userinfo`.
#[tokio::test]
async fn userinfo_for_another_subject_signs_out() {
    let idp = Idp::start_with(IdpOptions {
        userinfo_subject: Some("someone-else".into()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.json");
    let (app, platform) = started(&idp, &store, demo_api(idp.issuer()).await).await;
    let outcome = sign_in(&app, &platform).await;
    assert_eq!(
        outcome,
        LinkOutcome::SignInFailed(tauri_plugin_oidc_core::Kind::Engine(
            native_oidc::ErrorKind::InvalidUserinfo
        ))
    );
    let views = platform.0.views.lock().unwrap().clone();
    let shown = views.iter().position(AuthView::is_signed_in);
    let ended = views.iter().rposition(
        |v| matches!(v, AuthView::SignedOut { notice: Some(n) } if n.kind == "invalid_userinfo"),
    );
    assert!(
        shown.is_some() && ended > shown,
        "shown after the ID token, then signed out: {views:?}"
    );
    assert!(!store.exists());
}

/// The notice of a signed-in view; panics on any other view.
fn signed_in_notice(view: AuthView) -> Option<Notice> {
    match view {
        AuthView::SignedIn { notice, .. } => notice,
        other => panic!("expected a signed-in view: {other:?}"),
    }
}

/// The step-up a controller was asked for: the browser signs in as `action`, and the redirect comes
/// back as a deep link.
async fn step_up_as(
    app: &Controller<TestPlatform>,
    platform: &TestPlatform,
    step_up: &native_oidc::StepUp,
    action: &LoginAction,
) -> LinkOutcome {
    assert_eq!(
        app.step_up(step_up).await.unwrap(),
        AuthView::WaitingForBrowser
    );
    browser_returns(app, platform, action).await
}

#[tokio::test]
async fn a_step_up_the_api_asks_for_signs_the_same_user_in_again_and_refuses_another() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (app, platform) = started(
        &idp,
        &dir.path().join("s.json"),
        demo_api(idp.issuer()).await,
    )
    .await;
    assert_eq!(sign_in(&app, &platform).await, LinkOutcome::SignedIn);

    let error = app.call_api("/api/sensitive").await.unwrap_err();
    assert_eq!(error.kind, "step_up_required");
    assert_eq!(
        error.message,
        "This needs a second factor: verify it's you to continue."
    );
    let step_up = error.step_up.clone().expect("what the API asked for");
    assert!(app.view().is_signed_in(), "a step-up is not a sign-out");

    // Another user in the browser: refused, the session and the screen as they were.
    let alice = LoginAction::SignIn {
        username: "alice".into(),
        password: "alice".into(),
    };
    assert!(matches!(
        step_up_as(&app, &platform, &step_up, &alice).await,
        LinkOutcome::SignInFailed(kind) if kind == "different_user"
    ));
    assert_eq!(name(&app.view()).as_deref(), Some("Demo User"));
    assert_eq!(
        signed_in_notice(app.view()).map(|n| n.kind.as_str().to_string()),
        Some("different_user".into())
    );
    assert_eq!(
        app.call_api("/api/sensitive").await.unwrap_err().kind,
        "step_up_required"
    );

    // Cancelled in the browser: still signed in.
    assert!(matches!(
        step_up_as(&app, &platform, &step_up, &LoginAction::Cancel).await,
        LinkOutcome::SignInFailed(kind) if kind == "access_denied"
    ));
    assert_eq!(name(&app.view()).as_deref(), Some("Demo User"));

    // The same user with the second factor: the call goes through.
    assert_eq!(
        step_up_as(&app, &platform, &step_up, &LoginAction::demo()).await,
        LinkOutcome::SignedIn
    );
    let answer = app.call_api("/api/sensitive").await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["acr"], "urn:okta:loa:2fa:any");
}

#[tokio::test]
async fn a_step_up_needs_a_session() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (app, _platform) = started(
        &idp,
        &dir.path().join("s.json"),
        demo_api(idp.issuer()).await,
    )
    .await;
    let error = app
        .step_up(&native_oidc::StepUp::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind, "not_signed_in");
}

/// An app of the SSO group `com.okta.example.shared` with client id `client`, its store
/// `<data>/<name>.json`, the group's share (a file) in `data`.
async fn app_of_the_group(
    idp: &Idp,
    client: &str,
    data: &Path,
    name: &str,
) -> (Controller<TestPlatform>, TestPlatform) {
    let store = data.join(format!("{name}.json"));
    let group = "com.okta.example.shared";
    let config = Config::new(idp.issuer(), client, "com.okta.example:/callback")
        .unwrap()
        .with_sso_group(group, None)
        .unwrap();
    let share = native_oidc::SsoShare::open(group, native_oidc::TokenStorage::File, data)
        .await
        .unwrap();
    let auth = Auth::new(OidcClient::new(config).unwrap(), SessionStore::file(&store))
        .with_sso_share(share);
    let platform = TestPlatform::default();
    let app = Controller::new(auth, platform.clone(), None);
    (app, platform)
}

/// The vendor's second app (dev/idp's second client).
const SECOND_APP: &str = "0oa1localsecond0002";

#[tokio::test(flavor = "multi_thread")]
async fn an_app_of_the_sso_group_starts_signed_in_and_sign_out_of_all_apps_ends_it() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (first, first_platform) = app_of_the_group(&idp, CLIENT_ID, dir.path(), "first").await;
    first.start().await;
    assert_eq!(
        sign_in(&first, &first_platform).await,
        LinkOutcome::SignedIn
    );
    let AuthView::SignedIn { sso_group, .. } = first.view() else {
        panic!("{:?}", first.view())
    };
    assert_eq!(sso_group.as_deref(), Some("com.okta.example.shared"));

    // The vendor's second app, at its first start: signed in, no browser.
    let (second, second_platform) = app_of_the_group(&idp, SECOND_APP, dir.path(), "second").await;
    let view = second.start().await;
    assert_eq!(name(&view).as_deref(), Some("Demo User"), "{view:?}");
    assert_eq!(second_platform.opened(), 0, "no browser");

    // Signed out of the second app on purpose: its next start does not sign it in again by itself.
    let (_, task) = second.sign_out().await;
    second
        .finish_sign_out(task.expect("tokens to revoke"))
        .await;
    drop(second);
    let (second, second_platform) = app_of_the_group(&idp, SECOND_APP, dir.path(), "second").await;
    assert_eq!(second.start().await, AuthView::signed_out(None));
    // Until the user presses Sign in: the shared sign-in, still no browser.
    let view = second.sign_in_here().await.unwrap();
    assert_eq!(name(&view).as_deref(), Some("Demo User"), "{view:?}");
    assert_eq!(second_platform.opened(), 0, "no browser");
    // A sign-in that asks for something goes through the browser (here: the same user again).
    assert_eq!(
        sign_in(&second, &second_platform).await,
        LinkOutcome::SignedIn
    );

    // "Sign out of all apps" in the first: the second is signed out at its next refresh.
    let (view, task) = first.sign_out_of_all_apps().await;
    assert_eq!(view, AuthView::signed_out(None));
    first.finish_sign_out(task.expect("tokens to revoke")).await;
    let notice = signed_out_notice(second.refresh().await);
    assert_eq!(notice.kind, "session_expired", "{notice:?}");
    // And a third start of an app of the group finds nothing to sign in with; its Sign in button
    // opens the browser.
    let (third, third_platform) = app_of_the_group(&idp, SECOND_APP, dir.path(), "third").await;
    assert_eq!(third.start().await, AuthView::signed_out(None));
    assert_eq!(third_platform.opened(), 0);
    assert_eq!(
        third.sign_in_here().await.unwrap(),
        AuthView::WaitingForBrowser
    );
    assert_eq!(third_platform.opened(), 1);
}

/// An app that keeps several accounts, on a file store at `store` (its first slot).
fn accounts_app(
    idp: &Idp,
    store: &Path,
    platform: TestPlatform,
    api: Url,
) -> Controller<TestPlatform> {
    let config = app_config(idp);
    let first = SessionStore::file(store);
    let auth = Auth::new(OidcClient::new(config).unwrap(), first.clone())
        .with_accounts(native_oidc::Accounts::new(first));
    Controller::new(auth, platform, Some(api))
}

fn shown_account(view: &AuthView) -> native_oidc::AccountId {
    match view {
        AuthView::SignedIn { account, .. } => account.clone(),
        other => panic!("expected a signed-in view: {other:?}"),
    }
}

async fn caller(app: &Controller<TestPlatform>, account: Option<&str>) -> String {
    let answer = app.call_api_as("/api/whoami", account).await.unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["sub"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn two_accounts_are_added_switched_called_signed_out_apart_and_restored() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("session.json");
    let api = demo_api(idp.issuer()).await;
    let platform = TestPlatform::default();
    let app = accounts_app(&idp, &store, platform.clone(), api.clone());
    assert_eq!(app.start().await, AuthView::SignedOut { notice: None });

    // One browser, as a person has: after the first sign-in it holds demo's session at the provider.
    let browser = Browser::new();
    app.sign_in(None).await.unwrap();
    let callback = browser
        .open(platform.last_opened().as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    assert_eq!(
        app.handle_url(callback.as_str()).await,
        LinkOutcome::SignedIn
    );
    let demo = shown_account(&app.view());

    // Adding an account asks for credentials again (prompt=login): the browser's session of demo
    // is not handed back, alice signs in on the login page.
    let add = tauri_plugin_oidc_core::SignInRequest {
        add_account: true,
        login_hint: Some("alice".into()),
        ..Default::default()
    };
    app.add_account(add.into()).await.unwrap();
    assert_eq!(
        *platform.0.ephemeral.lock().unwrap(),
        [false, true],
        "adding an account asks for an ephemeral browser session where there is one"
    );
    let alice_action = LoginAction::SignIn {
        username: "alice".into(),
        password: "alice".into(),
    };
    let callback = browser
        .open(platform.last_opened().as_str(), &alice_action)
        .await
        .app_redirect();
    assert_eq!(
        app.handle_url(callback.as_str()).await,
        LinkOutcome::SignedIn
    );
    let alice = shown_account(&app.view());
    assert_ne!(alice, demo);
    assert_eq!(name(&app.view()).as_deref(), Some("Alice Example"));

    let accounts = app.accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().any(|a| a.id == alice && a.default));

    // The API sees each account as itself: the one shown, or the one named.
    let alice_sub = caller(&app, None).await;
    let demo_sub = caller(&app, Some("demo@example.com")).await;
    assert_ne!(alice_sub, demo_sub);
    assert_eq!(
        shown_account(&app.view()),
        alice,
        "calling as another shows no other"
    );

    // Switching needs no network and shows the other account.
    let before = idp.request_count().await;
    let view = app.switch_account(demo.as_str()).await.unwrap();
    assert_eq!(shown_account(&view), demo);
    assert_eq!(idp.request_count().await, before, "no request to switch");
    assert_eq!(caller(&app, None).await, demo_sub);

    // Signing alice out (not shown) revokes her tokens and leaves demo shown and working.
    let alice_account = app
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == alice)
        .unwrap();
    let alice_store = app.auth().accounts().unwrap().store_of(&alice_account);
    let alice_session = alice_store.load().await.unwrap().unwrap();
    let (view, task) = app
        .sign_out_account(Some("alice@example.com"))
        .await
        .unwrap();
    assert_eq!(shown_account(&view), demo);
    app.finish_revocation(task.expect("alice's tokens to revoke"))
        .await;
    let error = app
        .auth()
        .client()
        .refresh(&alice_session)
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        "session_expired",
        "alice's tokens are revoked"
    );
    assert!(alice_store.load().await.unwrap().is_none());
    assert_eq!(
        caller(&app, None).await,
        demo_sub,
        "demo's tokens stay valid"
    );
    assert_eq!(app.accounts().await.unwrap().len(), 1);

    // Relaunch: demo is shown with no request to the provider.
    drop(app);
    let before = idp.request_count().await;
    let relaunched = accounts_app(&idp, &store, TestPlatform::default(), api);
    let view = relaunched.start().await;
    assert_eq!(shown_account(&view), demo);
    assert_eq!(
        idp.request_count().await,
        before,
        "restored with no request"
    );

    // Signing out of every account leaves none.
    let (view, tasks) = relaunched.sign_out_of_every_account().await;
    assert_eq!(view, AuthView::SignedOut { notice: None });
    assert_eq!(tasks.len(), 1);
    assert!(relaunched.accounts().await.unwrap().is_empty());
}

/// Two app processes on one store: the second signs demo out and alice in, into the slot demo had.
/// The first, with demo still in memory, then signs out: alice's session is not its to erase.
#[tokio::test]
async fn a_sign_out_never_erases_another_account_that_took_the_slot_meanwhile() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("session.json");
    let api = demo_api(idp.issuer()).await;
    let first = TestPlatform::default();
    let app = accounts_app(&idp, &store, first.clone(), api.clone());
    app.start().await;
    sign_in(&app, &first).await;

    let second = TestPlatform::default();
    let other = accounts_app(&idp, &store, second.clone(), api.clone());
    assert_eq!(name(&other.start().await).as_deref(), Some("Demo User"));
    other.sign_out().await;
    other.sign_in(None).await.unwrap();
    let alice = LoginAction::SignIn {
        username: "alice".into(),
        password: "alice".into(),
    };
    assert_eq!(
        browser_returns(&other, &second, &alice).await,
        LinkOutcome::SignedIn
    );
    let alice_sub = caller(&other, None).await;

    let (view, task) = app.sign_out().await;
    assert_eq!(view, AuthView::SignedOut { notice: None });
    app.finish_revocation(task.expect("demo's tokens to revoke"))
        .await;
    let accounts = other.accounts().await.unwrap();
    assert_eq!(accounts.len(), 1, "alice is still here: {accounts:?}");
    assert_eq!(accounts[0].email.as_deref(), Some("alice@example.com"));
    let session = SessionStore::file(&store).load().await.unwrap().unwrap();
    assert_eq!(session.subject().as_str(), alice_sub);
    let fresh = accounts_app(&idp, &store, TestPlatform::default(), api);
    fresh.start().await;
    assert_eq!(
        caller(&fresh, None).await,
        alice_sub,
        "alice's tokens stay valid"
    );
}

/// Every string and key in `value`, checked to hold no control character or bidi override.
fn assert_fit_to_show(value: &serde_json::Value, what: &str) {
    let unfit = |text: &str| text.chars().any(native_oidc::text::is_unprintable);
    match value {
        serde_json::Value::String(text) => assert!(!unfit(text), "{what}: {text:?}"),
        serde_json::Value::Array(items) => items.iter().for_each(|v| assert_fit_to_show(v, what)),
        serde_json::Value::Object(fields) => {
            for (name, value) in fields {
                assert!(!unfit(name), "{what}: the key {name:?}");
                assert_fit_to_show(value, what);
            }
        }
        _ => {}
    }
}

/// A user whose name, given name (shown only among the claims) and email (in the ID token and
/// userinfo of the real dev/idp) hold escape sequences, C1 controls and bidi overrides, and an
/// initiate-login link with such a hint: the UI is told none of them, in any state it is sent or in
/// the list of accounts.
#[tokio::test]
async fn provider_text_reaches_the_ui_without_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.json");
    let hostile = "Eve\u{1b}]52;c;Y3VybA==\u{7}\u{9b}2J\u{7f}\u{202e}resU\u{2066}";
    std::fs::write(
        &users,
        serde_json::json!([{
            "id": "user-hostile",
            "username": "hostile",
            "password": "hostile-password",
            "claims": {
                "name": hostile,
                "given_name": hostile,
                "email": format!("{hostile}@example.com"),
            },
        }])
        .to_string(),
    )
    .unwrap();
    let idp = Idp::start_with(IdpOptions {
        users_file: Some(users),
        ..Default::default()
    });
    let platform = TestPlatform::default();
    let app = accounts_app(
        &idp,
        &dir.path().join("s.json"),
        platform.clone(),
        demo_api(idp.issuer()).await,
    );
    app.start().await;
    app.sign_in(None).await.unwrap();
    let eve = LoginAction::SignIn {
        username: "hostile".into(),
        password: "hostile-password".into(),
    };
    assert_eq!(
        browser_returns(&app, &platform, &eve).await,
        LinkOutcome::SignedIn
    );
    let link = format!(
        "com.okta.example:/login?iss={}&login_hint={}",
        idp.origin(),
        url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect::<String>()
    );
    assert_eq!(app.handle_url(&link).await, LinkOutcome::SignInRequested);

    let views = platform.0.views.lock().unwrap().clone();
    let shown = |pick: &dyn Fn(&AuthView) -> Option<String>| {
        views
            .iter()
            .filter_map(pick)
            .any(|text| text.starts_with("Eve"))
    };
    let signed_in = |view: &AuthView| match view {
        AuthView::SignedIn {
            profile,
            login_request,
            ..
        } => Some((profile.clone(), login_request.clone())),
        _ => None,
    };
    assert!(
        shown(&|v| signed_in(v)?.0.name),
        "the name is shown: {views:?}"
    );
    assert!(shown(&|v| signed_in(v)?.0.email), "the email is shown");
    assert!(
        shown(&|v| signed_in(v)?.0.claims["given_name"]
            .as_str()
            .map(str::to_string)),
        "the given name is among the claims"
    );
    assert!(
        shown(&|v| signed_in(v)?.1?.login_hint),
        "the link's hint is shown"
    );
    for view in &views {
        assert_fit_to_show(&serde_json::to_value(view).unwrap(), "a view");
    }
    let accounts = app.accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_fit_to_show(&serde_json::to_value(&accounts).unwrap(), "the accounts");
}
