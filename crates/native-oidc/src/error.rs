//! The one error type of the crate, with stable kind names for UIs and command lines.
//!
//! Messages never contain token values, authorization codes or PKCE verifiers, and never a control
//! character or bidi override: `Display` shows every message through [`Printable`], so text an identity
//! provider sent (an `error_description`, an issuer, a userinfo answer) cannot act on a terminal or a UI.

use std::{borrow::Cow, fmt};

use crate::text::{printable, Printable};

/// Everything that can go wrong while signing in, staying signed in or signing out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is incomplete or unsafe (kind `config`).
    Config(String),
    /// The identity provider could not be reached, or answered 5xx/429 (kind `network`).
    /// Transient: a session is kept.
    Network(String),
    /// The identity provider answered something this client cannot use (kind `protocol`).
    Protocol(String),
    /// The authorization or token endpoint refused the request with an OAuth error code; the kind is the
    /// code itself (`access_denied`, `login_required`, `invalid_grant`, …).
    Authorization {
        /// The OAuth `error` code.
        code: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// A callback whose `state` matches no sign-in in progress: forged, replayed or stale (kind `state_mismatch`).
    StateMismatch,
    /// The sign-in in progress is older than its lifetime (kind `authorization_expired`).
    AuthorizationExpired,
    /// The issuer in discovery or in the callback's `iss` is not the configured one (kind `issuer_mismatch`).
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// What was received (`(none)` when missing).
        found: String,
    },
    /// The ID token failed validation (kind `invalid_id_token`).
    InvalidIdToken(String),
    /// The userinfo response failed validation (kind `invalid_userinfo`).
    InvalidUserinfo(String),
    /// The refresh token was refused (`invalid_grant`): the user must sign in again (kind `session_expired`).
    SessionExpired(String),
    /// There is no session (kind `not_signed_in`).
    NotSignedIn,
    /// An API needs a stronger or more recent sign-in (RFC 9470; kind `step_up_required`): sign in
    /// with [`crate::StepUp::sign_in_options`], then call again. The session is kept.
    StepUpRequired(crate::StepUp),
    /// A sign-in that only one user may complete (a step-up) came back as another user (kind
    /// `different_user`): refused, its tokens revoked, the session as it was.
    DifferentUser,
    /// The session store could not be read or written (kind `storage`).
    Storage(String),
}

impl fmt::Display for Error {
    /// The message, always through [`Printable`]: the one place provider text is cleaned.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message: Cow<'_, str> = match self {
            Error::Config(message)
            | Error::Network(message)
            | Error::Protocol(message)
            | Error::Storage(message) => Cow::Borrowed(message),
            Error::Authorization { code, description } => match description {
                Some(description) if !description.is_empty() => {
                    Cow::Owned(format!("{code}: {description}"))
                }
                _ => Cow::Borrowed(code),
            },
            Error::StateMismatch => Cow::Borrowed(
                "the callback does not belong to a sign-in in progress (forged, replayed or already used)",
            ),
            Error::AuthorizationExpired => {
                Cow::Borrowed("the sign-in took too long and has expired; start again")
            }
            Error::IssuerMismatch { expected, found } => {
                Cow::Owned(format!("issuer mismatch: expected {expected}, got {found}"))
            }
            Error::InvalidIdToken(message) => Cow::Owned(format!("invalid ID token: {message}")),
            Error::InvalidUserinfo(message) => {
                Cow::Owned(format!("invalid userinfo response: {message}"))
            }
            Error::SessionExpired(message) => {
                Cow::Owned(format!("the session has ended, sign in again: {message}"))
            }
            Error::NotSignedIn => Cow::Borrowed("not signed in"),
            Error::StepUpRequired(step_up) => Cow::Owned(format!("the API needs {step_up}")),
            Error::DifferentUser => Cow::Borrowed(
                "another user signed in than the one this sign-in was for; the session is unchanged",
            ),
        };
        Printable(&message).fmt(f)
    }
}

/// What kind of error: the stable name UIs and command lines branch on. Serialises as
/// [`ErrorKind::as_str`], so `access_denied`, `network`, `session_expired`, ….
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `config`
    Config,
    /// `network`
    Network,
    /// `protocol`
    Protocol,
    /// `access_denied`: the user cancelled or was refused.
    AccessDenied,
    /// `login_required`: a sign-in with `prompt=none` found no session at the provider.
    LoginRequired,
    /// `interaction_required`: a sign-in with `prompt=none` needs the user (consent, a factor, …).
    InteractionRequired,
    /// `expired_token`: a device sign-in's code expired before the user finished.
    ExpiredToken,
    /// Any other OAuth error code from the provider (`login_required`, `invalid_grant`, …), shown
    /// through [`Printable`](crate::text::Printable) like every message.
    OAuth(String),
    /// `state_mismatch`
    StateMismatch,
    /// `authorization_expired`
    AuthorizationExpired,
    /// `issuer_mismatch`
    IssuerMismatch,
    /// `invalid_id_token`
    InvalidIdToken,
    /// `invalid_userinfo`
    InvalidUserinfo,
    /// `session_expired`
    SessionExpired,
    /// `not_signed_in`
    NotSignedIn,
    /// `step_up_required`
    StepUpRequired,
    /// `different_user`
    DifferentUser,
    /// `storage`
    Storage,
}

