//! Staying signed in: rotation, transparent refresh, one refresh for many callers, the end of a session,
//! an unreachable provider, and the bearer-request retry.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use testkit::IdpOptions;

use crate::support::{stored, Fixture};

/// How long access tokens live in these tests: refreshed once less than half of it is left. Long
/// enough that a sign-in on a loaded machine (every test starts its own provider) ends well inside the
/// first half.
const TTL_SECONDS: u64 = 8;

/// Access tokens that live [`TTL_SECONDS`].
fn short_lived() -> IdpOptions {
    IdpOptions {
        access_token_ttl: Some(TTL_SECONDS),
        ..Default::default()
    }
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_is_refused() {
    // No grace period: a rotated refresh token is refused at once.
    let f = Fixture::signed_in(IdpOptions {
        refresh_token_grace: Some(0),
        ..Default::default()
    })
    .await;
    let before = f.stored().await;

    f.auth.refresh().await.unwrap();
    let after = f.stored().await;
    let (old, new) = (
        before.refresh_token().unwrap().secret(),
        after.refresh_token().unwrap().secret(),
    );
    assert_ne!(old, new, "the refresh token rotates");
    assert_ne!(
        before.access_token().secret(),
        after.access_token().secret()
    );
    assert_eq!(f.idp.grants("refresh_token").await, 1);

    // The old refresh token is refused: that session is over.
    let error = f.auth.client().refresh(&before).await.unwrap_err();
    assert_eq!(error.kind(), "session_expired");
}

#[tokio::test]
async fn expired_access_token_is_refreshed_transparently() {
    let f = Fixture::signed_in(short_lived()).await;
    let first = f.auth.access_token().await.unwrap();
    assert_eq!(
        f.idp.grants("refresh_token").await,
        0,
        "a fresh token is used as is"
    );

    tokio::time::sleep(Duration::from_millis(TTL_SECONDS * 1000 + 100)).await;
    let second = f.auth.access_token().await.unwrap();
    assert_ne!(first.secret(), second.secret());
    assert_eq!(f.idp.grants("refresh_token").await, 1);
    assert_eq!(
        stored(&f.path)["access_token"],
        second.secret().as_str(),
        "stored before use"
    );

    // The refreshed token works at the provider.
    let me = reqwest::Client::new()
        .get(format!("{}/v1/userinfo", f.idp.issuer()))
        .bearer_auth(second.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn twenty_concurrent_callers_share_one_refresh() {
    let f = Arc::new(Fixture::signed_in(short_lived()).await);
    tokio::time::sleep(Duration::from_millis(TTL_SECONDS * 1000 + 100)).await;

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move { f.auth.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap().secret().clone());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the same new token");
    assert_eq!(
        f.idp.grants("refresh_token").await,
        1,
        "exactly one refresh request"
    );
}

#[tokio::test]
async fn revoked_refresh_token_ends_the_session() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    f.idp
        .revoke(f.stored().await.refresh_token().unwrap().secret())
        .await;

    let error = f.auth.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "session_expired");
    assert!(
        !f.path.exists(),
        "an ended session is removed from the store"
    );
    assert_eq!(
        f.auth.access_token().await.unwrap_err().kind(),
        "not_signed_in"
    );
}

#[tokio::test]
async fn provider_down_is_transient_and_keeps_the_stored_session() {
    let mut f = Fixture::signed_in(IdpOptions::default()).await;
    let before = std::fs::read(&f.path).unwrap();

    f.idp.stop();
    let error = f.auth.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "network", "{error}");
    assert!(error.is_transient());
    assert_eq!(
        std::fs::read(&f.path).unwrap(),
        before,
        "stored session unchanged"
    );
    assert!(f.auth.session().await.is_some(), "still signed in");
    // The current access token is still handed out.
    assert!(f.auth.access_token().await.is_ok());
}

/// An API that refuses the first access token it sees with `challenge` (as if it had been revoked)
/// and accepts others.
async fn picky_api(
    challenge: Option<&'static str>,
) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::{http::HeaderMap, response::IntoResponse, routing::get, Router};
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (calls2, seen2) = (calls.clone(), seen.clone());
    let app = Router::new().route(
        "/api/messages",
        get(move |headers: HeaderMap| {
            let (calls, seen) = (calls2.clone(), seen2.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let token = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .unwrap_or_default()
                    .to_string();
                let mut seen = seen.lock().unwrap();
                let first = seen.is_empty() || seen[0] == token;
                seen.push(token);
                let mut response = if first {
                    (axum::http::StatusCode::UNAUTHORIZED, "[]").into_response()
                } else {
                    (axum::http::StatusCode::OK, r#"["hello"]"#).into_response()
                };
                if let (true, Some(challenge)) = (first, challenge) {
                    response.headers_mut().insert(
                        axum::http::header::WWW_AUTHENTICATE,
                        axum::http::HeaderValue::from_static(challenge),
                    );
                }
                response
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/messages", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls, seen)
}

#[tokio::test]
async fn bearer_request_refreshes_and_retries_once_on_an_invalid_token_401() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    let (url, calls, seen) = picky_api(Some(r#"Bearer error="invalid_token""#)).await;

    let request = f
        .auth
        .request(reqwest::Method::GET, url.parse().unwrap())
        .unwrap();
    let response = f.auth.send(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"["hello"]"#);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one retry");
    assert_eq!(f.idp.grants("refresh_token").await, 1, "one refresh");
    let seen = seen.lock().unwrap().clone();
    assert_ne!(seen[0], seen[1]);
}

/// A provider whose clock is two minutes ahead issues tokens "from the future": sign-in and refresh
/// still work (`iat` may be up to 5 minutes ahead; `exp` keeps its small leeway).
#[tokio::test]
async fn a_provider_clock_two_minutes_ahead_is_accepted() {
    let f = Fixture::signed_in(IdpOptions {
        clock_skew: Some(120),
        ..Default::default()
    })
    .await;
    let refreshed = f.auth.refresh().await.unwrap();
    assert_eq!(refreshed.name.as_deref(), Some("Demo User"));
    let claims = f.stored().await.claims().clone();
    let iat = claims["iat"].as_i64().unwrap();
    assert!(
        iat > chrono::Utc::now().timestamp() + 100,
        "the refreshed ID token was issued ahead of our clock"
    );
}

#[tokio::test]
async fn other_401s_are_returned_without_a_refresh() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    for challenge in [
        Some(r#"Bearer error="insufficient_scope", scope="admin""#),
        None,
    ] {
        let (url, calls, _) = picky_api(challenge).await;
        let request = f
            .auth
            .request(reqwest::Method::GET, url.parse().unwrap())
            .unwrap();
        let response = f.auth.send(request).await.unwrap();
        assert_eq!(response.status(), 401, "{challenge:?}");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "no retry for {challenge:?}"
        );
    }
    assert_eq!(f.idp.grants("refresh_token").await, 0, "no refresh");
}
