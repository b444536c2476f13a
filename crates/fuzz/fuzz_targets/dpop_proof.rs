//! DPoP proofs as the demo API checks them (`demo_api::dpop::Proofs`), for a token bound to the seeds'
//! key, at the seeds' time. No panic; a proof that passes is accepted once only; errors are printable
//! and never show the access token.
#![no_main]

use demo_api::dpop::{thumbprint, ProofError, ProofRequest, Proofs};
use libfuzzer_sys::fuzz_target;
use oidc_fuzz::{assert_printable, ACCESS_TOKEN, API_URL, DPOP_X, DPOP_Y, NOW};

fuzz_target!(|proof: &str| {
    let url = url::Url::parse(API_URL).unwrap();
    let jkt = thumbprint("P-256", DPOP_X, DPOP_Y);
    let proofs = Proofs::with_capacity(4);
    for nonce in [None, Some("api-nonce-1")] {
        let request = ProofRequest {
            method: "GET",
            url: &url,
            token: ACCESS_TOKEN,
            jkt: &jkt,
            nonce,
        };
        match proofs.check(proof, &request, NOW) {
            Ok(()) => assert_eq!(
                proofs.check(proof, &request, NOW),
                Err(ProofError::Replayed),
                "a proof is good once"
            ),
            Err(error) => {
                let message = error.to_string();
                assert_printable(&message);
                assert!(!message.contains(ACCESS_TOKEN), "{message:?}");
            }
        }
    }
});
