//! `tauri-plugin-oidc-core`: the Tauri-free core of `tauri-plugin-oidc`, everything the plugin does
//! behind a [`Platform`] trait, so it is tested without a webview.
//!
//! - [`AppConfig`]: the engine's settings plus `apiBaseUrl`, from the app's bundled defaults, a config
//!   file and environment variables.
//! - [`links`]: which deep link is which (`/callback`, `/logout`, `/login`, or something to ignore).
//! - [`store`]: the vault the tokens live in (OS keystore or a private file), and the move out of the
//!   plaintext store file of an earlier version.
//! - [`StorageProblem`]: a store that cannot be opened, in words a user can act on, and what starting
//!   over sets aside.
//! - [`Controller`]: restore at start-up, sign in through the system browser (with the options of a
//!   [`SignInRequest`], or as a step-up an API asked for), complete from a deep link, call the API with
//!   the bearer token, sign out; every change is reported as an [`AuthView`], which never contains a
//!   token.

mod api;
mod config;
mod controller;
mod error;
pub mod links;
mod problem;
mod request;
pub mod store;
mod view;

pub use api::{ApiResponse, ApiTarget};
pub use config::{config_file, AppConfig, Build, NotConfigured, CONFIG_ENV, RELEASE_DEFAULTS};
pub use controller::{Controller, LinkOutcome, Platform};
pub use error::{describe, AppError, Kind, Notice};
pub use problem::{ProblemKind, StorageProblem};
pub use request::SignInRequest;
pub use store::AppStore;
pub use view::{AuthView, LoginRequest, Profile};
