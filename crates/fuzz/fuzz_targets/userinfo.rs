//! The userinfo answer (JSON), read as the engine does for the session's user. No panic; errors are
//! printable; an answer that passes is about the session's user, and only one about another user is
//! `invalid_userinfo` (which ends the session: anything else keeps it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::{fuzzing::userinfo, ErrorKind};
use oidc_fuzz::assert_printable;

/// The session's user.
const SUBJECT: &str = "00u1demo";

/// The subject the answer names: `sub`, or `sub#` (openidconnect reads a language-tagged claim name
/// with an empty tag as the claim).
fn subjects(json: &serde_json::Value) -> Vec<&str> {
    ["sub", "sub#"]
        .iter()
        .filter_map(|name| json[*name].as_str())
        .collect()
}

fuzz_target!(|body: &[u8]| {
    // The first JSON value, as openidconnect reads it (what follows it is ignored there).
    let json: serde_json::Value = serde_json::Deserializer::from_slice(body)
        .into_iter()
        .next()
        .and_then(Result::ok)
        .unwrap_or_default();
    match userinfo(body, SUBJECT) {
        Ok(_) => assert_eq!(subjects(&json), [SUBJECT], "accepted for {json}"),
        Err(error) => {
            let message = error.to_string();
            assert_printable(&message);
            if error.kind() == ErrorKind::InvalidUserinfo {
                assert!(
                    subjects(&json).iter().any(|sub| *sub != SUBJECT),
                    "invalid_userinfo for {json}: {message}"
                );
            } else {
                assert_eq!(error.kind(), ErrorKind::Protocol, "{message}");
            }
        }
    }
});
