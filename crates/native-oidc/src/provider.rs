//! Discovery and the signing keys of the identity provider, fetched once and cached.
//!
//! The discovery document's `issuer` must equal the configured issuer exactly (OIDC Discovery §4.3),
//! every endpoint it names must be https (or http on loopback) before anything is sent to one, and the
//! key set is fetched again when an ID token names a key it does not hold (key rotation).

use openidconnect::{
    core::{
        CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
        CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
        CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    },
    AdditionalProviderMetadata, AsyncHttpClient, EndSessionUrl, IssuerUrl, JsonWebKeySet,
    ProviderMetadata, RevocationUrl,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::{
    config::is_https_or_loopback,
    error::{Error, Result},
    http::HttpClient,
    jwk::KeySet,
};

/// Discovery fields that OpenID Connect Core's metadata type leaves out but a native app needs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraMetadata {
    /// RFC 7009 token revocation.
    pub revocation_endpoint: Option<RevocationUrl>,
    /// RP-initiated logout.
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// RFC 9207: the authorization response always carries `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9126: where authorization requests are pushed (Okta: `/v1/par`).
    pub pushed_authorization_request_endpoint: Option<url::Url>,
    /// RFC 9126: the provider takes no authorization request that was not pushed.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 8628: where a device sign-in starts (Okta: `/v1/device/authorize`).
    pub device_authorization_endpoint: Option<url::Url>,
}
impl AdditionalProviderMetadata for ExtraMetadata {}

/// The discovery document.
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A discovered identity provider with its cached key set.
#[derive(Debug)]
pub struct Provider {
    pub(crate) metadata: Metadata,
    pub(crate) keys: RwLock<KeySet>,
}

impl Provider {
    /// Fetches `{issuer}/.well-known/openid-configuration` and the key set it names.
    pub async fn discover(issuer: &IssuerUrl, http: &HttpClient) -> Result<Self> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        );
        let request = http::Request::get(&url)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| Error::config(format!("bad discovery URL {url}: {e}")))?;
        let response = http.call(request).await?;
        if !response.status().is_success() {
            return Err(Error::protocol(format!(
                "discovery at {url} answered HTTP {}; is the issuer right?",
                response.status()
            )));
        }
        let metadata = read_document(&response.into_body(), issuer)?;
        let keys = fetch_keys(&metadata, http).await?;
        Ok(Self {
            metadata,
            keys: RwLock::new(keys),
        })
    }

    /// The discovery document.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The extra fields of the discovery document.
    pub fn extra(&self) -> &ExtraMetadata {
        self.metadata.additional_metadata()
    }

    /// The cached key set.
    pub async fn keys(&self) -> KeySet {
        self.keys.read().await.clone()
    }

    /// Fetches the key set again (a token named a key we do not hold) and returns it.
    pub async fn refresh_keys(&self, http: &HttpClient) -> Result<KeySet> {
        let keys = fetch_keys(&self.metadata, http).await?;
        *self.keys.write().await = keys.clone();
        tracing::info!(
            keys = keys.keys().len(),
            "fetched the identity provider's signing keys again"
        );
        Ok(keys)
    }

    /// The asymmetric signing algorithms discovery allows for ID tokens (RS256 when it names none).
    pub fn id_token_algorithms(&self) -> Vec<CoreJwsSigningAlgorithm> {
        let algs: Vec<_> = self
            .metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| {
                !matches!(
                    alg,
                    CoreJwsSigningAlgorithm::None
                        | CoreJwsSigningAlgorithm::HmacSha256
                        | CoreJwsSigningAlgorithm::HmacSha384
                        | CoreJwsSigningAlgorithm::HmacSha512
                )
            })
            .cloned()
            .collect();
        if algs.is_empty() {
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        } else {
            algs
        }
    }
}

/// A discovery document for `issuer`, checked: it must name `issuer` itself (OpenID Connect Discovery
/// §4.3), and every endpoint must be https or http on loopback ([`check_endpoints`]).
pub(crate) fn read_document(body: &[u8], issuer: &IssuerUrl) -> Result<Metadata> {
    let metadata: Metadata = serde_json::from_slice(body)
        .map_err(|e| Error::protocol(format!("discovery document is not valid: {e}")))?;
    if metadata.issuer() != issuer {
        return Err(Error::IssuerMismatch {
            expected: issuer.to_string(),
            found: metadata.issuer().to_string(),
        });
    }
    check_endpoints(&metadata)?;
    Ok(metadata)
}

/// Every endpoint discovery names must be https, or http on loopback (the issuer's rule): tokens, codes
/// and the user's browser go there.
fn check_endpoints(metadata: &Metadata) -> Result<()> {
    let extra = metadata.additional_metadata();
    let endpoints = [
        (
            "authorization_endpoint",
            Some(metadata.authorization_endpoint().url()),
        ),
        ("token_endpoint", metadata.token_endpoint().map(|u| u.url())),
        (
            "userinfo_endpoint",
            metadata.userinfo_endpoint().map(|u| u.url()),
        ),
        ("jwks_uri", Some(metadata.jwks_uri().url())),
        (
            "revocation_endpoint",
            extra.revocation_endpoint.as_ref().map(|u| u.url()),
        ),
        (
            "end_session_endpoint",
            extra.end_session_endpoint.as_ref().map(|u| u.url()),
        ),
        (
            "pushed_authorization_request_endpoint",
            extra.pushed_authorization_request_endpoint.as_ref(),
        ),
        (
            "device_authorization_endpoint",
            extra.device_authorization_endpoint.as_ref(),
        ),
    ];
    for (name, url) in endpoints {
        if let Some(url) = url.filter(|url| !is_https_or_loopback(url)) {
            return Err(Error::config(format!(
                "the identity provider's {name} `{}://{}` is neither https nor http on loopback; nothing is sent there",
                url.scheme(),
                url.host_str().unwrap_or_default()
            )));
        }
    }
    Ok(())
}

async fn fetch_keys(metadata: &Metadata, http: &HttpClient) -> Result<KeySet> {
    JsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
        .await
        .map_err(|e| match e {
            openidconnect::DiscoveryError::Request(inner) => inner.into(),
            other => Error::protocol(format!(
                "cannot use the identity provider's key set: {other}"
            )),
        })
}
