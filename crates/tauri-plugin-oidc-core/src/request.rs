//! What a UI may ask of a sign-in (`signIn({ … })` in the plugin's JavaScript), as the engine's
//! [`SignInOptions`]: the authorization request's parameters, never a `state`, redirect or key.

use std::time::Duration;

use native_oidc::SignInOptions;
use serde::Deserialize;

/// The options of `signIn({ … })`, with the names the JavaScript API uses.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignInRequest {
    /// Pre-fills the username.
    pub login_hint: Option<String>,
    /// The authentication levels wanted (`acr_values`).
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// Refuse an ID token whose `acr` is not one of `acr_values`.
    #[serde(default)]
    pub require_acr: bool,
    /// `max_age`, in seconds.
    pub max_age: Option<u64>,
    /// `prompt` (`login`, `consent`, `none`; space-separated).
    pub prompt: Option<String>,
    /// `idp`: the identity provider to send the user to.
    pub idp: Option<String>,
    /// More parameters, sent as given (the engine refuses the ones it sets itself).
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    /// Add another account, keeping those signed in: the provider is asked for credentials again
    /// (`prompt=login` unless `prompt` says otherwise), so the browser does not hand back the
    /// account it is signed in as (`Controller::add_account`, which also asks for an ephemeral
    /// browser session where there is one).
    #[serde(default)]
    pub add_account: bool,
}

impl From<SignInRequest> for SignInOptions {
    fn from(request: SignInRequest) -> Self {
        SignInOptions {
            login_hint: request.login_hint,
            prompt: match (request.prompt, request.add_account) {
                (None, true) => Some("login".into()),
                (prompt, _) => prompt,
            },
            acr_values: request.acr_values,
            require_acr: request.require_acr,
            max_age: request.max_age.map(Duration::from_secs),
            idp: request.idp,
            extra_params: request.params.into_iter().collect(),
            subject: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_javascript_names_become_the_engine_s_options() {
        let request: SignInRequest = serde_json::from_value(serde_json::json!({
            "loginHint": "demo@example.com",
            "acrValues": ["urn:okta:loa:2fa:any"],
            "requireAcr": true,
            "maxAge": 300,
            "prompt": "login",
            "idp": "0oa1enterprise",
            "params": { "locale": "fr-FR" },
        }))
        .unwrap();
        let options = SignInOptions::from(request);
        assert_eq!(options.login_hint.as_deref(), Some("demo@example.com"));
        assert_eq!(options.acr_values, ["urn:okta:loa:2fa:any"]);
        assert!(options.require_acr);
        assert_eq!(options.max_age, Some(Duration::from_secs(300)));
        assert_eq!(options.extra_params, [("locale".into(), "fr-FR".into())]);
        assert_eq!(options.subject, None, "only a step-up names the user");
    }

    #[test]
    fn adding_an_account_asks_for_credentials_again() {
        let request: SignInRequest = serde_json::from_value(serde_json::json!({
            "addAccount": true, "loginHint": "alice@example.com",
        }))
        .unwrap();
        let options = SignInOptions::from(request);
        assert_eq!(options.prompt.as_deref(), Some("login"));
        assert_eq!(options.login_hint.as_deref(), Some("alice@example.com"));
        let consent: SignInRequest = serde_json::from_value(serde_json::json!({
            "addAccount": true, "prompt": "login consent",
        }))
        .unwrap();
        assert_eq!(
            SignInOptions::from(consent).prompt.as_deref(),
            Some("login consent")
        );
    }

    #[test]
    fn an_unknown_option_is_refused_not_ignored() {
        let wrong = serde_json::from_value::<SignInRequest>(serde_json::json!({ "acr": "x" }));
        assert!(wrong.is_err());
    }
}
