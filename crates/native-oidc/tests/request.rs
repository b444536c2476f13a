//! The authorization request against dev/idp: each option reaches the provider, which acts on it, and
//! the ID token is held to what was asked (`acr`, `auth_time`); pushed requests (PAR) and codes
//! bound to a DPoP key.

use std::{path::Path, time::Duration};

use native_oidc::{
    Auth, Error, ErrorKind, OidcClient, Par, PendingAuthorizations, SessionStore, SignInOptions,
};
use testkit::{Browser, Idp, IdpOptions, LoginAction};

use crate::support::{browser_callback_in, config, Fixture};

const SECOND_FACTOR: &str = "urn:okta:loa:2fa:any";

fn auth_with_leeway(idp: &Idp, path: &Path, leeway: Duration) -> Auth {
    let client = OidcClient::new(config(idp))
        .unwrap()
        .with_clock_leeway(leeway);
    Auth::new(client, SessionStore::file(path))
}

/// A sign-in as the demo user with `options` in `browser` (whose cookies hold the provider's
/// session, if any).
async fn sign_in_with(
    auth: &Auth,
    browser: &Browser,
    options: SignInOptions,
) -> native_oidc::Result<native_oidc::SessionSummary> {
    let (callback, mut pending) =
        browser_callback_in(auth, browser, options, &LoginAction::demo()).await;
    auth.complete_sign_in(callback.as_str(), &mut pending).await
}

