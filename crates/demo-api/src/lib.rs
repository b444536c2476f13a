//! `demo-api`: the API the app calls, standing in for "your API" of Okta's guide *Protect your API
//! endpoints*.
//!
//! Every request needs `Authorization: Bearer <JWT access token>` (the scheme in any case), validated
//! against the issuer's keys ([`verifier`]): RS256 only, `iss`, `aud` (`api://default`), `exp`, `cid` one
//! of the configured clients, and `scp` holding the scope the route needs. A token bound to a key
//! (`cnf.jkt`, DPoP) comes as `Authorization: DPoP <token>` with a proof of that key for this request
//! ([`dpop`]) for the URL it was sent to under the API's public URL ([`PublicUrl`], set with
//! [`Api::with_public_url`]: without one, DPoP-bound tokens are refused); presented as `Bearer` it is
//! refused. A bad token is answered `401` with a
//! `WWW-Authenticate` challenge (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`), a missing scope
//! `403` (`insufficient_scope`), and keys the API cannot fetch `503`: never a detail.
//!
//! - `GET /api/messages` (scope [`Api::messages_scope`], `profile` by default): a short list of messages.
//! - `GET /api/whoami` (scope `openid`): the verified `sub`, `scp` and `cid` of the token.
//! - `GET /api/sensitive` (scope `openid`): only for a user who passed a second factor
//!   ([`STEP_UP_ACR`]) within [`STEP_UP_MAX_AGE`] seconds (the token's `acr` and `auth_time`);
//!   anyone else gets RFC 9470's `401` challenge `insufficient_user_authentication` naming both.

pub mod dpop;
mod public_url;
pub mod replay;
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

pub use public_url::{PublicUrl, PublicUrlError};
pub use verifier::{Claims, Verifier, VerifyError};

/// The API's settings: its token verifier, the scopes its routes need, its public URL and its DPoP
/// proof checks.
pub struct Api {
    verifier: Verifier,
    messages_scope: String,
    public_url: Option<PublicUrl>,
    proofs: dpop::Proofs,
    nonce: Option<String>,
}

impl Api {
    /// An API with this verifier; `/api/messages` needs the scope `profile`.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            messages_scope: "profile".into(),
            public_url: None,
            proofs: dpop::Proofs::default(),
            nonce: None,
        }
    }

    /// Sets the URL clients call the API at: DPoP proofs must name it (and the request's path) as
    /// their `htu`.
    pub fn with_public_url(mut self, url: PublicUrl) -> Self {
        self.public_url = Some(url);
        self
    }

    /// Keeps at most `per_key` DPoP proof `jti`s of each key in the replay cache (default
    /// [`replay::PER_KEY`]).
    pub fn with_replay_capacity(mut self, per_key: usize) -> Self {
        self.proofs = dpop::Proofs::with_capacity(per_key);
        self
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

/// The authentication level `/api/sensitive` needs: Okta's "any two factors".
pub const STEP_UP_ACR: &str = "urn:okta:loa:2fa:any";
/// How recent (seconds) that authentication must be for `/api/sensitive`.
pub const STEP_UP_MAX_AGE: i64 = 300;
/// How far in the future (seconds) an `auth_time` may be, for clocks that disagree: the engine's
/// clock leeway, so a step-up the app accepts is one the API accepts.
const AUTH_TIME_SKEW: i64 = 60;

/// The router.
pub fn app(api: Arc<Api>) -> Router {
    Router::new()
        .route("/api/messages", get(messages))
        .route("/api/whoami", get(whoami))
        .route("/api/sensitive", get(sensitive))
        .with_state(api)
}

/// The verified claims of the request's token, and how it was presented.
pub struct Authorized(pub Claims, pub Scheme);

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
    /// 401: a valid token from a sign-in that is too weak or too old for the route (RFC 9470).
    StepUp(Scheme),
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
            Refused::StepUp(scheme) => unauthorized(
                format!(
                    r#"{} error="insufficient_user_authentication", error_description="A second factor within the last {} minutes is required", acr_values="{STEP_UP_ACR}", max_age={STEP_UP_MAX_AGE}"#,
                    match scheme {
                        Scheme::Bearer => "Bearer",
                        Scheme::Dpop => "DPoP",
                    },
                    STEP_UP_MAX_AGE / 60
                ),
                "insufficient_user_authentication",
            ),
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
                if let Err(error) = proven(parts, api, token, &jkt) {
                    tracing::info!(%path, %error, "refused");
                    return Err(match error {
                        dpop::ProofError::NonceNeeded => {
                            Refused::UseNonce(api.nonce.clone().unwrap_or_default())
                        }
                        _ => Refused::InvalidProof,
                    });
                }
            }
        }
        tracing::info!(%path, sub = %claims.sub, ?scheme, "authorized");
        Ok(Authorized(claims, scheme))
    }
}

