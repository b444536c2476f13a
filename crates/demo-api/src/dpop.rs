//! DPoP proofs (RFC 9449 §4.3, §7.1): a DPoP-bound access token is accepted only with a fresh proof,
//! signed by the key the token is bound to, for this very request.
//!
//! A proof is checked for: `typ: dpop+jwt`, `alg: ES256`, a public `jwk` in its header (never a private
//! one) that its signature verifies with; `htm` and `htu` of the request; `iat` within [`WINDOW`]; `ath`,
//! the SHA-256 of the presented token; a `jti` not seen before (a bounded replay cache); and the API's
//! nonce, when it asks for one. The token's `cnf.jkt` must be the RFC 7638 thumbprint of that key.

use std::{collections::HashMap, sync::Mutex};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve},
    Algorithm, DecodingKey, Validation,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// How far a proof's `iat` may be from now, in seconds.
pub const WINDOW: i64 = 60;
/// How many `jti`s the replay cache holds at most.
pub const REPLAY_CACHE: usize = 100_000;

/// Why a proof was refused (logged, never sent to the client).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// The proof is malformed, badly signed, for another request or too old.
    #[error("invalid DPoP proof: {0}")]
    Invalid(String),
    /// The proof's `jti` was seen before.
    #[error("replayed DPoP proof")]
    Replayed,
    /// The proof lacks the API's current nonce.
    #[error("the DPoP proof lacks the current nonce")]
    NonceNeeded,
}

#[derive(Deserialize)]
struct Claims {
    htm: String,
    htu: String,
    iat: i64,
    jti: String,
    ath: Option<String>,
    nonce: Option<String>,
}

/// Checks proofs, remembering the `jti`s of the last [`WINDOW`] seconds.
#[derive(Default)]
pub struct Proofs {
    seen: Mutex<HashMap<String, i64>>,
}

fn invalid(what: impl Into<String>) -> ProofError {
    ProofError::Invalid(what.into())
}

/// The RFC 7638 thumbprint of an EC public key.
pub fn thumbprint(crv: &str, x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl Proofs {
    /// Checks `proof` for a request `method` `url` (scheme, host and path: no query) carrying `token`,
    /// at `now` (epoch seconds), against `nonce` when the API requires one. Returns the thumbprint of
    /// the proof's key.
    pub fn check(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        token: &str,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<String, ProofError> {
        let header = jsonwebtoken::decode_header(proof).map_err(|e| invalid(e.to_string()))?;
        if header.typ.as_deref() != Some("dpop+jwt") {
            return Err(invalid("typ is not dpop+jwt"));
        }
        if header.alg != Algorithm::ES256 {
            return Err(invalid(format!("algorithm {:?} is not ES256", header.alg)));
        }
        let jwk = header.jwk.ok_or_else(|| invalid("no jwk in the header"))?;
        let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else {
            return Err(invalid("the jwk is not an EC key"));
        };
        if ec.curve != EllipticCurve::P256 {
            return Err(invalid("the jwk is not a P-256 key"));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(e.to_string()))?;
        // A private key in the header is refused: jsonwebtoken's EC parameters have no `d`, so look.
        let raw_header = proof.split('.').next().unwrap_or_default();
        let raw: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(raw_header)
                .map_err(|e| invalid(e.to_string()))?,
        )
        .map_err(|e| invalid(e.to_string()))?;
        if raw["jwk"].get("d").is_some() {
            return Err(invalid("the jwk holds a private key"));
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
            .map_err(|e| invalid(e.to_string()))?
            .claims;
        if !claims.htm.eq_ignore_ascii_case(method) {
            return Err(invalid(format!("htm {} is not {method}", claims.htm)));
        }
        let htu = claims.htu.split(['?', '#']).next().unwrap_or_default();
        if htu != url {
            return Err(invalid(format!("htu {htu} is not {url}")));
        }
        if (claims.iat - now).abs() > WINDOW {
            return Err(invalid("iat is outside the window"));
        }
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        if claims.ath.as_deref() != Some(ath.as_str()) {
            return Err(invalid("ath is not the presented token's hash"));
        }
        if let Some(expected) = nonce {
            if claims.nonce.as_deref() != Some(expected) {
                return Err(ProofError::NonceNeeded);
            }
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, iat| (*iat - now).abs() <= WINDOW);
        if seen.len() >= REPLAY_CACHE {
            return Err(invalid("too many proofs at once"));
        }
        if seen.insert(claims.jti, claims.iat).is_some() {
            return Err(ProofError::Replayed);
        }
        Ok(thumbprint("P-256", &ec.x, &ec.y))
    }
}
