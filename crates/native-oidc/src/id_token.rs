//! ID token validation (OpenID Connect Core §3.1.3.7, and §12.2 for tokens from a refresh).
//!
//! `openidconnect` checks the signature against the issuer's keys with an allowed asymmetric algorithm
//! (never `none`, never HMAC for a public client), `iss`, `aud` (no untrusted extra audience), `exp`,
//! `iat` and `nonce`. This module adds what it leaves to the client: `azp`, a bounded clock leeway,
//! one re-fetch of the key set for an unknown `kid`, the hash claims (`at_hash`, and Native SSO's
//! `ds_hash`, with the hash the signing key's algorithm names: SHA-512 for EdDSA with Ed25519), and
//! the refresh rules.

use std::time::Duration;

use chrono::Utc;
use openidconnect::{
    core::{CoreIdToken, CoreIdTokenClaims},
    AccessToken, ClaimsVerificationError, ClientId, IdTokenVerifier, JsonWebKey, Nonce,
    SignatureVerificationError, SubjectIdentifier,
};

use crate::{
    error::{Error, Result},
    http::HttpClient,
    jwk::{KeySet, SigningKey},
    provider::Provider,
    sso::DeviceSecret,
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

/// What the hash claims of an ID token must match: the values that came with it in the same answer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hashed<'a> {
    /// The access token: `at_hash`, when the token has one, is its hash.
    pub access_token: Option<&'a AccessToken>,
    /// Native SSO's device secret: the token must carry `ds_hash`, its hash.
    pub device_secret: Option<&'a DeviceSecret>,
}

impl<'a> From<Option<&'a AccessToken>> for Hashed<'a> {
    fn from(access_token: Option<&'a AccessToken>) -> Self {
        Self {
            access_token,
            device_secret: None,
        }
    }
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

    /// Validates `id_token` (and its hash claims against what came with it: `hashed`), re-fetching
    /// the key set once if the token names a key the cache does not hold.
    pub async fn validate<'a>(
        &self,
        provider: &Provider,
        http: &HttpClient,
        id_token: &CoreIdToken,
        nonce: NonceRule<'_>,
        hashed: impl Into<Hashed<'a>>,
    ) -> Result<CoreIdTokenClaims> {
        let hashed = hashed.into();
        with_keys(provider, http, |keys| {
            self.validate_with(provider, keys, id_token, nonce, hashed)
        })
        .await?
        .map_err(invalid)
    }

    /// Checks an ID token another app of the SSO group left in the share (Native SSO), before it is
    /// sent to the provider with `device_secret` in a token exchange: signed by this provider with an
    /// allowed algorithm, its issuer, of `subject` (the user the share names), and naming
    /// `device_secret` (`ds_hash`). Its audience is the other app, and it may have expired (the
    /// device secret proves the sign-in, as Okta takes it): neither is checked. A share whose ID
    /// token and secret do not belong together, or to the user it names, is not sent anywhere.
    /// Signed with a key the provider no longer publishes (an old sign-in, the keys rotated since),
    /// it cannot be checked here: it is left to the provider, which refuses what it cannot verify.
    pub async fn validate_shared(
        &self,
        provider: &Provider,
        http: &HttpClient,
        id_token: &CoreIdToken,
        subject: &SubjectIdentifier,
        device_secret: &DeviceSecret,
    ) -> Result<()> {
        match with_keys(provider, http, |keys| {
            let verifier = self
                .verifier(provider, keys)
                .require_audience_match(false)
                .set_time_fn(|| chrono::DateTime::<Utc>::MIN_UTC);
            let claims = id_token.claims(&verifier, |_: Option<&Nonce>| Ok(()))?;
            if claims.subject() != subject {
                return Err(ClaimsVerificationError::Other(
                    "the shared ID token is of another user than the share names".to_string(),
                ));
            }
            check_ds_hash(id_token, &verifier, device_secret)
        })
        .await?
        {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                tracing::info!(
                    "the shared ID token's signing key is no longer published; the provider judges it"
                );
                Ok(())
            }
            other => other.map_err(invalid),
        }
    }

    /// The verifier of this provider's ID tokens for this client: its keys and allowed algorithms,
    /// `exp` passed by at most the leeway, `iat` not beyond the future leeway.
    fn verifier<'v>(&self, provider: &Provider, keys: KeySet) -> IdTokenVerifier<'v, SigningKey> {
        let leeway = chrono::Duration::from_std(self.leeway).unwrap_or(chrono::Duration::zero());
        let iat_leeway =
            chrono::Duration::from_std(self.iat_leeway).unwrap_or(chrono::Duration::zero());
        IdTokenVerifier::<SigningKey>::new_public_client(
            self.client_id.clone(),
            provider.metadata().issuer().clone(),
            keys,
        )
        .set_allowed_algs(provider.id_token_algorithms())
        // `exp` may have passed by at most the leeway.
        .set_time_fn(move || {
            Utc::now()
                .checked_sub_signed(leeway)
                .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC)
        })
        .set_issue_time_verifier_fn(move |iat| {
            let latest = Utc::now()
                .checked_add_signed(iat_leeway)
                .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
            if iat > latest {
                Err(format!("issued in the future ({iat})"))
            } else {
                Ok(())
            }
        })
    }

    pub(crate) fn validate_with(
        &self,
        provider: &Provider,
        keys: KeySet,
        id_token: &CoreIdToken,
        nonce: NonceRule<'_>,
        hashed: Hashed<'_>,
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        let verifier = self.verifier(provider, keys);
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
        if let (Some(expected), Some(access_token)) =
            (claims.access_token_hash(), hashed.access_token)
        {
            if half_hash(id_token, &verifier, access_token.secret())? != expected.as_str() {
                return Err(ClaimsVerificationError::Other(
                    "at_hash does not match the access token".to_string(),
                ));
            }
        }
        // Native SSO: the device secret of the answer must be the one the token names.
        if let Some(secret) = hashed.device_secret {
            check_ds_hash(id_token, &verifier, secret)?;
        }
        Ok(claims.clone())
    }
}

