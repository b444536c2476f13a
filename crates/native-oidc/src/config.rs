//! What the app is registered as at the identity provider: issuer, client id, redirect URIs, scopes.
//!
//! A [`Config`] is always valid: the constructors refuse a plain-http issuer that is not on loopback, and
//! redirect URIs other than a reverse-domain private-use scheme (`com.okta.example:/callback`, RFC 8252 §7.1)
//! or a loopback `http://127.0.0.1[:port]/path` (§7.3). [`ConfigSource`] collects partial settings from a
//! JSON file with the names of Okta's samples, from environment variables and from code, and merges them.

use std::path::Path;

use openidconnect::{ClientId, IssuerUrl, PostLogoutRedirectUrl, RedirectUrl, Scope};
use serde::Deserialize;
use url::{Host, Url};

use crate::error::{Error, Result};

/// The scopes asked for when none are configured.
pub const DEFAULT_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// A validated client configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    issuer: IssuerUrl,
    client_id: ClientId,
    redirect_uri: RedirectUrl,
    post_logout_redirect_uri: Option<PostLogoutRedirectUrl>,
    scopes: Vec<Scope>,
    dpop: bool,
    par: Par,
    sso: Option<NativeSso>,
}

/// Native SSO settings: the vendor's SSO group, and the audience the token exchange asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct NativeSso {
    group: String,
    audience: String,
}

/// The audience of an Okta custom authorization server named `default`, asked for by Native SSO's
/// token exchange unless configured (`ssoAudience`).
pub const DEFAULT_SSO_AUDIENCE: &str = "api://default";

/// Whether sign-ins push their authorization request first (RFC 9126, Pushed Authorization
/// Requests): the browser then opens a URL with only `client_id` and `request_uri`, so nothing of the
/// request can be read or changed on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Par {
    /// When the provider's discovery names a `pushed_authorization_request_endpoint` (default).
    #[default]
    Auto,
    /// Always; a provider without the endpoint is a `config` error.
    On,
    /// Never; a provider that requires it (`require_pushed_authorization_requests`) is a `config`
    /// error.
    Off,
}

impl std::str::FromStr for Par {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Par::Auto),
            "on" | "true" | "1" | "yes" => Ok(Par::On),
            "off" | "false" | "0" | "no" => Ok(Par::Off),
            other => Err(Error::config(format!(
                "par must be auto, on or off, not {other:?}"
            ))),
        }
    }
}

impl Config {
    /// A configuration with the default scopes and no sign-out redirect.
    pub fn new(issuer: &str, client_id: &str, redirect_uri: &str) -> Result<Self> {
        let issuer = validate_issuer(issuer)?;
        let client_id = client_id.trim();
        if client_id.is_empty() || client_id.contains(char::is_whitespace) {
            return Err(Error::config(
                "the client id is missing or contains white space",
            ));
        }
        let redirect = validate_app_redirect("redirect URI", redirect_uri)?;
        Ok(Config {
            issuer,
            client_id: ClientId::new(client_id.to_string()),
            redirect_uri: RedirectUrl::from_url(redirect),
            post_logout_redirect_uri: None,
            dpop: false,
            par: Par::Auto,
            sso: None,
            scopes: DEFAULT_SCOPES
                .iter()
                .map(|s| Scope::new(s.to_string()))
                .collect(),
        })
    }

    /// Sets where the identity provider sends the browser after sign-out.
    pub fn with_post_logout_redirect_uri(mut self, uri: &str) -> Result<Self> {
        let url = validate_app_redirect("logout redirect URI", uri)?;
        self.post_logout_redirect_uri = Some(PostLogoutRedirectUrl::from_url(url));
        Ok(self)
    }

    /// Binds the tokens to a key of the device with DPoP (RFC 9449); off by default, as Okta
    /// requires an app to opt in ("Require Demonstrating Proof of Possession (DPoP) header").
    pub fn with_dpop(mut self, dpop: bool) -> Self {
        self.dpop = dpop;
        self
    }

