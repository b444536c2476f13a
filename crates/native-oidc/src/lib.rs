//! # native-oidc
//!
//! OpenID Connect sign-in for native apps, the way RFC 8252 (OAuth 2.0 for Native Apps), RFC 9700
//! (OAuth 2.0 Security Best Current Practice) and OpenID Connect Core require: the system browser,
//! authorization code + PKCE (S256), `state` and `nonce`, RFC 9207 `iss` checking, full ID token
//! validation, userinfo, refresh-token rotation that never loses a token, revocation and
//! RP-initiated logout. Built on [`openidconnect`] and [`reqwest`]; no Tauri, no UI.
//!
//! ## The flow
//!
//! ```no_run
//! use native_oidc::{
//!     Auth, Config, OidcClient, PendingAuthorizations, SignInOptions, StoreOptions, TokenStorage,
//! };
//!
//! # async fn run() -> Result<(), native_oidc::Error> {
//! // 1. Configure: the values of the Okta app integration (a "Native Application").
//! let config = Config::new(
//!     "https://dev-123456.okta.com/oauth2/default",
//!     "0oa1bcdefghIJKLMN357",
//!     "com.okta.example:/callback",
//! )?
//! .with_post_logout_redirect_uri("com.okta.example:/logout")?;
//! // Tokens go to the OS keystore (feature `keystore`), or to a file only the user can read where
//! // there is none.
//! let store = StoreOptions {
//!     storage: TokenStorage::Auto,
//!     file: "session.json".into(),
//!     service: "com.okta.example".into(),
//!     account_prefix: String::new(),
//! }
//! .open()
//! .await?;
//! let auth = Auth::new(OidcClient::new(config)?, store);
//!
//! // 2. At start-up, restore a stored session (no network).
//! if let Some(session) = auth.restore().await? {
//!     println!("welcome back, {:?}", session.name);
//! }
//!
//! // 3. Sign in: open the URL in the system browser, keep the pending authorization
//! //    (persist it if the OS may kill the app meanwhile).
//! let request = auth.begin_sign_in(SignInOptions::default()).await?;
//! println!("open {}", request.url);
//! let mut pending = PendingAuthorizations::new();
//! pending.insert(request.pending);
//! auth.store().save_pending(&pending).await?;
//!
//! // 4. The browser comes back to com.okta.example:/callback?code=…&state=…&iss=…
//! let callback = "com.okta.example:/callback?code=…&state=…&iss=…";
//! let session = auth.complete_sign_in(callback, &mut pending).await?;
//! println!("signed in as {:?} <{:?}>", session.name, session.email);
//!
//! // 5. Call an API: the token is refreshed when needed, and once more on a 401.
//! let url = url::Url::parse("https://api.example.com/messages").expect("a URL");
//! let request = auth.request(reqwest::Method::GET, url)?;
//! let response = auth.send(request).await?;
//! println!("API answered {}", response.status());
//!
//! // 6. Sign out: local session gone at once; revoke; open the end-session URL.
//! let sign_out = auth.sign_out().await?;
//! if let Some(end_session) = sign_out.end_session {
//!     println!("open {}", end_session.url);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Other ways in
//!
//! - **No browser on this machine** (a terminal over SSH): the Device Authorization Grant, RFC 8628.
//!   [`OidcClient::begin_device_sign_in`] gives the page and code to show ([`DeviceAuthorization`]);
//!   [`Auth::finish_device_sign_in`] polls until the user has signed in on another device.
//! - **Sign in once for all of a vendor's apps** (Native SSO, as Okta does it): configure an SSO group
//!   ([`Config::with_sso_group`]) and give [`Auth::with_sso_share`] the group's [`SsoShare`]. A sign-in
//!   leaves its device secret there; another app of the group signs in with it, no browser
//!   ([`Auth::sign_in_with_sso`]); [`Auth::end_shared_sign_in`] revokes it for all.
//!
//! ## Several accounts
//!
//! [`Accounts`] keeps each account (issuer, client id, subject: [`AccountId`]) in a slot of the store
//! with its own lock, one of them the default. Build the `Auth` on the default account's slot and
//! [`Auth::with_accounts`]: every sign-in is kept as its account (signing in again as one updates
//! it), sign-out forgets the account signed out, [`Auth::switch_to`] changes the one in memory. Ask
//! for another account with `prompt=login` ([`SignInOptions::prompt`]), so the browser's session of
//! the first one is not handed back.
//!
//! Errors are one [`Error`] enum whose [`Error::kind`] is a stable snake_case name (`access_denied`,
//! `state_mismatch`, `session_expired`, `network`, …). No error message, `Debug` output or log line
//! contains a token.

mod accounts;
mod asked;
mod auth;
mod callback;
mod challenge;
mod client;
mod config;
mod device;
pub mod dpop;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod id_token;
pub mod jwk;
mod par;
mod pending;
mod provider;
mod session;
mod sso;
mod step_up;
pub mod store;
pub mod text;

pub use accounts::{Account, AccountId, Accounts};
pub use auth::{Auth, SignOut, SignOutTask, DEFAULT_REFRESH_MARGIN, DEFAULT_SAVE_PATIENCE};
pub use callback::{is_redirect_to, Callback, IntoCallback};
pub use client::{EndSessionRequest, OidcClient, RefreshAnswer};
pub use config::{
    is_https_or_loopback, Config, ConfigSource, Par, Setting, DEFAULT_SCOPES, DEFAULT_SSO_AUDIENCE,
    ENV_VARS,
};
/// The settings every program built on this crate reads, by name in a config file and in the environment.
pub mod settings {
    pub use crate::config::{
        given, CLIENT_ID, DPOP, ISSUER, LOGOUT_REDIRECT_URI, PAR, REDIRECT_URI, SCOPES,
        SSO_AUDIENCE, SSO_GROUP,
    };
}
pub use device::DeviceAuthorization;
pub use dpop::DpopKey;
pub use error::{Error, ErrorKind, Result};
pub use http::HttpClient;
pub use id_token::{Hashed, IdTokenValidator, NonceRule, DEFAULT_CLOCK_LEEWAY, DEFAULT_IAT_LEEWAY};
pub use pending::{
    AuthorizationRequest, PendingAuthorization, PendingAuthorizations, SignInOptions,
    PENDING_LIFETIME,
};
pub use provider::{ExtraMetadata, Metadata, Provider};
pub use session::{Session, SessionSummary, TokenType};
#[cfg(feature = "fuzzing")]
pub use sso::SharedRead;
pub use sso::{DeviceSecret, SharedSignOut, SsoItem, SsoShare, DEVICE_SSO_SCOPE, MAX_SHARED};
pub use step_up::StepUp;
#[cfg(feature = "keystore")]
pub use store::KeystoreVault;
pub use store::{
    FileVault, MemoryVault, SessionStore, Storage, StoreLock, StoreOptions, TokenStorage, Vault,
};

/// Protocol types re-exported from `openidconnect`.
pub use openidconnect::{self, AccessToken, ClientId, IssuerUrl, Nonce, RefreshToken};
