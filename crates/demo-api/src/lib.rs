//! `demo-api`: the API the app calls, standing in for "your API" of Okta's guide *Protect your API
//! endpoints*.
//!
//! Every request needs `Authorization: Bearer <JWT access token>` (the scheme in any case), validated
//! against the issuer's keys ([`verifier`]): RS256 only, `iss`, `aud` (`api://default`), `exp`, `cid` one
//! of the configured clients, and `scp` holding the scope the route needs. A bad token is answered
//! `401` with `WWW-Authenticate: Bearer error="invalid_token"`, a missing scope `403`
//! (`insufficient_scope`), and keys the API cannot fetch `503`: never a detail.
//!
//! - `GET /api/messages` (scope [`Api::messages_scope`], `profile` by default): a short list of messages.
//! - `GET /api/whoami` (scope `openid`): the verified `sub`, `scp` and `cid` of the token.

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

/// The API's settings: its token verifier and the scopes its routes need.
pub struct Api {
    verifier: Verifier,
    messages_scope: String,
}

impl Api {
    /// An API with this verifier; `/api/messages` needs the scope `profile`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            messages_scope: "profile".into(),
        }
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

/// A refused request: never a reason, only the RFC 6750 challenge.
pub enum Refused {
    /// 401: no token, or one that is not valid here.
    InvalidToken,
    /// 403: a valid token without the scope the route needs.
    InsufficientScope(String),
    /// 503: the issuer's keys cannot be fetched now; the token may well be good.
    Unavailable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    r#"Bearer error="invalid_token""#.to_string(),
                )],
                Json(json!({ "error": "invalid_token" })),
            )
                .into_response(),
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

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 7235 §2.1).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<Arc<Api>> for Authorized {
    type Rejection = Refused;

    async fn from_request_parts(
        parts: &mut Parts,
        api: &Arc<Api>,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer_token(parts) else {
            tracing::info!(path = %parts.uri.path(), "refused: no bearer token");
            return Err(Refused::InvalidToken);
        };
        match api.verifier.verify(token).await {
            Ok(claims) => {
                tracing::info!(path = %parts.uri.path(), sub = %claims.sub, "authorized");
                Ok(Authorized(claims))
            }
            Err(error @ VerifyError::Keys(_)) => {
                tracing::warn!(path = %parts.uri.path(), %error, "unavailable");
                Err(Refused::Unavailable)
            }
            Err(error) => {
                tracing::info!(path = %parts.uri.path(), %error, "refused");
                Err(Refused::InvalidToken)
            }
        }
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
