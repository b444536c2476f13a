//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Sign in to an OpenID Connect provider (Okta or any other) from a terminal, the way a native app does.
#[derive(Debug, Parser)]
#[command(name = "signin", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub common: Common,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Common {
    /// The session file (default: signin/session.json in your data folder).
    #[arg(long, global = true, value_name = "FILE")]
    pub session: Option<PathBuf>,
    /// A JSON config file with Okta's sample names (issuer, clientId, redirectUri, logoutRedirectUri, scopes).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The issuer, e.g. https://{yourOktaDomain}/oauth2/default (overrides OIDC_ISSUER and the config file).
    #[arg(long, global = true, value_name = "URL")]
    pub issuer: Option<String>,
    /// The app integration's client id (overrides OIDC_CLIENT_ID and the config file).
    #[arg(long, global = true, value_name = "ID")]
    pub client_id: Option<String>,
    /// Where tokens are kept: the OS keystore (`keystore`), a file only you can read (`file`), or the
    /// keystore when one answers and the file otherwise (`auto`).
    #[arg(long, global = true, value_name = "WHERE", default_value = "auto", value_parser = ["auto", "keystore", "file"])]
    pub token_storage: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in through the browser and store the session; prints a summary as JSON.
    Login(Login),
    /// Prints a summary of the stored session as JSON (exit code 3 when there is none).
    Status,
    /// Prints a valid access token (refreshed if needed), nothing else.
    Token,
    /// Refreshes the tokens now; prints a summary as JSON.
    Refresh,
    /// GET a URL with the access token as a bearer token (refresh and retry once on 401); prints the body.
    Call {
        /// The URL to GET.
        url: String,
    },
    /// Revokes the tokens, opens the provider's sign-out page and removes the session file.
    Logout {
        #[command(flatten)]
        browser: BrowserArg,
    },
}

#[derive(Debug, Args)]
pub struct Login {
    /// Where the provider sends the browser back: a loopback http://127.0.0.1/path (default, on a
    /// free port unless one is given, as in http://127.0.0.1:8080/callback) or a private-use scheme
    /// such as com.okta.example:/callback.
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Where the provider sends the browser after `signin logout`: a loopback http://127.0.0.1/path
    /// (signin listens there and reports the sign-out; a free port unless one is given) or a
    /// private-use scheme. Stored with the session.
    #[arg(long, value_name = "URI")]
    pub logout_redirect_uri: Option<String>,
    /// Bind the tokens to a key of this device (DPoP, RFC 9449; the app integration must allow or
    /// require it). The key is kept with the session.
    #[arg(long)]
    pub dpop: bool,
    /// A scope to ask for (repeat for several); default: openid profile email offline_access.
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    #[command(flatten)]
    pub browser: BrowserArg,
}

#[derive(Debug, Args)]
pub struct BrowserArg {
    /// Run CMD URL instead of the system browser (CMD is split like a shell would).
    #[arg(long, value_name = "CMD")]
    pub browser: Option<String>,
}
