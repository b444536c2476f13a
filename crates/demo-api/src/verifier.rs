//! JWT access token validation against the issuer's key set (fetched through discovery, cached, and
//! fetched again, at most every few seconds, when a token names an unknown `kid`). The issuer's
//! answers are read up to the engine's [`native_oidc::http::MAX_PROVIDER_BODY`].

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use jsonwebtoken::{jwk::JwkSet, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

/// How often at most an unknown `kid` may trigger a key set fetch.
const REFETCH_INTERVAL: Duration = Duration::from_secs(5);

/// The claims the API uses.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Claims {
    /// The user (or client) the token was issued for.
    pub sub: String,
    /// Okta's scopes array.
    #[serde(default)]
    pub scp: Vec<String>,
    /// Okta's client id.
    pub cid: Option<String>,
    /// The key the token is bound to (DPoP), as its RFC 7638 thumbprint.
    pub cnf: Option<Confirmation>,
    /// How the user authenticated (Okta's `urn:okta:loa:…` levels).
    pub acr: Option<String>,
    /// When the user authenticated (seconds since the epoch).
    pub auth_time: Option<i64>,
}

/// A token's `cnf` claim (RFC 7800).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Confirmation {
    /// The thumbprint of the DPoP key.
    pub jkt: Option<String>,
}

/// Why a token was refused (logged, never sent to the client).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The token is malformed, badly signed, expired, for someone else, or from another client.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The issuer's keys could not be fetched: not the token's fault (503, so no client throws its
    /// tokens away during a provider hiccup).
    #[error("cannot fetch the issuer's keys: {0}")]
    Keys(String),
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    /// Keys without a `kid` (usable when the set holds exactly one key).
    all: Vec<DecodingKey>,
}

/// Validates access tokens of one issuer for one audience, issued to one of the allowed clients.
pub struct Verifier {
    issuer: String,
    audience: String,
    client_ids: Vec<String>,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    last_fetch: Mutex<Option<Instant>>,
    leeway: u64,
}

impl Verifier {
    /// A verifier for `issuer` and `audience` that accepts tokens issued to one of `client_ids`
    /// (Okta's `cid`); keys are fetched on first use.
    pub fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        client_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            client_ids: client_ids.into_iter().map(Into::into).collect(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
            keys: RwLock::new(Keys::default()),
            last_fetch: Mutex::new(None),
            leeway: 30,
        }
    }

    /// Sets the clock leeway for `exp` in seconds (default 30).
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Verifies a bearer token: RS256 signature by the issuer, `iss`, `aud`, `exp`, and `cid` one of
    /// the allowed clients.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| VerifyError::Invalid(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(VerifyError::Invalid(format!(
                "algorithm {:?} is not RS256",
                header.alg
            )));
        }
        let key = match self.key(header.kid.as_deref()).await {
            Some(key) => key,
            None => {
                self.refetch().await?;
                self.key(header.kid.as_deref())
                    .await
                    .ok_or_else(|| VerifyError::Invalid("unknown signing key".into()))?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        match &claims.cid {
            Some(cid) if self.client_ids.iter().any(|allowed| allowed == cid) => Ok(claims),
            other => Err(VerifyError::Invalid(format!(
                "issued to client {other:?}, not one this API serves"
            ))),
        }
    }

    async fn key(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let keys = self.keys.read().await;
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            None if keys.all.len() == 1 => keys.all.first().cloned(),
            None => None,
        }
    }

    async fn refetch(&self) -> Result<(), VerifyError> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let discovery: serde_json::Value = self
            .get(&format!(
                "{}/.well-known/openid-configuration",
                self.issuer.trim_end_matches('/')
            ))
            .await?;
        // The document must be the issuer's own before its jwks_uri is trusted.
        if discovery["issuer"].as_str() != Some(self.issuer.as_str()) {
            return Err(VerifyError::Keys(format!(
                "discovery names the issuer {}, not {}",
                discovery["issuer"], self.issuer
            )));
        }
        let jwks_uri = discovery["jwks_uri"]
            .as_str()
            .ok_or_else(|| VerifyError::Keys("discovery has no jwks_uri".into()))?;
        let set: JwkSet = serde_json::from_value(self.get(jwks_uri).await?)
            .map_err(|e| VerifyError::Keys(e.to_string()))?;
        let mut keys = Keys::default();
        for jwk in set.keys.iter().filter(|jwk| is_rs256_signing_key(jwk)) {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            if let Some(kid) = &jwk.common.key_id {
                keys.by_kid.insert(kid.clone(), key.clone());
            }
            keys.all.push(key);
        }
        tracing::info!(keys = keys.all.len(), "fetched the issuer's signing keys");
        *self.keys.write().await = keys;
        Ok(())
    }

    async fn get(&self, url: &str) -> Result<serde_json::Value, VerifyError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| VerifyError::Keys(e.to_string()))?;
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(VerifyError::Keys(format!(
                "{url} is neither https nor http on loopback"
            )));
        }
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| VerifyError::Keys(e.to_string()))?;
        if !response.status().is_success() {
            return Err(VerifyError::Keys(format!(
                "{url} answered {}",
                response.status()
            )));
        }
        // An issuer sending more than any real key set cannot run the API out of memory.
        let body = native_oidc::http::read_limited(response, native_oidc::http::MAX_PROVIDER_BODY)
            .await
            .map_err(|e| VerifyError::Keys(format!("{url}: {e}")))?;
        serde_json::from_slice(&body).map_err(|e| VerifyError::Keys(format!("{url}: {e}")))
    }
}

/// Keys for RS256 signatures only: RSA, `use` absent or `sig`, `alg` absent or `RS256`.
fn is_rs256_signing_key(jwk: &jsonwebtoken::jwk::Jwk) -> bool {
    use jsonwebtoken::jwk::{AlgorithmParameters, KeyAlgorithm, PublicKeyUse};
    matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
        && matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        )
        && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256))
}
