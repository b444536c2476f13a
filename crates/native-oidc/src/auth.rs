//! Staying signed in: one session, kept in a [`SessionStore`], refreshed when it is about to expire.
//!
//! Concurrent callers share one refresh (the session lock is held across it, and the session is checked
//! again once a caller gets the lock), and the rotated refresh token is saved before any caller
//! continues. `invalid_grant` ends the session; network errors, 5xx and 429 keep it.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use openidconnect::AccessToken;
use tokio::sync::Mutex;

use crate::{
    client::{EndSessionRequest, OidcClient},
    error::{Error, Result},
    pending::{AuthorizationRequest, PendingAuthorizations, SignInOptions},
    session::{Session, SessionSummary},
    store::SessionStore,
};

/// Refresh this long before the access token expires (at most half its lifetime).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// What [`Auth::sign_out`] did. The local session is gone in every case.
#[derive(Debug)]
pub struct SignOut {
    /// Open this in the system browser to end the provider's session, if it supports that.
    pub end_session: Option<EndSessionRequest>,
    /// Why revocation or building the end-session URL failed (the provider was unreachable, …).
    pub error: Option<Error>,
}

/// A signed-in user's session, kept in a store and refreshed as needed.
pub struct Auth {
    client: OidcClient,
    store: Arc<dyn SessionStore>,
    session: Mutex<Option<Session>>,
    refresh_margin: Duration,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// An `Auth` with no session in memory; call [`Auth::restore`] to load the stored one.
    pub fn new(client: OidcClient, store: Arc<dyn SessionStore>) -> Self {
        Self {
            client,
            store,
            session: Mutex::new(None),
            refresh_margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// Sets how early before expiry the access token is refreshed.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The protocol client.
    pub fn client(&self) -> &OidcClient {
        &self.client
    }

    /// Loads the stored session (no network). A session of another issuer or client is ignored.
    pub async fn restore(&self) -> Result<Option<SessionSummary>> {
        let stored = self.store.load()?.filter(|s| self.belongs_here(s));
        let summary = stored.as_ref().map(Session::summary);
        *self.session.lock().await = stored;
        Ok(summary)
    }

    fn belongs_here(&self, session: &Session) -> bool {
        let config = self.client.config();
        session.issuer == config.issuer().as_str()
            && session.client_id == config.client_id().as_str()
    }

    /// The current session, without tokens.
    pub async fn session(&self) -> Option<SessionSummary> {
        self.session.lock().await.as_ref().map(Session::summary)
    }

    /// True when the access token must be refreshed before use.
    pub async fn needs_refresh(&self) -> bool {
        self.session
            .lock()
            .await
            .as_ref()
            .is_some_and(|s| s.needs_refresh(Utc::now(), self.refresh_margin))
    }

    /// Starts a sign-in: see [`OidcClient::begin_sign_in`].
    pub async fn begin_sign_in(&self, options: SignInOptions) -> Result<AuthorizationRequest> {
        self.client.begin_sign_in(options).await
    }

    /// Completes a sign-in and stores the new session. On any error nothing is stored.
    pub async fn complete_sign_in(
        &self,
        callback: &str,
        pending: &mut PendingAuthorizations,
    ) -> Result<SessionSummary> {
        let session = self.client.complete_sign_in(callback, pending).await?;
        let mut current = self.session.lock().await;
        self.store.save(&session)?;
        let summary = session.summary();
        *current = Some(session);
        tracing::info!(subject = %summary.subject, "signed in");
        Ok(summary)
    }

    /// A valid access token, refreshed first if it expires within the refresh margin.
    pub async fn access_token(&self) -> Result<AccessToken> {
        Ok(self.fresh_session(Refresh::IfExpiring).await?.access_token)
    }

    /// Refreshes now, whatever the expiry.
    pub async fn refresh(&self) -> Result<SessionSummary> {
        Ok(self.fresh_session(Refresh::Always).await?.summary())
    }

    async fn fresh_session(&self, when: Refresh<'_>) -> Result<Session> {
        let mut guard = self.session.lock().await;
        let current = guard.as_ref().ok_or(Error::NotSignedIn)?;
        let due = match when {
            Refresh::Always => true,
            Refresh::IfExpiring => current.needs_refresh(Utc::now(), self.refresh_margin),
            // Another caller may have refreshed while this one waited for the lock.
            Refresh::IfStill(rejected) => current.access_token.secret() == rejected.secret(),
        };
        if !due {
            return Ok(current.clone());
        }
        // Another process (the CLI beside the app) may have rotated the refresh token already.
        let mut current = current.clone();
        if let Ok(Some(stored)) = self.store.load() {
            if stored.same_user(&current)
                && stored.refresh_token.as_ref().map(|t| t.secret())
                    != current.refresh_token.as_ref().map(|t| t.secret())
            {
                current = stored;
            }
        }
        match self.client.refresh(&current).await {
            Ok(next) => {
                let saved = self.store.save(&next);
                *guard = Some(next.clone());
                saved?;
                tracing::info!(expires_at = ?next.expires_at, "tokens refreshed");
                Ok(next)
            }
            Err(error @ Error::SessionExpired(_)) => {
                tracing::warn!(%error, "the session has ended");
                *guard = None;
                self.store.clear()?;
                Err(error)
            }
            Err(error) => {
                tracing::warn!(%error, "refresh failed; the session is kept");
                *guard = Some(current);
                Err(error)
            }
        }
    }

    /// Sends `request` with `Authorization: Bearer <access token>`; on 401 refreshes once and retries
    /// once (when the request body can be replayed).
    pub async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response> {
        let retry = request.try_clone();
        let token = self.access_token().await?;
        let response = self.execute(request, &token).await?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(retry) = retry else {
            return Ok(response);
        };
        tracing::info!("the API refused the access token; refreshing and retrying once");
        let session = self.fresh_session(Refresh::IfStill(&token)).await?;
        self.execute(retry, &session.access_token).await
    }

    async fn execute(
        &self,
        mut request: reqwest::Request,
        token: &AccessToken,
    ) -> Result<reqwest::Response> {
        let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.secret()))
            .map_err(|_| Error::protocol("the access token is not a valid header value"))?;
        let mut value = value;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
        self.client
            .http()
            .reqwest()
            .execute(request)
            .await
            .map_err(|e| {
                Error::Network(format!(
                    "cannot reach the API ({})",
                    crate::http::describe(&e)
                ))
            })
    }

