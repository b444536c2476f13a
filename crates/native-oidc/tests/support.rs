//! Helpers: a client configured for a running `dev/idp`, and a sign-in through its login page.

use std::path::{Path, PathBuf};

use native_oidc::{
    Auth, Config, OidcClient, PendingAuthorizations, Session, SessionStore, SessionSummary,
    SignInOptions,
};
use testkit::{Browser, Idp, IdpOptions, LoginAction, CLIENT_ID};
use url::Url;

pub const REDIRECT: &str = "com.okta.example:/callback";
pub const LOGOUT: &str = "com.okta.example:/logout";

pub fn config(idp: &Idp) -> Config {
    Config::new(idp.issuer(), CLIENT_ID, REDIRECT)
        .unwrap()
        .with_post_logout_redirect_uri(LOGOUT)
        .unwrap()
}

/// An `Auth` over a session file (the file vault, locked like the command line's).
pub fn auth(idp: &Idp, store: &Path) -> Auth {
    Auth::new(
        OidcClient::new(config(idp)).unwrap(),
        SessionStore::file(store),
    )
}

/// A running provider, a session file in a temporary folder, and an `Auth` over both.
pub struct Fixture {
    pub idp: Idp,
    pub path: PathBuf,
    pub auth: Auth,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(options: IdpOptions) -> Self {
        let idp = Idp::start_with(options);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let auth = auth(&idp, &path);
        Self {
            idp,
            path,
            auth,
            _dir: dir,
        }
    }

    /// Signed in as the demo user.
    pub async fn signed_in(options: IdpOptions) -> Self {
        let fixture = Self::new(options);
        sign_in(&fixture.auth).await;
        fixture
    }

    /// The session in the store.
    pub async fn stored(&self) -> Session {
        SessionStore::file(&self.path)
            .load()
            .await
            .unwrap()
            .expect("a stored session")
    }
}

/// Begins a sign-in and lets the browser do `action`; returns the callback URL and the pending set.
pub async fn browser_callback(auth: &Auth, action: &LoginAction) -> (Url, PendingAuthorizations) {
    browser_callback_in(auth, &Browser::new(), SignInOptions::default(), action).await
}

/// [`browser_callback`] for a sign-in with `options`, in `browser` (its cookies, its provider session).
pub async fn browser_callback_in(
    auth: &Auth,
    browser: &Browser,
    options: SignInOptions,
    action: &LoginAction,
) -> (Url, PendingAuthorizations) {
    let request = auth.begin_sign_in(options).await.unwrap();
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let callback = browser
        .open(request.url.as_str(), action)
        .await
        .app_redirect();
    (callback, pending)
}

/// A full sign-in as the demo user.
pub async fn sign_in(auth: &Auth) -> SessionSummary {
    let (callback, mut pending) = browser_callback(auth, &LoginAction::demo()).await;
    auth.complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap()
}

/// The stored session file as JSON.
pub fn stored(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Replaces one query parameter of a URL.
pub fn with_param(url: &Url, name: &str, value: Option<&str>) -> String {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut next = url.clone();
    {
        let mut query = next.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    next.to_string()
}
