//! Test helpers shared by the crates' integration tests.
//!
//! - [`Idp`] starts the real local identity provider (`dev/idp`, Node) on a free port and stops it on drop.
//! - [`Browser`] is a cookie-keeping HTTP client that does what a person in a browser does on the
//!   identity provider's pages: fill in the login form (or press Cancel), and submit the auto-submitting
//!   sign-out form. It stops at the first redirect to a non-http scheme (the app's custom scheme).
//!
//! The binary `testkit-browser` wraps [`Browser`] for tests of programs that open a browser command.

mod browser;
mod idp;

pub use browser::{Browser, LoginAction, Outcome};
pub use idp::{Idp, IdpOptions, CLIENT_ID};
