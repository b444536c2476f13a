//! The device authorization answer (RFC 8628 §3.2): read and checked as a device sign-in does. No
//! panic; errors are printable and never show the device code; an accepted interval leaves room for
//! every `slow_down` the code's lifetime allows (oauth2 adds 5 s per `slow_down`).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::device_authorization;
use oidc_fuzz::{assert_not_shown, assert_printable};

fuzz_target!(|body: &[u8]| {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match device_authorization(body) {
        Ok((url, interval, expires_in)) => {
            assert!(matches!(url.scheme(), "https" | "http"), "{url}");
            assert!(interval <= expires_in, "{interval:?} > {expires_in:?}");
            // One slow_down a second for as long as the code lives never overflows.
            let slow_downs = u32::try_from(expires_in.as_secs()).unwrap_or(u32::MAX);
            assert!(Duration::from_secs(5)
                .checked_mul(slow_downs)
                .and_then(|added| interval.checked_add(added))
                .is_some());
        }
        Err(error) => {
            let message = error.to_string();
            assert_printable(&message);
            let device_code = json["device_code"].as_str().unwrap_or_default();
            assert_not_shown(&message, device_code, &json);
        }
    }
});