/// Checks the request's DPoP proof for the token bound to `jkt`: exactly one `DPoP` header
/// (RFC 9449 §4.3), for this request at the API's public URL.
fn proven(parts: &Parts, api: &Api, token: &str, jkt: &str) -> Result<(), dpop::ProofError> {
    let mut headers = parts.headers.get_all(dpop::DPOP).iter();
    let proof = match (headers.next(), headers.next()) {
        (Some(proof), None) => proof
            .to_str()
            .map_err(|_| dpop::ProofError::Invalid("the DPoP header is not text".into()))?,
        (None, _) => return Err(dpop::ProofError::Invalid("no DPoP header".into())),
        (Some(_), Some(_)) => {
            return Err(dpop::ProofError::Invalid(
                "more than one DPoP header".into(),
            ))
        }
    };
    let Some(public_url) = &api.public_url else {
        return Err(dpop::ProofError::Invalid(
            "the API has no public URL to check htu against (Api::with_public_url)".into(),
        ));
    };
    let request = dpop::ProofRequest {
        method: parts.method.as_str(),
        url: &public_url.resource(parts.uri.path()),
        token,
        jkt,
        nonce: api.nonce.as_deref(),
    };
    api.proofs.check(proof, &request, now())
}

impl Authorized {
    /// Passes when the token was granted `scope`.
    fn require_scope(&self, scope: &str) -> Result<(), Refused> {
        if self.0.scp.iter().any(|s| s == scope) {
            Ok(())
        } else {
            tracing::info!(sub = %self.0.sub, scope, "refused: scope missing");
            Err(Refused::InsufficientScope(scope.to_string()))
        }
    }

    /// Passes when the user passed [`STEP_UP_ACR`] within [`STEP_UP_MAX_AGE`] seconds.
    fn require_step_up(&self, now: i64) -> Result<(), Refused> {
        let Authorized(claims, scheme) = self;
        let strong = claims.acr.as_deref() == Some(STEP_UP_ACR);
        // An `auth_time` later than now (beyond clock skew) is as wrong as one too old; checked
        // arithmetic, as the claim can be any i64.
        let recent = claims.auth_time.is_some_and(|at| {
            now.checked_sub(at)
                .is_some_and(|age| (-AUTH_TIME_SKEW..=STEP_UP_MAX_AGE).contains(&age))
        });
        if strong && recent {
            Ok(())
        } else {
            tracing::info!(sub = %claims.sub, strong, recent, "refused: step-up needed");
            Err(Refused::StepUp(*scheme))
        }
    }
}

async fn messages(
    State(api): State<Arc<Api>>,
    authorized: Authorized,
) -> Result<Json<serde_json::Value>, Refused> {
    authorized.require_scope(&api.messages_scope)?;
    let claims = authorized.0;
    Ok(Json(json!({
        "messages": [
            { "id": 1, "text": "Hello from the demo API" },
            { "id": 2, "text": format!("Your token was issued to client {}", claims.cid.as_deref().unwrap_or("?")) },
            { "id": 3, "text": "Tokens never leave the Rust side of the app" },
        ]
    })))
}

async fn whoami(authorized: Authorized) -> Result<Json<serde_json::Value>, Refused> {
    authorized.require_scope("openid")?;
    let claims = authorized.0;
    Ok(Json(
        json!({ "sub": claims.sub, "scp": claims.scp, "cid": claims.cid }),
    ))
}

async fn sensitive(authorized: Authorized) -> Result<Json<serde_json::Value>, Refused> {
    authorized.require_scope("openid")?;
    authorized.require_step_up(now())?;
    let claims = authorized.0;
    Ok(Json(json!({
        "sub": claims.sub,
        "acr": claims.acr,
        "auth_time": claims.auth_time,
        "message": "Only after a second factor: this is the sensitive part of the demo API",
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stepped_up_at(auth_time: Option<i64>, now: i64) -> bool {
        let claims = Claims {
            sub: "00u1".into(),
            scp: vec![],
            cid: None,
            cnf: None,
            acr: Some(STEP_UP_ACR.into()),
            auth_time,
        };
        Authorized(claims, Scheme::Bearer)
            .require_step_up(now)
            .is_ok()
    }

    #[test]
    fn only_an_auth_time_within_the_step_up_age_passes_whatever_the_claim_holds() {
        let now = 1_800_000_000;
        assert!(stepped_up_at(Some(now), now));
        assert!(stepped_up_at(Some(now - STEP_UP_MAX_AGE), now));
        assert!(stepped_up_at(Some(now + AUTH_TIME_SKEW), now));
        assert!(!stepped_up_at(Some(now - STEP_UP_MAX_AGE - 1), now));
        assert!(!stepped_up_at(Some(now + AUTH_TIME_SKEW + 1), now));
        assert!(!stepped_up_at(None, now));
        // Wrapped, `now - i64::MIN` was negative: "recent" in release, a panic in debug.
        assert!(!stepped_up_at(Some(i64::MIN), now));
        assert!(!stepped_up_at(Some(i64::MAX), now));
    }
}
