//! DPoP (RFC 9449): access and refresh tokens bound to a key pair that never leaves the device.
//!
//! A session signed in with DPoP has its own ES256 key ([`DpopKey`], made at sign-in, kept in the
//! vault with the tokens, never logged). Every request that uses a token carries a proof: a JWT signed
//! by that key, with the public key in its header (`typ: dpop+jwt`, `jwk`), the request's method and
//! URL (`htm`, `htu`, without query and fragment), `iat`, a unique `jti`, the server's latest nonce when
//! it asked for one, and, towards a resource, the SHA-256 of the access token (`ath`). A copied token
//! is useless without the key.
//!
//! [`DpopHttp`] does this for the requests the engine sends through `openidconnect` (code exchange,
//! refresh, userinfo): it adds the proof, answers a server's nonce challenge (`use_dpop_nonce`) once,
//! and remembers the latest nonce of each server ([`Nonces`]).

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::{
    error::{Error, Result},
    http::{Exchange, HttpClient, HttpError},
};

/// The header that carries a proof (a server's nonce comes in [`DPOP_NONCE`]).
pub const DPOP: &str = "DPoP";
/// The header a server sends its nonce in.
pub const DPOP_NONCE: &str = "DPoP-Nonce";

/// A session's ES256 key pair. `Debug` shows only its thumbprint; it serialises (for the vault only)
/// as its private scalar.
#[derive(Clone)]
pub struct DpopKey {
    key: SigningKey,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopKey")
            .field("jkt", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    /// The private scalar, base64url.
    d: String,
}

impl Serialize for DpopKey {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        StoredKey {
            d: URL_SAFE_NO_PAD.encode(self.key.to_bytes()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DpopKey {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let stored = StoredKey::deserialize(deserializer)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(stored.d)
            .map_err(serde::de::Error::custom)?;
        SigningKey::from_slice(&bytes)
            .map(|key| DpopKey { key })
            .map_err(|_| serde::de::Error::custom("not a P-256 private key"))
    }
}

/// A proof's `jti`: unique per process (a counter) and across processes (random).
fn unique_id() -> Result<String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| Error::Protocol(format!("no randomness: {e}")))?;
    Ok(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(random),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

impl DpopKey {
    /// A new random key.
    pub fn generate() -> Result<Self> {
        loop {
            let mut scalar = [0u8; 32];
            getrandom::fill(&mut scalar)
                .map_err(|e| Error::Protocol(format!("no randomness for a DPoP key: {e}")))?;
            // All but a negligible share of 256-bit strings are valid scalars.
            if let Ok(key) = SigningKey::from_slice(&scalar) {
                return Ok(Self { key });
            }
        }
    }

    /// The public key as a JWK (`kty`, `crv`, `x`, `y`).
    pub fn public_jwk(&self) -> Value {
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
        })
    }

