//! DPoP proofs (RFC 9449 §4.3, §7.1): a DPoP-bound access token is accepted only with a fresh proof,
//! signed by the key the token is bound to, for this very request.
//!
//! A proof is checked for: `typ: dpop+jwt`, `alg: ES256`, a public `jwk` in its header (never a private
//! one) that its signature verifies with and whose RFC 7638 thumbprint is the token's `cnf.jkt`; `htm`
//! and `htu` of the request (`htu` against the API's configured public URL, [`crate::PublicUrl`]);
//! `iat` within [`WINDOW`]; `ath`, the SHA-256 of the presented token; and the API's nonce, when it asks
//! for one. Only then is its `jti` recorded, in that key's share of the replay cache
//! ([`crate::replay`]): a proof that fails any check, or comes from another key, never takes room from
//! anyone.

use std::sync::Mutex;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve},
    Algorithm, DecodingKey, Validation,
};
use reqwest::Url;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::replay::{Replay, ReplayCache, PER_KEY};

/// The request header that carries a proof.
pub const DPOP: &str = "dpop";

/// How far a proof's `iat` may be from now, in seconds.
pub const WINDOW: i64 = 60;

/// Why a proof was refused (logged, never sent to the client). Text from the proof appears escaped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    /// The proof is malformed, badly signed, for another request or too old.
    #[error("invalid DPoP proof: {0}")]
    Invalid(String),
    /// The proof is signed by a key other than the one the token is bound to.
    #[error("the DPoP proof's key is not the token's")]
    WrongKey,
    /// The proof's `jti` was seen before (or may have been: see [`crate::replay`]).
    #[error("replayed DPoP proof")]
    Replayed,
    /// The proof lacks the API's current nonce.
    #[error("the DPoP proof lacks the current nonce")]
    NonceNeeded,
}

/// The request a proof must be for.
#[derive(Clone, Copy, Debug)]
pub struct ProofRequest<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The URL the request was addressed to: the API's public URL and the request's path.
    pub url: &'a Url,
    /// The access token presented with the proof.
    pub token: &'a str,
    /// The thumbprint of the key the token is bound to (its `cnf.jkt`).
    pub jkt: &'a str,
    /// The API's current nonce, when it requires one.
    pub nonce: Option<&'a str>,
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

/// Checks proofs, remembering the `jti`s of the last [`WINDOW`] seconds per key.
pub struct Proofs {
    seen: Mutex<ReplayCache>,
}

impl Default for Proofs {
    fn default() -> Self {
        Self::with_capacity(PER_KEY)
    }
}

/// An invalid proof, said in a message with no control characters: the reasons quote the proof's
/// text (serde names an unknown `alg` as it was sent), and logs go to a terminal.
fn invalid(what: impl Into<String>) -> ProofError {
    ProofError::Invalid(
        what.into()
            .chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// The RFC 7638 thumbprint of an EC public key.
pub fn thumbprint(crv: &str, x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl Proofs {
    /// Checks proofs, remembering at most `per_key` `jti`s of each key.
    pub fn with_capacity(per_key: usize) -> Self {
        Self {
            seen: Mutex::new(ReplayCache::new(WINDOW, per_key)),
        }
    }

    /// Checks `proof` for `request` at `now` (epoch seconds), then records its `jti`.
    pub fn check(
        &self,
        proof: &str,
        request: &ProofRequest<'_>,
        now: i64,
    ) -> Result<(), ProofError> {
        let claims = verify(proof, request, now)?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.record(request.jkt, &claims.jti, claims.iat, now)
            .map_err(|_: Replay| ProofError::Replayed)
    }
}

/// Every check of `proof` for `request` but the replay cache's; its claims when it passes.
fn verify(proof: &str, request: &ProofRequest<'_>, now: i64) -> Result<Claims, ProofError> {
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
    if thumbprint("P-256", &ec.x, &ec.y) != request.jkt {
        return Err(ProofError::WrongKey);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| invalid(e.to_string()))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|e| invalid(e.to_string()))?
        .claims;
    if !claims.htm.eq_ignore_ascii_case(request.method) {
        return Err(invalid(format!(
            "htm {:?} is not {}",
            claims.htm, request.method
        )));
    }
    // Compared as URLs (RFC 9449 §4.3: scheme and host in any case, default port or none), without
    // query and fragment.
    let htu = Url::parse(&claims.htu).map(|mut htu| {
        htu.set_query(None);
        htu.set_fragment(None);
        htu
    });
    if htu.as_ref() != Ok(request.url) {
        return Err(invalid(format!(
            "htu {:?} is not {}",
            claims.htu, request.url
        )));
    }
    if claims.iat.abs_diff(now) > WINDOW.unsigned_abs() {
        return Err(invalid("iat is outside the window"));
    }
    let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(request.token.as_bytes()));
    if claims.ath.as_deref() != Some(ath.as_str()) {
        return Err(invalid("ath is not the presented token's hash"));
    }
    if let Some(expected) = request.nonce {
        if claims.nonce.as_deref() != Some(expected) {
            return Err(ProofError::NonceNeeded);
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_proof_is_reported_without_control_characters() {
        // Found by the fuzz target `dpop_proof`: an unknown `alg` was quoted raw in the message.
        let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"dpop+jwt","alg":"\u001b]52;c;eA==\u0007"}"#);
        let proof = format!("{header}.e30.c2ln");
        let url = Url::parse("https://api.example.com/api/messages").unwrap();
        let request = ProofRequest {
            method: "GET",
            url: &url,
            token: "token",
            jkt: "jkt",
            nonce: None,
        };
        let error = Proofs::default().check(&proof, &request, 0).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("unknown variant"), "{message}");
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
}
