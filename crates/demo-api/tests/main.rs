//! The demo API with real access tokens from `dev/idp` and forged ones, through `app()` (`oneshot`),
//! and DPoP-bound tokens with proofs over real HTTP (the tests after `DpopSigner`).

mod step_up;

use std::{sync::Arc, time::Duration};

use axum::{body::Body, http::Request};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use demo_api::{app, Api, Verifier};
use http_body_util::BodyExt;
use native_oidc::{Auth, Config, OidcClient, PendingAuthorizations, SessionStore, SignInOptions};
use serde_json::Value;
use testkit::{Browser, Idp, IdpOptions, LoginAction, CLIENT_ID};
use tower::ServiceExt;

fn api(idp: &Idp) -> Arc<Api> {
    Arc::new(Api::new(Verifier::new(
        idp.issuer(),
        "api://default",
        [CLIENT_ID],
    )))
}

async fn access_token(idp: &Idp) -> String {
    access_token_with(idp, &["openid", "profile", "email", "offline_access"]).await
}

async fn access_token_with(idp: &Idp, scopes: &[&str]) -> String {
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback")
        .unwrap()
        .with_scopes(scopes)
        .unwrap();
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

async fn get(api: &Arc<Api>, path: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    get_with(api, path, token.map(|t| format!("Bearer {t}"))).await
}

async fn get_with(
    api: &Arc<Api>,
    path: &str,
    authorization: Option<String>,
) -> (u16, Option<String>, Value) {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app(api.clone())
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
    let verifier = api(&idp);

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
    let verifier = api(&idp);

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
    let other = Arc::new(Api::new(Verifier::new(
        idp.issuer(),
        "api://other",
        [CLIENT_ID],
    )));
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
    let verifier = Arc::new(Api::new(
        Verifier::new(idp.issuer(), "api://default", [CLIENT_ID]).with_leeway(0),
    ));
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
    let verifier = api(&idp);
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

#[tokio::test]
async fn the_client_and_the_scope_must_be_the_ones_the_api_serves() {
    let idp = Idp::start();
    let token = access_token(&idp).await;
    // A real token, issued to a client this API does not serve.
    let others = Arc::new(Api::new(Verifier::new(
        idp.issuer(),
        "api://default",
        ["0oaSomeOtherApp"],
    )));
    assert_refused(get(&others, "/api/whoami", Some(&token)).await, "other cid");

    // A real token without the scope /api/messages needs: 403 insufficient_scope, no details.
    let narrow = access_token_with(&idp, &["openid"]).await;
    let (status, challenge, body) = get(&api(&idp), "/api/messages", Some(&narrow)).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="profile""#)
    );
    assert_eq!(body, serde_json::json!({ "error": "insufficient_scope" }));
    assert_eq!(get(&api(&idp), "/api/whoami", Some(&narrow)).await.0, 200);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let idp = Idp::start();
    let token = access_token(&idp).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let (status, _, _) =
            get_with(&api(&idp), "/api/whoami", Some(format!("{scheme} {token}"))).await;
        assert_eq!(status, 200, "{scheme}");
    }
    assert_refused(
        get_with(&api(&idp), "/api/whoami", Some(format!("Basic {token}"))).await,
        "another scheme",
    );
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_are_a_503_not_a_401() {
    let mut idp = Idp::start();
    let token = access_token(&idp).await;
    let verifier = api(&idp);
    idp.stop();
    let (status, challenge, body) = get(&verifier, "/api/messages", Some(&token)).await;
    assert_eq!(status, 503, "the token is not at fault: {body}");
    assert!(challenge.is_none());
    assert_eq!(
        body,
        serde_json::json!({ "error": "temporarily_unavailable" })
    );
}

/// An issuer served here: discovery naming `claimed_issuer`, and a key set with `jwk`.
async fn issuer_with(claimed_issuer: Option<&str>, jwk: Value) -> String {
    issuer_serving(claimed_issuer, serde_json::json!({ "keys": [jwk] })).await
}

/// An issuer served here: discovery naming `claimed_issuer`, and `key_set` at its `jwks_uri`.
async fn issuer_serving(claimed_issuer: Option<&str>, key_set: Value) -> String {
    use axum::{routing::get, Json, Router};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let document = serde_json::json!({
        "issuer": claimed_issuer.unwrap_or(&issuer),
        "jwks_uri": format!("{issuer}/keys"),
    });
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(document) }),
        )
        .route("/keys", get(move || async move { Json(key_set) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    issuer
}

fn key1() -> (jsonwebtoken::EncodingKey, Value) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../native-oidc/tests/fixtures");
    let pem = std::fs::read(format!("{dir}/key1.pem")).unwrap();
    let jwk: Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/key1.jwk.json")).unwrap()).unwrap();
    (jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(), jwk)
}

fn token_for(issuer: &str, key: &jsonwebtoken::EncodingKey, kid: &str) -> String {
    let now = chrono_now();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        &serde_json::json!({
            "iss": issuer, "aud": "api://default", "sub": "u1", "cid": CLIENT_ID,
            "scp": ["openid", "profile"], "iat": now, "exp": now + 300,
        }),
        key,
    )
    .unwrap()
}

