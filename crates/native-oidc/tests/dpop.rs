//! DPoP (RFC 9449) against the real dev/idp (`IDP_DPOP=required`, a nonce required at the token
//! endpoint, as Okta does) and the real demo API, over real HTTP: tokens bound to the session's key,
//! useless without it.

use std::sync::Arc;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use native_oidc::{Auth, DpopKey, SessionStore};
use serde_json::Value;
use testkit::{IdpOptions, CLIENT_ID};
use url::Url;

use crate::support::{config, sign_in, Fixture};

/// DPoP required, and no pushed requests (a pushed request's answer carries the first nonce; see
/// `request::a_pushed_request_with_dpop_binds_the_code_to_the_key`).
fn dpop_required() -> IdpOptions {
    IdpOptions {
        dpop: Some("required"),
        par: Some("off"),
        ..Default::default()
    }
}

/// The demo API in this process, with a DPoP nonce of its own when `nonce` is given.
async fn api(issuer: &str, nonce: Option<&str>) -> Url {
    let mut api = demo_api::Api::new(demo_api::Verifier::new(
        issuer,
        "api://default",
        [CLIENT_ID],
    ));
    if let Some(nonce) = nonce {
        api = api.with_dpop_nonce(nonce);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = api.with_public_url(demo_api::PublicUrl::for_address(
        listener.local_addr().unwrap(),
    ));
    let url = Url::parse(&format!(
        "http://{}/api/messages",
        listener.local_addr().unwrap()
    ))
    .unwrap();
    tokio::spawn(async move {
        axum::serve(listener, demo_api::app(Arc::new(api)))
            .await
            .unwrap()
    });
    url
}

fn dpop_auth(f: &Fixture) -> Auth {
    Auth::new(
        native_oidc::OidcClient::new(config(&f.idp).with_dpop(true)).unwrap(),
        SessionStore::file(&f.path),
    )
}

async fn token_requests(f: &Fixture) -> u64 {
    f.idp.stats().await["requests"]["POST /oauth2/default/v1/token"]
        .as_u64()
        .unwrap_or(0)
}

async fn get(auth: &Auth, url: &Url) -> u16 {
    let request = auth.request(reqwest::Method::GET, url.clone()).unwrap();
    auth.send(request).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn sign_in_refresh_and_api_calls_with_tokens_bound_to_the_device() {
    let f = Fixture::new(dpop_required());
    let auth = dpop_auth(&f);
    let before = token_requests(&f).await;
    let summary = sign_in(&auth).await;
    assert_eq!(summary.token_type, native_oidc::TokenType::DPoP);
    assert_eq!(
        summary.profile.as_ref().unwrap()["email"],
        "demo@example.com",
        "userinfo answered a DPoP-bound token with its proof"
    );
    assert_eq!(
        token_requests(&f).await - before,
        2,
        "the token endpoint's nonce challenge was answered once"
    );

    // The access token is bound to the key kept with the session.
    let session = f.stored().await;
    let key = session.dpop_key().expect("the key is in the vault");
    let payload = session.access_token().secret().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint());

    let api = api(f.idp.issuer(), None).await;
    assert_eq!(get(&auth, &api).await, 200);

    let refreshed = auth.refresh().await.unwrap();
    assert_eq!(refreshed.token_type, native_oidc::TokenType::DPoP);
    assert_ne!(
        f.stored().await.access_token().secret(),
        session.access_token().secret()
    );
    assert_eq!(get(&auth, &api).await, 200, "the refreshed token works too");
}

#[tokio::test]
async fn a_stolen_access_token_is_useless() {
    let f = Fixture::new(dpop_required());
    let auth = dpop_auth(&f);
    sign_in(&auth).await;
    let session = f.stored().await;
    let token = session.access_token().secret().clone();
    let api = api(f.idp.issuer(), None).await;
    let http = reqwest::Client::new();
    let status = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().status().as_u16()
    };

    // Without a proof, as Bearer or as DPoP.
    assert_eq!(status(http.get(api.clone()).bearer_auth(&token)).await, 401);
    assert_eq!(
        status(
            http.get(api.clone())
                .header("authorization", format!("DPoP {token}"))
        )
        .await,
        401
    );
    // With a proof of another key.
    let thief = DpopKey::generate().unwrap();
    let forged = thief.proof("GET", &api, None, Some(&token)).unwrap();
    assert_eq!(
        status(
            http.get(api.clone())
                .header("authorization", format!("DPoP {token}"))
                .header("dpop", forged)
        )
        .await,
        401
    );
    // With a real proof, seen once already.
    let proof = session
        .dpop_key()
        .unwrap()
        .proof("GET", &api, None, Some(&token))
        .unwrap();
    let send = || {
        http.get(api.clone())
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof.clone())
    };
    assert_eq!(status(send()).await, 200, "the owner's proof works once");
    assert_eq!(status(send()).await, 401, "a replayed proof is refused");
}

#[tokio::test]
async fn the_key_survives_a_relaunch_and_the_api_nonce_is_answered() {
    let f = Fixture::new(dpop_required());
    sign_in(&dpop_auth(&f)).await;
    let api = api(f.idp.issuer(), Some("api-nonce-1")).await;
    let tokens = token_requests(&f).await;

    // A new process: the session and its key come back from the vault.
    let relaunched = dpop_auth(&f);
    let summary = relaunched.restore().await.unwrap().unwrap();
    assert_eq!(summary.token_type, native_oidc::TokenType::DPoP);
    assert_eq!(
        get(&relaunched, &api).await,
        200,
        "the API's nonce challenge was answered"
    );
    assert_eq!(
        token_requests(&f).await,
        tokens,
        "no sign-in again, no refresh"
    );
}

#[tokio::test]
async fn without_dpop_nothing_changes() {
    let f = Fixture::new(IdpOptions::default());
    let summary = sign_in(&f.auth).await;
    assert_eq!(summary.token_type, native_oidc::TokenType::Bearer);
    assert!(f.stored().await.dpop_key().is_none());
    let api = api(f.idp.issuer(), None).await;
    assert_eq!(get(&f.auth, &api).await, 200);
}