    /// True when sign-ins use DPoP.
    pub fn dpop(&self) -> bool {
        self.dpop
    }

    /// Sets whether sign-ins push their request first ([`Par`]; `Auto` by default).
    pub fn with_par(mut self, par: Par) -> Self {
        self.par = par;
        self
    }

    /// Whether sign-ins push their request first.
    pub fn par(&self) -> Par {
        self.par
    }

    /// Signs in once for all apps of the vendor's SSO group `group` (Native SSO, see
    /// [`crate::SsoShare`]): sign-ins ask for the `device_sso` scope too, and the token exchange
    /// asks for `audience` (`None`: [`DEFAULT_SSO_AUDIENCE`]).
    pub fn with_sso_group(mut self, group: &str, audience: Option<&str>) -> Result<Self> {
        let group = group.trim();
        // It names a keystore service (an Apple keychain access group) and a file.
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        if group.is_empty() || group.starts_with('.') || !group.chars().all(allowed) {
            return Err(Error::config(format!(
                "the SSO group {group:?} may hold only letters, digits, `.`, `-` and `_` (such as \
                 com.example.shared, or an Apple keychain access group ABCDE12345.com.example.shared)"
            )));
        }
        if !self
            .scopes
            .iter()
            .any(|s| s.as_str() == crate::sso::DEVICE_SSO_SCOPE)
        {
            self.scopes
                .push(Scope::new(crate::sso::DEVICE_SSO_SCOPE.to_string()));
        }
        self.sso = Some(NativeSso {
            group: group.to_string(),
            audience: audience.unwrap_or(DEFAULT_SSO_AUDIENCE).to_string(),
        });
        Ok(self)
    }

    /// Native SSO off (its group's share cannot be opened): no `device_sso` scope, so the provider
    /// issues no device secret that nothing would keep or revoke.
    pub fn without_sso_group(mut self) -> Self {
        self.sso = None;
        self.scopes
            .retain(|s| s.as_str() != crate::sso::DEVICE_SSO_SCOPE);
        self
    }

    /// The vendor's SSO group, when Native SSO is on.
    pub fn sso_group(&self) -> Option<&str> {
        self.sso.as_ref().map(|sso| sso.group.as_str())
    }

    /// The audience Native SSO's token exchange asks for, when Native SSO is on.
    pub fn sso_audience(&self) -> Option<&str> {
        self.sso.as_ref().map(|sso| sso.audience.as_str())
    }

