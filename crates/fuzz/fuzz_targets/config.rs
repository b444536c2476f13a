//! The config file (`okta.json`, `signin --config`): read, then validated into a configuration. No
//! panic; a configuration that validates has an https (or loopback http) issuer and asks for `openid`;
//! errors are printable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::{is_https_or_loopback, ConfigSource};

fuzz_target!(|bytes: &[u8]| {
    let Ok(source) = serde_json::from_slice::<ConfigSource>(bytes) else {
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