fn chrono_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_key_set_larger_than_any_real_one_is_not_read() {
    let (key, jwk) = key1();
    let kid = jwk["kid"].as_str().unwrap().to_string();
    let whoami = |key_set: Value| {
        let (key, kid) = (key.clone(), kid.clone());
        async move {
            let issuer = issuer_serving(None, key_set).await;
            let api = Arc::new(Api::new(Verifier::new(
                &issuer,
                "api://default",
                [CLIENT_ID],
            )));
            get(&api, "/api/whoami", Some(&token_for(&issuer, &key, &kid))).await
        }
    };
    // The same valid key, with padding that stays under the limit, then goes past it.
    let padded = |bytes: usize| serde_json::json!({ "keys": [jwk], "padding": "k".repeat(bytes) });
    let (status, _, body) = whoami(padded(512 * 1024)).await;
    assert_eq!(status, 200, "{body}");
    let (status, challenge, body) = whoami(padded(native_oidc::http::MAX_PROVIDER_BODY)).await;
    assert_eq!(status, 503, "the issuer is at fault, not the token: {body}");
    assert!(challenge.is_none());
}

/// Calls `/api/whoami` with a token signed by key1, against an issuer served with `jwk`.
async fn whoami_with_key(jwk: Value, claimed_issuer: Option<&str>) -> (u16, Option<String>, Value) {
    let kid = jwk["kid"].as_str().unwrap().to_string();
    let issuer = issuer_with(claimed_issuer, jwk).await;
    let api = Arc::new(Api::new(Verifier::new(
        &issuer,
        "api://default",
        [CLIENT_ID],
    )));
    let token = token_for(&issuer, &key1().0, &kid);
    get(&api, "/api/whoami", Some(&token)).await
}

#[tokio::test]
async fn only_rs256_signing_keys_of_the_real_issuer_are_used() {
    let (_, jwk) = key1();
    // The signing key as published: accepted.
    let mut signing = jwk.clone();
    signing["use"] = "sig".into();
    assert_eq!(whoami_with_key(signing, None).await.0, 200);
    // The same key published for encryption, or for another algorithm: not used for signatures.
    let mut encryption = jwk.clone();
    encryption["use"] = "enc".into();
    assert_refused(whoami_with_key(encryption, None).await, "use enc");
    let mut other_alg = jwk.clone();
    other_alg["alg"] = "RS512".into();
    assert_refused(whoami_with_key(other_alg, None).await, "alg RS512");
    // A discovery document naming another issuer: its jwks_uri is not trusted.
    let (status, _, _) = whoami_with_key(jwk, Some("https://evil.example.com")).await;
    assert_eq!(status, 503);
}

/// Signs DPoP proofs: with a session's key, or a key of the test's own.
struct DpopSigner(p256::ecdsa::SigningKey);

impl DpopSigner {
    /// A key of the test's own, from a fixed seed.
    fn seeded(seed: u8) -> Self {
        Self(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap())
    }

    /// The key of a session (it serialises, for the vault, as its private scalar `d`).
    fn of(key: &native_oidc::DpopKey) -> Self {
        let d = serde_json::to_value(key).unwrap()["d"]
            .as_str()
            .unwrap()
            .to_string();
        Self(p256::ecdsa::SigningKey::from_slice(&URL_SAFE_NO_PAD.decode(d).unwrap()).unwrap())
    }

