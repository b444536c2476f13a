//! A signed-in user: tokens, when they expire, the granted scopes, ID token claims and profile.
//!
//! [`Session`] serialises (with its tokens) for a [`crate::SessionStore`]; its `Debug` and `Display`
//! never show a token. [`SessionSummary`] is the token-free view for a UI or a command line.

use std::{fmt, time::Duration};

use chrono::{DateTime, Utc};
use openidconnect::{
    core::CoreIdToken, AccessToken, ClientId, IssuerUrl, Nonce, PostLogoutRedirectUrl,
    RefreshToken, Scope, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Tokens and identity of a signed-in user.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub(crate) issuer: IssuerUrl,
    pub(crate) client_id: ClientId,
    pub(crate) subject: SubjectIdentifier,
    pub(crate) access_token: AccessToken,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) refresh_token: Option<RefreshToken>,
    /// Boxed, as `unshared`: a parsed ID token is large, and sessions are held in many futures.
    pub(crate) id_token: Option<Box<CoreIdToken>>,
    pub(crate) nonce: Option<Nonce>,
    /// Where sign-out sends the browser back, as configured at sign-in (so a command line that signs
    /// out later needs no configuration).
    #[serde(default)]
    pub(crate) post_logout_redirect_uri: Option<PostLogoutRedirectUrl>,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) claims: Map<String, Value>,
    pub(crate) profile: Option<Map<String, Value>>,
    /// The key the tokens are bound to (DPoP), kept with them; `None` for bearer tokens.
    #[serde(default)]
    pub(crate) dpop_key: Option<crate::dpop::DpopKey>,
    /// The Native SSO device secret of the sign-in (scope `device_sso`), on its way to the group's
    /// [`crate::SsoShare`]: kept there, not stored with the session (unless the share cannot take it:
    /// see `unshared`).
    #[serde(skip)]
    pub(crate) device_secret: Option<crate::sso::DeviceSecret>,
    /// Which of the group's shared sign-ins is this session's: the fingerprint of its device secret
    /// ([`crate::sso::DeviceSecret::fingerprint`], not the secret). A rotated secret replaces the
    /// share's item of this one.
    #[serde(default)]
    pub(crate) shared_secret: Option<String>,
    /// Native SSO: this sign-in's ID token and device secret when the group's share could not take
    /// them (it could not be written): kept with the session's tokens until it can (tried again at
    /// each refresh), and revoked when the session ends, as no other app holds them. Boxed, as
    /// `id_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) unshared: Option<Box<crate::sso::SsoItem>>,
    /// The Native SSO group the sign-in was made in (so a command line that refreshes or signs out
    /// of all apps later needs no configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sso_group: Option<String>,
    /// What a later version stored with the session, kept across refreshes.
    #[serde(flatten)]
    pub(crate) later: crate::store::LaterFields,
}

/// A token-free view of a [`Session`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionSummary {
    /// The account: issuer, client id and subject in one id ([`crate::AccountId`]).
    #[serde(default)]
    pub account: crate::AccountId,
    /// The issuer that signed the user in.
    pub issuer: String,
    /// The user's `sub`.
    pub subject: String,
    /// `name` from the profile or the ID token.
    pub name: Option<String>,
    /// `email` from the profile or the ID token.
    pub email: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// When the access token expires (RFC 3339), if the provider said.
    pub expires_at: Option<String>,
    /// Whether the session can be refreshed without the browser.
    pub has_refresh_token: bool,
    /// The validated ID token claims.
    pub claims: Map<String, Value>,
    /// The userinfo response.
    pub profile: Option<Map<String, Value>>,
    /// `DPoP` when the tokens are bound to this device's key, else `Bearer`.
    pub token_type: TokenType,
}

/// How an access token is presented to an API: as a bearer token (RFC 6750), or bound to a key
/// with a proof of possession (RFC 9449). Serialised as the `token_type` a provider sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenType {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: DPoP <token>` with a `DPoP` proof.
    DPoP,
}

