//! ID token validation with tokens signed here, against a small discovery + JWKS server on loopback
//! (real HTTP; the keys can change under the client to show the re-fetch on an unknown `kid`).

use std::{
    str::FromStr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{extract::State, routing::get, Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use native_oidc::{
    openidconnect::core::CoreIdToken, Hashed, HttpClient, IdTokenValidator, IssuerUrl, Nonce,
    NonceRule, Provider,
};
use serde_json::{json, Value};

const CLIENT: &str = "client-1";
const NONCE: &str = "nonce-123";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn jwk(name: &str) -> Value {
    serde_json::from_str(&fixture(&format!("{name}.jwk.json"))).unwrap()
}

#[derive(Clone)]
struct Keys {
    jwks: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    issuer: String,
}

struct Harness {
    keys: Keys,
    provider: Provider,
    http: HttpClient,
    validator: IdTokenValidator,
}

impl Harness {
    async fn start(initial: Vec<Value>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let keys = Keys {
            jwks: Arc::new(Mutex::new(initial)),
            fetches: Arc::new(AtomicUsize::new(0)),
            issuer: issuer.clone(),
        };
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(keys): State<Keys>| async move {
                    Json(json!({
                        "issuer": keys.issuer,
                        "authorization_endpoint": format!("{}/authorize", keys.issuer),
                        "token_endpoint": format!("{}/token", keys.issuer),
                        "jwks_uri": format!("{}/keys", keys.issuer),
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }))
                }),
            )
            .route(
                "/keys",
                get(|State(keys): State<Keys>| async move {
                    keys.fetches.fetch_add(1, Ordering::SeqCst);
                    Json(json!({ "keys": *keys.jwks.lock().unwrap() }))
                }),
            )
            .with_state(keys.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = HttpClient::new().unwrap();
        let provider = Provider::discover(&IssuerUrl::new(issuer).unwrap(), &http)
            .await
            .unwrap();
        let validator = IdTokenValidator::new(
            native_oidc::ClientId::new(CLIENT.into()),
            Duration::from_secs(60),
        );
        Self {
            keys,
            provider,
            http,
            validator,
        }
    }

    fn claims(&self) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.keys.issuer, "sub": "00u1", "aud": CLIENT,
            "iat": now, "exp": now + 300, "nonce": NONCE,
        })
    }

    async fn check(&self, jwt: &str) -> Result<(), String> {
        let token = CoreIdToken::from_str(jwt).map_err(|e| format!("unparseable: {e}"))?;
        let nonce = Nonce::new(NONCE.into());
        self.validator
            .validate(
                &self.provider,
                &self.http,
                &token,
                NonceRule::Equals(&nonce),
                Hashed::default(),
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", e.kind()))
    }
}

fn sign(claims: &Value, key: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    let key = EncodingKey::from_rsa_pem(fixture(&format!("{key}.pem")).as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    claims
}

fn assert_invalid(result: Result<(), String>, why: &str) {
    let error = result.expect_err(why);
    assert!(error.starts_with("invalid_id_token"), "{why}: {error}");
}

#[tokio::test]
async fn a_well_formed_token_is_accepted() {
    let h = Harness::start(vec![jwk("key1")]).await;
    h.check(&sign(&h.claims(), "key1", Some("key1")))
        .await
        .unwrap();
}

#[tokio::test]
async fn forged_and_wrongly_signed_tokens_are_refused() {
    let h = Harness::start(vec![jwk("key1")]).await;
    // Signed by another key under key1's kid.
    assert_invalid(
        h.check(&sign(&h.claims(), "key2", Some("key1"))).await,
        "bad signature",
    );
    // alg none, no signature.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"key1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(h.claims().to_string());
    let unsigned = format!("{header}.{payload}.");
    let error = h.check(&unsigned).await.expect_err("alg none");
    assert!(
        error.starts_with("invalid_id_token") || error.starts_with("unparseable"),
        "{error}"
    );
    // HS256 with the public key as the HMAC secret (algorithm confusion).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("key1".into());
    let hmac = jsonwebtoken::encode(
        &header,
        &h.claims(),
        &EncodingKey::from_secret(fixture("key1.pub.pem").as_bytes()),
    )
    .unwrap();
    assert_invalid(h.check(&hmac).await, "HS256 with the public key");
}

#[tokio::test]
async fn claims_are_checked() {
    let h = Harness::start(vec![jwk("key1")]).await;
    let now = chrono::Utc::now().timestamp();
    let cases = [
        (json!({"iss": "https://evil.example.com"}), "wrong iss"),
        (json!({"aud": "another-client"}), "wrong aud"),
        (
            json!({"aud": [CLIENT, "untrusted"], "azp": CLIENT}),
            "untrusted extra aud",
        ),
        (json!({"azp": "another-client"}), "azp mismatch"),
        (json!({"exp": now - 120, "iat": now - 400}), "expired"),
        (json!({"iat": now + 3600}), "iat far in the future"),
        (
            json!({"iat": now + 330, "exp": now + 900}),
            "iat beyond 5 minutes ahead",
        ),
        (json!({"nonce": null}), "missing nonce"),
        (json!({"nonce": "other"}), "wrong nonce"),
    ];
    for (changes, why) in cases {
        let claims = with(h.claims(), changes);
        let result = h.check(&sign(&claims, "key1", Some("key1"))).await;
        let error = result.expect_err(why);
        assert!(
            error.starts_with("invalid_id_token") || error.starts_with("unparseable"),
            "{why}: {error}"
        );
    }
    // Within the clock leeways: expired 30 s ago; issued up to 5 minutes in the future (a provider
    // whose clock is ahead), which is more than `exp`'s leeway.
    let skewed = with(h.claims(), json!({"exp": now - 30}));
    h.check(&sign(&skewed, "key1", Some("key1"))).await.unwrap();
    for ahead in [30, 120, 280] {
        let skewed = with(h.claims(), json!({"iat": now + ahead, "exp": now + 900}));
        h.check(&sign(&skewed, "key1", Some("key1")))
            .await
            .unwrap_or_else(|e| panic!("iat {ahead} s ahead: {e}"));
    }
}

#[tokio::test]
async fn unknown_kid_refetches_the_keys_once() {
    let h = Harness::start(vec![jwk("key1")]).await;
    assert_eq!(h.keys.fetches.load(Ordering::SeqCst), 1);
    // The provider rotates to key2; the cached set does not know it yet.
    h.keys.jwks.lock().unwrap().push(jwk("key2"));
    h.check(&sign(&h.claims(), "key2", Some("key2")))
        .await
        .unwrap();
    assert_eq!(h.keys.fetches.load(Ordering::SeqCst), 2, "one re-fetch");
    // Now cached: no further fetch.
    h.check(&sign(&h.claims(), "key2", Some("key2")))
        .await
        .unwrap();
    assert_eq!(h.keys.fetches.load(Ordering::SeqCst), 2);
    // A kid nobody has: one re-fetch, then refused.
    let claims = h.claims();
    assert_invalid(
        h.check(&sign(&claims, "key2", Some("key3"))).await,
        "unknown kid",
    );
    assert_eq!(h.keys.fetches.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn no_kid_with_a_single_key_is_accepted() {
    let mut key = jwk("key1");
    key.as_object_mut().unwrap().remove("kid");
    let h = Harness::start(vec![key]).await;
    h.check(&sign(&h.claims(), "key1", None)).await.unwrap();
}
