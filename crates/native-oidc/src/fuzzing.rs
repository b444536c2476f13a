//! Entry points for the fuzz targets (`crates/fuzz`), behind the cargo feature `fuzzing`: thin
//! wrappers that hand outside input to the crate's own parsers, the ones that are not public. Nothing
//! here is a parser of its own, and nothing here is for an app to use.

use std::{collections::HashMap, str::FromStr, sync::OnceLock, time::Duration};

use openidconnect::{
    core::{CoreErrorResponseType, CoreIdToken, CoreIdTokenClaims},
    AccessToken, ClientId, Nonce, OAuth2TokenResponse, RequestTokenError, StandardErrorResponse,
    TokenResponse,
};
use tokio::sync::RwLock;
use url::Url;

use crate::{
    error::{Error, Result},
    http::HttpError,
    id_token::{IdTokenValidator, NonceRule},
    jwk::KeySet,
    provider::{Metadata, Provider},
};

/// The app's redirect URI, as the targets configure it.
pub const REDIRECT_URI: &str = "com.okta.example:/callback";

/// A callback URL as a sign-in reads it: for [`REDIRECT_URI`], then its parameters, each once.
pub fn callback(input: &str) -> Result<HashMap<String, String>> {
    static EXPECTED: OnceLock<Url> = OnceLock::new();
    let expected = EXPECTED.get_or_init(|| Url::parse(REDIRECT_URI).expect("the redirect URI"));
    crate::callback::Callback::parse_for(input, expected, "redirect URI")?.params()
}

/// The stored list of accounts, read as [`crate::Accounts`] reads it: `None` when it is not one;
/// else it serialised again and the slot of each account it names.
pub fn accounts(bytes: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    crate::accounts::registry_round_trip(bytes)
}

/// The Native SSO share as [`crate::SsoShare`] reads it: `None` when it is not one.
pub fn sso_share(bytes: &[u8]) -> Option<crate::sso::SharedRead> {
    crate::sso::share_round_trip(bytes)
}

/// The parts of a token endpoint's success answer the client reads.
#[derive(Debug)]
pub struct TokenAnswer {
    /// The access token.
    pub access_token: String,
    /// The refresh token, if any.
    pub refresh_token: Option<String>,
    /// The ID token as sent, if any.
    pub id_token: Option<String>,
    /// Whether `expires_in` gave an expiry.
    pub expires: bool,
}

/// A token endpoint's success answer, read as the client reads it (`openidconnect`'s parse of the JSON,
/// the ID token's structure included), then its token type checked for a request with or without
/// DPoP.
pub fn token_response(body: &[u8], dpop: bool) -> Result<TokenAnswer> {
    let response: crate::client::TokenAnswer = serde_json::from_slice(body)
        .map_err(|_| Error::protocol("the identity provider's answer could not be read"))?;
    crate::client::check_token_type(response.token_type().as_ref(), dpop)?;
    Ok(TokenAnswer {
        access_token: response.access_token().secret().clone(),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        id_token: response.id_token().map(ToString::to_string),
        expires: crate::client::expiry(&response, chrono::Utc::now()).is_some(),
    })
}

/// A device authorization answer (RFC 8628 §3.2) as [`crate::OidcClient::begin_device_sign_in`]
/// reads and checks it: the URL to show, the poll interval and the code's lifetime, or why it was
/// refused.
pub fn device_authorization(body: &[u8]) -> Result<(Url, Duration, Duration)> {
    let answer: openidconnect::core::CoreDeviceAuthorizationResponse = serde_json::from_slice(body)
        .map_err(|_| Error::protocol("the identity provider's answer could not be read"))?;
    let checked = crate::device::check_answer(&answer, chrono::Utc::now())?;
    Ok((
        checked.verification_uri,
        answer.interval(),
        answer.expires_in(),
    ))
}

/// A discovery document as [`crate::Provider::discover`] reads and checks it for `issuer`: accepted,
/// or why it was refused.
pub fn discovery(body: &[u8], issuer: &str) -> Result<()> {
    let issuer = openidconnect::IssuerUrl::new(issuer.to_string())
        .map_err(|e| Error::config(e.to_string()))?;
    crate::provider::read_document(body, &issuer).map(drop)
}

/// A userinfo answer (JSON) as [`crate::OidcClient::userinfo`] reads it for the user
/// `subject`: the profile, or why it was refused.
pub fn userinfo(body: &[u8], subject: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let subject = openidconnect::SubjectIdentifier::new(subject.to_string());
    crate::client::read_userinfo(openidconnect::UserInfoClaims::from_json(
        body,
        Some(&subject),
    ))
}

/// A token endpoint's error answer, as the error the client reports for it.
pub fn token_error_response(body: &[u8]) -> Option<Error> {
    let response: StandardErrorResponse<CoreErrorResponseType> =
        serde_json::from_slice(body).ok()?;
    Some(crate::client::token_error::<CoreErrorResponseType>(
        RequestTokenError::<HttpError, _>::ServerResponse(response),
    ))
}

/// ID token validation against a fixed provider (its discovery document and key set, as JSON).
pub struct IdTokens {
    provider: Provider,
    validator: IdTokenValidator,
}

impl IdTokens {
    /// A validator for `client_id` at the provider of `discovery`, holding the keys of `jwks`.
    pub fn new(discovery: &[u8], jwks: &[u8], client_id: &str) -> Option<Self> {
        let metadata: Metadata = serde_json::from_slice(discovery).ok()?;
        let keys: KeySet = serde_json::from_slice(jwks).ok()?;
        Some(Self {
            provider: Provider {
                metadata,
                keys: RwLock::new(keys),
            },
            validator: IdTokenValidator::new(
                ClientId::new(client_id.to_string()),
                Duration::from_secs(60),
            ),
        })
    }

    /// Validates `id_token` (compact JWT text) from a sign-in with `nonce`, issued with
    /// `access_token`.
    pub fn validate(
        &self,
        id_token: &str,
        nonce: &str,
        access_token: Option<&str>,
    ) -> Result<CoreIdTokenClaims> {
        let token = CoreIdToken::from_str(id_token)
            .map_err(|e| Error::InvalidIdToken(format!("not a JWT: {e}")))?;
        let keys = self
            .provider
            .keys
            .try_read()
            .map(|keys| keys.clone())
            .unwrap_or_default();
        let nonce = Nonce::new(nonce.to_string());
        let access_token = access_token.map(|t| AccessToken::new(t.to_string()));
        self.validator
            .validate_with(
                &self.provider,
                keys,
                &token,
                NonceRule::Equals(&nonce),
                access_token.as_ref().into(),
            )
            .map_err(crate::id_token::invalid)
    }
}

/// Whether an API's answer with these `WWW-Authenticate` headers asks for a new access token of
/// `scheme` (the client then refreshes and retries once).
pub fn asks_for_a_new_token(headers: &http::HeaderMap, scheme: &str) -> bool {
    crate::challenge::asks_for_a_new_token(headers, scheme)
}

/// A keystore entry's head item, decoded and encoded again: `None` when it is not a head.
#[cfg(feature = "keystore")]
pub fn keystore_head(bytes: &[u8]) -> Option<Vec<u8>> {
    crate::store::keystore::Head::decode(bytes.to_vec()).map(|head| head.encode())
}
