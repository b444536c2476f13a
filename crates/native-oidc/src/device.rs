//! The Device Authorization Grant (RFC 8628): signing in where no browser can open, such as a terminal
//! over SSH. [`OidcClient::begin_device_sign_in`] asks the provider for a code; the app shows its
//! [`DeviceAuthorization::verification_uri`] and [`DeviceAuthorization::user_code`] (or a QR code of
//! [`DeviceAuthorization::verification_uri_complete`]); the user signs in there on a phone or another
//! computer while [`OidcClient::complete_device_sign_in`] polls the token endpoint at the interval
//! the provider asked for, 5 s longer after each `slow_down` (at least 1 s; after each poll that got
//! no answer, a 5xx or a 429, twice as long as after the one before, up to 10 s or the interval,
//! and back to the interval once the provider answers; no longer than the code lives: an `interval`
//! longer than that is refused). The polling ends with a session, `access_denied` (the user
//! refused) or `expired_token` (the code expired first; when the polls were failing then, that
//! failure, as `network` or `protocol`).
//! The answer is checked as a sign-in's is: the token type, and a valid ID token (with no nonce, as
//! this grant has none).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Duration,
};

use chrono::{DateTime, Utc};
use openidconnect::{
    core::CoreDeviceAuthorizationResponse, AsyncHttpClient, DeviceAuthorizationUrl, HttpRequest,
};
use url::Url;

use crate::{
    client::{later, token_error, OidcClient},
    config::is_https_or_loopback,
    dpop::{DpopHttp, DpopKey},
    error::{Error, ErrorKind, Result},
    http::{Exchange, HttpError},
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

/// The shortest wait between polls, whatever the provider says (`interval: 0` would hammer it).
const MIN_POLL_WAIT: Duration = Duration::from_secs(1);
/// The longest wait after an error (as `oauth2`'s own backoff), unless the provider asked for longer.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// The transport of the polling, remembering its last failure: `oauth2` retries a poll that got no
/// answer it could read (RFC 8628 §3.5's backoff), so a code that expires meanwhile is reported with
/// that failure (the provider was down, or answered what cannot be read), not as a bare expiry.
struct Polling<'a> {
    transport: DpopHttp<'a>,
    last_failure: Mutex<Option<HttpError>>,
}

impl Polling<'_> {
    /// Whether the last poll got no answer that could be read.
    fn failed(&self) -> bool {
        self.last_failure.lock().is_ok_and(|last| last.is_some())
    }

    /// `error` (how polling ended), with the last poll's failure when the code expired after it.
    fn outcome(&self, error: Error) -> Error {
        let failure = self
            .last_failure
            .lock()
            .ok()
            .and_then(|mut last| last.take());
        match failure {
            Some(failure) if error.kind() == ErrorKind::ExpiredToken => {
                let said = format!("the code expired while the last poll failed: {failure}");
                match failure {
                    HttpError::Other(_) => Error::protocol(said),
                    HttpError::Transport(_) | HttpError::Unavailable(_) => Error::Network(said),
                }
            }
            _ => error,
        }
    }
}

impl<'c> AsyncHttpClient<'c> for Polling<'_> {
    type Error = HttpError;
    type Future = Exchange<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let result = self.transport.call(request).await;
            if let Ok(mut last) = self.last_failure.lock() {
                *last = result.as_ref().err().cloned();
            }
            result
        })
    }
}

