//! The demo API with real access tokens from `dev/idp` and forged ones, through `app()` (`oneshot`).

use std::{sync::Arc, time::Duration};

use axum::{body::Body, http::Request};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use demo_api::{app, Verifier};
use http_body_util::BodyExt;
use native_oidc::{Auth, Config, OidcClient, PendingAuthorizations, SessionStore, SignInOptions};
use serde_json::Value;
use testkit::{Browser, Idp, IdpOptions, LoginAction, CLIENT_ID};
use tower::ServiceExt;

async fn access_token(idp: &Idp) -> String {
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback").unwrap();
    let auth = Auth::new(OidcClient::new(config).unwrap(), SessionStore::memory());
    let request = auth.begin_sign_in(SignInOptions::default()).await.unwrap();
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let callback = Browser::new()
        .open(request.url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    auth.complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    auth.access_token().await.unwrap().secret().clone()
}

async fn get(
    verifier: &Arc<Verifier>,
    path: &str,
    token: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app(verifier.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        challenge,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

fn assert_refused((status, challenge, body): (u16, Option<String>, Value), why: &str) {
    assert_eq!(status, 401, "{why}");
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="invalid_token""#),
        "{why}"
    );
    assert_eq!(
        body,
        serde_json::json!({"error": "invalid_token"}),
        "{why}: no details"
    );
}

#[tokio::test]
async fn real_tokens_are_accepted() {
    let idp = Idp::start();
    let token = access_token(&idp).await;
    let verifier = Arc::new(Verifier::new(idp.issuer(), "api://default"));

    let (status, _, body) = get(&verifier, "/api/messages", Some(&token)).await;
    assert_eq!(status, 200);
    assert!(body["messages"].as_array().unwrap().len() >= 2);

    let (status, _, me) = get(&verifier, "/api/whoami", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(me["cid"], CLIENT_ID);
    assert!(me["sub"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(me["scp"].as_array().unwrap().contains(&"openid".into()));
}

#[tokio::test]
async fn missing_forged_and_foreign_tokens_are_refused() {
    let idp = Idp::start();
    let token = access_token(&idp).await;
    let verifier = Arc::new(Verifier::new(idp.issuer(), "api://default"));

    assert_refused(get(&verifier, "/api/messages", None).await, "no token");
    assert_refused(
        get(&verifier, "/api/messages", Some("not-a-jwt")).await,
        "garbage",
    );

    // Tampered payload, original signature.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "someone-else".into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_refused(
        get(&verifier, "/api/whoami", Some(&tampered)).await,
        "tampered",
    );

    // alg none.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let unsigned = format!("{header}.{}.", parts[1]);
    assert_refused(
        get(&verifier, "/api/whoami", Some(&unsigned)).await,
        "alg none",
    );

    // HS256 with a guessable secret.
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    assert_refused(get(&verifier, "/api/whoami", Some(&hmac)).await, "HS256");

    // A real token for another audience.
    let other = Arc::new(Verifier::new(idp.issuer(), "api://other"));
    assert_refused(get(&other, "/api/whoami", Some(&token)).await, "wrong aud");

    // From another identity provider (its keys are not the issuer's).
    let stranger = Idp::start();
    let foreign = access_token(&stranger).await;
    assert_refused(
        get(&verifier, "/api/whoami", Some(&foreign)).await,
        "other issuer",
    );
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let idp = Idp::start_with(IdpOptions {
        access_token_ttl: Some(2),
        ..Default::default()
    });
    let token = access_token(&idp).await;
    let verifier = Arc::new(Verifier::new(idp.issuer(), "api://default").with_leeway(0));
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_refused(
        get(&verifier, "/api/messages", Some(&token)).await,
        "expired",
    );
}

#[tokio::test]
async fn rotated_keys_are_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.json");
    let options = IdpOptions {
        keys_file: Some(keys.clone()),
        ..Default::default()
    };
    let mut idp = Idp::start_with(options.clone());
    let port = url_port(idp.issuer());
    let verifier = Arc::new(Verifier::new(idp.issuer(), "api://default"));
    let first = access_token(&idp).await;
    assert_eq!(get(&verifier, "/api/messages", Some(&first)).await.0, 200);

    // The provider restarts on the same port with a new key.
    idp.stop();
    std::fs::remove_file(&keys).unwrap();
    let idp = Idp::start_with(IdpOptions {
        port: Some(port),
        ..options
    });
    tokio::time::sleep(Duration::from_secs(5)).await; // past the re-fetch interval
    let second = access_token(&idp).await;
    assert_eq!(get(&verifier, "/api/messages", Some(&second)).await.0, 200);
}

fn url_port(issuer: &str) -> u16 {
    issuer
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
