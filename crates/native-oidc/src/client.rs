//! The protocol steps of a native app, one method each: begin and complete a sign-in, refresh,
//! revoke, and sign out. [`OidcClient`] holds no session; [`crate::Auth`] keeps one and stores it.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
        CoreGenderClaim, CoreIdToken, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm, CoreRevocableToken, CoreRevocationErrorResponse,
        CoreTokenIntrospectionResponse, CoreTokenType,
    },
    AccessToken, AsyncHttpClient, AuthenticationContextClass, AuthorizationCode, CsrfToken,
    EmptyAdditionalClaims, EndpointMaybeSet, EndpointNotSet, EndpointSet, LoginHint, LogoutRequest,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, RefreshToken,
    RequestTokenError, StandardErrorResponse, SubjectIdentifier, TokenResponse, UserInfoClaims,
    UserInfoError,
};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use crate::{
    asked::{check_asked, Asked},
    callback::{Callback, IntoCallback},
    config::Config,
    dpop::{DpopHttp, DpopKey, Nonces},
    error::{Error, Result},
    http::{HttpClient, HttpError},
    id_token::{Hashed, IdTokenValidator, NonceRule, DEFAULT_CLOCK_LEEWAY},
    par,
    pending::{
        AuthorizationRequest, PendingAuthorization, PendingAuthorizations, SignInOptions,
        PENDING_LIFETIME,
    },
    provider::Provider,
    session::{Session, TokenType},
};

/// A userinfo answer as the profile. Only an answer that is another user's (or not about this
/// session's subject) is `invalid_userinfo`, which ends the session; a provider that is busy,
/// unreachable or answers something unreadable is a `network` or `protocol` error, which keeps it.
pub(crate) fn read_userinfo(
    answer: std::result::Result<
        UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>,
        UserInfoError<HttpError>,
    >,
) -> Result<Map<String, Value>> {
    let profile = answer.map_err(|e| match e {
        UserInfoError::Request(http) => Error::from(http),
        UserInfoError::ClaimsVerification(e) => Error::InvalidUserinfo(e.to_string()),
        UserInfoError::Parse(e) => Error::protocol(format!(
            "the userinfo answer is not valid JSON (at {})",
            e.path()
        )),
        UserInfoError::Response(status, _, _)
            if status.is_server_error() || status.as_u16() == 429 =>
        {
            Error::from(HttpError::Unavailable(status.as_u16()))
        }
        UserInfoError::Response(status, _, _) => {
            Error::protocol(format!("userinfo answered HTTP {status}"))
        }
        other => Error::protocol(format!("userinfo: {other}")),
    })?;
    json_map(&profile)
}

/// What a token answer may carry beyond OpenID Connect's fields: Okta's Native SSO `device_secret`.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub(crate) struct NativeSsoFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device_secret: Option<crate::sso::DeviceSecret>,
}
impl openidconnect::ExtraTokenFields for NativeSsoFields {}

/// A token endpoint's answer: OpenID Connect's, with [`NativeSsoFields`].
pub(crate) type TokenAnswer = openidconnect::StandardTokenResponse<
    openidconnect::IdTokenFields<
        EmptyAdditionalClaims,
        NativeSsoFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// `openidconnect`'s core client, with [`TokenAnswer`] for token answers.
type Client = openidconnect::Client<
    EmptyAdditionalClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The browser step of sign-out: open `url`; the provider comes back to the logout redirect URI
/// with `state`, which [`EndSessionRequest::check_callback`] checks. Its `Debug` shows the URL without
/// the query, which carries the ID token (`id_token_hint`).
#[derive(Clone)]
pub struct EndSessionRequest {
    /// The end-session URL to open in the system browser.
    pub url: Url,
    /// The `state` sent; the logout callback must carry it back.
    pub state: String,
    /// Where the provider sends the browser back (`post_logout_redirect_uri`), if anywhere.
    pub redirect: Option<Url>,
}

impl std::fmt::Debug for EndSessionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = self.url.clone();
        shown.set_query(None);
        f.debug_struct("EndSessionRequest")
            .field("url", &format_args!("{shown}?[redacted]"))
            .field("redirect", &self.redirect)
            .finish_non_exhaustive()
    }
}

/// The provider's answer to a refresh, as it came: the refresh token in it may be the only valid
/// one left, so a caller that keeps the session saves [`RefreshAnswer::session`] before
/// [`OidcClient::check_refresh`] checks the rest (token type, ID token), as [`crate::Auth`] does.
pub struct RefreshAnswer {
    session: Session,
    id_token: Option<CoreIdToken>,
    device_secret: Option<crate::sso::DeviceSecret>,
    token_type: String,
}

