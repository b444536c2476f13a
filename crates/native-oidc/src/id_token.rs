//! ID token validation (OpenID Connect Core §3.1.3.7, and §12.2 for tokens from a refresh).
//!
//! `openidconnect` checks the signature against the issuer's keys with an allowed asymmetric algorithm
//! (never `none`, never HMAC for a public client), `iss`, `aud` (no untrusted extra audience), `exp`,
//! `iat` and `nonce`. This module adds what it leaves to the client: `azp`, a bounded clock leeway,
//! one re-fetch of the key set for an unknown `kid`, `at_hash`, and the refresh rules.

use std::time::Duration;

use chrono::Utc;
use openidconnect::{
    core::{CoreIdToken, CoreIdTokenClaims},
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, IdTokenVerifier, Nonce,
    SignatureVerificationError,
};

use crate::{
    error::{Error, Result},
    http::HttpClient,
    jwk::{KeySet, SigningKey},
    provider::Provider,
};

/// How long after `exp` an ID token is still accepted (the clocks may differ a little).
pub const DEFAULT_CLOCK_LEEWAY: Duration = Duration::from_secs(60);

/// How far in the future `iat` may be: a provider whose clock is ahead issues tokens "from the future"
/// (AppAuth allows 600 s, okta-mobile-swift 300 s).
pub const DEFAULT_IAT_LEEWAY: Duration = Duration::from_secs(300);

/// What the `nonce` claim must be.
#[derive(Clone, Copy, Debug)]
pub enum NonceRule<'a> {
    /// Sign-in: present and equal to the nonce sent.
    Equals(&'a Nonce),
    /// Refresh (§12.2): absent, or equal to the nonce of the original sign-in.
    AbsentOrEquals(Option<&'a Nonce>),
}

/// Validates ID tokens for one client.
#[derive(Clone, Debug)]
pub struct IdTokenValidator {
    client_id: ClientId,
    leeway: Duration,
    iat_leeway: Duration,
}

impl IdTokenValidator {
    /// A validator for `client_id` that accepts a token up to `leeway` after its `exp`, and an `iat`
    /// up to [`DEFAULT_IAT_LEEWAY`] in the future.
    pub fn new(client_id: ClientId, leeway: Duration) -> Self {
        Self {
            client_id,
            leeway,
            iat_leeway: DEFAULT_IAT_LEEWAY,
        }
    }

    /// How long after `exp` a token is still accepted; also the slack of the `auth_time` check.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Sets how far in the future `iat` may be.
    pub fn with_iat_leeway(mut self, leeway: Duration) -> Self {
        self.iat_leeway = leeway;
        self
    }

    /// Validates `id_token` (and its `at_hash` against `access_token`), re-fetching the key set once
    /// if the token names a key the cache does not hold.
    pub async fn validate(
        &self,
        provider: &Provider,
        http: &HttpClient,
        id_token: &CoreIdToken,
        nonce: NonceRule<'_>,
        access_token: Option<&AccessToken>,
    ) -> Result<CoreIdTokenClaims> {
        let keys = provider.keys().await;
        match self.validate_with(provider, keys, id_token, nonce, access_token) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let keys = provider.refresh_keys(http).await?;
                self.validate_with(provider, keys, id_token, nonce, access_token)
                    .map_err(invalid)
            }
            other => other.map_err(invalid),
        }
    }

    pub(crate) fn validate_with(
        &self,
        provider: &Provider,
        keys: KeySet,
        id_token: &CoreIdToken,
        nonce: NonceRule<'_>,
        access_token: Option<&AccessToken>,
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        let leeway = chrono::Duration::from_std(self.leeway).unwrap_or(chrono::Duration::zero());
        let iat_leeway =
            chrono::Duration::from_std(self.iat_leeway).unwrap_or(chrono::Duration::zero());
        let verifier = IdTokenVerifier::<SigningKey>::new_public_client(
            self.client_id.clone(),
            provider.metadata().issuer().clone(),
            keys,
        )
        .set_allowed_algs(provider.id_token_algorithms())
        // `exp` may have passed by at most the leeway.
        .set_time_fn(move || Utc::now() - leeway)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > Utc::now() + iat_leeway {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });

        let claims = match nonce {
            NonceRule::Equals(expected) => id_token.claims(&verifier, expected)?,
            NonceRule::AbsentOrEquals(original) => {
                id_token.claims(&verifier, |found: Option<&Nonce>| match (found, original) {
                    (None, _) => Ok(()),
                    (Some(found), Some(original)) if found.secret() == original.secret() => Ok(()),
                    _ => Err("nonce differs from the original sign-in".to_string()),
                })?
            }
        };

        // §3.1.3.7 steps 4 and 5: with several audiences `azp` is required; when present it is us.
        match claims.authorized_party() {
            Some(azp) if azp.as_str() != self.client_id.as_str() => {
                return Err(ClaimsVerificationError::InvalidAudience(format!(
                    "authorized party `{}` is not this client",
                    azp.as_str()
                )))
            }
            None if claims.audiences().len() > 1 => {
                return Err(ClaimsVerificationError::InvalidAudience(
                    "several audiences but no authorized party (azp)".to_string(),
                ))
            }
            _ => {}
        }

        // §3.2.2.9 / §3.3.2.11: when `at_hash` is present it must match the access token.
        if let (Some(expected), Some(access_token)) = (claims.access_token_hash(), access_token) {
            let alg = id_token
                .signing_alg()
                .map_err(ClaimsVerificationError::SignatureVerification)?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(ClaimsVerificationError::SignatureVerification)?;
            let actual = AccessTokenHash::from_token(access_token, alg, key).map_err(|e| {
                ClaimsVerificationError::Other(format!("cannot compute at_hash: {e}"))
            })?;
            if &actual != expected {
                return Err(ClaimsVerificationError::Other(
                    "at_hash does not match the access token".to_string(),
                ));
            }
        }
        Ok(claims.clone())
    }
}

pub(crate) fn invalid(error: ClaimsVerificationError) -> Error {
    let message = match error {
        ClaimsVerificationError::Expired(m) => format!("expired or not yet valid: {m}"),
        ClaimsVerificationError::InvalidAudience(m) => format!("audience: {m}"),
        ClaimsVerificationError::InvalidIssuer(m) => format!("issuer: {m}"),
        ClaimsVerificationError::InvalidNonce(m) => format!("nonce: {m}"),
        ClaimsVerificationError::SignatureVerification(e) => format!("signature: {e}"),
        other => other.to_string(),
    };
    Error::InvalidIdToken(message)
}
