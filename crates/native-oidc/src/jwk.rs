//! The identity provider's signing keys, as `openidconnect` reads them, with RSA signatures checked
//! by `ring`.
//!
//! `openidconnect` checks RSA signatures with the `rsa` crate, whose big-number arithmetic takes about
//! 0.2 ms for one RS256 signature: a large part of a sign-in's client CPU. `ring` (already in the
//! build, under rustls) takes a tenth of that. [`SigningKey`] is `openidconnect`'s own key type with
//! only that step swapped: parsing, key selection (`kid`, `use`, `alg`, key type), the other
//! algorithms (ES256, …) and `at_hash` stay `openidconnect`'s. `ring` accepts RSA keys of 2048 bits
//! or more, as RFC 7518 §3.3 requires for RS256.

use openidconnect::{
    core::{CoreJsonWebKey, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm},
    JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeySet, JsonWebKeyUse,
    SignatureVerificationError,
};
use ring::signature::{self, RsaPublicKeyComponents};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The provider's key set.
pub type KeySet = JsonWebKeySet<SigningKey>;

/// One of the provider's keys: `openidconnect`'s [`CoreJsonWebKey`], plus the RSA modulus and
/// exponent for `ring` (read from it, so equality and `Debug` are the JWK's).
#[derive(Clone)]
pub struct SigningKey {
    jwk: CoreJsonWebKey,
    rsa: Option<RsaPublicKeyComponents<Vec<u8>>>,
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.jwk == other.jwk
    }
}

impl Eq for SigningKey {}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.jwk.fmt(f)
    }
}

impl SigningKey {
    /// The key as `openidconnect` reads it.
    pub fn jwk(&self) -> &CoreJsonWebKey {
        &self.jwk
    }
}

impl From<CoreJsonWebKey> for SigningKey {
    fn from(jwk: CoreJsonWebKey) -> Self {
        // The modulus and exponent, read back from the key's own JSON (its fields are private).
        let rsa = (jwk.key_type() == &CoreJsonWebKeyType::RSA)
            .then(|| serde_json::to_value(&jwk).ok())
            .flatten()
            .and_then(|json| {
                // RFC 7518 §6.3.1 wants no leading zero octets; some providers send one anyway,
                // which `ring` would refuse, so it is dropped (the number is the same).
                let part = |name: &str| {
                    let text = json.get(name)?.as_str()?;
                    let bytes = base64::Engine::decode(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                        text,
                    )
                    .ok()?;
                    let zeros = bytes.iter().take_while(|b| **b == 0).count();
                    Some(bytes[zeros..].to_vec())
                };
                Some(RsaPublicKeyComponents {
                    n: part("n")?,
                    e: part("e")?,
                })
            });
        Self { jwk, rsa }
    }
}

impl Serialize for SigningKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.jwk.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SigningKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        CoreJsonWebKey::deserialize(deserializer).map(Self::from)
    }
}

/// `ring`'s parameters for an RSA signature algorithm.
fn ring_rsa(alg: &CoreJwsSigningAlgorithm) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        CoreJwsSigningAlgorithm::RsaSsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        CoreJwsSigningAlgorithm::RsaSsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        CoreJwsSigningAlgorithm::RsaSsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

impl JsonWebKey for SigningKey {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.jwk.key_id()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        self.jwk.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.jwk.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.jwk.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        CoreJsonWebKey::new_symmetric(key).into()
    }

    fn verify_signature(
        &self,
        signature_alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureVerificationError> {
        let Some(params) = ring_rsa(signature_alg) else {
            return self.jwk.verify_signature(signature_alg, message, signature);
        };
        // The checks openidconnect makes before it verifies: a signing key, of type RSA, whose
        // `alg` (if any) is this one.
        let compatible = self.key_use().is_none_or(|use_| use_.allows_signature())
            && self.key_type() == &CoreJsonWebKeyType::RSA
            && match self.signing_alg() {
                JsonWebKeyAlgorithm::Unspecified => true,
                JsonWebKeyAlgorithm::Algorithm(alg) => alg == signature_alg,
                JsonWebKeyAlgorithm::Unsupported => false,
            };
        let Some(rsa) = self.rsa.as_ref().filter(|_| compatible) else {
            return Err(SignatureVerificationError::InvalidKey(
                "not an RSA signing key for this algorithm".to_string(),
            ));
        };
        rsa.verify(params, message, signature).map_err(|_| {
            SignatureVerificationError::CryptoError(
                "bad signature (or an RSA key under 2048 bits)".to_string(),
            )
        })
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        self.jwk.hash_bytes(bytes, alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 appendix A.2: an RS256 JWS, and the key that signed it (2048 bits).
    const JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
    const KEY: &str = r#"{"kty":"RSA","kid":"rfc7515",
        "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
        "e":"AQAB"}"#;

    fn parts() -> (Vec<u8>, Vec<u8>) {
        let (message, signature) = JWS.rsplit_once('.').unwrap();
        let signature =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
                .unwrap();
        (message.as_bytes().to_vec(), signature)
    }

    #[test]
    fn ring_accepts_the_rfc_7515_signature_and_refuses_a_changed_one() {
        let key: SigningKey = serde_json::from_str(KEY).unwrap();
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
        let (message, mut signature) = parts();
        key.verify_signature(&rs256, &message, &signature).unwrap();
        // openidconnect's own check agrees.
        key.jwk()
            .verify_signature(&rs256, &message, &signature)
            .unwrap();

        let mut changed = message.clone();
        changed[10] ^= 1;
        assert!(key.verify_signature(&rs256, &changed, &signature).is_err());
        signature[0] ^= 1;
        assert!(key.verify_signature(&rs256, &message, &signature).is_err());
    }

    #[test]
    fn a_key_is_only_used_for_what_it_says() {
        let (message, signature) = parts();
        let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
        let with = |extra: &str| -> SigningKey {
            serde_json::from_str(&KEY.replacen('{', &format!("{{{extra},"), 1)).unwrap()
        };
        assert!(with(r#""use":"enc""#)
            .verify_signature(&rs256, &message, &signature)
            .is_err());
        assert!(with(r#""alg":"RS512""#)
            .verify_signature(&rs256, &message, &signature)
            .is_err());
        with(r#""use":"sig","alg":"RS256""#)
            .verify_signature(&rs256, &message, &signature)
            .unwrap();
        // Another algorithm family goes to openidconnect, which refuses an RSA key for it.
        assert!(with(r#""use":"sig""#)
            .verify_signature(
                &CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                &message,
                &signature
            )
            .is_err());
    }

    #[test]
    fn a_modulus_with_a_leading_zero_octet_still_verifies() {
        let json: serde_json::Value = serde_json::from_str(KEY).unwrap();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut n = base64::Engine::decode(&b64, json["n"].as_str().unwrap()).unwrap();
        n.insert(0, 0);
        let padded = KEY.replace(
            json["n"].as_str().unwrap(),
            &base64::Engine::encode(&b64, &n),
        );
        let key: SigningKey = serde_json::from_str(&padded).unwrap();
        let (message, signature) = parts();
        key.verify_signature(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            &message,
            &signature,
        )
        .unwrap();
    }

    #[test]
    fn it_serialises_as_the_jwk_it_was_read_from() {
        let key: SigningKey = serde_json::from_str(KEY).unwrap();
        let again: SigningKey =
            serde_json::from_value(serde_json::to_value(&key).unwrap()).unwrap();
        assert_eq!(again, key);
        assert_eq!(key.key_id().unwrap().as_str(), "rfc7515");
    }
}
