//! The commands' error: crosses to the frontend as `{ kind, message }` (never a token), so the UI can
//! branch on the kind and show the message.

use serde::{Serialize, Serializer};

/// What a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The sign-in engine or the API call failed.
    #[error("{0}")]
    App(#[from] app_core::AppError),
    /// The app is still starting.
    #[error("the app is still starting; try again in a moment")]
    NotReady,
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Error::App(error) => error.serialize(serializer),
            Error::NotReady => {
                use serde::ser::SerializeStruct;
                let mut error = serializer.serialize_struct("Error", 2)?;
                error.serialize_field("kind", "not_ready")?;
                error.serialize_field("message", &self.to_string())?;
                error.end()
            }
        }
    }
}

/// Result of a command.
pub type Result<T> = std::result::Result<T, Error>;