impl RefreshAnswer {
    /// The session with the new tokens; its ID token and claims are still the previous ones (a
    /// device secret of the answer, not yet checked, is on it: stored with the session only when
    /// the group's share cannot take it, once checked).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The `token_type` the provider answered with (`DPoP`, `Bearer`), not yet checked.
    pub fn token_type(&self) -> &str {
        &self.token_type
    }
}

impl std::fmt::Debug for RefreshAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshAnswer")
            .field("token_type", &self.token_type)
            .field("has_id_token", &self.id_token.is_some())
            .finish_non_exhaustive()
    }
}

/// The discovered provider and the protocol client built for it once (not per request).
#[derive(Debug)]
pub(crate) struct Discovered {
    pub(crate) provider: Arc<Provider>,
    pub(crate) client: Client,
}

/// An OpenID Connect client for one configuration, with discovery and keys cached.
#[derive(Debug)]
pub struct OidcClient {
    config: Config,
    http: HttpClient,
    discovered: OnceCell<Arc<Discovered>>,
    nonces: Nonces,
    pub(crate) validator: IdTokenValidator,
    pending_lifetime: Duration,
}

impl OidcClient {
    /// A client with the default HTTP client (no redirects, timeouts).
    pub fn new(config: Config) -> Result<Self> {
        Ok(Self::with_http_client(config, HttpClient::new()?))
    }

    /// A client with your HTTP client.
    pub fn with_http_client(config: Config, http: HttpClient) -> Self {
        Self {
            validator: IdTokenValidator::new(config.client_id().clone(), DEFAULT_CLOCK_LEEWAY),
            config,
            http,
            discovered: OnceCell::new(),
            nonces: Nonces::default(),
            pending_lifetime: PENDING_LIFETIME,
        }
    }

    /// Sets the clock leeway for ID tokens (default one minute).
    pub fn with_clock_leeway(mut self, leeway: Duration) -> Self {
        self.validator = IdTokenValidator::new(self.config.client_id().clone(), leeway);
        self
    }