#[tokio::test]
async fn a_second_factor_asked_for_is_asked_by_the_provider_and_shown_in_the_id_token() {
    let f = Fixture::new(IdpOptions::default());
    let auth = &f.auth;
    let summary = sign_in_with(
        auth,
        &Browser::new(),
        SignInOptions {
            acr_values: vec![SECOND_FACTOR.into()],
            require_acr: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.claims["acr"], SECOND_FACTOR);
    // The one-time code page was passed (dev/idp says `otp` only then).
    assert_eq!(summary.claims["amr"], serde_json::json!(["pwd", "otp"]));
}

#[tokio::test]
async fn a_level_the_provider_did_not_reach_is_refused_and_its_tokens_revoked() {
    let f = Fixture::new(IdpOptions::default());
    let (idp, auth, path) = (&f.idp, &f.auth, &f.path);
    // Phishing-resistant: dev/idp signs in with a password all the same, as a lenient provider would.
    let error = sign_in_with(
        auth,
        &Browser::new(),
        SignInOptions {
            acr_values: vec!["phr".into()],
            require_acr: true,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidIdToken, "{error}");
    assert!(
        error.to_string().contains("urn:okta:loa:1fa:pwd") && error.to_string().contains("phr"),
        "{error}"
    );
    assert!(!path.exists(), "nothing is stored");
    assert!(
        idp.revocations().await >= 1,
        "the tokens issued are revoked"
    );
    assert!(auth.session().await.is_none());
}

#[tokio::test]
async fn a_level_asked_for_but_not_required_is_a_wish() {
    let f = Fixture::new(IdpOptions::default());
    let auth = &f.auth;
    let summary = sign_in_with(
        auth,
        &Browser::new(),
        SignInOptions {
            acr_values: vec!["phr".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(summary.claims["acr"], "urn:okta:loa:1fa:pwd");
}

#[tokio::test]
async fn max_age_and_prompt_login_make_the_provider_ask_again() {
    let f = Fixture::new(IdpOptions::default());
    let auth = &f.auth;
    let browser = Browser::new();
    sign_in_with(auth, &browser, SignInOptions::default())
        .await
        .unwrap();
    for options in [
        SignInOptions {
            max_age: Some(Duration::from_secs(1)),
            ..Default::default()
        },
        SignInOptions {
            prompt: Some("login".into()),
            ..Default::default()
        },
    ] {
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let before = chrono::Utc::now().timestamp();
        let summary = sign_in_with(auth, &browser, options.clone()).await.unwrap();
        let auth_time = summary.claims["auth_time"].as_i64().expect("auth_time");
        assert!(
            auth_time >= before,
            "{options:?}: signed in again at {auth_time}, not before {before}"
        );
    }
}

#[tokio::test]
async fn an_auth_time_older_than_max_age_is_refused() {
    let idp = Idp::start_with(IdpOptions {
        ignore_max_age: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let auth = auth_with_leeway(&idp, &path, Duration::from_secs(1));
    let browser = Browser::new();
    let first = sign_in_with(&auth, &browser, SignInOptions::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let error = sign_in_with(
        &auth,
        &browser,
        SignInOptions {
            max_age: Some(Duration::from_secs(1)),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidIdToken, "{error}");
    assert!(error.to_string().contains("max_age"), "{error}");
    // The earlier session stays.
    assert_eq!(auth.session().await.unwrap().subject, first.subject);
}

#[tokio::test]
async fn prompt_none_without_a_provider_session_is_login_required() {
    let f = Fixture::new(IdpOptions::default());
    let (auth, path) = (&f.auth, &f.path);
    let error = sign_in_with(
        auth,
        &Browser::new(),
        SignInOptions {
            prompt: Some("none".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LoginRequired, "{error}");
    assert!(!path.exists());
}

/// Every option is sent. What the provider does with `acr_values`, `max_age`, `prompt` and `login_hint`
/// is tested above against dev/idp; `idp` and extra parameters only in the URL: dev/idp has no other
/// identity provider to send the user to (Okta does), and no use for `locale`.
#[tokio::test]
async fn every_option_is_in_the_authorization_url() {
    let idp = Idp::start_with(IdpOptions {
        par: Some("off"),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let auth = crate::support::auth(&idp, &dir.path().join("session.json"));
    let request = auth
        .begin_sign_in(SignInOptions {
            login_hint: Some("demo@example.com".into()),
            prompt: Some("login consent".into()),
            acr_values: vec![SECOND_FACTOR.into(), "urn:okta:loa:1fa:any".into()],
            require_acr: false,
            max_age: Some(Duration::from_secs(300)),
            idp: Some("0oa1enterprise".into()),
            extra_params: vec![("locale".into(), "fr-FR".into())],
            // Checked on return, never sent.
            subject: Some("00u1demo0000000000001".into()),
        })
        .await
        .unwrap();
    let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    for (name, value) in [
        ("login_hint", "demo@example.com"),
        ("prompt", "login consent"),
        ("acr_values", "urn:okta:loa:2fa:any urn:okta:loa:1fa:any"),
        ("max_age", "300"),
        ("idp", "0oa1enterprise"),
        ("locale", "fr-FR"),
    ] {
        assert!(
            query.contains(&(name.to_string(), value.to_string())),
            "{name}={value} in {query:?}"
        );
    }
}

#[tokio::test]
async fn options_that_cannot_be_sent_are_config_errors() {
    let f = Fixture::new(IdpOptions::default());
    let auth = &f.auth;
    let cases = [
        SignInOptions {
            extra_params: vec![("state".into(), "chosen".into())],
            ..Default::default()
        },
        SignInOptions {
            extra_params: vec![("redirect_uri".into(), "https://evil.example".into())],
            ..Default::default()
        },
        SignInOptions {
            acr_values: vec!["two words".into()],
            ..Default::default()
        },
        SignInOptions {
            require_acr: true,
            ..Default::default()
        },
    ];
    for options in cases {
        let error = auth.begin_sign_in(options.clone()).await.unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{options:?}: {error}");
    }
}

/// The query parameter names of a URL, sorted.
fn param_names(url: &url::Url) -> Vec<String> {
    let mut names: Vec<String> = url.query_pairs().map(|(n, _)| n.into_owned()).collect();
    names.sort();
    names
}

fn auth_with_par(idp: &Idp, path: &Path, par: Par, dpop: bool) -> Auth {
    let client = OidcClient::new(config(idp).with_par(par).with_dpop(dpop)).unwrap();
    Auth::new(client, SessionStore::file(path))
}

#[tokio::test]
async fn a_pushed_request_leaves_only_client_id_and_request_uri_in_the_browser_url() {
    for provider in ["on", "required"] {
        let idp = Idp::start_with(IdpOptions {
            par: Some(provider),
            ..Default::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let auth = auth_with_par(&idp, &dir.path().join("session.json"), Par::Auto, false);
        let request = auth
            .begin_sign_in(SignInOptions {
                login_hint: Some("demo@example.com".into()),
                acr_values: vec![SECOND_FACTOR.into()],
                require_acr: true,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            param_names(&request.url),
            ["client_id", "request_uri"],
            "IDP_PAR={provider}"
        );
        assert_eq!(
            idp.stats().await["requests"]["POST /oauth2/default/v1/par"],
            1
        );
        // What was pushed is what the provider acts on: the second factor, and its acr.
        let mut pending = PendingAuthorizations::new();
        pending.insert(request.pending);
        let callback = Browser::new()
            .open(request.url.as_str(), &LoginAction::demo())
            .await
            .app_redirect();
        let summary = auth
            .complete_sign_in(callback.as_str(), &mut pending)
            .await
            .unwrap();
        assert_eq!(summary.claims["acr"], SECOND_FACTOR);
    }
}

#[tokio::test]
async fn the_par_setting_forces_pushing_on_or_off_and_says_when_the_provider_disagrees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    // Offered, but off: a plain request.
    let offered = Idp::start_with(IdpOptions {
        par: Some("on"),
        ..Default::default()
    });
    let request = auth_with_par(&offered, &path, Par::Off, false)
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap();
    assert!(param_names(&request.url).contains(&"code_challenge".to_string()));
    // Required, and off: refused before anything is sent.
    let required = Idp::start_with(IdpOptions {
        par: Some("required"),
        ..Default::default()
    });
    let error = auth_with_par(&required, &path, Par::Off, false)
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error}");
    assert!(error.to_string().contains("requires pushed"), "{error}");
    // Not offered, and on.
    let none = Idp::start_with(IdpOptions {
        par: Some("off"),
        ..Default::default()
    });
    let error = auth_with_par(&none, &path, Par::On, false)
        .begin_sign_in(SignInOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error}");
    // A plain request to a provider that requires pushing is refused by it (the engine never
    // sends one: this is what it would meet).
    let plain = with_param_removed(&request.url, &required);
    let refused = Browser::new()
        .open(&plain, &LoginAction::demo())
        .await
        .app_redirect();
    assert!(
        refused
            .query_pairs()
            .any(|(n, v)| n == "error" && v == "invalid_request"),
        "{refused}"
    );
}

/// `url`'s request sent to `idp`'s authorization endpoint instead.
fn with_param_removed(url: &url::Url, idp: &Idp) -> String {
    let mut moved = url::Url::parse(&format!("{}/v1/authorize", idp.issuer())).unwrap();
    moved.set_query(url.query());
    moved.to_string()
}

/// The pending sign-in as it would be with another DPoP key: the code redeemed with that key.
fn with_another_key(
    pending: native_oidc::PendingAuthorization,
) -> native_oidc::PendingAuthorization {
    let mut json = serde_json::to_value(&pending).unwrap();
    let other = native_oidc::DpopKey::generate().unwrap();
    json["dpop_key"] = serde_json::to_value(&other).unwrap();
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn a_code_bound_to_a_dpop_key_is_refused_with_another_key() {
    // Without pushing, the request carries `dpop_jkt`; pushed, the push's proof binds the code.
    for (provider, par) in [("off", Par::Auto), ("on", Par::Auto)] {
        let idp = Idp::start_with(IdpOptions {
            par: Some(provider),
            ..Default::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let auth = auth_with_par(&idp, &path, par, true);
        let request = auth.begin_sign_in(SignInOptions::default()).await.unwrap();
        if provider == "off" {
            assert!(param_names(&request.url).contains(&"dpop_jkt".to_string()));
        }
        let mut pending = PendingAuthorizations::new();
        pending.insert(with_another_key(request.pending));
        let callback = Browser::new()
            .open(request.url.as_str(), &LoginAction::demo())
            .await
            .app_redirect();
        let error = auth
            .complete_sign_in(callback.as_str(), &mut pending)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), "invalid_grant", "IDP_PAR={provider}: {error}");
        assert!(!path.exists());
    }
}

#[tokio::test]
async fn a_refused_sign_in_of_the_signed_in_user_leaves_the_session_working() {
    // The same browser: the provider's session answers the second sign-in on the same grant.
    let f = Fixture::new(IdpOptions::default());
    let (idp, auth, path) = (&f.idp, &f.auth, &f.path);
    let browser = Browser::new();
    sign_in_with(auth, &browser, SignInOptions::default())
        .await
        .unwrap();
    let before = SessionStore::file(path).load().await.unwrap().unwrap();
    let error = sign_in_with(
        auth,
        &browser,
        SignInOptions {
            acr_values: vec!["phr".into()],
            require_acr: true,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidIdToken, "{error}");
    let kept = SessionStore::file(path).load().await.unwrap().unwrap();
    assert!(kept.same_tokens(&before), "the stored session is as it was");
    // Its refresh token still works: nothing of its grant was revoked.
    auth.refresh().await.unwrap();
    assert_eq!(idp.revocations().await, 0);
}
