//! ID tokens from the token endpoint, validated against a fixed provider and its key (the seeds are
//! signed with it). No panic; a token that passes is for this issuer, this client and this nonce;
//! errors are printable and never show the token's signature.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::IdTokens;
use oidc_fuzz::{
    assert_printable, token_looking, ACCESS_TOKEN, CLIENT_ID, DISCOVERY, ISSUER, KEY1_JWK, NONCE,
};

fn validator() -> &'static IdTokens {
    static VALIDATOR: OnceLock<IdTokens> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let jwks = format!(r#"{{"keys":[{KEY1_JWK}]}}"#);
        IdTokens::new(DISCOVERY.as_bytes(), jwks.as_bytes(), CLIENT_ID).expect("the provider")
    })
}

fuzz_target!(|token: &str| {
    match validator().validate(token, NONCE, Some(ACCESS_TOKEN)) {
        Ok(claims) => {
            assert_eq!(claims.issuer().as_str(), ISSUER);
            assert!(claims.audiences().iter().any(|a| a.as_str() == CLIENT_ID));
            assert_eq!(claims.nonce().map(|n| n.secret().as_str()), Some(NONCE));
        }
        Err(error) => {
            let message = error.to_string();
            assert_printable(&message);
            if let Some(signature) = token.rsplit('.').next() {
                if token_looking(signature) && token.matches(signature).count() == 1 {
                    assert!(!message.contains(signature), "{message:?}");
                }
            }
        }
    }
});
