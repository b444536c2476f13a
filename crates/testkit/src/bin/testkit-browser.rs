//! A stand-in for the system browser in tests of programs that run a browser command:
//! `testkit-browser [--user U --password P | --cancel] [--poke] URL`.
//!
//! `--poke` first sends the authorization request's loopback `redirect_uri` two requests that are not
//! the sign-in's callback (a made-up `state`, and none), as another page or program could, and fails
//! unless both are answered 400.
//!
//! It signs in on the identity provider's pages over HTTP (see `testkit::Browser`) and prints the final
//! URL on standard output: the app's custom-scheme callback, or the page it stopped on (after following
//! a loopback redirect, the app's own "you can close this tab" page).

use testkit::{Browser, LoginAction, Outcome};

const USAGE: &str = "usage: testkit-browser [--user U --password P | --cancel] [--poke] URL";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut username, mut password) = ("demo".to_string(), "demo".to_string());
    let mut cancel = false;
    let mut poke = false;
    let mut url = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--user" => username = args.next().expect("--user needs a value"),
            "--password" => password = args.next().expect("--password needs a value"),
            "--cancel" => cancel = true,
            "--poke" => poke = true,
            flag if flag.starts_with("--") => panic!("unknown option {flag}\n{USAGE}"),
            _ if url.is_some() => panic!("one URL only\n{USAGE}"),
            _ => url = Some(arg),
        }
    }
    let url = url.expect(USAGE);
    if poke {
        poke_redirect(&url).await;
    }
    let action = if cancel {
        LoginAction::Cancel
    } else {
        LoginAction::SignIn { username, password }
    };
    match Browser::new().open(&url, &action).await {
        Outcome::AppRedirect(url) => println!("{url}"),
        Outcome::Page { url, status, .. } => {
            println!("{url}");
            if status >= 400 {
                eprintln!("testkit-browser: stopped on HTTP {status}");
                std::process::exit(1);
            }
        }
    }
}

/// Sends the loopback redirect URI of an authorization URL requests that are not its callback.
async fn poke_redirect(authorization_url: &str) {
    let url = url::Url::parse(authorization_url).expect("an authorization URL");
    let redirect = url
        .query_pairs()
        .find(|(name, _)| name == "redirect_uri")
        .map(|(_, value)| value.into_owned())
        .expect("a redirect_uri");
    for stray in [
        format!("{redirect}?code=made-up&state=made-up"),
        redirect.clone(),
    ] {
        let status = reqwest::get(&stray)
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status != 400 {
            eprintln!("testkit-browser: {stray} answered {status}, not 400");
            std::process::exit(1);
        }
    }
}
