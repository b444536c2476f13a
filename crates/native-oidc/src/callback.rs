//! A URL the browser brought back to the app, made once: checked to be for one of the app's redirect
//! URIs (same scheme, host, port and path), then read for its parameters, each at most once (RFC 6749
//! §3.1). The app's deep-link routing makes a [`Callback`] when it recognises the redirect URI and
//! hands it to the sign-in as it is; a `&str` (the loopback listener's, a test's) is made into one by
//! the sign-in itself ([`IntoCallback`]).

use std::collections::HashMap;

use url::Url;

use crate::{
    config::Config,
    error::{Error, Result},
};

/// A sign-in callback: a URL for the app's redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    url: Url,
}

impl Callback {
    /// `url` when it is for `config`'s redirect URI.
    pub fn new(url: Url, config: &Config) -> Option<Self> {
        is_redirect_to(&url, config.redirect_uri().url()).then_some(Self { url })
    }

    /// The text of a URL for `config`'s redirect URI, as a callback; a `protocol` error otherwise.
    pub fn parse(text: &str, config: &Config) -> Result<Self> {
        Self::parse_for(text, config.redirect_uri().url(), "redirect URI")
    }

    /// The text of a URL for `expected` (the app's `what`).
    pub(crate) fn parse_for(text: &str, expected: &Url, what: &str) -> Result<Self> {
        let url =
            Url::parse(text.trim()).map_err(|_| Error::protocol("the callback is not a URL"))?;
        if !is_redirect_to(&url, expected) {
            return Err(Error::protocol(format!(
                "the callback is not for this app's {what} ({expected})"
            )));
        }
        Ok(Self { url })
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The first value of parameter `name` that `accept` takes (a repeated parameter is refused by
    /// [`Callback::params`]; this only finds, say, the `state` of a sign-in in progress).
    pub(crate) fn find(&self, name: &str, accept: impl Fn(&str) -> bool) -> Option<String> {
        self.url
            .query_pairs()
            .filter(|(n, _)| n == name)
            .find(|(_, value)| accept(value))
            .map(|(_, value)| value.into_owned())
    }

    /// The query parameters; a parameter given twice is refused (RFC 6749 §3.1).
    pub(crate) fn params(&self) -> Result<HashMap<String, String>> {
        let mut params = HashMap::new();
        for (name, value) in self.url.query_pairs() {
            if params.insert(name.to_string(), value.to_string()).is_some() {
                return Err(Error::protocol(format!(
                    "the callback repeats the parameter `{name}`"
                )));
            }
        }
        Ok(params)
    }
}

/// What a sign-in accepts as its callback: a [`Callback`] made by the app's link routing, or the text
/// of the URL, checked against the configuration here.
pub trait IntoCallback {
    /// The callback, for `config`'s redirect URI.
    fn into_callback(self, config: &Config) -> Result<Callback>;
}

impl IntoCallback for Callback {
    fn into_callback(self, config: &Config) -> Result<Callback> {
        Callback::new(self.url, config)
            .ok_or_else(|| Error::protocol("the callback is not for this app's redirect URI"))
    }
}

impl IntoCallback for &Callback {
    fn into_callback(self, config: &Config) -> Result<Callback> {
        self.clone().into_callback(config)
    }
}

impl IntoCallback for &str {
    fn into_callback(self, config: &Config) -> Result<Callback> {
        Callback::parse(self, config)
    }
}

impl IntoCallback for &String {
    fn into_callback(self, config: &Config) -> Result<Callback> {
        Callback::parse(self, config)
    }
}

/// True when `url` is `expected` without its query: same scheme, host, port and path.
pub fn is_redirect_to(url: &Url, expected: &Url) -> bool {
    url.scheme() == expected.scheme()
        && url.host_str() == expected.host_str()
        && url.port() == expected.port()
        && url.path() == expected.path()
}
