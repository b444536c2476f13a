//! The userinfo answer (JSON), read as the engine does for the session's user. No panic; errors are
//! printable; an answer that passes is about the session's user, and only one about another user is
//! `invalid_userinfo` (which ends the session: anything else keeps it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::{fuzzing::userinfo, ErrorKind};
use oidc_fuzz::assert_printable;

/// The session's user.
const SUBJECT: &str = "00u1demo";

fuzz_target!(|body: &[u8]| {
    match userinfo(body, SUBJECT) {
        Ok(profile) => assert_eq!(profile["sub"], SUBJECT),
        Err(error) => {
            let message = error.to_string();
            assert_printable(&message);
            // The first JSON value, as openidconnect reads it (what follows it is ignored there).
            let json: serde_json::Value = serde_json::Deserializer::from_slice(body)
                .into_iter()
                .next()
                .and_then(Result::ok)
                .unwrap_or_default();
            if error.kind() == ErrorKind::InvalidUserinfo {
                // (openidconnect reads `sub#…`, a language-tagged name, as `sub` too.)
                let another_subject = json.as_object().is_some_and(|fields| {
                    fields.iter().any(|(name, value)| {
                        name.starts_with("sub") && value.as_str().is_some_and(|sub| sub != SUBJECT)
                    })
                });
                assert!(another_subject, "invalid_userinfo for {json}: {message}");
            } else {
                assert_eq!(error.kind(), ErrorKind::Protocol, "{message}");
            }
        }
    }
});
