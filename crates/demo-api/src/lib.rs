//! `demo-api`: the API the app calls, standing in for "your API" of Okta's guide *Protect your API
//! endpoints*.
//!
//! Every request needs `Authorization: Bearer <JWT access token>` (the scheme in any case), validated
//! against the issuer's keys ([`verifier`]): RS256 only, `iss`, `aud` (`api://default`), `exp`, `cid` one
//! of the configured clients, and `scp` holding the scope the route needs. A token bound to a key
//! (`cnf.jkt`, DPoP) comes as `Authorization: DPoP <token>` with a proof of that key for this request
//! ([`dpop`]); presented as `Bearer` it is refused. A bad token is answered `401` with a
//! `WWW-Authenticate` challenge (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`), a missing scope
//! `403` (`insufficient_scope`), and keys the API cannot fetch `503`: never a detail.
//!
//! - `GET /api/messages` (scope [`Api::messages_scope`], `profile` by default): a short list of messages.
//! - `GET /api/whoami` (scope `openid`): the verified `sub`, `scp` and `cid` of the token.

pub mod dpop;
pub mod verifier;

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

pub use verifier::{Claims, Verifier, VerifyError};

/// The API's settings: its token verifier, the scopes its routes need, and its DPoP proof checks.
pub struct Api {
    verifier: Verifier,
    messages_scope: String,
    proofs: dpop::Proofs,
    nonce: Option<String>,
}

impl Api {
    /// An API with this verifier; `/api/messages` needs the scope `profile`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            messages_scope: "profile".into(),
            proofs: dpop::Proofs::default(),
            nonce: None,
        }
    }

    /// Requires DPoP proofs to carry this nonce (the API asks with `use_dpop_nonce` when they don't).
    pub fn with_dpop_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Sets the scope `/api/messages` needs.
    pub fn with_messages_scope(mut self, scope: impl Into<String>) -> Self {
        self.messages_scope = scope.into();
        self
    }

    /// The scope `/api/messages` needs.
    pub fn messages_scope(&self) -> &str {
        &self.messages_scope
    }
}

/// The router.
pub fn app(api: Arc<Api>) -> Router {
    Router::new()
        .route("/api/messages", get(messages))
        .route("/api/whoami", get(whoami))
        .with_state(api)
}

/// The verified claims of the request's bearer token.
pub struct Authorized(pub Claims);

/// A refused request: never a reason, only the challenge (RFC 6750, RFC 9449).
pub enum Refused {
    /// 401: no token, or one that is not valid here (`Bearer` or `DPoP` challenge).
    InvalidToken(Scheme),
    /// 401: a DPoP-bound token whose proof is missing, invalid or replayed.
    InvalidProof,
    /// 401: a DPoP proof without the API's current nonce; the nonce comes with the challenge.
    UseNonce(String),
    /// 403: a valid token without the scope the route needs.
    InsufficientScope(String),
    /// 503: the issuer's keys cannot be fetched now; the token may well be good.
    Unavailable,
}

/// How a token was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer`
    Bearer,
    /// `Authorization: DPoP`
    Dpop,
}

fn unauthorized(challenge: String, error: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, challenge)],
        Json(json!({ "error": error })),
    )
        .into_response()
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::InvalidToken(Scheme::Bearer) => unauthorized(
                r#"Bearer error="invalid_token""#.to_string(),
                "invalid_token",
            ),
            Refused::InvalidToken(Scheme::Dpop) => unauthorized(
                r#"DPoP error="invalid_token", algs="ES256""#.to_string(),
                "invalid_token",
            ),
            Refused::InvalidProof => unauthorized(
                r#"DPoP error="invalid_dpop_proof", algs="ES256""#.to_string(),
                "invalid_dpop_proof",
            ),
            Refused::UseNonce(nonce) => {
                let mut response = unauthorized(
                    r#"DPoP error="use_dpop_nonce", algs="ES256""#.to_string(),
                    "use_dpop_nonce",
                );
                if let Ok(value) = HeaderValue::from_str(&nonce) {
                    response.headers_mut().insert("DPoP-Nonce", value);
                }
                response
            }
            Refused::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                [(
                    header::WWW_AUTHENTICATE,
                    format!(r#"Bearer error="insufficient_scope", scope="{scope}""#),
                )],
                Json(json!({ "error": "insufficient_scope" })),
            )
                .into_response(),
            Refused::Unavailable => {
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "error": "temporarily_unavailable" })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                response
            }
        }
    }
}

