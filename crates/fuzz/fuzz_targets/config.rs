//! The config file (`okta.json`, `signin --config`): read, then validated into a configuration, by the
//! engine and by the app (which adds `apiBaseUrl`, `tokenStorage`, `allowInsecureLoopback`). No panic;
//! a configuration that validates has an https (or loopback http) issuer and asks for `openid`; the
//! app's, as a release build reads it, sends tokens over https only; errors are printable.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use native_oidc::{is_https_or_loopback, ConfigSource};
use tauri_plugin_oidc_core::{AppConfig, Build};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    app(text);
    let Ok(source) = serde_json::from_str::<ConfigSource>(text) else {
        return;
    };
    match source.build() {
        Ok(config) => {
            assert!(is_https_or_loopback(config.issuer().url()));
            assert!(config.scopes().iter().any(|s| s.as_str() == "openid"));
        }
        Err(error) => oidc_fuzz::assert_printable(&error.to_string()),
    }
});

/// The app's loader, given the text as its built-in defaults (parsed and merged exactly as the config
/// file is) with no config file and no environment: no panic, https only in a release build.
fn app(text: &str) {
    let no_file = Path::new("/nonexistent/okta.json");
    match AppConfig::load_with(text, no_file, Build::Release, |_| None) {
        Ok(config) => {
            assert_eq!(config.oidc.issuer().url().scheme(), "https");
            let api = config.api_base_url.expect("a release build needs an API");
            assert_eq!(api.scheme(), "https");
        }
        Err(not_configured) => oidc_fuzz::assert_printable(&not_configured.message),
    }
}