/// What a device authorization answer tells the user, checked.
pub(crate) struct Checked {
    pub(crate) verification_uri: Url,
    pub(crate) verification_uri_complete: Option<Url>,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Checks the provider's answer (its URLs, its lifetime, its interval) at `now`.
pub(crate) fn check_answer(
    answer: &CoreDeviceAuthorizationResponse,
    now: DateTime<Utc>,
) -> Result<Checked> {
    let verification_uri =
        verification_url("verification_uri", answer.verification_uri().as_str())?;
    let verification_uri_complete = answer
        .verification_uri_complete()
        .map(|complete| verification_url("verification_uri_complete", complete.secret()))
        .transpose()?;
    let expires_at = later(now, answer.expires_in())
        .ok_or_else(|| Error::protocol("the device code's expires_in is too long"))?;
    check_interval(answer)?;
    Ok(Checked {
        verification_uri,
        verification_uri_complete,
        expires_at,
    })
}

/// A provider that asks for a wait between polls longer than its code lives is broken (and an
/// `interval` near `u64::MAX` s would overflow `oauth2`'s `slow_down` arithmetic): refused.
fn check_interval(answer: &CoreDeviceAuthorizationResponse) -> Result<()> {
    if answer.interval() > answer.expires_in() {
        return Err(Error::protocol(format!(
            "the identity provider's device code lives {} s, less than the {} s to wait between polls",
            answer.expires_in().as_secs(),
            answer.interval().as_secs()
        )));
    }
    Ok(())
}

/// The waits between polls (RFC 8628 §3.5), worked out here from what `oauth2` asks for and whether
/// the last poll failed: `oauth2` asks for its interval twice as long after a failed poll and keeps
/// it doubled once the provider answers again (and twice 0 is 0). Each wait is
/// - the provider's interval, 5 s longer for each `slow_down` (seen as `oauth2` asking for more after
///   a poll that was answered), for every later poll;
/// - after a poll that failed (no answer, a 5xx or 429, an answer too large to read), twice the
///   wait after the failure before it (from twice the interval, at least 2 s), up to
///   [`MAX_BACKOFF`] or the interval if longer; back to the interval once the provider answers;
/// - at least [`MIN_POLL_WAIT`];
/// - no longer than until the code expires (polling then ends with `expired_token`).
struct PollWaits {
    expires_at: DateTime<Utc>,
    /// What `oauth2` asked for last.
    asked_ms: AtomicU64,
    /// The provider's interval, with 5 s per `slow_down`.
    interval_ms: AtomicU64,
    /// The wait after the last failed poll of the current run of failures (0: the last poll was
    /// answered).
    backoff_ms: AtomicU64,
}

impl PollWaits {
    fn new(expires_at: DateTime<Utc>, interval: Duration) -> Self {
        Self {
            expires_at,
            asked_ms: AtomicU64::new(millis(interval)),
            interval_ms: AtomicU64::new(millis(interval)),
            backoff_ms: AtomicU64::new(0),
        }
    }

