//! A keystore entry's head item (the value inline, or where its chunks are), as the keystore vault reads
//! it. No panic; decode → encode → decode is stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::keystore_head;

fuzz_target!(|bytes: &[u8]| {
    if let Some(encoded) = keystore_head(bytes) {
        let again = keystore_head(&encoded).expect("an encoded head decodes");
        assert_eq!(again, encoded, "stable");
    }
});