/// Runs `check` with the provider's keys, and once more with a fresh key set when the token names a
/// key the cache does not hold (the provider rotated its keys). The error is fetching the keys.
async fn with_keys<T>(
    provider: &Provider,
    http: &HttpClient,
    check: impl Fn(KeySet) -> Result<T, ClaimsVerificationError>,
) -> Result<Result<T, ClaimsVerificationError>> {
    match check(provider.keys().await) {
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => Ok(check(provider.refresh_keys(http).await?)),
        other => Ok(other),
    }
}

/// Native SSO: `id_token` (its signature checked) names `secret` in its `ds_hash`.
fn check_ds_hash(
    id_token: &CoreIdToken,
    verifier: &IdTokenVerifier<'_, SigningKey>,
    secret: &DeviceSecret,
) -> Result<(), ClaimsVerificationError> {
    let Some(found) = claim_of(id_token, "ds_hash") else {
        return Err(ClaimsVerificationError::Other(
            "the ID token has no ds_hash for its device secret".to_string(),
        ));
    };
    if half_hash(id_token, verifier, secret.secret())? != found {
        return Err(ClaimsVerificationError::Other(
            "the ID token's ds_hash does not match the device secret".to_string(),
        ));
    }
    Ok(())
}

/// The left half of the hash of `value`, base64url: `at_hash` and `ds_hash` (OIDC Core §3.1.3.6). The
/// hash is the one of the signing key and algorithm of `id_token` (SHA-256 for RS256 and ES256, …,
/// SHA-512 for EdDSA with Ed25519), as `openidconnect` computes it.
fn half_hash(
    id_token: &CoreIdToken,
    verifier: &IdTokenVerifier<'_, SigningKey>,
    value: &str,
) -> Result<String, ClaimsVerificationError> {
    use base64::Engine;
    let alg = id_token
        .signing_alg()
        .map_err(ClaimsVerificationError::SignatureVerification)?;
    let key = id_token
        .signing_key(verifier)
        .map_err(ClaimsVerificationError::SignatureVerification)?;
    let hash = key.hash_bytes(value.as_bytes(), alg).map_err(|e| {
        ClaimsVerificationError::Other(format!("cannot compute the hash claim: {e}"))
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hash[..hash.len() / 2]))
}

/// A string claim `openidconnect` does not read (`ds_hash`), from the payload of a token whose
/// signature has been checked.
fn claim_of(id_token: &CoreIdToken, name: &str) -> Option<String> {
    unverified_claims(id_token)?
        .get(name)?
        .as_str()
        .map(str::to_string)
}

/// The payload of `id_token` as it is, its signature not checked: only for what is then checked
/// otherwise, or only says whom to ask.
pub(crate) fn unverified_claims(id_token: &CoreIdToken) -> Option<serde_json::Value> {
    use base64::Engine;
    let jwt = id_token.to_string();
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
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
