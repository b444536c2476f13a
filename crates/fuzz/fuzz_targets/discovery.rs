//! The provider's discovery document (`/.well-known/openid-configuration`), read and checked as the
//! engine does for its issuer. No panic; errors are printable; a document that passes names the
//! issuer asked for, and every endpoint in it is https or http on loopback (codes, tokens and the
//! user's browser go there).
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::discovery;
use oidc_fuzz::{assert_printable, ISSUER};

fuzz_target!(|body: &[u8]| {
    match discovery(body, ISSUER) {
        Ok(endpoints) => {
            assert!(
                !endpoints.is_empty(),
                "no authorization endpoint or key set"
            );
            for url in endpoints {
                let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
                assert!(
                    url.scheme() == "https" || (url.scheme() == "http" && loopback),
                    "{url}"
                );
            }
        }
        Err(error) => assert_printable(&error.to_string()),
    }
});
