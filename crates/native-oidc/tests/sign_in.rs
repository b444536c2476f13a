//! Sign-in against dev/idp: the happy path and every way a callback can be wrong.

use std::time::Duration;

use native_oidc::{Auth, Error, OidcClient, PendingAuthorizations, SessionStore, SignInOptions};
use testkit::{Browser, Idp, LoginAction};

use crate::support::{self, auth, browser_callback, config, sign_in, stored, with_param};

#[tokio::test]
async fn full_sign_in_yields_profile_and_refresh_token_and_is_restored() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let auth = auth(&idp, &path);

    let summary = sign_in(&auth).await;
    assert_eq!(summary.name.as_deref(), Some("Demo User"));
    assert_eq!(summary.email.as_deref(), Some("demo@example.com"));
    assert!(summary.has_refresh_token);
    assert_eq!(summary.issuer, idp.issuer());
    assert!(summary.scopes.contains(&"offline_access".to_string()));
    assert_eq!(summary.claims["sub"], summary.subject);
    assert_eq!(summary.profile.as_ref().unwrap()["sub"], summary.subject);
    assert_eq!(summary.profile.as_ref().unwrap()["family_name"], "User");

    // Stored with its tokens, readable only by the user.
    let file = stored(&path);
    assert!(file["refresh_token"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Debug and Display never show a token.
    let session = SessionStore::file(&path).load().await.unwrap().unwrap();
    let shown = format!("{session:?} {session}");
    for token in [
        session.access_token().secret().as_str(),
        session.refresh_token().unwrap().secret().as_str(),
    ] {
        assert!(!shown.contains(token), "a token leaked into Debug/Display");
    }
    assert!(!serde_json::to_string(&summary)
        .unwrap()
        .contains(session.access_token().secret()));

    // A new process restores it without the network.
    let restored = support::auth(&idp, &path).restore().await.unwrap().unwrap();
    assert_eq!(restored, summary);
}

#[tokio::test]
async fn bad_callbacks_get_typed_errors_and_store_nothing() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let auth = auth(&idp, &path);

    // Forged state.
    let (callback, mut pending) = browser_callback(&auth, &LoginAction::demo()).await;
    let forged = with_param(&callback, "state", Some("forged-state"));
    let error = auth
        .complete_sign_in(&forged, &mut pending)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "state_mismatch");
    // No state at all.
    let error = auth
        .complete_sign_in(&with_param(&callback, "state", None), &mut pending)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "state_mismatch");

    // Wrong and missing `iss` (the provider advertises RFC 9207 support).
    for iss in [Some("https://evil.example.com/oauth2/default"), None] {
        let (callback, mut pending) = browser_callback(&auth, &LoginAction::demo()).await;
        let error = auth
            .complete_sign_in(&with_param(&callback, "iss", iss), &mut pending)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "issuer_mismatch", "{error}");
        // The pending authorization was used up: the genuine callback is now refused as well.
        let error = auth
            .complete_sign_in(callback.as_str(), &mut pending)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "state_mismatch");
    }

    // Cancel on the login page.
    let (callback, mut pending) = browser_callback(&auth, &LoginAction::Cancel).await;
    let error = auth
        .complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "access_denied");
    assert!(error.to_string().contains("cancelled"), "{error}");

    // A callback for another redirect URI.
    let error = auth
        .complete_sign_in("com.other.app:/callback?code=x&state=y", &mut pending)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "protocol");

    assert!(
        !path.exists(),
        "nothing may be stored after failed sign-ins"
    );
    assert!(auth.session().await.is_none());
}

#[tokio::test]
async fn replayed_callback_is_refused() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let auth = auth(&idp, &path);

    let (callback, mut pending) = browser_callback(&auth, &LoginAction::demo()).await;
    let saved = pending.clone();
    auth.complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    let before = std::fs::read(&path).unwrap();

    let error = auth
        .complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "state_mismatch");

    // Even with a copy of the pending authorization, the code is single-use at the provider.
    let mut copy = saved;
    let error = auth
        .complete_sign_in(callback.as_str(), &mut copy)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "invalid_grant", "{error}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the stored session is untouched"
    );
}

#[tokio::test]
async fn expired_pending_authorization_is_refused() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let client = OidcClient::new(config(&idp))
        .unwrap()
        .with_pending_lifetime(Duration::from_millis(300));
    let auth = Auth::new(client, SessionStore::file(&path));

    let request = auth.begin_sign_in(SignInOptions::default()).await.unwrap();
    let mut pending = PendingAuthorizations::new();
    // It survives being persisted, as an app killed meanwhile would do.
    let json = serde_json::to_string(&request.pending).unwrap();
    pending.insert(serde_json::from_str(&json).unwrap());
    let callback = Browser::new()
        .open(request.url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let error = auth
        .complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::AuthorizationExpired), "{error}");
    assert!(!path.exists());
}

