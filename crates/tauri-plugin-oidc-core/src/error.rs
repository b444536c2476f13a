//! The one error type the UI sees, as a notice in a state or as a command's error: `{ kind, message }`,
//! a stable kind to branch on and a sentence for a person. Never a token.

use native_oidc::{Error, ErrorKind, StepUp};
use serde::Serialize;

/// What went wrong: the engine's kinds and the app's own.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// The sign-in engine's kinds (`access_denied`, `network`, `session_expired`, …).
    Engine(ErrorKind),
    /// `forbidden_url`: the UI asked for something outside the configured API.
    ForbiddenUrl,
    /// `browser`: the system browser could not be opened.
    Browser,
    /// `not_configured`: the issuer, client id or API is not configured.
    NotConfigured,
    /// `response_too_large`: the API's answer is larger than the UI may receive.
    ResponseTooLarge,
}

impl Kind {
    /// The stable snake_case name.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Engine(kind) => kind.as_str(),
            Kind::ForbiddenUrl => "forbidden_url",
            Kind::Browser => "browser",
            Kind::NotConfigured => "not_configured",
            Kind::ResponseTooLarge => "response_too_large",
        }
    }
}

impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error for the UI, or a notice in a state: the kind and words a person understands.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The stable kind.
    pub kind: Kind,
    /// Words a person understands.
    pub message: String,
    /// With `step_up_required`: what the API asked for, to hand back to a step-up sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_up: Option<StepUp>,
}

/// A message shown with a state (cancelled, session ended, offline, …).
pub type Notice = AppError;

impl AppError {
    /// An error of this kind with this message.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            step_up: None,
        }
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        Self::from(&error)
    }
}

impl From<&Error> for AppError {
    fn from(error: &Error) -> Self {
        Self {
            kind: Kind::Engine(error.kind()),
            message: describe(error),
            step_up: match error {
                Error::StepUpRequired(step_up) => Some(step_up.clone()),
                _ => None,
            },
        }
    }
}

/// A sentence for a person, per error kind.
pub fn describe(error: &Error) -> String {
    match error.kind() {
        ErrorKind::AccessDenied => "Sign-in was cancelled.".into(),
        ErrorKind::Network => {
            "The sign-in service can't be reached right now. Check your connection and try again."
                .into()
        }
        ErrorKind::SessionExpired => "Your session has ended. Please sign in again.".into(),
        ErrorKind::NotSignedIn => "You are not signed in.".into(),
        ErrorKind::AuthorizationExpired => "The sign-in took too long. Please try again.".into(),
        ErrorKind::StateMismatch => {
            "That sign-in link doesn't belong to a sign-in started here.".into()
        }
        ErrorKind::IssuerMismatch
        | ErrorKind::InvalidIdToken
        | ErrorKind::InvalidUserinfo
        | ErrorKind::Protocol => {
            format!("The sign-in answer could not be trusted ({error}). Please try again.")
        }
        ErrorKind::Config => format!("The app is not configured correctly: {error}"),
        ErrorKind::StepUpRequired => match error {
            Error::StepUpRequired(step_up)
                if step_up.acr_values.iter().any(|acr| acr.contains(":2fa:")) =>
            {
                "This needs a second factor: verify it's you to continue.".into()
            }
            _ => "This needs a more recent sign-in: verify it's you to continue.".into(),
        },
        ErrorKind::DifferentUser => {
            "Another account signed in than the one you use here; you are still signed in as before."
                .into()
        }
        ErrorKind::Storage => format!("The saved session could not be read or written: {error}"),
        _ => format!("Sign-in failed: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_to_the_ui_as_kind_and_message() {
        let error = AppError::from(Error::Authorization {
            code: "access_denied".into(),
            description: None,
        });
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({ "kind": "access_denied", "message": "Sign-in was cancelled." })
        );
        let error = AppError::from(Error::StepUpRequired(StepUp {
            acr_values: vec!["urn:okta:loa:2fa:any".into()],
            max_age: Some(300),
        }));
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({
                "kind": "step_up_required",
                "message": "This needs a second factor: verify it's you to continue.",
                "step_up": { "acr_values": ["urn:okta:loa:2fa:any"], "max_age": 300 },
            })
        );
        let error = AppError::new(Kind::ForbiddenUrl, "no");
        assert_eq!(
            serde_json::to_value(&error).unwrap()["kind"],
            "forbidden_url"
        );
    }
}
