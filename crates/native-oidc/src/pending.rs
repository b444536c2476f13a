//! Sign-ins in progress: what the app must remember while the user is in the browser.
//!
//! A [`PendingAuthorization`] holds the `state`, `nonce` and PKCE verifier of one authorization request.
//! It serialises, so an app that the OS kills while the user is in the browser can persist it and still
//! complete the sign-in on return; it expires after [`PENDING_LIFETIME`]. [`PendingAuthorizations`]
//! hands each one out once, by `state`.

use std::{fmt, time::Duration};

use chrono::{DateTime, Utc};
use openidconnect::{ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeVerifier, RedirectUrl, Scope};
use serde::{Deserialize, Serialize};
use url::Url;

/// How long a sign-in may stay in the browser.
pub const PENDING_LIFETIME: Duration = Duration::from_secs(600);

/// Options of one sign-in: what the authorization request asks of the provider (OpenID Connect Core
/// §3.1.2.1), and what the ID token must then show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignInOptions {
    /// Pre-fills the username on the sign-in page (`login_hint`).
    pub login_hint: Option<String>,
    /// `prompt` values, space-separated (`login`, `consent`, `none`, …). With `none` the provider
    /// shows nothing: without a session it answers `login_required` (or `interaction_required`),
    /// which the sign-in reports as that error kind.
    pub prompt: Option<String>,
    /// `acr_values`: the authentication levels asked for, most wanted first (Okta's
    /// `urn:okta:loa:1fa:any`, `urn:okta:loa:1fa:pwd`, `urn:okta:loa:2fa:any`,
    /// `urn:okta:loa:2fa:any:ifpossible`, `phr`, `phrh`).
    pub acr_values: Vec<String>,
    /// Refuse an ID token whose `acr` is not one of [`SignInOptions::acr_values`]: nothing less than
    /// what was asked is stored, and the tokens issued are revoked. A step-up sets it.
    pub require_acr: bool,
    /// `max_age`: the user must have authenticated at most this long ago, else the provider asks
    /// again. The ID token must then carry an `auth_time` no older than this (plus the clock leeway).
    pub max_age: Option<Duration>,
    /// `idp`: Okta's id of a social or enterprise identity provider to send the user to.
    pub idp: Option<String>,
    /// More parameters, sent as they are. The ones this client sets itself (`client_id`,
    /// `redirect_uri`, `state`, `nonce`, PKCE, …) are refused as a `config` error.
    pub extra_params: Vec<(String, String)>,
    /// The user (`sub`) who must sign in, as in a step-up: an ID token for anyone else is refused
    /// ([`crate::Error::DifferentUser`]), its tokens revoked, and the session stays as it was.
    pub subject: Option<String>,
}

/// The parameters of an authorization request that this client sets itself, never an app.
pub(crate) const RESERVED_PARAMS: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
    "login_hint",
    "prompt",
    "acr_values",
    "max_age",
    "idp",
    "dpop_jkt",
];

/// The URL to open in the system browser, and what to keep until the callback.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// The authorization URL (open it in the system browser, never in a webview).
    pub url: Url,
    /// Keep this (persist it if the app may be killed) until the callback arrives.
    pub pending: PendingAuthorization,
}

/// One sign-in waiting for its callback.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub(crate) state: CsrfToken,
    pub(crate) nonce: Nonce,
    pub(crate) pkce_verifier: String,
    pub(crate) issuer: IssuerUrl,
    pub(crate) client_id: ClientId,
    pub(crate) redirect_uri: RedirectUrl,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) expires_at: DateTime<Utc>,
    /// The key the tokens will be bound to (DPoP), made with the request.
    #[serde(default)]
    pub(crate) dpop_key: Option<crate::dpop::DpopKey>,
    /// The `max_age` asked for, in seconds: the ID token's `auth_time` is checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_age: Option<u64>,
    /// The `acr` values one of which the ID token must show (empty: not checked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) required_acr: Vec<String>,
    /// The user who must sign in (a step-up), if only one may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<String>,
}

impl PendingAuthorization {
    /// The `state` sent with the request.
    pub fn state(&self) -> &str {
        self.state.secret()
    }

    /// When it expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// True once it can no longer be completed.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    pub(crate) fn pkce_verifier(&self) -> PkceCodeVerifier {
        PkceCodeVerifier::new(self.pkce_verifier.clone())
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The sign-ins in progress of one app; each can be taken once.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PendingAuthorizations {
    items: Vec<PendingAuthorization>,
}

impl PendingAuthorizations {
    /// No sign-in in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sign-in (expired ones are dropped).
    pub fn insert(&mut self, pending: PendingAuthorization) {
        let now = Utc::now();
        self.items.retain(|p| !p.is_expired(now));
        self.items.push(pending);
    }

    /// Replaces every sign-in in progress with this one (a new attempt supersedes the old).
    pub fn replace(&mut self, pending: PendingAuthorization) {
        self.items = vec![pending];
    }

    /// True when a sign-in with this `state` is in progress (expired or not).
    pub fn contains(&self, state: &str) -> bool {
        self.items.iter().any(|p| p.state.secret() == state)
    }

    /// Removes and returns the sign-in with this `state`, expired or not.
    pub fn take(&mut self, state: &str) -> Option<PendingAuthorization> {
        let index = self.items.iter().position(|p| p.state.secret() == state)?;
        Some(self.items.remove(index))
    }

    /// Adds the sign-ins of `other` that this set does not have (by `state`).
    pub fn merge(&mut self, other: PendingAuthorizations) {
        for pending in other.items {
            if !self.contains(pending.state()) {
                self.insert(pending);
            }
        }
    }

    /// True when no sign-in is in progress (expired ones count as gone).
    pub fn is_empty(&self) -> bool {
        let now = Utc::now();
        self.items.iter().all(|p| p.is_expired(now))
    }

    /// Forgets every sign-in in progress (the user cancelled).
    pub fn clear(&mut self) {
        self.items.clear();
    }
}
