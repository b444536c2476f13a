//! An API's or authorization server's `WWW-Authenticate` challenges and `DPoP-Nonce` header: the input's
//! first line is the nonce, every other line a challenge. No panic; the remembered nonce is the header's
//! text exactly; a challenge of another scheme never asks for a new token; a step-up (RFC 9470) is
//! read only from a challenge that names `insufficient_user_authentication`, and its levels are words.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use native_oidc::dpop::{asks_for_nonce, Nonces, DPOP_NONCE};
use native_oidc::fuzzing::asks_for_a_new_token;

fuzz_target!(|input: &[u8]| {
    let mut lines = input.split(|b| *b == b'\n');
    let mut headers = HeaderMap::new();
    let nonce = lines
        .next()
        .and_then(|line| HeaderValue::from_bytes(line).ok());
    if let Some(nonce) = &nonce {
        headers.insert(DPOP_NONCE, nonce.clone());
    }
    for line in lines {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(http::header::WWW_AUTHENTICATE, value);
        }
    }
    for scheme in ["Bearer", "DPoP"] {
        let asks = asks_for_a_new_token(&headers, scheme);
        let of_scheme = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                // The scheme as a word of the header (a header may hold several challenges).
                v.split([',', ' ', '\t'])
                    .any(|word| word.eq_ignore_ascii_case(scheme))
            });
        assert!(
            !asks || of_scheme,
            "{scheme}: asked by another scheme's challenge"
        );
    }
    for status in [400, 401] {
        asks_for_nonce(status, &headers, input);
    }
    if let Some(step_up) = native_oidc::StepUp::from_headers(&headers) {
        let named = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("insufficient_user_authentication"));
        assert!(
            named,
            "a step-up read from a challenge that does not ask for one"
        );
        for acr in &step_up.acr_values {
            assert!(
                !acr.is_empty() && !acr.contains(char::is_whitespace),
                "{acr:?}"
            );
        }
    }
    let url = url::Url::parse("https://api.example.com/api/messages").unwrap();
    let nonces = Nonces::default();
    nonces.remember(&url, &headers);
    let text = nonce
        .as_ref()
        .and_then(|n| n.to_str().ok())
        .map(str::to_string);
    assert_eq!(nonces.get(&url), text, "the nonce as sent");
});