    /// Replaces the scopes; `openid` must be among them (and `device_sso` stays, with an SSO group).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<Scope> = Vec::new();
        for scope in scopes {
            for part in scope.as_ref().split_whitespace() {
                if !list.iter().any(|s| s.as_str() == part) {
                    list.push(Scope::new(part.to_string()));
                }
            }
        }
        if !list.iter().any(|s| s.as_str() == "openid") {
            return Err(Error::config(
                "the scopes must include `openid` (this is an OpenID Connect client)",
            ));
        }
        if self.sso.is_some()
            && !list
                .iter()
                .any(|s| s.as_str() == crate::sso::DEVICE_SSO_SCOPE)
        {
            list.push(Scope::new(crate::sso::DEVICE_SSO_SCOPE.to_string()));
        }
        self.scopes = list;
        Ok(self)
    }

    /// The issuer, exactly as configured (discovery must report the same string).
    pub fn issuer(&self) -> &IssuerUrl {
        &self.issuer
    }

    /// The public client's id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// True for a sign-in made at `issuer` with `client_id`: this configuration's issuer and client
    /// (a session or account of another one is not this app's to use).
    pub fn made_here(&self, issuer: &str, client_id: &str) -> bool {
        self.issuer.as_str() == issuer && self.client_id.as_str() == client_id
    }

    /// Where the identity provider sends the authorization response.
    pub fn redirect_uri(&self) -> &RedirectUrl {
        &self.redirect_uri
    }

    /// Where the identity provider sends the browser after sign-out, if configured.
    pub fn post_logout_redirect_uri(&self) -> Option<&PostLogoutRedirectUrl> {
        self.post_logout_redirect_uri.as_ref()
    }

    /// The scopes asked for at sign-in.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// True when the redirect URI is a loopback `http` URI (the app must listen on it).
    pub fn is_loopback_redirect(&self) -> bool {
        self.redirect_uri.url().scheme() == "http"
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// True when tokens may be sent to `url`: https, or plain http on loopback only. The rule for the
/// issuer, and for any API an app sends bearer tokens to.
pub fn is_https_or_loopback(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

fn validate_issuer(issuer: &str) -> Result<IssuerUrl> {
    let url = Url::parse(issuer.trim())
        .map_err(|e| Error::config(format!("the issuer `{issuer}` is not a URL: {e}")))?;
    match url.scheme() {
        _ if is_https_or_loopback(&url) => {}
        "http" => {
            return Err(Error::config(format!(
                "the issuer `{issuer}` must use https (plain http is allowed on loopback only)"
            )))
        }
        other => {
            return Err(Error::config(format!(
                "the issuer `{issuer}` has scheme `{other}`; it must be https"
            )))
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "the issuer `{issuer}` must not have a query or fragment"
        )));
    }
    IssuerUrl::new(issuer.trim().to_string())
        .map_err(|e| Error::config(format!("the issuer `{issuer}` is not a URL: {e}")))
}

/// A redirect back into a native app: a reverse-domain private-use scheme, or loopback http on an IP literal.
fn validate_app_redirect(what: &str, uri: &str) -> Result<Url> {
    let url = Url::parse(uri.trim())
        .map_err(|e| Error::config(format!("the {what} `{uri}` is not a URI: {e}")))?;
    if url.fragment().is_some() {
        return Err(Error::config(format!(
            "the {what} `{uri}` must not have a fragment"
        )));
    }
    match url.scheme() {
        "http" => match url.host() {
            Some(Host::Ipv4(ip)) if ip.is_loopback() => Ok(url),
            Some(Host::Ipv6(ip)) if ip.is_loopback() => Ok(url),
            Some(Host::Domain("localhost")) => Err(Error::config(format!(
                "the {what} `{uri}` uses `localhost`; use the loopback IP literal 127.0.0.1 (RFC 8252 §8.3)"
            ))),
            _ => Err(Error::config(format!(
                "the {what} `{uri}` is plain http on a non-loopback host; use a private-use scheme \
                 such as com.example.app:/callback or http://127.0.0.1/callback"
            ))),
        },
        "https" => Err(Error::config(format!(
            "the {what} `{uri}` is https; a native app needs a private-use scheme such as \
             com.example.app:/callback or a loopback http://127.0.0.1/callback"
        ))),
        scheme if scheme.contains('.') => Ok(url),
        scheme => Err(Error::config(format!(
            "the {what} `{uri}` has scheme `{scheme}`, which is not a reverse domain name \
             (like com.example.app) that the app controls (RFC 8252 §7.1)"
        ))),
    }
}

/// Partial settings from one source, merged by precedence into a [`Config`].
///
/// The JSON file uses the names of Okta's mobile samples; unknown keys are ignored, so the same
/// file can hold an app's other settings:
///
/// ```json
/// {
///   "issuer": "https://dev-123456.okta.com/oauth2/default",
///   "clientId": "0oa1bcdefghIJKLMN357",
///   "redirectUri": "com.okta.example:/callback",
///   "logoutRedirectUri": "com.okta.example:/logout",
///   "scopes": "openid profile email offline_access"
/// }
/// ```
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSource {
    /// `issuer`
    pub issuer: Option<String>,
    /// `clientId`
    pub client_id: Option<String>,
    /// `redirectUri`
    pub redirect_uri: Option<String>,
    /// `logoutRedirectUri`
    pub logout_redirect_uri: Option<String>,
    /// `scopes`: a space-separated string or an array of strings.
    #[serde(default, deserialize_with = "scopes_from_string_or_list")]
    pub scopes: Option<Vec<String>>,
    /// `dpop`: bind tokens to the device with DPoP.
    pub dpop: Option<bool>,
    /// `par`: `auto`, `on` or `off` ([`Par`]).
    pub par: Option<String>,
    /// `ssoGroup`: the vendor's Native SSO group ([`Config::with_sso_group`]).
    pub sso_group: Option<String>,
    /// `ssoAudience`: the audience of Native SSO's token exchange (default `api://default`).
    pub sso_audience: Option<String>,
}

