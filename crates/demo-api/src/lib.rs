//! `demo-api`: the API the app calls, standing in for "your API" of Okta's guide *Protect your API
//! endpoints*.
//!
//! Every request needs `Authorization: Bearer <JWT access token>`, validated against the issuer's
//! keys ([`verifier`]): RS256 only, `iss`, `aud` (`api://default`), `exp`. Anything else is answered
//! `401` with `WWW-Authenticate: Bearer error="invalid_token"` and no details.
//!
//! - `GET /api/messages`: a short list of messages.
//! - `GET /api/whoami`: the verified `sub`, `scp` and `cid` of the token.

pub mod verifier;

use std::sync::Arc;

use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

pub use verifier::{Claims, Verifier, VerifyError};

/// The router, with its token verifier.
pub fn app(verifier: Arc<Verifier>) -> Router {
    Router::new()
        .route("/api/messages", get(messages))
        .route("/api/whoami", get(whoami))
        .with_state(verifier)
}

/// The verified claims of the request's bearer token.
pub struct Authorized(pub Claims);

/// A refused request: 401 and a `WWW-Authenticate` challenge, never a reason.
pub struct Unauthorized;

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)],
            Json(json!({ "error": "invalid_token" })),
        )
            .into_response()
    }
}

impl FromRequestParts<Arc<Verifier>> for Authorized {
    type Rejection = Unauthorized;

    async fn from_request_parts(
        parts: &mut Parts,
        verifier: &Arc<Verifier>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            tracing::info!(path = %parts.uri.path(), "refused: no bearer token");
            return Err(Unauthorized);
        };
        match verifier.verify(token).await {
            Ok(claims) => {
                tracing::info!(path = %parts.uri.path(), sub = %claims.sub, "authorized");
                Ok(Authorized(claims))
            }
            Err(error) => {
                tracing::info!(path = %parts.uri.path(), %error, "refused");
                Err(Unauthorized)
            }
        }
    }
}

async fn messages(Authorized(claims): Authorized) -> Json<serde_json::Value> {
    Json(json!({
        "messages": [
            { "id": 1, "text": "Hello from the demo API" },
            { "id": 2, "text": format!("Your token was issued to client {}", claims.cid.as_deref().unwrap_or("?")) },
            { "id": 3, "text": "Tokens never leave the Rust side of the app" },
        ]
    }))
}

async fn whoami(
    State(_): State<Arc<Verifier>>,
    Authorized(claims): Authorized,
) -> Json<serde_json::Value> {
    Json(json!({ "sub": claims.sub, "scp": claims.scp, "cid": claims.cid }))
}
