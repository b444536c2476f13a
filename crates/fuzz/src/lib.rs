//! What the fuzz targets share: the fixed values their seeds were made with (`make-seeds.mjs`), and
//! the properties several of them check.

use serde_json::Value;

/// The issuer the ID token target trusts.
pub const ISSUER: &str = "https://idp.example.com/oauth2/default";
/// The client the ID token target validates for.
pub const CLIENT_ID: &str = "0oa1localnative0001";
/// The nonce of the sign-in the ID tokens answer.
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The access token the ID tokens' `at_hash` and the DPoP proofs' `ath` are for.
pub const ACCESS_TOKEN: &str =
    "eyJraWQiOiJrZXkxIn0.eyJzdWIiOiIwMHUxIiwiY2lkIjoiMG9hMSJ9.YWNjZXNzLXRva2VuLXNpZ25hdHVyZQ";
/// The URL the DPoP proofs are for.
pub const API_URL: &str = "https://api.example.com/api/messages";
/// The time the DPoP proofs are checked at (their `iat`).
pub const NOW: i64 = 1_800_000_000;
/// The public DPoP test key of the seeds (x, y).
pub const DPOP_X: &str = "crI-A-U3W0I5rxtbs-gKByhKIhNKpBUvH9Qm4y7k80c";
/// See [`DPOP_X`].
pub const DPOP_Y: &str = "yZAxAGstSvSrJOamRlZ5dm3W4EoszvW_aHpXx-XDioQ";

/// The ID token target's provider: a discovery document as Okta's.
pub const DISCOVERY: &str = r#"{
  "issuer": "https://idp.example.com/oauth2/default",
  "authorization_endpoint": "https://idp.example.com/oauth2/default/v1/authorize",
  "token_endpoint": "https://idp.example.com/oauth2/default/v1/token",
  "userinfo_endpoint": "https://idp.example.com/oauth2/default/v1/userinfo",
  "jwks_uri": "https://idp.example.com/oauth2/default/v1/keys",
  "response_types_supported": ["code"],
  "subject_types_supported": ["public"],
  "id_token_signing_alg_values_supported": ["RS256"]
}"#;

/// The public key the ID tokens of the seeds are signed with (native-oidc's test key 1).
pub const KEY1_JWK: &str = include_str!("../../native-oidc/tests/fixtures/key1.jwk.json");

/// Panics when `message` (an error shown to a user or a log) holds a control character.
pub fn assert_printable(message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "a control character in the message {message:?}"
    );
}

/// True for a text that looks like a token, a code or a key: 16 characters or more of the base64url
/// alphabet, `.` and `~`.
pub fn token_looking(text: &str) -> bool {
    text.len() >= 16
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
}

/// Panics when `shown` contains `secret`, a [`token_looking`] value that the input holds in no other
/// place (if it does, the other place may legitimately be shown).
pub fn assert_not_shown(shown: &str, secret: &str, input: &Value) {
    if token_looking(secret) && places(input, secret) == 1 {
        assert!(
            !shown.contains(secret),
            "{shown:?} shows the secret {secret:?}"
        );
    }
}

/// How many strings of `value` (keys included) contain `text`.
pub fn places(value: &Value, text: &str) -> usize {
    match value {
        Value::String(s) => usize::from(s.contains(text)),
        Value::Array(items) => items.iter().map(|v| places(v, text)).sum(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| usize::from(k.contains(text)) + places(v, text))
            .sum(),
        _ => 0,
    }
}

/// Panics when a field of the JSON object `input` (a stored record) is missing from `output` (the
/// record parsed and serialised again), unless it is null or an empty list (written as absent):
/// fields a later version wrote are kept. Only `input`'s own fields: a value inside may be written
/// in its canonical form.
pub fn assert_fields_kept(input: &Value, output: &Value) {
    let Some(fields) = input.as_object() else {
        return;
    };
    for (name, value) in fields {
        let absent_allowed = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
        assert!(
            absent_allowed || output.get(name).is_some(),
            "the field {name:?} was dropped"
        );
    }
}

/// Every string inside the fields of the JSON object `input` that are not among `known`: what a later
/// version may have stored there.
pub fn later_strings(input: &Value, known: &[&str]) -> Vec<String> {
    fn strings(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::String(s) => into.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| strings(v, into)),
            Value::Object(map) => map.values().for_each(|v| strings(v, into)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (name, value) in input.as_object().into_iter().flatten() {
        if !known.contains(&name.as_str()) {
            strings(value, &mut found);
        }
    }
    found
}
