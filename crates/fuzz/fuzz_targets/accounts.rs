//! The stored list of accounts (the `accounts` entry). No panic; parse → serialise → parse is stable,
//! and keeps every field (those a later version added too);
//! every account it names has a slot name of letters, digits and `-` only (an id never carries a
//! path or a separator into an entry's name).
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::accounts;
use oidc_fuzz::assert_fields_kept;

fuzz_target!(|bytes: &[u8]| {
    let Some((once, slots)) = accounts(bytes) else {
        return;
    };
    let (again, _) = accounts(&once).expect("the list serialised parses again");
    assert_eq!(again, once, "stable");
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    assert_fields_kept(&json, &serde_json::from_slice(&once).unwrap());
    for slot in slots {
        assert!(
            slot.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "slot {slot:?}"
        );
    }
});
