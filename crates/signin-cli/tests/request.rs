//! `signin login`'s authorization request flags against dev/idp: what the provider does with them,
//! and what is refused.

use testkit::IdpOptions;

use crate::{demo_api, Env, Run};

/// The error line of a failed login whose browser command also failed (it stopped on the page
/// `signin` answered the refused callback with).
fn last_error_line(run: &Run) -> &str {
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    run.stderr.lines().last().unwrap_or_default()
}

#[test]
fn acr_values_ask_for_a_second_factor_and_the_session_shows_it() {
    let env = Env::new(IdpOptions::default());
    let summary = env.login(&["--acr-values", "urn:okta:loa:2fa:any"]).json();
    assert_eq!(summary["claims"]["acr"], "urn:okta:loa:2fa:any");
    assert_eq!(summary["claims"]["amr"], serde_json::json!(["pwd", "otp"]));
}

#[test]
fn a_level_below_the_one_typed_is_refused_and_nothing_is_stored() {
    let env = Env::new(IdpOptions::default());
    // dev/idp cannot sign in phishing-resistantly; it signs in with a password all the same.
    let run = env.login(&["--acr-values", "phr"]);
    let line = last_error_line(&run);
    assert!(line.starts_with("error: invalid_id_token: "), "{line}");
    assert!(line.contains("phr"), "{line}");
    assert!(!env.session().exists());
    assert_eq!(env.run(&["status"]).code, 3);
}

#[test]
fn max_age_is_checked_against_the_provider_s_auth_time() {
    let env = Env::new(IdpOptions::default());
    let summary = env.login(&["--max-age", "60"]).json();
    let auth_time = summary["claims"]["auth_time"].as_u64().expect("auth_time");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(auth_time) < 60,
        "auth_time {auth_time}, now {now}"
    );
}

#[test]
fn prompt_none_without_a_provider_session_is_login_required() {
    let env = Env::new(IdpOptions::default());
    let run = env.login(&["--prompt", "none"]);
    let line = last_error_line(&run);
    assert!(line.starts_with("error: login_required"), "{line}");
    assert!(!env.session().exists());
}

#[test]
fn parameters_reach_the_browser_and_reserved_ones_are_refused() {
    // Not pushed (PAR), so the browser's URL holds them all.
    let env = Env::new(IdpOptions::default());
    // A browser command that writes down the URL it was given and stops: the sign-in cannot complete.
    let opened = env.dir.path().join("opened");
    let browser = format!("sh -c 'echo \"$0\" > {}'", opened.display());
    crate::finish(
        env.login_command(
            &browser,
            &[
                "--redirect-uri",
                "com.okta.example:/callback",
                "--login-hint",
                "demo@example.com",
                "--idp",
                "0oa1enterprise",
                "--param",
                "locale=fr-FR",
                "--max-age",
                "300",
                "--acr-values",
                "urn:okta:loa:2fa:any,urn:okta:loa:1fa:any",
            ],
        )
        .output()
        .unwrap(),
    );
    let url = url::Url::parse(std::fs::read_to_string(&opened).unwrap().trim()).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for (name, value) in [
        ("login_hint", "demo@example.com"),
        ("idp", "0oa1enterprise"),
        ("locale", "fr-FR"),
        ("max_age", "300"),
        ("acr_values", "urn:okta:loa:2fa:any urn:okta:loa:1fa:any"),
    ] {
        assert!(
            query.contains(&(name.to_string(), value.to_string())),
            "{name}={value} in {query:?}"
        );
    }

    let run = env.login(&["--param", "state=mine"]);
    assert_eq!(
        run.error_line(),
        "error: config: the authorization request parameter `state` cannot be set as an extra \
         parameter (it has its own option, or this client sets it)"
    );
    let run = env.login(&["--param", "novalue"]);
    assert_eq!(run.code, 2, "a usage error: {}", run.stderr);
    assert!(run.stderr.contains("expected NAME=VALUE"), "{}", run.stderr);
}

#[test]
fn call_says_which_flags_answer_a_step_up_and_they_do() {
    let env = Env::new(IdpOptions::default());
    let sensitive = format!("{}/api/sensitive", demo_api(&env));
    env.login(&[]).json();
    let before = stored_tokens(&env);

    let run = env.run(&["call", &sensitive]);
    let line = run.error_line();
    assert_eq!(
        line,
        "error: step_up_required: the API needs a sign-in at level urn:okta:loa:2fa:any within \
         the last 300 s; sign in with: signin login --acr-values 'urn:okta:loa:2fa:any' --max-age 300"
    );
    // Still signed in, with the same tokens (no refresh, no sign-out).
    assert_eq!(env.run(&["status"]).code, 0);
    assert_eq!(stored_tokens(&env), before);

    let summary = env
        .login(&["--acr-values", "urn:okta:loa:2fa:any", "--max-age", "300"])
        .json();
    assert_eq!(summary["claims"]["acr"], "urn:okta:loa:2fa:any");
    let run = env.run(&["call", &sensitive]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(body["acr"], "urn:okta:loa:2fa:any");
}

#[test]
fn with_a_provider_that_offers_par_the_browser_gets_only_a_request_uri() {
    let env = Env::new(IdpOptions {
        par: Some("on"),
        ..Default::default()
    });
    let opened = env.dir.path().join("opened");
    let browser = format!("sh -c 'echo \"$0\" > {}'", opened.display());
    crate::finish(
        env.login_command(&browser, &["--redirect-uri", "com.okta.example:/callback"])
            .output()
            .unwrap(),
    );
    let url = url::Url::parse(std::fs::read_to_string(&opened).unwrap().trim()).unwrap();
    let names: Vec<String> = url.query_pairs().map(|(n, _)| n.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"]);
    // And with OIDC_PAR=off, a plain request.
    crate::finish(
        env.login_command(&browser, &["--redirect-uri", "com.okta.example:/callback"])
            .env("OIDC_PAR", "off")
            .output()
            .unwrap(),
    );
    let url = url::Url::parse(std::fs::read_to_string(&opened).unwrap().trim()).unwrap();
    assert!(
        url.query_pairs().any(|(n, _)| n == "code_challenge"),
        "{url}"
    );
}

/// The access and refresh tokens of the stored session (the tests keep it in a file).
fn stored_tokens(env: &Env) -> (serde_json::Value, serde_json::Value) {
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    (
        stored["access_token"].clone(),
        stored["refresh_token"].clone(),
    )
}
