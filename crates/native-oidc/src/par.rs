//! Pushed Authorization Requests (RFC 9126): the authorization request is sent to the provider
//! first, over the back channel (with a DPoP proof when the sign-in uses DPoP, which binds the code to
//! the key: RFC 9449 §10.1), and the browser opens a URL with only `client_id` and the `request_uri`
//! the provider answered. Whether to push is [`Par`] against the provider's discovery.

use openidconnect::AsyncHttpClient;
use serde::Deserialize;
use url::Url;

use crate::{
    config::Par,
    dpop::DpopHttp,
    error::{Error, Result},
    http::HttpError,
    provider::ExtraMetadata,
};

/// Where to push, or `None` for a plain request: a `config` error when the setting and the
/// provider disagree (PAR forced on and no endpoint; forced off and the provider requires it).
pub(crate) fn endpoint(par: Par, extra: &ExtraMetadata) -> Result<Option<&Url>> {
    let endpoint = extra.pushed_authorization_request_endpoint.as_ref();
    match (par, endpoint) {
        (Par::Off, _) if extra.require_pushed_authorization_requests => Err(Error::config(
            "the identity provider requires pushed authorization requests \
             (require_pushed_authorization_requests), and the setting par is off: set it to auto",
        )),
        (Par::Off, _) => Ok(None),
        (Par::On, None) => Err(Error::config(
            "the setting par is on, but the identity provider has no \
             pushed_authorization_request_endpoint: set it to auto or off",
        )),
        (_, None) if extra.require_pushed_authorization_requests => Err(Error::protocol(
            "the identity provider requires pushed authorization requests but names no \
             pushed_authorization_request_endpoint",
        )),
        (_, endpoint) => Ok(endpoint),
    }
}

/// The provider's answer to a push.
#[derive(Deserialize)]
struct Pushed {
    request_uri: String,
}

#[derive(Deserialize)]
struct Refused {
    error: String,
    error_description: Option<String>,
}

/// Pushes the request parameters of `authorization_url` (those the authorization endpoint's own URL
/// does not carry) to `endpoint` through `transport`, and returns the URL for the browser: the
/// authorization endpoint as discovered (its own query kept, RFC 6749 §3.1) with `client_id` and
/// `request_uri`.
pub(crate) async fn push(
    transport: &DpopHttp<'_>,
    endpoint: &Url,
    authorization_endpoint: &Url,
    authorization_url: &Url,
) -> Result<Url> {
    let own: Vec<(String, String)> = authorization_endpoint.query_pairs().into_owned().collect();
    let params: Vec<(String, String)> = authorization_url
        .query_pairs()
        .into_owned()
        .filter(|pair| !own.contains(pair))
        .collect();
    let client_id = params
        .iter()
        .find(|(name, _)| name == "client_id")
        .map(|(_, value)| value.clone())
        .ok_or_else(|| Error::protocol("the authorization request has no client_id"))?;
    let fields: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let request = crate::http::form_post(endpoint, &fields)
        .map_err(|e| Error::config(format!("the pushed request could not be built: {e}")))?;
    let response = transport.call(request).await?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(HttpError::Unavailable(status.as_u16()).into());
    }
    if !status.is_success() {
        return Err(match serde_json::from_slice::<Refused>(response.body()) {
            Ok(refused) => Error::Authorization {
                code: refused.error,
                description: refused.error_description,
            },
            Err(_) => Error::protocol(format!(
                "the pushed authorization request endpoint answered HTTP {status}"
            )),
        });
    }
    let pushed: Pushed = serde_json::from_slice(response.body()).map_err(|_| {
        Error::protocol("the pushed authorization request endpoint's answer has no request_uri")
    })?;
    let mut url = authorization_endpoint.clone();
    url.query_pairs_mut()
        .append_pair("client_id", &client_id)
        .append_pair("request_uri", &pushed.request_uri);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(endpoint: Option<&str>, required: bool) -> ExtraMetadata {
        ExtraMetadata {
            pushed_authorization_request_endpoint: endpoint.map(|e| e.parse().unwrap()),
            require_pushed_authorization_requests: required,
            ..Default::default()
        }
    }

    #[test]
    fn the_setting_and_the_provider_decide_together() {
        let par = "https://idp.example.com/v1/par";
        let pushed = |setting, extra: &ExtraMetadata| {
            endpoint(setting, extra).map(|e| e.map(|url| url.to_string()))
        };
        assert_eq!(
            pushed(Par::Auto, &extra(Some(par), false))
                .unwrap()
                .as_deref(),
            Some(par)
        );
        assert_eq!(pushed(Par::Auto, &extra(None, false)).unwrap(), None);
        assert_eq!(
            pushed(Par::On, &extra(Some(par), false))
                .unwrap()
                .as_deref(),
            Some(par)
        );
        assert_eq!(pushed(Par::Off, &extra(Some(par), false)).unwrap(), None);
        assert_eq!(
            pushed(Par::Auto, &extra(Some(par), true))
                .unwrap()
                .as_deref(),
            Some(par)
        );
        for (setting, extra) in [
            (Par::On, extra(None, false)),
            (Par::Off, extra(Some(par), true)),
            (Par::Auto, extra(None, true)),
        ] {
            assert!(endpoint(setting, &extra).is_err(), "{setting:?}");
        }
    }
}