fn scopes_from_string_or_list<'de, D>(deserializer: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scopes {
        Text(String),
        List(Vec<String>),
    }
    Ok(match Option::<Scopes>::deserialize(deserializer)? {
        None => None,
        Some(Scopes::Text(text)) => Some(text.split_whitespace().map(str::to_string).collect()),
        Some(Scopes::List(list)) => Some(list),
    })
}

/// One setting: its name in a config file (Okta's sample names) and its environment variable. Every
/// program built on this crate names its settings with these, and the app adds its own the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The key in a JSON config file.
    pub key: &'static str,
    /// The environment variable, which takes precedence over the file.
    pub env: &'static str,
}

/// The issuer URL.
pub const ISSUER: Setting = Setting {
    key: "issuer",
    env: "OIDC_ISSUER",
};
/// The client id.
pub const CLIENT_ID: Setting = Setting {
    key: "clientId",
    env: "OIDC_CLIENT_ID",
};
/// The redirect URI.
pub const REDIRECT_URI: Setting = Setting {
    key: "redirectUri",
    env: "OIDC_REDIRECT_URI",
};
/// The post-logout redirect URI.
pub const LOGOUT_REDIRECT_URI: Setting = Setting {
    key: "logoutRedirectUri",
    env: "OIDC_LOGOUT_REDIRECT_URI",
};
/// The scopes (space-separated in the environment).
pub const SCOPES: Setting = Setting {
    key: "scopes",
    env: "OIDC_SCOPES",
};
/// DPoP on or off.
pub const DPOP: Setting = Setting {
    key: "dpop",
    env: "OIDC_DPOP",
};
/// Pushed authorization requests: `auto`, `on` or `off`.
pub const PAR: Setting = Setting {
    key: "par",
    env: "OIDC_PAR",
};
/// The vendor's Native SSO group.
pub const SSO_GROUP: Setting = Setting {
    key: "ssoGroup",
    env: "OIDC_SSO_GROUP",
};
/// The audience of Native SSO's token exchange.
pub const SSO_AUDIENCE: Setting = Setting {
    key: "ssoAudience",
    env: "OIDC_SSO_AUDIENCE",
};

/// Environment variables read by [`ConfigSource::from_env`].
pub const ENV_VARS: [&str; 9] = [
    ISSUER.env,
    CLIENT_ID.env,
    REDIRECT_URI.env,
    LOGOUT_REDIRECT_URI.env,
    SCOPES.env,
    DPOP.env,
    PAR.env,
    SSO_GROUP.env,
    SSO_AUDIENCE.env,
];