    /// Sets how long a sign-in may stay in the browser (default ten minutes).
    pub fn with_pending_lifetime(mut self, lifetime: Duration) -> Self {
        self.pending_lifetime = lifetime;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The latest DPoP nonce of each server this client talked to.
    pub fn nonces(&self) -> &Nonces {
        &self.nonces
    }

    /// The HTTP client for a request of a session or sign-in: with proofs of its DPoP `key` when it
    /// has one, plain otherwise. `bound_token`: the request carries its access token (a resource).
    pub(crate) fn transport<'a>(
        &'a self,
        key: Option<&'a DpopKey>,
        bound_token: bool,
    ) -> DpopHttp<'a> {
        DpopHttp {
            http: &self.http,
            key,
            nonces: &self.nonces,
            bound_token,
        }
    }

    /// The discovered provider (fetched on first use, then cached; a failure is not cached).
    pub async fn provider(&self) -> Result<Arc<Provider>> {
        Ok(self.discovered().await?.provider.clone())
    }

    /// Discovery, and the protocol client built from it once. The client carries no keys: ID tokens
    /// are checked by [`IdTokenValidator`] against the provider's cached key set.
    pub(crate) async fn discovered(&self) -> Result<Arc<Discovered>> {
        self.discovered
            .get_or_try_init(|| async {
                let provider = Provider::discover(self.config.issuer(), &self.http).await?;
                let client = Client::from_provider_metadata(
                    provider.metadata().clone(),
                    self.config.client_id().clone(),
                    None,
                )
                .set_redirect_uri(self.config.redirect_uri().clone());
                Ok(Arc::new(Discovered {
                    provider: Arc::new(provider),
                    client,
                }))
            })
            .await
            .cloned()
    }

    /// Builds the authorization request (PKCE S256, `state`, `nonce`, the options; `dpop_jkt` with
    /// DPoP), pushes it first when [`crate::Par`] and the provider say so, and returns the URL for the
    /// browser and the pending authorization to keep.
    pub async fn begin_sign_in(&self, options: SignInOptions) -> Result<AuthorizationRequest> {
        let asked = Asked::of(&options)?;
        let discovered = self.discovered().await?;
        let client = &discovered.client;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        // `openid` is added by the library.
        for scope in self
            .config
            .scopes()
            .iter()
            .filter(|s| s.as_str() != "openid")
        {
            request = request.add_scope(scope.clone());
        }
        if let Some(hint) = options.login_hint.filter(|h| !h.is_empty()) {
            request = request.set_login_hint(LoginHint::new(hint));
        }
        for prompt in options.prompt.iter().flat_map(|p| p.split_whitespace()) {
            request = request.add_prompt(match prompt {
                "none" => CoreAuthPrompt::None,
                "login" => CoreAuthPrompt::Login,
                "consent" => CoreAuthPrompt::Consent,
                "select_account" => CoreAuthPrompt::SelectAccount,
                other => CoreAuthPrompt::Extension(other.to_string()),
            });
        }
        for acr in &options.acr_values {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        if let Some(max_age) = options.max_age {
            request = request.set_max_age(max_age);
        }
        if let Some(idp) = options.idp.filter(|i| !i.is_empty()) {
            request = request.add_extra_param("idp", idp);
        }
        for (name, value) in options.extra_params {
            request = request.add_extra_param(name, value);
        }
        let dpop_key = self.config.dpop().then(DpopKey::generate).transpose()?;
        let pushed = par::endpoint(self.config.par(), discovered.provider.extra())?;
        if let (Some(key), None) = (&dpop_key, pushed) {
            // RFC 9449 §10: the code is bound to the key, so a stolen one is worth nothing. (A pushed
            // request binds it with the proof it is sent with.)
            request = request.add_extra_param("dpop_jkt", key.thumbprint());
        }
        let (url, state, nonce) = request.url();
        let url = match pushed {
            Some(endpoint) => {
                let authorization_endpoint =
                    discovered.provider.metadata().authorization_endpoint();
                par::push(
                    &self.transport(dpop_key.as_ref(), false),
                    endpoint,
                    authorization_endpoint.url(),
                    &url,
                )
                .await?
            }
            None => url,
        };
        let expires_at = later(Utc::now(), self.pending_lifetime)
            .ok_or_else(|| Error::config("the pending sign-in lifetime is too long"))?;
        Ok(AuthorizationRequest {
            url,
            pending: PendingAuthorization {
                state,
                nonce,
                pkce_verifier: verifier.secret().clone(),
                issuer: self.config.issuer().clone(),
                client_id: self.config.client_id().clone(),
                redirect_uri: self.config.redirect_uri().clone(),
                scopes: self.config.scopes().to_vec(),
                expires_at,
                dpop_key,
                max_age: asked.max_age,
                required_acr: asked.required_acr,
                subject: asked.subject,
            },
        })
    }

    /// Completes a sign-in from the callback URL: checks it against a pending authorization (used once,
    /// whatever the outcome), the `iss` parameter, exchanges the code and validates the ID token. The
    /// profile is not loaded here: [`crate::Auth`] loads it once the session is saved.
    pub async fn complete_sign_in(
        &self,
        callback: impl IntoCallback,
        pending: &mut PendingAuthorizations,
    ) -> Result<Session> {
        self.complete_sign_in_beside(callback, pending, None).await
    }

    /// [`OidcClient::complete_sign_in`] for an app that holds a session of user `current`. An answer
    /// refused for what the sign-in asked (a level, `max_age`) is revoked, unless it is that same
    /// user's: a provider may issue it on the session's own grant (one per user and client), and
    /// revoking it would end the session the refusal is meant to keep. Those tokens are dropped unused.
    pub async fn complete_sign_in_beside(
        &self,
        callback: impl IntoCallback,
        pending: &mut PendingAuthorizations,
        current: Option<&SubjectIdentifier>,
    ) -> Result<Session> {
        let (pending, code) = self.read_callback(callback, pending).await?;
        let discovered = self.discovered().await?;
        let response = discovered
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Error::protocol(e.to_string()))?
            .set_pkce_verifier(pending.pkce_verifier())
            .set_redirect_uri(std::borrow::Cow::Borrowed(&pending.redirect_uri))
            .request_async(&self.transport(pending.dpop_key.as_ref(), false))
            .await
            .map_err(token_error)?;
        let checked = self
            .check_code_answer(
                &discovered.provider,
                &response,
                pending.dpop_key.is_some(),
                NonceRule::Equals(&pending.nonce),
            )
            .await;
        let refused = match &checked {
            Ok((_, claims)) => check_asked(claims, &pending, self.validator.leeway(), Utc::now())
                .err()
                .map(|error| (error, current == Some(claims.subject()))),
            Err(_) => None,
        };
        let (id_token, claims) = match (checked, refused) {
            (Ok(checked), None) => checked,
            (Ok(_), Some((error, true))) => {
                tracing::warn!(%error, "refused the signed-in user's new tokens; not revoked, as they may share the session's grant");
                return Err(error);
            }
            (Ok(_), Some((error, false))) | (Err(error), _) => {
                self.refuse(&response, pending.dpop_key.as_ref(), None)
                    .await;
                return Err(error);
            }
        };
        let nonce = pending.nonce.clone();
        self.session_from(
            &response,
            (id_token, claims),
            Some(nonce),
            pending.scopes,
            pending.dpop_key,
        )
    }

    /// The session of a sign-in that has no callback (the device grant, Native SSO's exchange): its
    /// answer checked as a sign-in's ([`OidcClient::check_code_answer`], no nonce), then `also` on
    /// the ID token's claims. A refused answer's tokens are revoked (its device secret too, unless
    /// it is the `shared` one the sign-in was made with).
    pub(crate) async fn accept_answer(
        &self,
        provider: &Provider,
        response: &TokenAnswer,
        dpop_key: Option<DpopKey>,
        asked_scopes: Vec<openidconnect::Scope>,
        shared: Option<&crate::sso::DeviceSecret>,
        also: impl FnOnce(&openidconnect::core::CoreIdTokenClaims) -> Result<()>,
    ) -> Result<Session> {
        let checked = self
            .check_code_answer(
                provider,
                response,
                dpop_key.is_some(),
                NonceRule::AbsentOrEquals(None),
            )
            .await
            .and_then(|checked| also(&checked.1).map(|()| checked));
        match checked {
            Ok(checked) => self.session_from(response, checked, None, asked_scopes, dpop_key),
            Err(error) => {
                self.refuse(response, dpop_key.as_ref(), shared).await;
                Err(error)
            }
        }
    }

    /// A token answer that was refused: its tokens are never used, so they must not stay live. So is
    /// its device secret, unless it is `shared` (the group's, sent back as it was: revoking it would
    /// sign every app of the group out).
    pub(crate) async fn refuse(
        &self,
        response: &TokenAnswer,
        dpop_key: Option<&DpopKey>,
        shared: Option<&crate::sso::DeviceSecret>,
    ) {
        let key = dpop_key.filter(|_| {
            TokenType::from_token_type(response.token_type().as_ref()) == Some(TokenType::DPoP)
        });
        self.revoke_quietly(response.access_token(), response.refresh_token(), key)
            .await;
        if let Some(secret) = &response.extra_fields().extra_fields().device_secret {
            if Some(secret) != shared {
                self.revoke_device_secret_quietly(secret).await;
            }
        }
    }

    /// The session of a checked sign-in answer (`checked`: its ID token and claims).
    pub(crate) fn session_from(
        &self,
        response: &TokenAnswer,
        (id_token, claims): (CoreIdToken, openidconnect::core::CoreIdTokenClaims),
        nonce: Option<Nonce>,
        asked_scopes: Vec<openidconnect::Scope>,
        dpop_key: Option<DpopKey>,
    ) -> Result<Session> {
        let now = Utc::now();
        Ok(Session {
            issuer: self.config.issuer().clone(),
            client_id: self.config.client_id().clone(),
            subject: claims.subject().clone(),
            access_token: response.access_token().clone(),
            issued_at: now,
            expires_at: expiry(response, now),
            refresh_token: response.refresh_token().cloned(),
            id_token: Some(Box::new(id_token)),
            nonce,
            post_logout_redirect_uri: self.config.post_logout_redirect_uri().cloned(),
            scopes: response.scopes().cloned().unwrap_or(asked_scopes),
            claims: json_map(&claims)?,
            profile: None,
            dpop_key,
            device_secret: response.extra_fields().extra_fields().device_secret.clone(),
            shared_secret: response
                .extra_fields()
                .extra_fields()
                .device_secret
                .as_ref()
                .map(crate::sso::DeviceSecret::fingerprint),
            unshared: None,
            sso_group: self.config.sso_group().map(str::to_string),
            later: Default::default(),
        })
    }

    /// The authorization response: the sign-in in progress it belongs to (taken from `pending`) and
    /// its code. A callback that matches no sign-in in progress is refused before anything else in
    /// it is read: it may be forged, and must not end a sign-in that is still waiting for its own.
    /// Then the RFC 9207 mix-up defence (`iss`), and the provider's `error`.
    async fn read_callback(
        &self,
        callback: impl IntoCallback,
        pending: &mut PendingAuthorizations,
    ) -> Result<(PendingAuthorization, String)> {
        let callback = callback.into_callback(&self.config)?;
        let state = callback
            .find("state", |value| pending.contains(value))
            .ok_or(Error::StateMismatch)?;
        let pending = pending.take(&state).ok_or(Error::StateMismatch)?;
        let params = callback.params()?;
        if pending.issuer.as_str() != self.config.issuer().as_str()
            || pending.client_id != *self.config.client_id()
        {
            return Err(Error::StateMismatch);
        }
        if pending.is_expired(Utc::now()) {
            return Err(Error::AuthorizationExpired);
        }
        let discovered = self.discovered().await?;
        match params.get("iss") {
            Some(iss) if iss != self.config.issuer().as_str() => {
                return Err(Error::IssuerMismatch {
                    expected: self.config.issuer().to_string(),
                    found: iss.clone(),
                })
            }
            None if discovered
                .provider
                .extra()
                .authorization_response_iss_parameter_supported =>
            {
                return Err(Error::IssuerMismatch {
                    expected: self.config.issuer().to_string(),
                    found: "(none)".into(),
                })
            }
            _ => {}
        }
        if let Some(code) = params.get("error") {
            return Err(Error::Authorization {
                code: code.clone(),
                description: params.get("error_description").cloned(),
            });
        }
        let code = params
            .get("code")
            .ok_or_else(|| Error::protocol("the callback has neither a code nor an error"))?;
        Ok((pending, code.clone()))
    }

    /// The checks of a sign-in's token answer (a code exchange, a device grant): the token type asked
    /// for (`dpop`: bound to a key), and a valid ID token (its `nonce` as the rule says, and `at_hash`
    /// of the access token). What a sign-in asked for is checked after, by [`check_asked`].
    pub(crate) async fn check_code_answer(
        &self,
        provider: &Provider,
        response: &TokenAnswer,
        dpop: bool,
        nonce: NonceRule<'_>,
    ) -> Result<(CoreIdToken, openidconnect::core::CoreIdTokenClaims)> {
        check_token_type(response.token_type().as_ref(), dpop)?;
        let id_token = response
            .id_token()
            .ok_or_else(|| Error::InvalidIdToken("the token response has no ID token".into()))?;
        let claims = self
            .validator
            .validate(
                provider,
                &self.http,
                id_token,
                nonce,
                Hashed {
                    access_token: Some(response.access_token()),
                    device_secret: response
                        .extra_fields()
                        .extra_fields()
                        .device_secret
                        .as_ref(),
                },
            )
            .await?;
        Ok((id_token.clone(), claims))
    }

    /// Loads the session's profile from userinfo; its `sub` must equal the ID token's (OIDC Core
    /// §5.3.2), else [`Error::InvalidUserinfo`]. `None` when the provider has no userinfo endpoint.
    pub async fn userinfo(&self, session: &Session) -> Result<Option<Map<String, Value>>> {
        let discovered = self.discovered().await?;
        let Ok(request) = discovered
            .client
            .user_info(session.access_token.clone(), Some(session.subject.clone()))
        else {
            return Ok(None); // the provider has no userinfo endpoint
        };
        let answer = request
            .request_async(&self.transport(session.dpop_key.as_ref(), true))
            .await;
        read_userinfo(answer).map(Some)
    }

    /// Uses the refresh token and checks the answer: [`OidcClient::refresh_tokens`], then
    /// [`OidcClient::check_refresh`]. An app that keeps the session should save the answer between the
    /// two, as [`crate::Auth`] does: once the provider has answered, the old refresh token is used up.
    pub async fn refresh(&self, session: &Session) -> Result<Session> {
        let answer = self.refresh_tokens(session).await?;
        self.check_refresh(session, answer).await
    }

    /// The token request of a refresh, its answer not yet checked (see [`RefreshAnswer`]): the session
    /// with the new access token, expiry and scopes, and the rotated refresh token when the provider
    /// rotates it. `invalid_grant` becomes [`Error::SessionExpired`].
    pub async fn refresh_tokens(&self, session: &Session) -> Result<RefreshAnswer> {
        let refresh_token = session
            .refresh_token
            .as_ref()
            .ok_or_else(|| Error::SessionExpired("the session has no refresh token".into()))?;
        let discovered = self.discovered().await?;
        let exchange = discovered
            .client
            .exchange_refresh_token(refresh_token)
            .map_err(|e| Error::protocol(e.to_string()))?;
        let response = exchange
            .request_async(&self.transport(session.dpop_key.as_ref(), false))
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r)
                    if *r.error() == CoreErrorResponseType::InvalidGrant =>
                {
                    Error::SessionExpired(
                        r.error_description()
                            .cloned()
                            .unwrap_or_else(|| "the refresh token was refused".into()),
                    )
                }
                other => token_error(other),
            })?;

        let now = Utc::now();
        let mut next = session.clone();
        next.access_token = response.access_token().clone();
        next.issued_at = now;
        next.expires_at = expiry(&response, now);
        if let Some(rotated) = response.refresh_token() {
            next.refresh_token = Some(rotated.clone());
        }
        if let Some(scopes) = response.scopes() {
            next.scopes = scopes.clone();
        }
        // Native SSO: a provider may rotate the device secret (Native SSO 1.0 §3.4), or send the
        // same one back (nothing to do). The other apps can only use a new one with the ID token
        // that names it (`ds_hash`), so it is taken (on its way to the group's share, see `Auth`)
        // when an ID token came with it, and checked with that ID token; alone, it is ignored, not
        // revoked: revoking a device secret ends every sign-in made with it (this app's too, at
        // Okta and dev/idp), and nothing here is wrong with the answer, only incomplete.
        let rotated = response
            .extra_fields()
            .extra_fields()
            .device_secret
            .clone()
            .filter(|secret| Some(secret.fingerprint()) != session.shared_secret);
        let device_secret = match (rotated, response.id_token()) {
            (Some(secret), Some(_)) => Some(secret),
            (Some(_), None) => {
                tracing::warn!(
                    "the refresh answered a new device secret with no ID token; it is ignored"
                );
                None
            }
            (None, _) => None,
        };
        next.device_secret = device_secret.clone();
        Ok(RefreshAnswer {
            session: next,
            id_token: response.id_token().cloned(),
            device_secret,
            token_type: response.token_type().as_ref().to_string(),
        })
    }

    /// Checks a refresh's answer: its token type must be the session's (`DPoP` for a DPoP-bound
    /// session), and its ID token, if any, must be valid (OIDC Core §12.2): fully, as at sign-in, with
    /// the nonce absent or the original one, and the issuer, subject, audience and `auth_time` of
    /// `before`; with a new device secret, its `ds_hash`. Returns the session to use; on an error
    /// none of the answer's tokens may be used.
    pub async fn check_refresh(&self, before: &Session, answer: RefreshAnswer) -> Result<Session> {
        check_token_type(&answer.token_type, before.dpop_key.is_some())?;
        let mut next = answer.session;
        if let Some(id_token) = answer.id_token {
            let hashed = Hashed {
                access_token: Some(&next.access_token),
                device_secret: answer.device_secret.as_ref(),
            };
            next.claims = self
                .check_refreshed_id_token(before, &id_token, hashed)
                .await?;
            next.id_token = Some(Box::new(id_token));
            if let Some(secret) = &answer.device_secret {
                next.shared_secret = Some(secret.fingerprint());
                if next.unshared.is_some() {
                    // Not shared yet: the rotated secret (the old one is spent) waits in its place.
                    next.unshared = crate::sso::SsoItem::of(&next).map(Box::new);
                }
            }
        }
        Ok(next)
    }

    async fn check_refreshed_id_token(
        &self,
        before: &Session,
        id_token: &CoreIdToken,
        hashed: Hashed<'_>,
    ) -> Result<Map<String, Value>> {
        let provider = self.provider().await?;
        let claims = self
            .validator
            .validate(
                &provider,
                &self.http,
                id_token,
                NonceRule::AbsentOrEquals(before.nonce.as_ref()),
                hashed,
            )
            .await
            .and_then(|claims| json_map(&claims))?;
        for name in ["iss", "sub", "aud", "auth_time"] {
            if let (Some(old), Some(new)) = (before.claims.get(name), claims.get(name)) {
                if !same_claim(old, new) {
                    return Err(Error::InvalidIdToken(format!(
                        "the refreshed ID token changed `{name}`"
                    )));
                }
            }
        }
        Ok(claims)
    }

    /// Revokes tokens that will not be used (a refused answer), logging a failure: best effort.
    pub(crate) async fn revoke_quietly(
        &self,
        access_token: &AccessToken,
        refresh_token: Option<&RefreshToken>,
        key: Option<&DpopKey>,
    ) {
        if let Err(error) = self.revoke_tokens(access_token, refresh_token, key).await {
            tracing::warn!(%error, "could not revoke the refused tokens");
        }
    }

    /// Revokes the refresh token, then the access token (RFC 7009). Returns false when the provider
    /// has no revocation endpoint.
    ///
    /// `oauth2` refuses a revocation endpoint that is not https, which rules out a loopback identity
    /// provider; the configuration already allows plain http on loopback only, so the (one-form)
    /// RFC 7009 request is sent here.
    pub async fn revoke(&self, session: &Session) -> Result<bool> {
        self.revoke_tokens(
            &session.access_token,
            session.refresh_token.as_ref(),
            session.dpop_key.as_ref(),
        )
        .await
    }

    /// Revokes `refresh_token`, then `access_token`, with proofs of `key` for DPoP-bound tokens.
    async fn revoke_tokens(
        &self,
        access_token: &AccessToken,
        refresh_token: Option<&RefreshToken>,
        key: Option<&DpopKey>,
    ) -> Result<bool> {
        let provider = self.provider().await?;
        let Some(url) = provider.extra().revocation_endpoint.clone() else {
            return Ok(false);
        };
        let mut tokens = Vec::new();
        if let Some(refresh_token) = refresh_token {
            tokens.push((refresh_token.secret(), "refresh_token"));
        }
        tokens.push((access_token.secret(), "access_token"));
        for (token, hint) in tokens {
            self.post_form(
                url.url(),
                &[
                    ("token", token),
                    ("token_type_hint", hint),
                    ("client_id", self.config.client_id().as_str()),
                ],
                key,
                "the revocation",
            )
            .await?;
        }
        Ok(true)
    }

    /// POSTs a form (with proofs of `key`, for DPoP-bound tokens) to an endpoint this crate sends
    /// hand-made requests to (revocation, the token exchange): the answer when it is a success, else
    /// the provider's OAuth error, or a `protocol` error naming `what` and the HTTP status.
    pub(crate) async fn post_form(
        &self,
        url: &Url,
        fields: &[(&str, &str)],
        key: Option<&DpopKey>,
        what: &str,
    ) -> Result<http::Response<Vec<u8>>> {
        let request = crate::http::form_post(url, fields)
            .map_err(|e| Error::protocol(format!("cannot build {what} request: {e}")))?;
        let response = self.transport(key, false).call(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        if response.status().is_server_error() || response.status().as_u16() == 429 {
            return Err(HttpError::Unavailable(response.status().as_u16()).into());
        }
        let error: Option<StandardErrorResponse<CoreErrorResponseType>> =
            serde_json::from_slice(response.body()).ok();
        Err(match error {
            Some(error) => Error::Authorization {
                code: error.error().to_string(),
                description: error.error_description().cloned(),
            },
            None => Error::protocol(format!("{what} answered HTTP {}", response.status())),
        })
    }

    /// The end-session URL (`id_token_hint`, `post_logout_redirect_uri`, `state`), when the provider
    /// supports RP-initiated logout. The redirect is `redirect` when given (a loopback listener's
    /// exact URI), else the one the session was signed in with, else the configured one.
    pub async fn end_session_request(
        &self,
        session: &Session,
        redirect: Option<&Url>,
    ) -> Result<Option<EndSessionRequest>> {
        let provider = self.provider().await?;
        let Some(endpoint) = provider.extra().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let state = CsrfToken::new_random();
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(self.config.client_id().clone())
            .set_state(state.clone());
        if let Some(id_token) = &session.id_token {
            request = request.set_id_token_hint(id_token);
        }
        let redirect = match redirect {
            Some(url) => Some(url.clone()),
            None => session
                .post_logout_redirect_uri
                .as_ref()
                .or(self.config.post_logout_redirect_uri())
                .map(|u| u.url().clone()),
        };
        if let Some(url) = &redirect {
            request =
                request.set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(url.clone()));
        }
        Ok(Some(EndSessionRequest {
            url: request.http_get_url(),
            state: state.secret().clone(),
            redirect,
        }))
    }
}