    /// The RFC 7638 thumbprint of the public key: what a bound token's `cnf.jkt` holds.
    pub fn thumbprint(&self) -> String {
        let jwk = self.public_jwk();
        // The required members, in lexicographic order, no white space.
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap_or_default(),
            jwk["y"].as_str().unwrap_or_default()
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A proof for `method` `url` (its query and fragment are left out), with the server's `nonce`
    /// and, towards a resource, the access token it goes with.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk() });
        let mut claims = json!({
            "htm": method,
            "htu": htu.as_str(),
            "iat": chrono::Utc::now().timestamp(),
            "jti": unique_id()?,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        if let Some(token) = access_token {
            claims["ath"] = URL_SAFE_NO_PAD
                .encode(Sha256::digest(token.as_bytes()))
                .into();
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        Ok(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

/// The latest DPoP nonce of each server (by origin); a newer one from any response replaces it.
#[derive(Debug, Default)]
pub struct Nonces(Mutex<HashMap<String, String>>);

impl Nonces {
    /// The latest nonce of `url`'s server.
    pub fn get(&self, url: &Url) -> Option<String> {
        self.0
            .lock()
            .ok()?
            .get(&url.origin().ascii_serialization())
            .cloned()
    }

    /// Remembers the nonce a response of `url`'s server carries, if any.
    pub fn remember(&self, url: &Url, headers: &http::HeaderMap) {
        if let Some(nonce) = headers.get(DPOP_NONCE).and_then(|v| v.to_str().ok()) {
            if let Ok(mut nonces) = self.0.lock() {
                nonces.insert(url.origin().ascii_serialization(), nonce.to_string());
            }
        }
    }
}

/// True when a response asks for a DPoP nonce: 400 `use_dpop_nonce` from an authorization server,
/// 401 with a `DPoP error="use_dpop_nonce"` challenge from a resource.
pub fn asks_for_nonce(status: u16, headers: &http::HeaderMap, body: &[u8]) -> bool {
    match status {
        400 => serde_json::from_slice::<Value>(body)
            .is_ok_and(|body| body["error"] == "use_dpop_nonce"),
        401 => crate::challenge::challenges(headers)
            .iter()
            .any(|c| c.is("DPoP") && c.error() == Some("use_dpop_nonce")),
        _ => false,
    }
}

/// What the nonce check reads of a response.
pub(crate) trait Answer {
    /// The status code.
    fn status_code(&self) -> u16;
    /// The headers.
    fn header_map(&self) -> &http::HeaderMap;
    /// The body where it is already read (a token endpoint's JSON error); empty otherwise.
    fn body_bytes(&self) -> &[u8];
}

impl Answer for HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
    fn header_map(&self) -> &http::HeaderMap {
        self.headers()
    }
    fn body_bytes(&self) -> &[u8] {
        self.body()
    }
}

impl Answer for reqwest::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
    fn header_map(&self) -> &http::HeaderMap {
        self.headers()
    }
    fn body_bytes(&self) -> &[u8] {
        &[]
    }
}

/// Sends a DPoP request: `send` makes the request with a fresh proof (for the server's latest nonce)
/// and sends it; when the server asks for a nonce (RFC 9449 §8, §9) it is called once more, unless
/// `can_retry` is false (a body that cannot be sent twice). Every answer's nonce is remembered. The
/// one place a DPoP request is retried, for the provider's endpoints and for APIs alike.
pub(crate) async fn send_with_nonce_retry<A, E, Fut>(
    nonces: &Nonces,
    url: &Url,
    can_retry: bool,
    mut send: impl FnMut() -> Fut,
) -> std::result::Result<A, E>
where
    A: Answer,
    Fut: Future<Output = std::result::Result<A, E>>,
{
    let response = send().await?;
    nonces.remember(url, response.header_map());
    if !can_retry
        || !asks_for_nonce(
            response.status_code(),
            response.header_map(),
            response.body_bytes(),
        )
    {
        return Ok(response);
    }
    tracing::debug!("the server asked for a DPoP nonce; retrying with it");
    let response = send().await?;
    nonces.remember(url, response.header_map());
    Ok(response)
}

/// The engine's HTTP client for a request of a session (or a sign-in): with its DPoP key, a proof on
/// every request — to the token endpoint (code exchange, refresh, revocation) and, with `bound_token`
/// set, to a resource (userinfo), where `Authorization: Bearer` becomes `DPoP` and the proof carries
/// `ath`; without one, the plain client.
pub struct DpopHttp<'a> {
    /// The client that sends.
    pub http: &'a HttpClient,
    /// The session's key (none: no DPoP).
    pub key: Option<&'a DpopKey>,
    /// The servers' nonces.
    pub nonces: &'a Nonces,
    /// The request carries a DPoP-bound access token (a resource request).
    pub bound_token: bool,
}

impl DpopHttp<'_> {
    fn prepare(
        &self,
        key: &DpopKey,
        request: &HttpRequest,
    ) -> std::result::Result<HttpRequest, HttpError> {
        let url = Url::parse(&request.uri().to_string())
            .map_err(|e| HttpError::Other(format!("bad URL: {e}")))?;
        let mut builder = http::Request::builder()
            .method(request.method().clone())
            .uri(request.uri().clone());
        let mut token = None;
        for (name, value) in request.headers() {
            if self.bound_token && name == http::header::AUTHORIZATION {
                if let Some(bearer) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
                    token = Some(bearer.to_string());
                    let mut value = http::HeaderValue::from_str(&format!("DPoP {bearer}"))
                        .map_err(|e| HttpError::Other(e.to_string()))?;
                    value.set_sensitive(true);
                    builder = builder.header(name, value);
                    continue;
                }
            }
            builder = builder.header(name, value);
        }
        let proof = key
            .proof(
                request.method().as_str(),
                &url,
                self.nonces.get(&url).as_deref(),
                token.as_deref(),
            )
            .map_err(|e| HttpError::Other(e.to_string()))?;
        builder
            .header(DPOP, proof)
            .body(request.body().clone())
            .map_err(|e| HttpError::Other(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for DpopHttp<'_> {
    type Error = HttpError;
    type Future = Exchange<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let Some(key) = self.key else {
                return self.http.call(request).await;
            };
            let url = Url::parse(&request.uri().to_string())
                .map_err(|e| HttpError::Other(format!("bad URL: {e}")))?;
            let request = &request;
            send_with_nonce_retry(self.nonces, &url, true, move || async move {
                self.http.call(self.prepare(key, request)?).await
            })
            .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_a_signed_jwt_with_the_public_key_and_the_request() {
        let key = DpopKey::generate().unwrap();
        let url = Url::parse("https://api.example.com/v1/things?secret=1#frag").unwrap();
        let proof = key
            .proof("GET", &url, Some("n-1"), Some("the-token"))
            .unwrap();
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], key.public_jwk());
        assert!(header["jwk"].get("d").is_none(), "never the private key");
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://api.example.com/v1/things");
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(
            claims["ath"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"the-token"))
        );
        let again = key.proof("GET", &url, None, None).unwrap();
        let again: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(again.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_ne!(again["jti"], claims["jti"], "a new jti each time");

        // The signature verifies with the public key in the header.
        use p256::ecdsa::{signature::Verifier, VerifyingKey};
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        let verifying: &VerifyingKey = key.key.verifying_key();
        verifying
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn the_key_survives_the_vault_and_its_debug_shows_no_secret() {
        let key = DpopKey::generate().unwrap();
        let stored = serde_json::to_string(&key).unwrap();
        let restored: DpopKey = serde_json::from_str(&stored).unwrap();
        assert_eq!(restored.thumbprint(), key.thumbprint());
        let d = serde_json::from_str::<Value>(&stored).unwrap()["d"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(!format!("{key:?}").contains(&d));
    }

    #[test]
    fn the_thumbprint_follows_rfc_7638() {
        // RFC 7638 hashes the required members in order; this key's members, written out by hand.
        let key = DpopKey::generate().unwrap();
        let jwk = key.public_jwk();
        let by_hand = format!(
            "{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{}\",\"y\":\"{}\"}}",
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        assert_eq!(
            key.thumbprint(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(by_hand.as_bytes()))
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(jwk["x"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn nonce_challenges_are_recognised() {
        let headers = http::HeaderMap::new();
        assert!(asks_for_nonce(
            400,
            &headers,
            br#"{"error":"use_dpop_nonce"}"#
        ));
        assert!(!asks_for_nonce(
            400,
            &headers,
            br#"{"error":"invalid_grant"}"#
        ));
        let mut challenge = http::HeaderMap::new();
        challenge.insert(
            http::header::WWW_AUTHENTICATE,
            r#"DPoP error="use_dpop_nonce", error_description="nonce""#
                .parse()
                .unwrap(),
        );
        assert!(asks_for_nonce(401, &challenge, b""));
        assert!(!asks_for_nonce(401, &headers, b""));
    }
}
