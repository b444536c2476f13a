//! The one HTTP client every request of the engine goes through.
//!
//! Redirects are never followed (a token endpoint that redirects is an SSRF or mix-up risk, RFC 9700),
//! connections and whole requests time out, and 5xx / 429 answers become a transient error before any
//! protocol parsing, so a busy identity provider is never mistaken for a refused session. Answers
//! are read up to [`MAX_PROVIDER_BODY`] ([`read_limited`], also used for API answers by the plugin).

use std::{future::Future, pin::Pin, time::Duration};

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

use crate::error::{Error, Result};

/// A `POST` of `fields` as an HTML form to `url`, asking for JSON: the request of every endpoint the
/// engine writes by hand (pushed authorization requests, revocation, the token exchange).
pub(crate) fn form_post(url: &url::Url, fields: &[(&str, &str)]) -> http::Result<HttpRequest> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    http::Request::post(url.as_str())
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::ACCEPT, "application/json")
        .body(body.into_bytes())
}

/// Timeouts of [`HttpClient::new`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole request, including reading the body.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A `reqwest` client with redirects disabled and timeouts, usable by `openidconnect`.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
}

/// Why an HTTP exchange failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum HttpError {
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("{0}")]
    Transport(String),
    /// The server answered 5xx or 429: try again later.
    #[error("the server answered HTTP {0}")]
    Unavailable(u16),
    /// The request or response could not be converted.
    #[error("{0}")]
    Other(String),
}

impl HttpClient {
    /// The default client: no redirects, [`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`].
    pub fn new() -> Result<Self> {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("native-oidc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::config(format!("cannot set up HTTP: {e}")))?;
        Ok(Self { inner })
    }

    /// Uses a client you built; keep redirects disabled.
    pub fn from_reqwest(inner: reqwest::Client) -> Self {
        Self { inner }
    }

    /// The underlying `reqwest` client (for authorized requests to APIs).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }
}

/// Describes a transport failure without the URL's query (which could carry secrets) or bodies.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match error.url() {
        Some(url) => format!(
            "{what}: {}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        None => what.to_string(),
    }
}

/// The future of one exchange, as `openidconnect`'s [`AsyncHttpClient`] takes it (this client's, and
/// the ones that wrap it).
pub(crate) type Exchange<'c> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + Sync + 'c>>;

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Exchange<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request: reqwest::Request = request
                .try_into()
                .map_err(|e: reqwest::Error| HttpError::Other(describe(&e)))?;
            let response = self
                .inner
                .execute(request)
                .await
                .map_err(|e| HttpError::Transport(describe(&e)))?;
            let status = response.status();
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(HttpError::Unavailable(status.as_u16()));
            }
            let mut builder = http::Response::builder().status(status);
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = read_limited(response, MAX_PROVIDER_BODY)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge => HttpError::Other(format!(
                        "the identity provider's answer is larger than {} KiB; it was not read",
                        MAX_PROVIDER_BODY / 1024
                    )),
                    BodyError::Read(e) => HttpError::Transport(describe(&e)),
                })?;
            builder
                .body(body)
                .map_err(|e| HttpError::Other(e.to_string()))
        })
    }
}

/// The largest answer read from the identity provider (discovery, keys, tokens, userinfo): far
/// above any real one, and a provider sending more cannot run the app out of memory.
pub const MAX_PROVIDER_BODY: usize = 1024 * 1024;

/// Why [`read_limited`] returned no body.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is longer than the limit: it was not read to the end.
    #[error("the answer is too large; it was not read")]
    TooLarge,
    /// The body could not be read.
    #[error("{}", describe(.0))]
    Read(reqwest::Error),
}

/// Reads a response body of at most `limit` bytes; a larger one is [`BodyError::TooLarge`], never
/// read whole.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl From<HttpError> for Error {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Transport(message) => {
                Error::Network(format!("cannot reach the identity provider ({message})"))
            }
            HttpError::Unavailable(status) => Error::Network(format!(
                "the identity provider is unavailable (HTTP {status}); try again later"
            )),
            HttpError::Other(message) => Error::protocol(message),
        }
    }
}