impl EndSessionRequest {
    /// Checks that a logout callback is for this request's logout redirect URI and carries its `state`.
    pub fn check_callback(&self, callback: &str) -> Result<()> {
        let expected = self
            .redirect
            .as_ref()
            .ok_or_else(|| Error::config("this sign-out has no logout redirect URI"))?;
        let params = Callback::parse_for(callback, expected, "logout redirect URI")?.params()?;
        match params.get("state") {
            Some(state) if *state == self.state => Ok(()),
            _ => Err(Error::StateMismatch),
        }
    }
}

/// The token type must be `DPoP` when the request carried a proof (RFC 9449 §5), `Bearer` otherwise.
pub(crate) fn check_token_type(found: &str, dpop: bool) -> Result<()> {
    let expected = TokenType::bound_to_a_key(dpop);
    if TokenType::from_token_type(found) == Some(expected) {
        return Ok(());
    }
    Err(Error::protocol(format!(
        "the identity provider answered with the token type `{found}`, not `{expected}`; its tokens \
         were refused and revoked"
    )))
}

/// `lifetime` after `now`; `None` past the last date there is (a lifetime from a hostile or broken
/// provider can be): never a panic.
pub(crate) fn later(
    now: chrono::DateTime<Utc>,
    lifetime: std::time::Duration,
) -> Option<chrono::DateTime<Utc>> {
    chrono::Duration::from_std(lifetime)
        .ok()
        .and_then(|lifetime| now.checked_add_signed(lifetime))
}

