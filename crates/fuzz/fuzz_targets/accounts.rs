//! The stored list of accounts (the `accounts` entry). No panic; parse → serialise → parse is stable;
//! every account it names has a slot name of letters, digits and `-` only (an id never carries a
//! path or a separator into an entry's name).
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::accounts;

fuzz_target!(|bytes: &[u8]| {
    let Some((once, slots)) = accounts(bytes) else {
        return;
    };
    let (again, _) = accounts(&once).expect("the list serialised parses again");
    assert_eq!(again, once, "stable");
    for slot in slots {
        assert!(
            slot.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "slot {slot:?}"
        );
    }
});