    /// Signs out: the local session is removed at once; then the tokens are revoked and the
    /// end-session URL is built, as far as the provider can be reached.
    pub async fn sign_out(&self) -> Result<SignOut> {
        let session = self.sign_out_locally().await?;
        Ok(self.finish_sign_out(&session).await)
    }

    /// The local half of sign-out: forgets the session in memory and in the store, returns it for
    /// [`Auth::finish_sign_out`].
    pub async fn sign_out_locally(&self) -> Result<Session> {
        let session = self.session.lock().await.take();
        self.store.clear()?;
        let session = session.ok_or(Error::NotSignedIn)?;
        tracing::info!("signed out locally");
        Ok(session)
    }

    /// The network half of sign-out: revokes the tokens and builds the end-session URL.
    pub async fn finish_sign_out(&self, session: &Session) -> SignOut {
        let end_session = self.client.end_session_request(session).await;
        let revoked = self.client.revoke(session).await;
        let (end_session, error) = match (end_session, revoked) {
            (Ok(end_session), Ok(_)) => (end_session, None),
            (Ok(end_session), Err(e)) => (end_session, Some(e)),
            (Err(e), _) => (None, Some(e)),
        };
        SignOut { end_session, error }
    }
}

enum Refresh<'a> {
    Always,
    IfExpiring,
    IfStill(&'a AccessToken),
}