/// When the access token expires, by the answer's `expires_in`: the latest date there is when it
/// lies past it.
pub(crate) fn expiry(
    response: &TokenAnswer,
    now: chrono::DateTime<Utc>,
) -> Option<chrono::DateTime<Utc>> {
    let lifetime = response.expires_in()?;
    Some(later(now, lifetime).unwrap_or(chrono::DateTime::<Utc>::MAX_UTC))
}

fn json_map(value: &impl serde::Serialize) -> Result<Map<String, Value>> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::protocol("claims are not a JSON object")),
    }
}

fn same_claim(old: &Value, new: &Value) -> bool {
    // `aud` may be a string or a one-element array.
    let as_set = |v: &Value| -> Vec<String> {
        let mut list: Vec<String> = match v {
            Value::Array(items) => items.iter().map(|i| i.to_string()).collect(),
            other => vec![other.to_string()],
        };
        list.sort();
        list
    };
    as_set(old) == as_set(new)
}

pub(crate) fn token_error<T>(error: RequestTokenError<HttpError, StandardErrorResponse<T>>) -> Error
where
    T: openidconnect::ErrorResponseType + std::fmt::Display + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => Error::Authorization {
            code: response.error().to_string(),
            description: response.error_description().cloned(),
        },
        RequestTokenError::Request(http) => http.into(),
        RequestTokenError::Parse(e, _) => Error::protocol(format!(
            "the identity provider's answer could not be read (at `{}`)",
            e.path()
        )),
        RequestTokenError::Other(message) => Error::protocol(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expires_in_no_date_can_hold_is_the_latest_date_not_a_panic() {
        // Found by the `token_response` fuzz target: 355555555565050 s is past year 262143.
        let answer = |expires_in: u64| -> TokenAnswer {
            serde_json::from_value(serde_json::json!({
                "access_token": "at", "token_type": "Bearer", "expires_in": expires_in,
            }))
            .unwrap()
        };
        let now = Utc::now();
        assert_eq!(
            expiry(&answer(355_555_555_565_050), now),
            Some(chrono::DateTime::<Utc>::MAX_UTC)
        );
        assert_eq!(
            expiry(&answer(u64::MAX), now),
            Some(chrono::DateTime::<Utc>::MAX_UTC)
        );
        assert_eq!(
            expiry(&answer(3600), now),
            Some(now + chrono::Duration::seconds(3600))
        );
    }

    #[test]
    fn debug_output_never_shows_the_id_token_hint() {
        let request = EndSessionRequest {
            url: Url::parse(
                "https://idp.example.com/v1/logout?id_token_hint=eyJhbGciOi.secret.sig&state=s1",
            )
            .unwrap(),
            state: "s1".into(),
            redirect: None,
        };
        let sign_out = crate::SignOut {
            end_session: Some(request.clone()),
            error: None,
            erase_error: None,
        };
        for shown in [
            format!("{request:?}"),
            format!("{sign_out:?}"),
            format!("{sign_out:#?}"),
        ] {
            assert!(!shown.contains("eyJhbGciOi"), "{shown}");
            assert!(!shown.contains("id_token_hint"), "{shown}");
            assert!(
                shown.contains("https://idp.example.com/v1/logout"),
                "{shown}"
            );
        }
    }
}
