//! A stored session (the session entry, from the file or the keystore). No panic; parse → serialise →
//! parse is stable; its `Debug`, `Display` and summary never show its tokens or its DPoP key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::Session;
use oidc_fuzz::assert_not_shown;

fuzz_target!(|bytes: &[u8]| {
    let Ok(session) = serde_json::from_slice::<Session>(bytes) else {
        return;
    };
    let once = serde_json::to_vec(&session).expect("a session serialises");
    let again: Session = serde_json::from_slice(&once).expect("and parses again");
    assert_eq!(serde_json::to_vec(&again).unwrap(), once, "stable");

    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
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
    for secret in &secrets {
        assert_not_shown(&shown, secret, &json);
    }
});