    /// The wait before the next poll, when `oauth2` asks for `asked` and the last poll `failed`.
    fn next(&self, asked: Duration, failed: bool, now: DateTime<Utc>) -> Duration {
        let asked = millis(asked);
        let before = self.asked_ms.swap(asked, Ordering::Relaxed);
        if !failed && asked > before {
            // `slow_down`: what oauth2 added, kept from now on.
            self.interval_ms
                .fetch_add(asked - before, Ordering::Relaxed);
        }
        let interval = self.interval_ms.load(Ordering::Relaxed);
        let backoff = if failed {
            let cap = millis(MAX_BACKOFF).max(interval);
            let doubled = self
                .backoff_ms
                .load(Ordering::Relaxed)
                .max(interval)
                .max(millis(MIN_POLL_WAIT))
                .saturating_mul(2)
                .min(cap);
            self.backoff_ms.store(doubled, Ordering::Relaxed);
            doubled
        } else {
            self.backoff_ms.store(0, Ordering::Relaxed);
            0
        };
        let left = time_left(self.expires_at, now);
        Duration::from_millis(interval.max(backoff))
            .max(MIN_POLL_WAIT)
            .min(left + MIN_POLL_WAIT)
    }
}

fn millis(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
}

/// How long until `expires_at` (zero once past).
fn time_left(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (expires_at - now).to_std().unwrap_or_default()
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
        let Checked {
            verification_uri,
            verification_uri_complete,
            expires_at,
        } = check_answer(&answer, Utc::now())?;
        Ok(DeviceAuthorization {
            verification_uri,
            verification_uri_complete,
            user_code: answer.user_code().secret().clone(),
            expires_at,
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
        let left = time_left(authorization.expires_at, Utc::now());
        if left.is_zero() {
            return Err(Error::Authorization {
                code: "expired_token".into(),
                description: Some("the code expired before polling began".into()),
            });
        }
        let discovered = self.discovered().await?;
        let dpop_key = authorization.dpop_key.as_ref();
        let waits = PollWaits::new(authorization.expires_at, authorization.interval);
        let polling = Polling {
            transport: self.transport(dpop_key, false),
            last_failure: Mutex::new(None),
        };
        let response = discovered
            .client
            .exchange_device_access_token(&authorization.answer)
            .map_err(|e| Error::protocol(e.to_string()))?
            .request_async(
                &polling,
                |asked| tokio::time::sleep(waits.next(asked, polling.failed(), Utc::now())),
                // Polling ends when the code expires, not `expires_in` after this call.
                Some(left),
            )
            .await
            .map_err(|e| polling.outcome(token_error(e)))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(interval: u64, expires_in: u64) -> CoreDeviceAuthorizationResponse {
        serde_json::from_value(serde_json::json!({
            "device_code": "d", "user_code": "U", "verification_uri": "https://idp.example.com/activate",
            "expires_in": expires_in, "interval": interval,
        }))
        .unwrap()
    }

    #[test]
    fn an_interval_longer_than_the_code_lives_is_refused() {
        assert!(check_interval(&answer(5, 600)).is_ok());
        assert!(check_interval(&answer(600, 600)).is_ok());
        for (interval, expires_in) in [(601, 600), (u64::MAX, 600), (u64::MAX, u64::MAX - 1)] {
            let error = check_interval(&answer(interval, expires_in)).unwrap_err();
            assert!(
                error.to_string().contains("to wait between polls"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_poll_waits_at_least_a_second_and_no_longer_than_the_code_lives() {
        let now = Utc::now();
        let in_a_minute = now + chrono::Duration::seconds(60);
        let wait = |secs| {
            let interval = Duration::from_secs(secs);
            PollWaits::new(in_a_minute, interval)
                .next(interval, false, now)
                .as_secs()
        };
        assert_eq!(wait(0), 1);
        assert_eq!(wait(5), 5);
        assert_eq!(wait(3600), 61);
        assert_eq!(wait(u64::MAX), 61);
        let expired = now - chrono::Duration::seconds(5);
        let interval = Duration::from_secs(30);
        let after_expiry = PollWaits::new(expired, interval).next(interval, true, now);
        assert_eq!(after_expiry.as_secs(), 1);
    }

    /// The waits for what oauth2 asks for after each poll (`(asked, failed)`), in seconds.
    fn waits(interval: u64, polls: &[(u64, bool)]) -> Vec<u64> {
        let now = Utc::now();
        let waits = PollWaits::new(
            now + chrono::Duration::seconds(600),
            Duration::from_secs(interval),
        );
        polls
            .iter()
            .map(|&(asked, failed)| {
                waits
                    .next(Duration::from_secs(asked), failed, now)
                    .as_secs()
            })
            .collect()
    }

    #[test]
    fn slow_down_lengthens_every_later_wait_and_an_error_never_shortens_it() {
        // oauth2, interval 60: slow_down → 65; an error → min(2 × 65, its backoff cap 10);
        // slow_down again → 10 + 5.
        let asked = [
            (60, false),
            (65, false),
            (10, true),
            (15, false),
            (15, false),
        ];
        assert_eq!(waits(60, &asked), [60, 65, 65, 70, 70]);
    }

    #[test]
    fn failed_polls_back_off_and_the_interval_comes_back_once_answered() {
        // interval 0: oauth2 asks for twice 0 after an error.
        let zero = [
            (0, false),
            (0, true),
            (0, true),
            (0, true),
            (0, true),
            (0, true),
        ];
        assert_eq!(waits(0, &zero), [1, 2, 4, 8, 10, 10]);
        let again = [(0, true), (0, false), (0, true)];
        assert_eq!(
            waits(0, &again),
            [2, 1, 2],
            "a new run of failures starts over"
        );
        // interval 5: oauth2 asks for 10 after an error, and keeps asking for 10 once answered.
        let five = [(5, false), (10, true), (10, true), (10, false), (15, false)];
        assert_eq!(waits(5, &five), [5, 10, 10, 5, 10], "then slow_down: 5 + 5");
    }
}
