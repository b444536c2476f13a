//! What a sign-in asked of the provider beyond a session, and the check that the ID token shows it
//! (OpenID Connect Core §3.1.2.1, §3.1.3.7 steps 12 and 13): with `max_age`, an `auth_time` no
//! older than it; with `acr_values` enforced, an `acr` among them; for a step-up, the same user.
//!
//! [`Asked::of`] reads and checks a [`SignInOptions`] before the request is built; what must be
//! checked on return travels in the [`PendingAuthorization`], so a sign-in completed by a relaunched
//! app is held to the same rules.

use std::time::Duration;

use chrono::{DateTime, Utc};
use openidconnect::core::CoreIdTokenClaims;

use crate::{
    error::{Error, Result},
    pending::{PendingAuthorization, SignInOptions, RESERVED_PARAMS},
};

/// The largest `max_age` a sign-in may ask for (a year): anything larger means nothing a provider
/// would honour, and is refused rather than carried into the time arithmetic of the check.
pub(crate) const MAX_AGE_LIMIT: Duration = Duration::from_secs(366 * 86_400);

/// What the ID token must show, from the options of a sign-in.
#[derive(Debug, Default)]
pub(crate) struct Asked {
    /// `max_age` in seconds.
    pub max_age: Option<u64>,
    /// The `acr` values one of which is required (empty: none is).
    pub required_acr: Vec<String>,
    /// The only user who may sign in.
    pub subject: Option<String>,
}

impl Asked {
    /// What `options` ask for; a `config` error for options that cannot be sent as they are.
    pub fn of(options: &SignInOptions) -> Result<Self> {
        for acr in &options.acr_values {
            if acr.is_empty() || acr.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::config(format!(
                    "an acr value must be one word (got {acr:?})"
                )));
            }
        }
        if options.max_age.is_some_and(|age| age > MAX_AGE_LIMIT) {
            return Err(Error::config(format!(
                "max_age can be at most {} days",
                MAX_AGE_LIMIT.as_secs() / 86_400
            )));
        }
        if options.require_acr && options.acr_values.is_empty() {
            return Err(Error::config(
                "an acr level is required, but no acr_values are given",
            ));
        }
        for (name, _) in &options.extra_params {
            if name.is_empty() || RESERVED_PARAMS.contains(&name.as_str()) {
                return Err(Error::config(format!(
                    "the authorization request parameter `{name}` cannot be set as an extra \
                     parameter (it has its own option, or this client sets it)"
                )));
            }
        }
        Ok(Self {
            max_age: options.max_age.map(|age| age.as_secs()),
            required_acr: if options.require_acr {
                options.acr_values.clone()
            } else {
                Vec::new()
            },
            subject: options.subject.clone(),
        })
    }
}

/// Checks `claims` against what `pending` asked for: an `invalid_id_token` error naming what is
/// missing.
pub(crate) fn check_asked(
    claims: &CoreIdTokenClaims,
    pending: &PendingAuthorization,
    leeway: Duration,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(subject) = &pending.subject {
        if claims.subject().as_str() != subject {
            return Err(Error::DifferentUser);
        }
    }
    if let Some(max_age) = pending.max_age {
        let auth_time = claims.auth_time().ok_or_else(|| {
            Error::InvalidIdToken("max_age was asked for, but the ID token has no auth_time".into())
        })?;
        // `max_age` is at most MAX_AGE_LIMIT (Asked::of), the leeway minutes: no overflow; an
        // unrepresentable value counts as no allowance at all.
        let leeway = chrono::Duration::from_std(leeway).ok();
        let allowed = i64::try_from(max_age)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .and_then(|age| age.checked_add(&leeway?))
            .unwrap_or_default();
        if auth_time - now > leeway.unwrap_or_default() {
            return Err(Error::InvalidIdToken(
                "the ID token's auth_time is in the future".into(),
            ));
        }
        if now - auth_time > allowed {
            return Err(Error::InvalidIdToken(format!(
                "the user authenticated {} s ago (auth_time), longer ago than the max_age of {max_age} s asked for",
                (now - auth_time).num_seconds()
            )));
        }
    }
    if !pending.required_acr.is_empty() {
        let acr = claims.auth_context_ref().map(|acr| acr.as_str());
        if !acr.is_some_and(|acr| pending.required_acr.iter().any(|wanted| wanted == acr)) {
            return Err(Error::InvalidIdToken(format!(
                "the sign-in reached authentication level {}, not one of those required ({})",
                acr.unwrap_or("(none)"),
                pending.required_acr.join(" ")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(max_age: u64) -> PendingAuthorization {
        serde_json::from_value(serde_json::json!({
            "state": "s", "nonce": "n", "pkce_verifier": "v", "issuer": "https://idp.example.com",
            "client_id": "c", "redirect_uri": "com.okta.example:/callback", "scopes": ["openid"],
            "expires_at": "2030-01-01T00:00:00Z", "max_age": max_age,
        }))
        .unwrap()
    }

    fn claims(auth_time: i64) -> CoreIdTokenClaims {
        serde_json::from_value(serde_json::json!({
            "iss": "https://idp.example.com", "sub": "00u1", "aud": "c",
            "exp": 1_900_000_000, "iat": 1_800_000_000, "auth_time": auth_time,
        }))
        .unwrap()
    }

    #[test]
    fn max_age_takes_an_auth_time_neither_too_old_nor_in_the_future() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let leeway = Duration::from_secs(60);
        let check = |auth_time: i64| check_asked(&claims(auth_time), &pending(300), leeway, now);
        assert!(check(1_800_000_000).is_ok());
        assert!(check(1_800_000_000 - 360).is_ok());
        assert!(check(1_800_000_000 + 60).is_ok());
        for refused in [1_800_000_000 - 361, 1_800_000_000 + 61, 8_000_000_000_000] {
            let error = check(refused).unwrap_err();
            assert!(
                matches!(error, Error::InvalidIdToken(_)),
                "{refused}: {error}"
            );
        }
    }
}
