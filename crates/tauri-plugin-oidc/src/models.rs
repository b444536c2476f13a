//! What the plugin's commands and Rust API exchange: states, profiles and API answers, never a token.

use serde::{Deserialize, Serialize};

pub use native_oidc::{Storage, TokenStorage};
pub use tauri_plugin_oidc_core::{
    ApiResponse, AppError, AuthView, Kind, LoginRequest, Notice, Profile,
};

/// What the mobile side is asked to open: the sign-in (or sign-out) page in an authentication session
/// that comes back on `callback_scheme`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSessionRequest {
    /// The page to open.
    pub url: String,
    /// The URL scheme the session ends on (the redirect URI's: `com.okta.example`).
    pub callback_scheme: String,
    /// iOS: no cookies shared with Safari, no "wants to use … to sign in" prompt.
    pub prefers_ephemeral_session: bool,
}

/// How an authentication session ended: the URL it came back with.
#[derive(Debug, Deserialize)]
pub struct AuthSessionResult {
    /// The callback URL (`com.okta.example:/callback?code=…`).
    pub url: String,
}
