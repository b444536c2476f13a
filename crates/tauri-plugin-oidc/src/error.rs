//! The plugin's error: crosses to the webview as `{ kind, message }` (never a token), so a UI can branch
//! on the kind and show the message; a `step_up_required` carries `step_up`, what the API asked for.

use serde::{ser::SerializeStruct, Serialize, Serializer};

/// What a command or a Rust call of the plugin can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The sign-in, the session or the API call failed (kind `access_denied`, `network`,
    /// `session_expired`, `not_configured`, `forbidden_url`, …).
    #[error("{0}")]
    App(#[from] tauri_plugin_oidc_core::AppError),
    /// The plugin is still starting.
    #[error("the sign-in is still starting; try again in a moment")]
    NotReady,
}

impl From<native_oidc::Error> for Error {
    fn from(error: native_oidc::Error) -> Self {
        Error::App(error.into())
    }
}

impl Error {
    /// The stable kind.
    pub fn kind(&self) -> &str {
        match self {
            Error::App(error) => error.kind.as_str(),
            Error::NotReady => "not_ready",
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let step_up = match self {
            Error::App(error) => error.step_up.as_ref(),
            Error::NotReady => None,
        };
        let mut error = serializer.serialize_struct("Error", 3)?;
        error.serialize_field("kind", self.kind())?;
        error.serialize_field("message", &self.to_string())?;
        match step_up {
            Some(step_up) => error.serialize_field("step_up", step_up)?,
            None => error.skip_field("step_up")?,
        }
        error.end()
    }
}

/// Result of the plugin's commands and Rust API.
pub type Result<T> = std::result::Result<T, Error>;