impl TokenType {
    /// The name in `token_type` and in the `Authorization` scheme: `Bearer` or `DPoP`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
        }
    }

    /// `DPoP` for tokens bound to a key, else `Bearer`.
    pub fn bound_to_a_key(bound: bool) -> TokenType {
        if bound {
            TokenType::DPoP
        } else {
            TokenType::Bearer
        }
    }

    /// The type a provider's `token_type` names (compared without case: RFC 6749 §5.1); `None` for
    /// any other.
    pub fn from_token_type(token_type: &str) -> Option<TokenType> {
        [TokenType::Bearer, TokenType::DPoP]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(token_type))
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Session {
    /// The account this session is of (issuer, client id and subject).
    pub fn account(&self) -> crate::AccountId {
        crate::AccountId::of(&self.issuer, &self.client_id, &self.subject)
    }

    /// The issuer that signed the user in.
    pub fn issuer(&self) -> &IssuerUrl {
        &self.issuer
    }

    /// The client the tokens were issued to.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The user's `sub` (equal in the ID token and at userinfo).
    pub fn subject(&self) -> &SubjectIdentifier {
        &self.subject
    }

    /// The access token, for an `Authorization: Bearer` header.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// `DPoP` when the tokens are bound to this session's key, else `Bearer`.
    pub fn token_type(&self) -> TokenType {
        TokenType::bound_to_a_key(self.dpop_key.is_some())
    }

    /// The key the tokens are bound to (DPoP).
    pub fn dpop_key(&self) -> Option<&crate::dpop::DpopKey> {
        self.dpop_key.as_ref()
    }

    /// The refresh token, when `offline_access` was granted.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// Where sign-out sends the browser back, as configured at sign-in.
    pub fn post_logout_redirect_uri(&self) -> Option<&PostLogoutRedirectUrl> {
        self.post_logout_redirect_uri.as_ref()
    }

    /// The Native SSO group the sign-in was made in, if any.
    pub fn sso_group(&self) -> Option<&str> {
        self.sso_group.as_deref()
    }

    /// The last ID token (hint for sign-out).
    pub fn id_token(&self) -> Option<&CoreIdToken> {
        self.id_token.as_deref()
    }

    /// When the access token expires, if the provider said.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// The validated ID token claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The userinfo response.
    pub fn profile(&self) -> Option<&Map<String, Value>> {
        self.profile.as_ref()
    }

    fn claim(&self, name: &str) -> Option<String> {
        self.profile
            .as_ref()
            .and_then(|p| p.get(name))
            .or_else(|| self.claims.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The user's display name.
    pub fn name(&self) -> Option<String> {
        self.claim("name")
    }

    /// The user's email address.
    pub fn email(&self) -> Option<String> {
        self.claim("email")
    }

    /// True when the access token has expired or expires within the refresh margin:
    /// the smaller of `margin` and half the token's lifetime (so short-lived tokens are not
    /// refreshed forever).
    pub fn needs_refresh(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        let Some(expires_at) = self.expires_at else {
            return false;
        };
        let lifetime = (expires_at - self.issued_at).to_std().unwrap_or_default();
        let margin = margin.min(lifetime / 2);
        let margin = chrono::Duration::from_std(margin).unwrap_or_default();
        now.checked_add_signed(margin)
            .is_none_or(|soon| soon >= expires_at)
    }

    /// True when `other` is the same user at the same client and issuer.
    pub fn same_user(&self, other: &Session) -> bool {
        self.issuer.as_str() == other.issuer.as_str()
            && self.client_id == other.client_id
            && self.subject == other.subject
    }

    /// True when `other` holds tokens of the same grant: the same refresh token, or (without one) the
    /// same access token. A refresh that rotates the refresh token starts a new "grant" by this test;
    /// it serves to tell a copy from another sign-in, on values read under the store's lock.
    pub fn same_grant(&self, other: &Session) -> bool {
        match (&self.refresh_token, &other.refresh_token) {
            (Some(a), Some(b)) => a.secret() == b.secret(),
            _ => self.access_token.secret() == other.access_token.secret(),
        }
    }

    /// True when this copy was issued after `other` (a later sign-in or refresh).
    pub fn is_newer_than(&self, other: &Session) -> bool {
        self.issued_at > other.issued_at
    }

    /// True when `other` is this very copy: the same grant, issued at the same moment.
    pub fn same_tokens(&self, other: &Session) -> bool {
        self.same_grant(other) && self.issued_at == other.issued_at
    }

    /// The token-free view.
    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            account: self.account(),
            issuer: self.issuer.to_string(),
            subject: self.subject.to_string(),
            name: self.name(),
            email: self.email(),
            scopes: self.scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: self
                .expires_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            has_refresh_token: self.refresh_token.is_some(),
            claims: self.claims.clone(),
            profile: self.profile.clone(),
            token_type: self.token_type(),
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("subject", &self.subject)
            .field("access_token", &"[redacted]")
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("dpop_key", &self.dpop_key)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.name().unwrap_or_else(|| self.subject.to_string())
        )?;
        if let Some(email) = self.email() {
            write!(f, " <{email}>")?;
        }
        write!(f, " at {}", self.issuer.as_str())?;
        if let Some(expires_at) = self.expires_at {
            write!(f, ", access token until {}", expires_at.to_rfc3339())?;
        }
        Ok(())
    }
}
