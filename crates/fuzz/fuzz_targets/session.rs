//! A stored session (the session entry, from the file or the keystore). No panic; parse → serialise →
//! parse is stable; every field is written back (those a later version added too); its `Debug`,
//! `Display` and summary never show its tokens, its DPoP key or what a later version stored.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::Session;
use oidc_fuzz::{assert_fields_kept, assert_not_shown, later_strings};

/// The fields this version stores.
const KNOWN: &[&str] = &[
    "issuer",
    "client_id",
    "subject",
    "access_token",
    "issued_at",
    "expires_at",
    "refresh_token",
    "id_token",
    "nonce",
    "post_logout_redirect_uri",
    "scopes",
    "claims",
    "profile",
    "dpop_key",
    "shared_secret",
    "unshared",
    "sso_group",
];

fuzz_target!(|bytes: &[u8]| {
    let Ok(session) = serde_json::from_slice::<Session>(bytes) else {
        return;
    };
    let once = serde_json::to_vec(&session).expect("a session serialises");
    let again: Session = serde_json::from_slice(&once).expect("and parses again");
    assert_eq!(serde_json::to_vec(&again).unwrap(), once, "stable");

    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    assert_fields_kept(&json, &serde_json::from_slice(&once).unwrap());
    let shown = format!(
        "{session:?} {session} {}",
        serde_json::to_string(&session.summary()).unwrap()
    );
    let mut secrets = vec![session.access_token().secret().clone()];
    secrets.extend(session.refresh_token().map(|t| t.secret().clone()));
    secrets.extend(json["dpop_key"]["d"].as_str().map(str::to_string));
    secrets.extend(
        json["unshared"]["device_secret"]
            .as_str()
            .map(str::to_string),
    );
    secrets.extend(later_strings(&json, KNOWN));
    for secret in &secrets {
        assert_not_shown(&shown, secret, &json);
    }
});
