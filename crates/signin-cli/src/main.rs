//! `signin`: a command-line front end of the `native-oidc` engine, for trying an Okta (or any
//! OpenID Connect) app integration from a terminal and for scripting against any provider.
//!
//! Output: `login`, `status` and `refresh` print one JSON object (with `"storage": "keystore"` or
//! `"file"`); `token` prints the access token; `call` prints the response body. Errors: exit code 1 and one line `error: <kind>: <message>` on
//! standard error (`status` without a session: exit code 3). Nothing the provider sent reaches the
//! terminal with a control character or bidi override in it: messages go through
//! `native_oidc::text::Printable`, the JSON escapes them, and `call` shows a body through it when its
//! output is a terminal.

mod args;
mod browser;
mod commands;
mod device;
mod logging;
mod loopback;
mod settings;

use std::{io::IsTerminal, process::ExitCode};

use clap::Parser;
use native_oidc::Error;

use crate::args::{Cli, Command};

/// `value` as pretty JSON that is safe on a terminal: serde_json escapes C0 controls in strings, but
/// writes DEL, C1 controls and bidi overrides (a provider's `name` may hold them) as they are; those
/// are written as `\uXXXX` escapes here, so a JSON reader gets the same value.
fn json(value: &impl serde::Serialize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into());
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        // Outside strings, the pretty printer writes only spaces and line feeds; inside them, serde_json
        // has already escaped every C0 control, line feeds included.
        if c != '\n' && native_oidc::text::is_unprintable(c) {
            safe.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            safe.push(c);
        }
    }
    safe
}

/// A response body for standard output: as it is into a pipe or a file (a script gets the bytes the
/// API sent); on a terminal, line by line through `Printable`, so an answer cannot act on the terminal.
fn for_stdout(body: String) -> String {
    if !std::io::stdout().is_terminal() {
        return body;
    }
    body.split('\n')
        .map(native_oidc::text::printable)
        .collect::<Vec<_>>()
        .join("\n")
}

async fn run(cli: Cli) -> Result<String, Error> {
    let common = &cli.common;
    match cli.command {
        Command::Login(login) => commands::login(common, *login).await.map(|s| json(&s)),
        Command::Status => commands::status(common).await.map(|s| json(&s)),
        Command::Accounts { switch } => commands::accounts(common, switch.as_deref())
            .await
            .map(|a| json(&a)),
        Command::Token => commands::token(common).await,
        Command::Refresh => commands::refresh(common).await.map(|s| json(&s)),
        Command::Call { url } => commands::call(common, &url).await.map(for_stdout),
        Command::Logout {
            all_apps,
            all_accounts,
            browser,
        } => commands::logout(common, browser.browser.as_deref(), all_apps, all_accounts)
            .await
            .map(|()| String::new()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Warnings (a keystore that does not answer, a session that cannot be read) go to standard error.
    logging::init();
    let is_status = matches!(cli.command, Command::Status);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: config: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(output) => {
            if !output.is_empty() {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            // Both are shown without control characters (see native_oidc::text), on one line.
            match &error {
                Error::StepUpRequired(step_up) => eprintln!(
                    "error: {}: {error}; sign in with: {}",
                    error.kind(),
                    step_up_command(step_up)
                ),
                _ => eprintln!("error: {}: {error}", error.kind()),
            }
            if is_status && matches!(error, Error::NotSignedIn) {
                ExitCode::from(3)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The `signin login` that answers an API's step-up challenge, safe to paste into a shell: the API's
/// values single-quoted (a quote in them closed, escaped and reopened), and shown without control
/// characters, as every text from outside.
fn step_up_command(step_up: &native_oidc::StepUp) -> String {
    let mut command = String::from("signin login");
    if !step_up.acr_values.is_empty() {
        let quoted = step_up.acr_values.join(" ").replace('\'', r"'\''");
        command.push_str(&format!(" --acr-values '{quoted}'"));
    }
    if let Some(age) = step_up.max_age {
        command.push_str(&format!(" --max-age {age}"));
    }
    native_oidc::text::printable(&command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_up_hint_is_safe_to_paste_into_a_shell() {
        let hostile = native_oidc::StepUp {
            acr_values: vec![
                "x'$(touch${IFS}/tmp/owned)'".into(),
                "urn:okta:loa:2fa:any".into(),
            ],
            max_age: Some(300),
        };
        let hint = step_up_command(&hostile);
        assert_eq!(
            hint,
            r"signin login --acr-values 'x'\''$(touch${IFS}/tmp/owned)'\'' urn:okta:loa:2fa:any' --max-age 300"
        );
        // What a shell makes of it: the API's text, one argument, nothing run.
        let words = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("printf '%s\\n' {}", &hint["signin login ".len()..]),
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(words.stdout).unwrap(),
            "--acr-values\nx'$(touch${IFS}/tmp/owned)' urn:okta:loa:2fa:any\n--max-age\n300\n"
        );
    }
}