impl ErrorKind {
    /// The stable snake_case name.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Network => "network",
            ErrorKind::Protocol => "protocol",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::LoginRequired => "login_required",
            ErrorKind::InteractionRequired => "interaction_required",
            ErrorKind::ExpiredToken => "expired_token",
            ErrorKind::OAuth(code) => code,
            ErrorKind::StateMismatch => "state_mismatch",
            ErrorKind::AuthorizationExpired => "authorization_expired",
            ErrorKind::IssuerMismatch => "issuer_mismatch",
            ErrorKind::InvalidIdToken => "invalid_id_token",
            ErrorKind::InvalidUserinfo => "invalid_userinfo",
            ErrorKind::SessionExpired => "session_expired",
            ErrorKind::NotSignedIn => "not_signed_in",
            ErrorKind::StepUpRequired => "step_up_required",
            ErrorKind::DifferentUser => "different_user",
            ErrorKind::Storage => "storage",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Error {
    /// This error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_) => ErrorKind::Config,
            Error::Network(_) => ErrorKind::Network,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Authorization { code, .. } => match code.as_str() {
                "access_denied" => ErrorKind::AccessDenied,
                "login_required" => ErrorKind::LoginRequired,
                "interaction_required" => ErrorKind::InteractionRequired,
                "expired_token" => ErrorKind::ExpiredToken,
                // The code is the provider's text too.
                _ => ErrorKind::OAuth(printable(code)),
            },
            Error::StateMismatch => ErrorKind::StateMismatch,
            Error::AuthorizationExpired => ErrorKind::AuthorizationExpired,
            Error::IssuerMismatch { .. } => ErrorKind::IssuerMismatch,
            Error::InvalidIdToken(_) => ErrorKind::InvalidIdToken,
            Error::InvalidUserinfo(_) => ErrorKind::InvalidUserinfo,
            Error::SessionExpired(_) => ErrorKind::SessionExpired,
            Error::NotSignedIn => ErrorKind::NotSignedIn,
            Error::StepUpRequired(_) => ErrorKind::StepUpRequired,
            Error::DifferentUser => ErrorKind::DifferentUser,
            Error::Storage(_) => ErrorKind::Storage,
        }
    }

    /// True when trying again later may succeed and a session must be kept.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Network(_))
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol(message.into())
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable_snake_case_names() {
        let cases = [
            (Error::Config("x".into()), "config"),
            (Error::Network("x".into()), "network"),
            (Error::Protocol("x".into()), "protocol"),
            (
                Error::Authorization {
                    code: "access_denied".into(),
                    description: Some("The user cancelled".into()),
                },
                "access_denied",
            ),
            (
                Error::Authorization {
                    code: "login_required".into(),
                    description: None,
                },
                "login_required",
            ),
            (
                Error::Authorization {
                    code: "interaction_required".into(),
                    description: None,
                },
                "interaction_required",
            ),
            (
                Error::Authorization {
                    code: "expired_token".into(),
                    description: None,
                },
                "expired_token",
            ),
            (Error::StateMismatch, "state_mismatch"),
            (Error::AuthorizationExpired, "authorization_expired"),
            (
                Error::IssuerMismatch {
                    expected: "a".into(),
                    found: "b".into(),
                },
                "issuer_mismatch",
            ),
            (Error::InvalidIdToken("x".into()), "invalid_id_token"),
            (Error::InvalidUserinfo("x".into()), "invalid_userinfo"),
            (Error::SessionExpired("x".into()), "session_expired"),
            (Error::NotSignedIn, "not_signed_in"),
            (
                Error::StepUpRequired(crate::StepUp::default()),
                "step_up_required",
            ),
            (Error::DifferentUser, "different_user"),
            (Error::Storage("x".into()), "storage"),
        ];
        for (error, kind) in cases {
            assert_eq!(error.kind(), kind);
            assert_eq!(error.kind().as_str(), kind);
            assert_eq!(
                serde_json::to_value(error.kind()).unwrap(),
                serde_json::Value::from(kind)
            );
            assert_eq!(error.is_transient(), kind == "network");
        }
    }

    #[test]
    fn authorization_error_shows_code_and_description() {
        let error = Error::Authorization {
            code: "access_denied".into(),
            description: Some("The user cancelled the sign-in.".into()),
        };
        assert_eq!(
            error.to_string(),
            "access_denied: The user cancelled the sign-in."
        );
    }

    #[test]
    fn provider_text_is_shown_without_control_characters() {
        let hostile = "x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m\u{7f}\u{202e}y\nz";
        let errors = [
            Error::Config(hostile.into()),
            Error::Network(hostile.into()),
            Error::Protocol(hostile.into()),
            Error::Authorization {
                code: hostile.into(),
                description: Some(hostile.into()),
            },
            Error::Authorization {
                code: hostile.into(),
                description: None,
            },
            Error::IssuerMismatch {
                expected: "https://idp.example.com".into(),
                found: hostile.into(),
            },
            Error::InvalidIdToken(hostile.into()),
            Error::InvalidUserinfo(hostile.into()),
            Error::SessionExpired(hostile.into()),
            Error::Storage(hostile.into()),
        ];
        for error in errors {
            let shown = error.to_string();
            assert!(
                !shown.chars().any(crate::text::is_unprintable),
                "{error:?} is shown as {shown:?}"
            );
            assert!(
                shown.contains("x\u{FFFD}]52;c;ZXZpbA==\u{FFFD}\u{FFFD}[2J"),
                "{shown:?}"
            );
            assert!(
                !error
                    .kind()
                    .as_str()
                    .chars()
                    .any(crate::text::is_unprintable),
                "{:?}",
                error.kind()
            );
        }
    }
}
