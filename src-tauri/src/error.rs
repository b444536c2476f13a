//! The commands' error: serialised to the frontend as its message (never a token).

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
        serializer.serialize_str(&self.to_string())
    }
}

/// Result of a command.
pub type Result<T> = std::result::Result<T, Error>;
