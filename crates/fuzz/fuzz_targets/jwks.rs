//! The provider's key set (`jwks_uri`): parsed, every key asked to verify a signature, and written
//! back. No panic; a key set that parses serialises to one that parses again and serialises the same
//! (parse → serialise → parse is stable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::jwk::KeySet;
use native_oidc::openidconnect::{core::CoreJwsSigningAlgorithm, JsonWebKey};

fuzz_target!(|bytes: &[u8]| {
    let Ok(keys) = serde_json::from_slice::<KeySet>(bytes) else {
        return;
    };
    let message = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9";
    let signature = bytes.get(..256.min(bytes.len())).unwrap_or_default();
    for key in keys.keys() {
        for alg in [
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPssSha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ] {
            if let Err(error) = key.verify_signature(&alg, message, signature) {
                oidc_fuzz::assert_printable(&error.to_string());
            }
        }
    }
    let once = serde_json::to_vec(&keys).expect("a parsed key set serialises");
    let again: KeySet = serde_json::from_slice(&once).expect("and parses again");
    assert_eq!(serde_json::to_vec(&again).unwrap(), once, "stable");
});
