//! Deep links: which URL is which.
//!
//! - the redirect URI (`com.okta.example:/callback`): completes a sign-in;
//! - the logout redirect URI (`com.okta.example:/logout`): the browser finished signing out;
//! - the *initiate login URI* (`com.okta.example:/login`, OIDC Core §4): start a sign-in, but only when
//!   `iss` names the configured issuer or, for an Okta custom authorization server
//!   (`https://{yourOktaDomain}/oauth2/{id}`), its org URL `https://{yourOktaDomain}`, which is what Okta
//!   sends;
//! - anything else: ignored.

use native_oidc::{is_redirect_to, Callback, Config};
use url::Url;

/// What a deep link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A sign-in callback, checked to be for the redirect URI (the sign-in reads it as it is).
    Callback(Callback),
    /// A sign-out callback (the full URL).
    Logout(String),
    /// Third-party initiated login for the configured issuer (`target_link_uri` is ignored, OIDC Core §4).
    Login {
        /// The `iss` the link named (the configured issuer, or its Okta org URL).
        iss: String,
        /// `login_hint`, if given.
        login_hint: Option<String>,
    },
    /// Not for us, or not trusted; with the reason to log.
    Ignored(&'static str),
}

/// The initiate login URI for a redirect URI: same scheme, path `/login`.
pub fn initiate_login_uri(config: &Config) -> Option<Url> {
    let redirect = config.redirect_uri().url();
    (redirect.scheme() != "http" && redirect.scheme() != "https")
        .then(|| Url::parse(&format!("{}:/login", redirect.scheme())).ok())
        .flatten()
}

/// True when `iss` of an initiate-login link names the configured issuer: the issuer itself, or the org
/// URL of an Okta custom authorization server (`…/oauth2/{id}`).
pub fn is_issuer_of(iss: &str, config: &Config) -> bool {
    let issuer = config.issuer().as_str();
    if iss == issuer {
        return true;
    }
    let Ok(url) = Url::parse(issuer) else {
        return false;
    };
    let mut segments = url.path_segments().into_iter().flatten();
    let custom_server = segments.next() == Some("oauth2")
        && segments
            .next()
            .is_some_and(|id| !id.is_empty() && id != "v1")
        && segments.all(|s| s.is_empty());
    let org = url.origin().ascii_serialization();
    custom_server && (iss == org || iss.strip_suffix('/') == Some(org.as_str()))
}

/// Classifies a URL the OS handed to the app.
pub fn classify(url: &str, config: &Config) -> Link {
    let Ok(parsed) = Url::parse(url.trim()) else {
        return Link::Ignored("not a URL");
    };
    if let Some(callback) = Callback::new(parsed.clone(), config) {
        return Link::Callback(callback);
    }
    if config
        .post_logout_redirect_uri()
        .is_some_and(|logout| is_redirect_to(&parsed, logout.url()))
    {
        return Link::Logout(parsed.to_string());
    }
    if initiate_login_uri(config).is_some_and(|login| is_redirect_to(&parsed, &login)) {
        let param = |name: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        return match param("iss") {
            Some(iss) if is_issuer_of(&iss, config) => Link::Login {
                login_hint: param("login_hint").filter(|h| !h.is_empty()),
                iss,
            },
            Some(_) => Link::Ignored("initiate-login link for another issuer"),
            None => Link::Ignored("initiate-login link without iss"),
        };
    }
    Link::Ignored("not a link this app handles")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "http://127.0.0.1:9000/oauth2/default";

    fn config() -> Config {
        Config::new(ISSUER, "client", "com.okta.example:/callback")
            .unwrap()
            .with_post_logout_redirect_uri("com.okta.example:/logout")
            .unwrap()
    }

    #[test]
    fn routes_each_kind_of_link() {
        let config = config();
        assert!(matches!(
            classify("com.okta.example:/callback?code=a&state=b", &config),
            Link::Callback(_)
        ));
        assert!(matches!(
            classify("com.okta.example:/logout?state=s", &config),
            Link::Logout(_)
        ));
        let login = format!("com.okta.example:/login?iss={ISSUER}&login_hint=demo");
        assert_eq!(
            classify(&login, &config),
            Link::Login {
                iss: ISSUER.into(),
                login_hint: Some("demo".into())
            }
        );
        // Okta sends its org URL for a custom authorization server.
        for org in ["http://127.0.0.1:9000", "http://127.0.0.1:9000/"] {
            assert_eq!(
                classify(&format!("com.okta.example:/login?iss={org}"), &config),
                Link::Login {
                    iss: org.into(),
                    login_hint: None
                },
                "{org}"
            );
        }
    }

    #[test]
    fn the_org_url_counts_only_for_an_okta_custom_authorization_server() {
        let org_server = Config::new(
            "https://dev-1.okta.com",
            "client",
            "com.okta.example:/callback",
        )
        .unwrap();
        assert!(is_issuer_of("https://dev-1.okta.com", &org_server));
        let other = Config::new(
            "https://idp.example.com/realms/x",
            "client",
            "com.okta.example:/callback",
        )
        .unwrap();
        assert!(!is_issuer_of("https://idp.example.com", &other));
        let custom = Config::new(
            "https://dev-1.okta.com/oauth2/aus1abc",
            "client",
            "com.okta.example:/callback",
        )
        .unwrap();
        assert!(is_issuer_of("https://dev-1.okta.com", &custom));
        assert!(!is_issuer_of("https://dev-2.okta.com", &custom));
    }

    #[test]
    fn ignores_foreign_and_malformed_links() {
        let config = config();
        for url in [
            "com.okta.example:/login?iss=https://evil.example.com/oauth2/default",
            "com.okta.example:/login?iss=https://evil.example.com",
            "com.okta.example:/login?iss=http://127.0.0.1:9001",
            "com.okta.example:/login?iss=http://127.0.0.1:9000/oauth2",
            "com.okta.example:/login?iss=http://127.0.0.1:9000/oauth2/other",
            "com.okta.example:/login",
            "com.okta.example:/other",
            "com.other.app:/callback?code=a&state=b",
            "https://example.com/callback",
            "not a url",
        ] {
            assert!(matches!(classify(url, &config), Link::Ignored(_)), "{url}");
        }
    }
}
