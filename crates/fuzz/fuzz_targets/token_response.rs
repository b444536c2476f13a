//! The token endpoint's answer (code exchange, refresh): read as a success (the ID token's structure
//! included) for a request with and without DPoP, and as an error answer. No panic; errors are
//! printable and never show the answer's tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::{token_error_response, token_response};
use oidc_fuzz::{assert_not_shown, assert_printable};

fuzz_target!(|body: &[u8]| {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let secret = |name: &str| json[name].as_str().unwrap_or_default().to_string();
    for dpop in [false, true] {
        match token_response(body, dpop) {
            Ok(answer) => {
                assert_eq!(answer.access_token, secret("access_token"));
                assert!(!format!("{answer:?}").is_empty());
            }
            Err(error) => {
                let message = error.to_string();
                assert_printable(&message);
                for name in ["access_token", "refresh_token", "id_token"] {
                    assert_not_shown(&message, &secret(name), &json);
                }
            }
        }
    }
    if let Some(error) = token_error_response(body) {
        let message = error.to_string();
        assert_printable(&message);
        assert_printable(error.kind().as_str());
    }
});