/// An environment variable's value as a setting: unset, empty and blank (whitespace only) alike
/// are not given, so that `NAME=` in a shell or an env file falls back to the next source (the config
/// file, the defaults) for every setting of every program built on this crate.
pub fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl ConfigSource {
    /// Reads a JSON file with Okta's sample names.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the config file {}: {e}",
                path.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::config(format!(
                "the config file {} is not valid: {e}",
                path.display()
            ))
        })
    }

    /// Reads `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_REDIRECT_URI`, `OIDC_LOGOUT_REDIRECT_URI`,
    /// `OIDC_SCOPES` (space-separated), `OIDC_DPOP` (`true`/`1`), `OIDC_PAR` (`auto`, `on`,
    /// `off`), `OIDC_SSO_GROUP` and `OIDC_SSO_AUDIENCE`; empty or blank variables count as unset
    /// ([`given`]).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`ConfigSource::from_env`], with any lookup function (for tests and embedding).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| given(lookup(name));
        ConfigSource {
            issuer: get(ISSUER.env),
            client_id: get(CLIENT_ID.env),
            redirect_uri: get(REDIRECT_URI.env),
            logout_redirect_uri: get(LOGOUT_REDIRECT_URI.env),
            scopes: get(SCOPES.env).map(|s| s.split_whitespace().map(str::to_string).collect()),
            dpop: get(DPOP.env).map(|v| matches!(v.trim(), "1" | "true" | "on" | "yes")),
            par: get(PAR.env),
            sso_group: get(SSO_GROUP.env),
            sso_audience: get(SSO_AUDIENCE.env),
        }
    }

    /// Fills what `self` leaves unset from `fallback` (so `self` takes precedence).
    pub fn or(self, fallback: ConfigSource) -> Self {
        ConfigSource {
            issuer: self.issuer.or(fallback.issuer),
            client_id: self.client_id.or(fallback.client_id),
            redirect_uri: self.redirect_uri.or(fallback.redirect_uri),
            logout_redirect_uri: self.logout_redirect_uri.or(fallback.logout_redirect_uri),
            scopes: self.scopes.or(fallback.scopes),
            dpop: self.dpop.or(fallback.dpop),
            par: self.par.or(fallback.par),
            sso_group: self.sso_group.or(fallback.sso_group),
            sso_audience: self.sso_audience.or(fallback.sso_audience),
        }
    }

    /// Validates the merged settings; `issuer`, `clientId` and `redirectUri` are required.
    pub fn build(self) -> Result<Config> {
        let missing = |name: &str| {
            Error::config(format!(
                "no {name} configured (set it in the config file, as an environment variable or as a flag)"
            ))
        };
        let issuer = self.issuer.ok_or_else(|| missing("issuer"))?;
        let client_id = self.client_id.ok_or_else(|| missing("client id"))?;
        let redirect_uri = self.redirect_uri.ok_or_else(|| missing("redirect URI"))?;
        let mut config = Config::new(&issuer, &client_id, &redirect_uri)?;
        if let Some(uri) = self.logout_redirect_uri {
            config = config.with_post_logout_redirect_uri(&uri)?;
        }
        if let Some(scopes) = self.scopes {
            config = config.with_scopes(scopes)?;
        }
        let par = match self.par {
            Some(par) => par.parse()?,
            None => Par::Auto,
        };
        let mut config = config.with_dpop(self.dpop.unwrap_or(false)).with_par(par);
        if let Some(group) = self.sso_group {
            config = config.with_sso_group(&group, self.sso_audience.as_deref())?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://dev-1.okta.com/oauth2/default";

    #[test]
    fn accepts_private_use_scheme_and_loopback_redirects() {
        let config = Config::new(ISSUER, "abc", "com.okta.example:/callback").unwrap();
        assert!(!config.is_loopback_redirect());
        assert_eq!(
            config
                .scopes()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
            DEFAULT_SCOPES
        );
        let config = Config::new(ISSUER, "abc", "http://127.0.0.1:8400/callback").unwrap();
        assert!(config.is_loopback_redirect());
        Config::new(
            "http://127.0.0.1:9000/oauth2/default",
            "abc",
            "http://[::1]/cb",
        )
        .unwrap();
    }

    #[test]
    fn native_sso_asks_for_device_sso_and_without_its_group_does_not() {
        let scopes = |config: &Config| {
            config
                .scopes()
                .iter()
                .map(|s| s.as_str().to_string())
                .collect::<Vec<_>>()
        };
        let config = Config::new(ISSUER, "abc", "com.okta.example:/callback")
            .unwrap()
            .with_sso_group("com.example.shared", None)
            .unwrap();
        assert!(scopes(&config).contains(&"device_sso".to_string()));
        assert_eq!(config.sso_group(), Some("com.example.shared"));
        let off = config.without_sso_group();
        assert!(!scopes(&off).contains(&"device_sso".to_string()));
        assert_eq!(off.sso_group(), None);
        assert_eq!(off.sso_audience(), None);
    }

    #[test]
    fn refuses_unsafe_issuers_and_redirects() {
        for (issuer, redirect, expected) in [
            (
                "http://idp.example.com",
                "com.okta.example:/callback",
                "must use https",
            ),
            (
                "ftp://idp.example.com",
                "com.okta.example:/callback",
                "scheme `ftp`",
            ),
            (ISSUER, "myapp:/callback", "not a reverse domain"),
            (ISSUER, "http://example.com/callback", "non-loopback"),
            (ISSUER, "http://localhost:8080/callback", "127.0.0.1"),
            (ISSUER, "https://app.example.com/callback", "is https"),
            ("not a url", "com.okta.example:/callback", "not a URL"),
        ] {
            let error = Config::new(issuer, "abc", redirect).unwrap_err();
            assert_eq!(error.kind(), "config");
            assert!(
                error.to_string().contains(expected),
                "{issuer} {redirect}: {error}"
            );
        }
        let error = Config::new(ISSUER, " ", "com.okta.example:/callback").unwrap_err();
        assert!(error.to_string().contains("client id"));
    }

    #[test]
    fn scopes_must_include_openid_and_are_deduplicated() {
        let config = Config::new(ISSUER, "abc", "com.okta.example:/callback").unwrap();
        let error = config.clone().with_scopes(["profile"]).unwrap_err();
        assert!(error.to_string().contains("openid"));
        let config = config.with_scopes(["openid profile", "openid"]).unwrap();
        assert_eq!(config.scopes().len(), 2);
    }

    #[test]
    fn file_env_and_flags_merge_by_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okta.json");
        std::fs::write(
            &path,
            r#"{"issuer":"https://file.example.com/oauth2/default","clientId":"file-client",
               "redirectUri":"com.okta.example:/callback","logoutRedirectUri":"com.okta.example:/logout",
               "scopes":"openid profile","apiBaseUrl":"http://127.0.0.1:1/"}"#,
        )
        .unwrap();
        let file = ConfigSource::from_file(&path).unwrap();
        assert_eq!(
            file.scopes.as_deref(),
            Some(&["openid".to_string(), "profile".to_string()][..])
        );
        let env = ConfigSource::from_lookup(|name| match name {
            "OIDC_CLIENT_ID" => Some("env-client".into()),
            "OIDC_SCOPES" => Some("".into()),
            _ => None,
        });
        let flags = ConfigSource {
            issuer: Some("https://flag.example.com/oauth2/default".into()),
            ..Default::default()
        };
        let config = flags.or(env).or(file).build().unwrap();
        assert_eq!(
            config.issuer().as_str(),
            "https://flag.example.com/oauth2/default"
        );
        assert_eq!(config.client_id().as_str(), "env-client");
        assert_eq!(config.scopes().len(), 2);
        assert_eq!(
            config.post_logout_redirect_uri().unwrap().as_str(),
            "com.okta.example:/logout"
        );
    }

    #[test]
    fn config_file_errors_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let missing = ConfigSource::from_file(&dir.path().join("nope.json")).unwrap_err();
        assert!(missing.to_string().contains("cannot read the config file"));
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"scopes\": 5}").unwrap();
        let bad = ConfigSource::from_file(&path).unwrap_err();
        assert!(bad.to_string().contains("is not valid"), "{bad}");
        let incomplete = ConfigSource::default().build().unwrap_err();
        assert!(incomplete.to_string().contains("no issuer configured"));
    }
}
