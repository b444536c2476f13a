//! The stored sign-ins in progress (the pending entry). No panic; parse → serialise → parse is stable;
//! their `Debug` never shows a PKCE verifier or a DPoP key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::PendingAuthorizations;
use oidc_fuzz::assert_not_shown;

fuzz_target!(|bytes: &[u8]| {
    let Ok(pending) = serde_json::from_slice::<PendingAuthorizations>(bytes) else {
        return;
    };
    let once = serde_json::to_vec(&pending).expect("pending sign-ins serialise");
    let again: PendingAuthorizations = serde_json::from_slice(&once).expect("and parse again");
    assert_eq!(serde_json::to_vec(&again).unwrap(), once, "stable");

    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let shown = format!("{pending:?}");
    for item in json["items"].as_array().into_iter().flatten() {
        for secret in [&item["pkce_verifier"], &item["dpop_key"]["d"]] {
            assert_not_shown(&shown, secret.as_str().unwrap_or_default(), &json);
        }
    }
});
