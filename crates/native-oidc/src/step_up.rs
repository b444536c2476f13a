//! Step-up authentication (RFC 9470): an API that finds the user's sign-in too weak or too old
//! answers `401` with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` (or `DPoP
//! error=…` for a DPoP-bound token), naming the `acr_values` and `max_age` it needs. That is not a
//! token failure: no refresh, no sign-out. [`crate::Auth::send`] reports it as
//! [`crate::Error::StepUpRequired`] with a [`StepUp`], whose [`StepUp::sign_in_options`] ask the
//! provider for exactly that, for the same user.

use serde::{Deserialize, Serialize};

use crate::{challenge, pending::SignInOptions, session::SessionSummary};

/// What an API asked for in its `insufficient_user_authentication` challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepUp {
    /// The authentication levels it accepts (`acr_values`), in its order; empty when it named none.
    #[serde(default)]
    pub acr_values: Vec<String>,
    /// How recent the authentication must be, in seconds (`max_age`), if it said.
    #[serde(default)]
    pub max_age: Option<u64>,
}

impl StepUp {
    /// The challenge in a response's headers, if it asks for a step-up (a `Bearer` or `DPoP`
    /// challenge with `error="insufficient_user_authentication"`).
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Self> {
        challenge::challenges(headers)
            .into_iter()
            .find(|c| {
                (c.is("Bearer") || c.is("DPoP"))
                    && c.error() == Some("insufficient_user_authentication")
            })
            .map(|c| StepUp {
                acr_values: c
                    .param("acr_values")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                max_age: c.param("max_age").and_then(|age| age.trim().parse().ok()),
            })
    }

    /// The sign-in that answers it for the user of `current`: its `acr_values` required of the ID
    /// token, its `max_age`, the user's name as `login_hint`, and only that user accepted. A challenge
    /// that names no level asks for the session's level again (not required), so re-authenticating
    /// does not lower it; one that names neither a level nor an age asks the provider to
    /// authenticate the user again (`prompt=login`), else its session would answer as before.
    pub fn sign_in_options(&self, current: &SessionSummary) -> SignInOptions {
        let claim = |name: &str| {
            current
                .profile
                .as_ref()
                .and_then(|p| p.get(name))
                .or_else(|| current.claims.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let acr_values = if self.acr_values.is_empty() {
            claim("acr").into_iter().collect()
        } else {
            self.acr_values.clone()
        };
        SignInOptions {
            login_hint: claim("preferred_username").or_else(|| claim("email")),
            acr_values,
            require_acr: !self.acr_values.is_empty(),
            max_age: self.max_age.map(std::time::Duration::from_secs),
            prompt: (self.acr_values.is_empty() && self.max_age.is_none())
                .then(|| "login".to_string()),
            subject: Some(current.subject.clone()),
            ..Default::default()
        }
    }
}

impl std::fmt::Display for StepUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.acr_values.is_empty(), self.max_age) {
            (false, Some(age)) => write!(
                f,
                "a sign-in at level {} within the last {age} s",
                self.acr_values.join(" or ")
            ),
            (false, None) => write!(f, "a sign-in at level {}", self.acr_values.join(" or ")),
            (true, Some(age)) => write!(f, "a sign-in within the last {age} s"),
            (true, None) => f.write_str("a stronger sign-in"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        for value in values {
            headers.append(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn the_challenge_of_rfc_9470_is_read_in_either_scheme() {
        for scheme in ["Bearer", "DPoP", "bearer"] {
            let found = StepUp::from_headers(&headers(&[&format!(
                r#"{scheme} error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="urn:okta:loa:2fa:any phr", max_age=300"#
            )]));
            assert_eq!(
                found,
                Some(StepUp {
                    acr_values: vec!["urn:okta:loa:2fa:any".into(), "phr".into()],
                    max_age: Some(300),
                }),
                "{scheme}"
            );
        }
    }

    #[test]
    fn other_challenges_are_not_a_step_up() {
        for value in [
            r#"Bearer error="invalid_token""#,
            r#"Bearer error="insufficient_scope", scope="admin""#,
            r#"Basic realm="insufficient_user_authentication""#,
            "Bearer",
        ] {
            assert_eq!(StepUp::from_headers(&headers(&[value])), None, "{value}");
        }
        assert_eq!(StepUp::from_headers(&headers(&[])), None);
    }

    fn summary(acr: &str) -> SessionSummary {
        SessionSummary {
            account: Default::default(),
            issuer: "https://idp.example.com".into(),
            subject: "00u1".into(),
            name: None,
            email: Some("demo@example.com".into()),
            scopes: Vec::new(),
            expires_at: None,
            has_refresh_token: true,
            claims: serde_json::json!({ "acr": acr, "email": "demo@example.com" })
                .as_object()
                .cloned()
                .unwrap(),
            profile: None,
            token_type: crate::TokenType::Bearer,
        }
    }

    #[test]
    fn the_options_answer_the_challenge_for_the_same_user() {
        let current = summary("urn:okta:loa:1fa:pwd");
        let options = StepUp {
            acr_values: vec!["urn:okta:loa:2fa:any".into()],
            max_age: Some(300),
        }
        .sign_in_options(&current);
        assert_eq!(options.acr_values, ["urn:okta:loa:2fa:any"]);
        assert!(options.require_acr);
        assert_eq!(options.max_age, Some(std::time::Duration::from_secs(300)));
        assert_eq!(options.subject.as_deref(), Some("00u1"));
        assert_eq!(options.login_hint.as_deref(), Some("demo@example.com"));
        assert_eq!(options.prompt, None);

        // Only an age: the session's level asked again (a wish), the provider re-authenticates.
        let options = StepUp {
            acr_values: Vec::new(),
            max_age: Some(60),
        }
        .sign_in_options(&current);
        assert_eq!(options.acr_values, ["urn:okta:loa:1fa:pwd"]);
        assert!(!options.require_acr);
        assert_eq!(options.prompt, None);

        // Nothing named: a fresh authentication all the same.
        let options = StepUp::default().sign_in_options(&current);
        assert_eq!(options.prompt.as_deref(), Some("login"));
    }

    #[test]
    fn a_step_up_with_only_max_age_does_not_require_a_level() {
        let step_up = StepUp::from_headers(&headers(&[
            r#"Bearer error="insufficient_user_authentication", max_age=60"#,
        ]))
        .unwrap();
        assert!(step_up.acr_values.is_empty());
        assert_eq!(step_up.max_age, Some(60));
    }
}