/// The scheme and token of an `Authorization` header (schemes case-insensitive, RFC 7235 §2.1).
fn presented_token(parts: &Parts) -> Option<(Scheme, &str)> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Some((Scheme::Bearer, token))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Some((Scheme::Dpop, token))
    } else {
        None
    }
}

/// The URL a proof's `htu` must name: the request as the client addressed it, without its query.
fn request_url(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    format!("http://{host}{}", parts.uri.path())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl FromRequestParts<Arc<Api>> for Authorized {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        api: &Arc<Api>,
    ) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let Some((scheme, token)) = presented_token(parts) else {
            tracing::info!(%path, "refused: no token");
            return Err(Refused::InvalidToken(Scheme::Bearer));
        };
        let claims = match api.verifier.verify(token).await {
            Ok(claims) => claims,
            Err(error @ VerifyError::Keys(_)) => {
                tracing::warn!(%path, %error, "unavailable");
                return Err(Refused::Unavailable);
            }
            Err(error) => {
                tracing::info!(%path, %error, "refused");
                return Err(Refused::InvalidToken(scheme));
            }
        };
        let bound = claims.cnf.as_ref().and_then(|c| c.jkt.clone());
        match (scheme, bound) {
            (Scheme::Bearer, None) => {}
            (Scheme::Bearer, Some(_)) => {
                tracing::info!(%path, "refused: a DPoP-bound token presented as Bearer");
                return Err(Refused::InvalidToken(Scheme::Bearer));
            }
            (Scheme::Dpop, None) => {
                tracing::info!(%path, "refused: a bearer token presented as DPoP");
                return Err(Refused::InvalidToken(Scheme::Dpop));
            }
            (Scheme::Dpop, Some(jkt)) => {
                let proof = parts
                    .headers
                    .get("dpop")
                    .and_then(|v| v.to_str().ok())
                    .ok_or(Refused::InvalidProof)?;
                let checked = api.proofs.check(
                    proof,
                    parts.method.as_str(),
                    &request_url(parts),
                    token,
                    api.nonce.as_deref(),
                    now(),
                );
                match checked {
                    Ok(thumbprint) if thumbprint == jkt => {}
                    Ok(_) => {
                        tracing::info!(%path, "refused: the proof's key is not the token's");
                        return Err(Refused::InvalidProof);
                    }
                    Err(dpop::ProofError::NonceNeeded) => {
                        return Err(Refused::UseNonce(api.nonce.clone().unwrap_or_default()))
                    }
                    Err(error) => {
                        tracing::info!(%path, %error, "refused");
                        return Err(Refused::InvalidProof);
                    }
                }
            }
        }
        tracing::info!(%path, sub = %claims.sub, ?scheme, "authorized");
        Ok(Authorized(claims))
    }
}

impl Authorized {
    /// The claims, when the token was granted `scope`.
    fn with_scope(self, scope: &str) -> Result<Claims, Refused> {
        if self.0.scp.iter().any(|s| s == scope) {
            Ok(self.0)
        } else {
            tracing::info!(sub = %self.0.sub, scope, "refused: scope missing");
            Err(Refused::InsufficientScope(scope.to_string()))
        }
    }
}

async fn messages(
    State(api): State<Arc<Api>>,
    authorized: Authorized,
) -> Result<Json<serde_json::Value>, Refused> {
    let claims = authorized.with_scope(&api.messages_scope)?;
    Ok(Json(json!({
        "messages": [
            { "id": 1, "text": "Hello from the demo API" },
            { "id": 2, "text": format!("Your token was issued to client {}", claims.cid.as_deref().unwrap_or("?")) },
            { "id": 3, "text": "Tokens never leave the Rust side of the app" },
        ]
    })))
}

async fn whoami(authorized: Authorized) -> Result<Json<serde_json::Value>, Refused> {
    let claims = authorized.with_scope("openid")?;
    Ok(Json(
        json!({ "sub": claims.sub, "scp": claims.scp, "cid": claims.cid }),
    ))
}