#[tokio::test]
async fn pending_authorization_survives_a_restart() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let first = auth(&idp, &path);
    let request = first.begin_sign_in(SignInOptions::default()).await.unwrap();
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let persisted = serde_json::to_string(&pending).unwrap();
    drop(first);

    let callback = Browser::new()
        .open(request.url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    let second = auth(&idp, &path);
    let mut pending: PendingAuthorizations = serde_json::from_str(&persisted).unwrap();
    let summary = second
        .complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    assert_eq!(summary.name.as_deref(), Some("Demo User"));
    assert!(pending.is_empty());
}

#[tokio::test]
async fn unreachable_provider_is_a_network_error() {
    let mut idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let auth = auth(&idp, &dir.path().join("session.json"));
    idp.stop();
    let error = auth
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "network");
    assert!(error.is_transient());
}

#[tokio::test]
async fn discovery_of_another_issuer_is_refused() {
    let idp = Idp::start();
    // Same server, but configured with a different (trailing-slash) issuer string.
    let config = native_oidc::Config::new(
        &format!("{}/", idp.issuer()),
        testkit::CLIENT_ID,
        support::REDIRECT,
    )
    .unwrap();
    let error = OidcClient::new(config)
        .unwrap()
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "issuer_mismatch", "{error}");
}

/// The sign-in is complete after one round trip (code exchange and ID token validation); userinfo
/// comes after, on its own request.
#[tokio::test]
async fn the_session_is_stored_before_userinfo_and_the_profile_follows() {
    let idp = testkit::Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let auth = auth(&idp, &path);
    let (callback, mut pending) = browser_callback(&auth, &testkit::LoginAction::demo()).await;
    let userinfo = |stats: serde_json::Value| {
        stats["requests"]["GET /oauth2/default/v1/userinfo"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = userinfo(idp.stats().await);
    let summary = auth
        .finish_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    assert_eq!(userinfo(idp.stats().await), before, "no userinfo yet");
    assert_eq!(
        summary.name.as_deref(),
        Some("Demo User"),
        "from the ID token"
    );
    assert!(summary.profile.is_none());
    assert!(stored(&path)["access_token"].is_string(), "stored already");

    let summary = auth.load_profile().await.unwrap();
    assert_eq!(userinfo(idp.stats().await), before + 1);
    assert_eq!(summary.profile.unwrap()["email"], "demo@example.com");
    assert!(stored(&path)["profile"].is_object());
}

/// Userinfo for another subject than the ID token's ends the session and revokes its tokens.
#[tokio::test]
async fn userinfo_for_another_subject_ends_the_session() {
    let idp = testkit::Idp::start_with(testkit::IdpOptions {
        userinfo_subject: Some("someone-else".into()),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let auth = auth(&idp, &path);
    let (callback, mut pending) = browser_callback(&auth, &testkit::LoginAction::demo()).await;
    let error = auth
        .complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "invalid_userinfo", "{error}");
    assert!(!path.exists(), "nothing is kept");
    assert!(auth.session().await.is_none());
}

/// A profile that arrives after the app switched to another account goes into its own account's
/// stored session; the account in memory is left as it is.
#[tokio::test]
async fn a_profile_arriving_after_a_switch_of_account_is_kept_in_its_own_account() {
    let idp = testkit::Idp::start_with(testkit::IdpOptions {
        userinfo_delay_ms: Some(4000),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let first = SessionStore::file(dir.path().join("session.json"));
    let accounts = native_oidc::Accounts::new(first.clone());
    let app = std::sync::Arc::new(
        Auth::new(OidcClient::new(config(&idp)).unwrap(), first).with_accounts(accounts.clone()),
    );
    let (callback, mut pending) = browser_callback(&app, &LoginAction::demo()).await;
    app.finish_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    let profile = tokio::spawn({
        let app = app.clone();
        async move { app.load_profile().await }
    });

    // While userinfo is on its way, alice is added and becomes the account in memory.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let alice = LoginAction::SignIn {
        username: "alice".into(),
        password: "alice".into(),
    };
    let add = SignInOptions {
        prompt: Some("login".into()),
        ..Default::default()
    };
    let (callback, mut pending) =
        support::browser_callback_in(&app, &Browser::new(), add, &alice).await;
    app.finish_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    assert!(
        !profile.is_finished(),
        "alice came in before demo's profile"
    );

    let demo = profile.await.unwrap().expect("demo's profile loads");
    assert_eq!(demo.profile.unwrap()["email"], "demo@example.com");
    let memory = app.session().await.expect("alice stays in memory");
    assert_eq!(memory.email.as_deref(), Some("alice@example.com"));
    assert!(memory.profile.is_none(), "alice's profile is not loaded");
    let demo_account = accounts.find("demo@example.com").await.unwrap();
    let stored = accounts
        .store_of(&demo_account)
        .load()
        .await
        .unwrap()
        .expect("demo's session is still stored");
    assert_eq!(
        stored.summary().profile.unwrap()["email"],
        "demo@example.com"
    );
}