    fn jwk(&self) -> Value {
        let point = self.0.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
        })
    }

    fn jkt(&self) -> String {
        let jwk = self.jwk();
        demo_api::dpop::thumbprint(
            "P-256",
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap(),
        )
    }

    /// A proof of a `GET` of `htu` with `token`, numbered `jti`, made now.
    fn proof(&self, htu: &str, token: &str, jti: &str) -> String {
        self.proof_at(htu, token, jti, chrono_now())
    }

    /// A proof of a `GET` of `htu` with `token`, numbered `jti`, made at `iat`.
    fn proof_at(&self, htu: &str, token: &str, jti: &str, iat: u64) -> String {
        use p256::ecdsa::{signature::Signer, Signature};
        use sha2::{Digest, Sha256};
        let header = serde_json::json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk() });
        let claims = serde_json::json!({
            "htm": "GET", "htu": htu, "iat": iat, "jti": jti,
            "ath": URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// A DPoP-bound access token from a real sign-in at `idp`, and the key it is bound to.
async fn dpop_token(idp: &Idp) -> (String, DpopSigner) {
    let config = Config::new(idp.issuer(), CLIENT_ID, "com.okta.example:/callback")
        .unwrap()
        .with_dpop(true);
    let auth = Auth::new(OidcClient::new(config).unwrap(), SessionStore::memory());
    let request = auth.begin_sign_in(SignInOptions::default()).await.unwrap();
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let callback = Browser::new()
        .open(request.url.as_str(), &LoginAction::demo())
        .await
        .app_redirect();
    let summary = auth
        .complete_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    assert_eq!(summary.token_type, native_oidc::TokenType::DPoP);
    let session = auth.store().load().await.unwrap().unwrap();
    let signer = DpopSigner::of(session.dpop_key().unwrap());
    let payload = session.access_token().secret().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["cnf"]["jkt"],
        signer.jkt(),
        "the token is bound to the key"
    );
    (session.access_token().secret().clone(), signer)
}

/// The API over real HTTP on a port of 127.0.0.1, made by `api` from the address it listens on;
/// returns that address.
async fn serve(api: impl FnOnce(std::net::SocketAddr) -> Api) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = app(Arc::new(api(address)));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

/// The API at `address`, public under `public_url` (its own address when `None`), with these settings.
fn dpop_api(
    idp: &Idp,
    public_url: Option<&str>,
    capacity: Option<usize>,
) -> impl FnOnce(std::net::SocketAddr) -> Api {
    let issuer = idp.issuer().to_string();
    let public_url = public_url.map(str::to_string);
    move |address| {
        let public = match public_url {
            Some(url) => url.parse().unwrap(),
            None => demo_api::PublicUrl::for_address(address),
        };
        let mut api =
            Api::new(Verifier::new(issuer, "api://default", [CLIENT_ID])).with_public_url(public);
        if let Some(capacity) = capacity {
            api = api.with_replay_capacity(capacity);
        }
        api
    }
}

/// `GET /api/whoami` at `address` over real HTTP with `Authorization: DPoP <token>`, these `DPoP`
/// headers and these other headers; status, challenge and body.
async fn dpop_get(
    address: std::net::SocketAddr,
    token: &str,
    proofs: &[&str],
    headers: &[(&str, &str)],
) -> (u16, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .get(format!("http://{address}/api/whoami"))
        .header("authorization", format!("DPoP {token}"));
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        challenge,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn assert_proof_refused((status, challenge, body): (u16, Option<String>, Value), why: &str) {
    assert_eq!(status, 401, "{why}");
    assert_eq!(
        challenge.as_deref(),
        Some(r#"DPoP error="invalid_dpop_proof", algs="ES256""#),
        "{why}"
    );
    assert_eq!(
        body,
        serde_json::json!({ "error": "invalid_dpop_proof" }),
        "{why}: no details"
    );
}

#[tokio::test]
async fn htu_is_the_configured_public_url_never_the_host_header() {
    let idp = Idp::start();
    let (token, key) = dpop_token(&idp).await;

    // Behind a TLS-terminating proxy: clients call https://api.example.com/, the API sees plain http.
    let address = serve(dpop_api(&idp, Some("https://api.example.com/"), None)).await;
    let public = "https://api.example.com/api/whoami";
    let (status, _, me) = dpop_get(address, &token, &[&key.proof(public, &token, "p1")], &[]).await;
    assert_eq!(status, 200, "a proof for the public URL: {me}");
    assert_eq!(me["cid"], CLIENT_ID);
    // Scheme and host compared as URLs, query left out.
    let (status, _, _) = dpop_get(
        address,
        &token,
        &[&key.proof("HTTPS://API.example.com:443/api/whoami?x=1", &token, "p2")],
        &[],
    )
    .await;
    assert_eq!(status, 200, "the same URL, written otherwise");

    // A proof for the URL the client claims in `Host`, or for the address the API listens on: not
    // the API's URL.
    let elsewhere = "http://proofs.example.net/api/whoami";
    assert_proof_refused(
        dpop_get(
            address,
            &token,
            &[&key.proof(elsewhere, &token, "p3")],
            &[("host", "proofs.example.net")],
        )
        .await,
        "htu from the Host header",
    );
    let direct = format!("http://{address}/api/whoami");
    assert_proof_refused(
        dpop_get(address, &token, &[&key.proof(&direct, &token, "p4")], &[]).await,
        "the listening address is not the public URL",
    );

    // Without PUBLIC_URL the server's own address is its public URL.
    let address = serve(dpop_api(&idp, None, None)).await;
    let direct = format!("http://{address}/api/whoami");
    let (status, _, _) = dpop_get(address, &token, &[&key.proof(&direct, &token, "p5")], &[]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_proof_is_checked_against_the_tokens_key_before_its_jti_is_recorded() {
    let idp = Idp::start();
    let (token_a, key_a) = dpop_token(&idp).await;
    let (token_b, key_b) = dpop_token(&idp).await;
    let address = serve(dpop_api(&idp, None, None)).await;
    let url = format!("http://{address}/api/whoami");

    // The holder of token A sends proofs signed by keys that are not A's: refused, and recorded
    // nowhere (they used to fill the one replay cache every key shares).
    for seed in 1..=3 {
        let stranger = DpopSigner::seeded(seed);
        assert_proof_refused(
            dpop_get(
                address,
                &token_a,
                &[&stranger.proof(&url, &token_a, "jti-1")],
                &[],
            )
            .await,
            "a proof of another key",
        );
    }
    // The same jti, by the key token A is bound to: accepted once.
    let (status, _, _) = dpop_get(
        address,
        &token_a,
        &[&key_a.proof(&url, &token_a, "jti-1")],
        &[],
    )
    .await;
    assert_eq!(status, 200, "jti-1 was not taken by the refused proofs");
    assert_proof_refused(
        dpop_get(
            address,
            &token_a,
            &[&key_a.proof(&url, &token_a, "jti-1")],
            &[],
        )
        .await,
        "the same key, the same jti: a replay",
    );
    // Another key's jtis are its own.
    let (status, _, _) = dpop_get(
        address,
        &token_b,
        &[&key_b.proof(&url, &token_b, "jti-1")],
        &[],
    )
    .await;
    assert_eq!(status, 200, "jti-1 of key B is not key A's");
}

#[tokio::test]
async fn one_key_filling_its_share_of_the_replay_cache_refuses_no_one_else() {
    let idp = Idp::start();
    let (token_a, key_a) = dpop_token(&idp).await;
    let (token_b, key_b) = dpop_token(&idp).await;
    let address = serve(dpop_api(&idp, None, Some(4))).await;
    let url = format!("http://{address}/api/whoami");

    // Key A sends more proofs than its share, one a second over the last 12 seconds: every one is
    // accepted (the oldest are forgotten)...
    let now = chrono_now();
    let proofs: Vec<String> = (0..12)
        .map(|i| key_a.proof_at(&url, &token_a, &format!("a-{i}"), now - 11 + i))
        .collect();
    for proof in &proofs {
        let (status, _, body) = dpop_get(address, &token_a, &[proof], &[]).await;
        assert_eq!(status, 200, "{body}");
    }
    // ...a forgotten one is still no good a second time...
    assert_proof_refused(
        dpop_get(address, &token_a, &[&proofs[0]], &[]).await,
        "a proof forgotten to make room",
    );
    assert_proof_refused(
        dpop_get(address, &token_a, &[&proofs[11]], &[]).await,
        "the latest proof, replayed",
    );
    let (status, _, _) = dpop_get(
        address,
        &token_a,
        &[&key_a.proof(&url, &token_a, "a-new")],
        &[],
    )
    .await;
    assert_eq!(status, 200, "a new proof of key A");
    // ...and key B is served as if nothing happened.
    for i in 0..4 {
        let proof = key_b.proof(&url, &token_b, &format!("b-{i}"));
        let (status, _, body) = dpop_get(address, &token_b, &[&proof], &[]).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn more_than_one_dpop_header_is_refused() {
    let idp = Idp::start();
    let (token, key) = dpop_token(&idp).await;
    let address = serve(dpop_api(&idp, None, None)).await;
    let url = format!("http://{address}/api/whoami");
    let proof = key.proof(&url, &token, "only-one");

    for (proofs, why) in [
        (
            vec![proof.as_str(), "not-a-proof"],
            "a good proof and a bad one",
        ),
        (
            vec!["not-a-proof", proof.as_str()],
            "a bad proof and a good one",
        ),
        (vec![proof.as_str(), proof.as_str()], "the same proof twice"),
    ] {
        assert_proof_refused(dpop_get(address, &token, &proofs, &[]).await, why);
    }
    assert_proof_refused(dpop_get(address, &token, &[], &[]).await, "no proof");
    let (status, _, _) = dpop_get(address, &token, &[&proof], &[]).await;
    assert_eq!(
        status, 200,
        "the proof alone, never recorded by the refused requests"
    );
}
