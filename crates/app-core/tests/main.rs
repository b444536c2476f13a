//! The app's behaviour against the real identity provider (`dev/idp`) and the real demo API, with a
//! recording platform in place of Tauri (the real app in a webview is tested end to end elsewhere).

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use app_core::{AuthView, Controller, LinkOutcome, Platform};
use native_oidc::{Auth, Config, FileStore, OidcClient, PendingAuthorizations, SessionStore};
use testkit::{Browser, Idp, IdpOptions, LoginAction, CLIENT_ID};
use url::Url;

#[derive(Default)]
struct Recorder {
    views: Mutex<Vec<AuthView>>,
    opened: Mutex<Vec<Url>>,
    pending: Mutex<Option<String>>,
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
    fn load_pending(&self) -> PendingAuthorizations {
        self.0
            .pending
            .lock()
            .unwrap()
            .as_deref()
            .map(|json| serde_json::from_str(json).unwrap())
            .unwrap_or_default()
    }
    fn save_pending(&self, pending: &PendingAuthorizations) {
        *self.0.pending.lock().unwrap() = Some(serde_json::to_string(pending).unwrap());
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
    let verifier = Arc::new(demo_api::Verifier::new(issuer, "api://default"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, demo_api::app(verifier))
            .await
            .unwrap()
    });
    url
}

fn controller(
    idp: &Idp,
    store: &Path,
    platform: TestPlatform,
    api: Url,
) -> Controller<TestPlatform> {
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback")
        .unwrap()
        .with_post_logout_redirect_uri("com.okta.example:/logout")
        .unwrap();
    let auth = Auth::new(
        OidcClient::new(config).unwrap(),
        Arc::new(FileStore::new(store)),
    );
    Controller::new(auth, platform, api)
}

/// Signs in: the "system browser" logs in, and its redirect comes back as a deep link.
async fn sign_in(app: &Controller<TestPlatform>, platform: &TestPlatform) -> LinkOutcome {
    assert_eq!(
        app.sign_in(None).await.unwrap(),
        AuthView::WaitingForBrowser
    );
    let callback = Browser::new()
        .open(platform.last_opened().as_str(), &LoginAction::demo())
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
        platform.load_pending().is_empty(),
        "the pending sign-in is used up"
    );

    let response = app.call_api("/api/messages").await.unwrap();
    assert_eq!(response.status, 200);
    assert!(response.body["messages"].as_array().unwrap().len() >= 2);
    let error = app
        .call_api("https://evil.example.com/steal")
        .await
        .unwrap_err();
    assert_eq!(error.kind, "forbidden_url");

    // Nothing the UI was ever told contains a token.
    let session = FileStore::new(&store).load().unwrap().unwrap();
    let told = serde_json::to_string(&*platform.0.views.lock().unwrap()).unwrap();
    assert!(!told.contains(session.access_token().secret()));
    assert!(!told.contains(session.refresh_token().unwrap().secret()));

    let opened = platform.opened();
    let (view, session_to_end) = app.sign_out().await;
    assert_eq!(view, AuthView::SignedOut { notice: None });
    assert!(!store.exists(), "the store is cleared at once");
    assert_eq!(platform.opened(), opened, "nothing waits for the network");
    app.finish_sign_out(session_to_end.expect("a session to end"))
        .await;
    assert_eq!(
        platform.opened(),
        opened + 1,
        "the end-session page is opened"
    );
    let back = Browser::new()
        .open(platform.last_opened().as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    assert_eq!(app.handle_url(back.as_str()).await, LinkOutcome::SignedOut);
    let error = app.auth().client().refresh(&session).await.unwrap_err();
    assert_eq!(error.kind(), "session_expired", "tokens were revoked");
}

#[tokio::test]
async fn cancel_forged_and_foreign_links() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let platform = TestPlatform::default();
    let app = controller(
        &idp,
        &dir.path().join("s.json"),
        platform.clone(),
        demo_api(idp.issuer()).await,
    );
    app.start().await;

    // Cancel on the login page.
    app.sign_in(None).await.unwrap();
    let callback = Browser::new()
        .open(platform.last_opened().as_str(), &LoginAction::Cancel)
        .await
        .app_redirect();
    assert_eq!(
        app.handle_url(callback.as_str()).await,
        LinkOutcome::SignInFailed("access_denied".into())
    );
    match app.view() {
        AuthView::SignedOut {
            notice: Some(notice),
        } => {
            assert_eq!(notice.kind, "access_denied");
            assert_eq!(notice.message, "Sign-in was cancelled.");
        }
        other => panic!("{other:?}"),
    }

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

    // Initiate login: only for our issuer.
    let opened = platform.opened();
    let foreign = "com.okta.example:/login?iss=https%3A%2F%2Fevil.example.com%2Foauth2%2Fdefault";
    assert!(matches!(
        app.handle_url(foreign).await,
        LinkOutcome::Ignored(_)
    ));
    assert_eq!(platform.opened(), opened);
    let ours = format!(
        "com.okta.example:/login?iss={}&login_hint=demo",
        idp.issuer()
    );
    assert_eq!(app.handle_url(&ours).await, LinkOutcome::SignInStarted);
    assert!(platform.last_opened().as_str().contains("login_hint=demo"));
    assert!(matches!(
        app.handle_url("com.okta.example:/unknown").await,
        LinkOutcome::Ignored(_)
    ));
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
        let platform = TestPlatform::default();
        let app = controller(&idp, &store, platform.clone(), api.clone());
        app.start().await;
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
    let session = FileStore::new(&relaunch.store).load().unwrap().unwrap();
    relaunch
        .idp
        .revoke(session.refresh_token().unwrap().secret())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    match relaunch.app().start().await {
        AuthView::SignedOut {
            notice: Some(notice),
        } => assert_eq!(notice.kind, "session_expired"),
        other => panic!("{other:?}"),
    }
}
