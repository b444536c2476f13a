//! The Device Authorization Grant (RFC 8628): signing in where no browser can open, such as a terminal
//! over SSH. [`OidcClient::begin_device_sign_in`] asks the provider for a code; the app shows its
//! [`DeviceAuthorization::verification_uri`] and [`DeviceAuthorization::user_code`] (or a QR code of
//! [`DeviceAuthorization::verification_uri_complete`]); the user signs in there on a phone or another
//! computer while [`OidcClient::complete_device_sign_in`] polls the token endpoint at the interval
//! the provider asked for (5 s longer after each `slow_down`, as `oauth2` does it). The polling ends
//! with a session, `access_denied` (the user refused) or `expired_token` (the code expired first).
//! The answer is checked as a sign-in's is: the token type, and a valid ID token (with no nonce, as
//! this grant has none).

use std::time::Duration;

use chrono::{DateTime, Utc};
use openidconnect::{core::CoreDeviceAuthorizationResponse, DeviceAuthorizationUrl};
use url::Url;

use crate::{
    client::{token_error, OidcClient},
    config::is_https_or_loopback,
    dpop::DpopKey,
    error::{Error, Result},
    session::Session,
};

/// A device sign-in in progress: what to show the user, and (kept private) the device code to poll
/// with. Its `Debug` leaves the device code out.
pub struct DeviceAuthorization {
    /// Where the user signs in, on another device.
    pub verification_uri: Url,
    /// The same with the user code in it, for a link or a QR code, when the provider gives one.
    pub verification_uri_complete: Option<Url>,
    /// The code the user types there.
    pub user_code: String,
    /// When the codes expire; polling stops then with `expired_token`.
    pub expires_at: DateTime<Utc>,
    /// How long to wait between polls, as the provider first asked.
    pub interval: Duration,
    answer: CoreDeviceAuthorizationResponse,
    dpop_key: Option<DpopKey>,
    scopes: Vec<openidconnect::Scope>,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("verification_uri", &self.verification_uri.as_str())
            .field("user_code", &self.user_code)
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// A URL the provider tells the user to open: https, or http on loopback, like every endpoint.
fn verification_url(name: &str, value: &str) -> Result<Url> {
    Url::parse(value)
        .ok()
        .filter(is_https_or_loopback)
        .ok_or_else(|| {
            Error::protocol(format!(
                "the identity provider's {name} is not an https URL (nor http on loopback)"
            ))
        })
}

impl OidcClient {
    /// Starts a device sign-in (RFC 8628 §3.1) with the configured scopes: the codes to show the user.
    /// [`crate::Error::Config`] when the provider's discovery names no `device_authorization_endpoint`
    /// (on Okta: the app integration needs the Device Authorization grant type).
    pub async fn begin_device_sign_in(&self) -> Result<DeviceAuthorization> {
        let discovered = self.discovered().await?;
        let endpoint = discovered
            .provider
            .extra()
            .device_authorization_endpoint
            .clone()
            .ok_or_else(|| {
                Error::config(
                    "the identity provider offers no device sign-in (its discovery names no \
                     device_authorization_endpoint); on Okta, allow the Device Authorization grant \
                     type in the app integration and the authorization server's access policy",
                )
            })?;
        let client = discovered
            .client
            .clone()
            .set_device_authorization_url(DeviceAuthorizationUrl::from_url(endpoint));
        let mut request = client.exchange_device_code();
        // `openid` is added by the library.
        for scope in self
            .config()
            .scopes()
            .iter()
            .filter(|s| s.as_str() != "openid")
        {
            request = request.add_scope(scope.clone());
        }
        let answer: CoreDeviceAuthorizationResponse = request
            .request_async(&self.transport(None, false))
            .await
            .map_err(token_error)?;
        let verification_uri =
            verification_url("verification_uri", answer.verification_uri().as_str())?;
        let verification_uri_complete = answer
            .verification_uri_complete()
            .map(|complete| verification_url("verification_uri_complete", complete.secret()))
            .transpose()?;
        let expires_in = chrono::Duration::from_std(answer.expires_in())
            .map_err(|_| Error::protocol("the device code's expires_in is too long"))?;
        Ok(DeviceAuthorization {
            verification_uri,
            verification_uri_complete,
            user_code: answer.user_code().secret().clone(),
            expires_at: Utc::now() + expires_in,
            interval: answer.interval(),
            dpop_key: self.config().dpop().then(DpopKey::generate).transpose()?,
            scopes: self.config().scopes().to_vec(),
            answer,
        })
    }

    /// Polls the token endpoint until the user has signed in on the other device (RFC 8628 §3.4–3.5),
    /// with DPoP proofs when DPoP is on, and checks the answer; a refused answer's tokens are revoked.
    /// Ends with `access_denied` when the user refused, `expired_token` when the code expired first.
    /// Dropping the future stops polling.
    pub async fn complete_device_sign_in(
        &self,
        authorization: &DeviceAuthorization,
    ) -> Result<Session> {
        let discovered = self.discovered().await?;
        let dpop_key = authorization.dpop_key.as_ref();
        let response = discovered
            .client
            .exchange_device_access_token(&authorization.answer)
            .map_err(|e| Error::protocol(e.to_string()))?
            .request_async(&self.transport(dpop_key, false), tokio::time::sleep, None)
            .await
            .map_err(token_error)?;
        self.accept_answer(
            &discovered.provider,
            &response,
            authorization.dpop_key.clone(),
            authorization.scopes.clone(),
            None,
            |_| Ok(()),
        )
        .await
    }
}
