//! The API's public URL: the address clients call it at (scheme, host, port, and a path prefix when a
//! proxy serves it under one), the base of the URL every DPoP proof's `htu` must name.
//!
//! It is a setting of the server (`PUBLIC_URL`), never read from a request: a request's `Host` header is
//! whatever the client chose to send, and behind a TLS-terminating proxy the scheme the server sees is
//! not the one the client used.

use std::{fmt, net::SocketAddr, str::FromStr};

use reqwest::Url;

/// The API's public URL: `http` or `https`, a host, no credentials, query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(Url);

/// Why a public URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the public URL {url:?} {why}")]
pub struct PublicUrlError {
    url: String,
    why: &'static str,
}

impl PublicUrl {
    /// The URL of a server listening on `address`, called at that address over plain http.
    pub fn for_address(address: SocketAddr) -> Self {
        Self(Url::parse(&format!("http://{address}/")).expect("a socket address is a valid host"))
    }

    /// The URL a request for `path` (absolute, no query) is addressed to, as a proof's `htu` must
    /// name it.
    pub fn resource(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let prefix = self.0.path().trim_end_matches('/');
        url.set_path(&format!("{prefix}/{}", path.trim_start_matches('/')));
        url
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl FromStr for PublicUrl {
    type Err = PublicUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = |why| PublicUrlError {
            url: text.to_string(),
            why,
        };
        let url = Url::parse(text).map_err(|_| refuse("is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("is neither http nor https"));
        }
        if url.host().is_none() {
            return Err(refuse("has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("holds credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(refuse("has a query or a fragment"));
        }
        Ok(Self(url))
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_under_the_public_url() {
        let root: PublicUrl = "https://API.example.com".parse().unwrap();
        assert_eq!(
            root.resource("/api/messages").as_str(),
            "https://api.example.com/api/messages"
        );
        let prefixed: PublicUrl = "https://example.com:443/demo/".parse().unwrap();
        assert_eq!(
            prefixed.resource("/api/whoami").as_str(),
            "https://example.com/demo/api/whoami"
        );
        let local = PublicUrl::for_address("127.0.0.1:9001".parse().unwrap());
        assert_eq!(
            local.resource("/api/whoami").as_str(),
            "http://127.0.0.1:9001/api/whoami"
        );
    }

    #[test]
    fn only_plain_http_or_https_urls_are_public_urls() {
        for bad in [
            "api.example.com",
            "ftp://api.example.com/",
            "https://user:pw@api.example.com/",
            "https://api.example.com/?a=1",
            "https://api.example.com/#top",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
    }
}
