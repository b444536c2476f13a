//! The Native SSO share (the one item the vendor's apps all read and write: outside input to each).
//! No panic (an item's ID token is read unchecked for whom to revoke its secret as); parse → serialise →
//! parse is stable, and keeps every field of the share and of its sign-ins and retired secrets (those a
//! later version added too); an item that names the client its secret was issued to is revoked as that client;
//! and no device secret is shown by an item's `Debug`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::sso_share;
use oidc_fuzz::{assert_fields_kept, assert_not_shown};

fuzz_target!(|bytes: &[u8]| {
    let Some(read) = sso_share(bytes) else {
        return;
    };
    let again = sso_share(&read.serialised).expect("the share serialised parses again");
    assert_eq!(again.serialised, read.serialised, "stable");
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let written: serde_json::Value = serde_json::from_slice(&read.serialised).unwrap();
    assert_fields_kept(&json, &written);
    for list in ["items", "retired"] {
        let empty = Vec::new();
        let (before, after) = (
            json[list].as_array().unwrap_or(&empty),
            written[list].as_array().unwrap_or(&empty),
        );
        for (before, after) in before.iter().zip(after) {
            assert_fields_kept(before, after);
        }
    }
    for (issued_to, revoked_as) in &read.revoked_as {
        if issued_to.is_some() {
            assert_eq!(revoked_as, issued_to, "revoked as another client");
        }
    }
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    for (shown, secret) in read.shown.iter().zip(&read.secrets) {
        assert_not_shown(shown, secret, &json);
    }
});
