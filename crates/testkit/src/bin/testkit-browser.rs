//! A stand-in for the system browser in tests of programs that run a browser command:
//! `testkit-browser [--user U --password P | --cancel] URL`.
//!
//! It signs in on the identity provider's pages over HTTP (see `testkit::Browser`) and prints the final
//! URL on standard output: the app's custom-scheme callback, or the page it stopped on (after following
//! a loopback redirect, the app's own "you can close this tab" page).

use testkit::{Browser, LoginAction, Outcome};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut username, mut password) = ("demo".to_string(), "demo".to_string());
    let mut cancel = false;
    let mut url = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--user" => username = args.next().expect("--user needs a value"),
            "--password" => password = args.next().expect("--password needs a value"),
            "--cancel" => cancel = true,
            _ => url = Some(arg),
        }
    }
    let url = url.expect("usage: testkit-browser [--user U --password P | --cancel] URL");
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
