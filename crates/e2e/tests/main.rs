//! End-to-end tests, run by `make test` (they are `#[ignore]`d for a plain `cargo test`), those with a
//! window under Xvfb and a private D-Bus session, each through its own make target (the crate's
//! README lists them):
//!
//! - [`idp_pages`]: each page of the identity provider that ends in a redirect to a native app, in a
//!   real Chromium that follows the redirect and hands it to the OS URL handler itself;
//! - [`app`]: the built app in a real webview (tauri-driver → WebKitWebDriver) signing in through that
//!   Chromium, the hand-offs done by the browser and the OS, never by the test;
//! - [`scaffolded`]: the app `create-tauri-app` makes, with the plugin README's steps, signing in the
//!   same way;
//! - [`package`]: the `.deb` of `make bundle`, and [`installed`]: the app it installs, signing in
//!   through the package's `.desktop` file.
//!
//! Screenshots and logs go to `target/e2e/`.

mod app;
mod idp_pages;
mod installed;
mod package;
mod scaffolded;
mod support;
