//! What the UI is told: the sign-in state, a profile and notices. Never a token.

use native_oidc::{Error, SessionSummary, Storage};
use serde::Serialize;
use serde_json::{Map, Value};

/// A message for the user, with the engine's stable error kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notice {
    /// `access_denied`, `session_expired`, `network`, …
    pub kind: String,
    /// Words a person understands.
    pub message: String,
}

impl Notice {
    /// The user-facing notice for an engine error.
    pub fn from_error(error: &Error) -> Self {
        Self {
            kind: error.kind().to_string(),
            message: describe(error),
        }
    }
}

/// A sentence for a person, per error kind.
pub fn describe(error: &Error) -> String {
    match error.kind() {
        "access_denied" => "Sign-in was cancelled.".into(),
        "network" => {
            "The sign-in service can't be reached right now. Check your connection and try again."
                .into()
        }
        "session_expired" => "Your session has ended. Please sign in again.".into(),
        "not_signed_in" => "You are not signed in.".into(),
        "authorization_expired" => "The sign-in took too long. Please try again.".into(),
        "state_mismatch" => "That sign-in link doesn't belong to a sign-in started here.".into(),
        "issuer_mismatch" | "invalid_id_token" | "invalid_userinfo" | "protocol" => {
            format!("The sign-in answer could not be trusted ({error}). Please try again.")
        }
        "config" => format!("The app is not configured correctly: {error}"),
        "storage" => format!("The saved session could not be read or written: {error}"),
        _ => format!("Sign-in failed: {error}"),
    }
}

/// The signed-in user, as shown in the UI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    /// Display name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// `sub`.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// ID token and userinfo claims (userinfo wins), without `nonce` and `at_hash`.
    pub claims: Map<String, Value>,
}

impl From<&SessionSummary> for Profile {
    fn from(summary: &SessionSummary) -> Self {
        let mut claims = summary.claims.clone();
        if let Some(profile) = &summary.profile {
            claims.extend(profile.clone());
        }
        claims.remove("nonce");
        claims.remove("at_hash");
        Self {
            name: summary.name.clone(),
            email: summary.email.clone(),
            subject: summary.subject.clone(),
            issuer: summary.issuer.clone(),
            scopes: summary.scopes.clone(),
            claims,
        }
    }
}

/// The sign-in state, sent to the UI with every change (event `auth-changed`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AuthView {
    /// Loading the stored session.
    Restoring,
    /// Not signed in; `notice` says why when there is a reason (cancelled, session ended, …).
    SignedOut {
        /// Why, if there is something to say.
        notice: Option<Notice>,
    },
    /// The system browser is open on the sign-in page.
    WaitingForBrowser,
    /// Signed in.
    SignedIn {
        /// Who.
        profile: Profile,
        /// When the access token expires (RFC 3339).
        expires_at: Option<String>,
        /// The identity provider could not be reached; the stored session is kept.
        offline: bool,
        /// Something to tell the user.
        notice: Option<Notice>,
        /// Where the tokens are kept: `keystore` (the system keychain) or `file` (a file only the
        /// user can read).
        storage: Storage,
    },
}

impl AuthView {
    /// Signed in with this session, its tokens kept in `storage`.
    pub fn signed_in(
        summary: &SessionSummary,
        storage: Storage,
        offline: bool,
        notice: Option<Notice>,
    ) -> Self {
        AuthView::SignedIn {
            profile: Profile::from(summary),
            expires_at: summary.expires_at.clone(),
            offline,
            notice,
            storage,
        }
    }

    /// Signed out, with a reason.
    pub fn signed_out(notice: Option<Notice>) -> Self {
        AuthView::SignedOut { notice }
    }

    /// True when signed in.
    pub fn is_signed_in(&self) -> bool {
        matches!(self, AuthView::SignedIn { .. })
    }
}
