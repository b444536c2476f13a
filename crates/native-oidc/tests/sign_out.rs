//! Sign-out: revocation, the end-session URL followed like a browser, and sign-out while offline.

use testkit::{Browser, IdpOptions, LoginAction};

use crate::support::{Fixture, LOGOUT};

#[tokio::test]
async fn sign_out_revokes_and_the_end_session_url_comes_back_to_the_app() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    let (auth, path) = (&f.auth, &f.path);
    let session = f.stored().await;

    let sign_out = auth.sign_out().await.unwrap();
    assert!(sign_out.error.is_none(), "{:?}", sign_out.error);
    assert!(!path.exists(), "the store is cleared");
    assert!(auth.session().await.is_none());

    // Revoked: the refresh token no longer works.
    let error = auth.client().refresh(&session).await.unwrap_err();
    assert_eq!(error.kind(), "session_expired");

    let end_session = sign_out
        .end_session
        .expect("dev/idp supports RP-initiated logout");
    let query: std::collections::HashMap<_, _> = end_session.url.query_pairs().collect();
    assert!(query.contains_key("id_token_hint"));
    assert_eq!(query["post_logout_redirect_uri"], LOGOUT);
    let back = Browser::new()
        .open(end_session.url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    assert!(back.as_str().starts_with(LOGOUT), "{back}");
    end_session.check_callback(back.as_str()).unwrap();
    let error = end_session
        .check_callback(&format!("{LOGOUT}?state=forged"))
        .unwrap_err();
    assert_eq!(error.kind(), "state_mismatch");
}

#[tokio::test]
async fn sign_out_while_the_provider_is_down_still_signs_out_locally() {
    let mut f = Fixture::signed_in(IdpOptions::default()).await;
    f.idp.stop();
    let (auth, path) = (&f.auth, &f.path);
    let sign_out = auth.sign_out().await.unwrap();
    // Discovery is cached, so the end-session URL can still be built; revocation cannot happen.
    assert_eq!(
        sign_out.error.map(|e| e.kind().to_string()).as_deref(),
        Some("network")
    );
    assert!(!path.exists());
    assert_eq!(auth.sign_out().await.unwrap_err().kind(), "not_signed_in");
}
