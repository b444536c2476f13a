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
    /// Sign in once for all apps of the vendor's SSO group NAME (Native SSO; overrides
    /// OIDC_SSO_GROUP and `ssoGroup` in the config file): `login` first tries the sign-in another app
    /// of the group left, with no browser, and leaves its own for the others.
    #[arg(long, global = true, value_name = "NAME")]
    pub sso_group: Option<String>,
    /// The account to use, by its id, email or subject (`signin accounts` lists them); default: the
    /// default account (the one signed in or switched to last).
    #[arg(long, global = true, value_name = "ID|EMAIL")]
    pub account: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in through the browser (or, with --device, on another device) and store the session;
    /// prints a summary as JSON.
    Login(Box<Login>),
    /// Prints a summary of the stored session as JSON (exit code 3 when there is none).
    Status,
    /// Lists the accounts signed in here as JSON (no network): id, issuer, subject, name, email,
    /// and which is the default.
    Accounts {
        /// Make this account (id, email or subject) the default one.
        #[arg(long, value_name = "ID|EMAIL")]
        switch: Option<String>,
    },
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
        /// Sign out of every app of the SSO group too: revokes the sign-in they share (Native SSO),
        /// so each is signed out at its next refresh.
        #[arg(long)]
        all_apps: bool,
        /// Sign out of every account signed in here (each revoked and ended at the provider).
        #[arg(long, conflicts_with = "account")]
        all_accounts: bool,
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
    /// Add another account, keeping those signed in here: the provider is asked for credentials
    /// again (prompt=login, unless --prompt says otherwise), so the browser does not hand back the
    /// account it is signed in as. The new account becomes the default. Signing in as an account
    /// that is here already updates it.
    #[arg(long, conflicts_with = "account")]
    pub add: bool,
    /// A scope to ask for (repeat for several); default: openid profile email offline_access.
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// Sign in on another device, for a machine with no browser (over SSH): prints a URL and a code
    /// (and a QR code) to open on a phone or another computer, and waits until you have signed in
    /// there (the Device Authorization Grant, RFC 8628; the app integration must allow it).
    #[arg(long, conflicts_with_all = [
        "redirect_uri", "browser", "acr_values", "max_age", "prompt", "login_hint", "idp", "params",
    ])]
    pub device: bool,
    #[command(flatten)]
    pub request: RequestArgs,
    #[command(flatten)]
    pub browser: BrowserArg,
}

/// What the authorization request asks of the provider (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// The authentication levels to ask for, space- or comma-separated (Okta:
    /// urn:okta:loa:1fa:any, urn:okta:loa:1fa:pwd, urn:okta:loa:2fa:any,
    /// urn:okta:loa:2fa:any:ifpossible, phr, phrh). The ID token must show one of them, else
    /// nothing is stored and the tokens are revoked.
    #[arg(long, value_name = "ACRS")]
    pub acr_values: Option<String>,
    /// Ask the provider to authenticate the user again when their last authentication is older
    /// than SECONDS; the ID token's auth_time is checked against it.
    #[arg(long, value_name = "SECONDS")]
    pub max_age: Option<u64>,
    /// prompt: login (ask for credentials even with a session), consent, or none (no page at all;
    /// login_required without a session at the provider). Space-separated for several.
    #[arg(long, value_name = "VALUES")]
    pub prompt: Option<String>,
    /// Pre-fill the username on the sign-in page.
    #[arg(long, value_name = "USERNAME")]
    pub login_hint: Option<String>,
    /// Send the user to this identity provider of the organisation (Okta: its id, such as
    /// 0oa…), without the provider's own sign-in page.
    #[arg(long, value_name = "ID")]
    pub idp: Option<String>,
    /// One more authorization request parameter, sent as given (repeat for several).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = name_value)]
    pub params: Vec<(String, String)>,
}

impl RequestArgs {
    /// The engine's options: whoever types --acr-values wants that level and nothing less.
    pub fn options(self) -> native_oidc::SignInOptions {
        let acr_values: Vec<String> = self
            .acr_values
            .iter()
            .flat_map(|v| v.split(|c: char| c == ',' || c.is_whitespace()))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        native_oidc::SignInOptions {
            login_hint: self.login_hint,
            prompt: self.prompt,
            require_acr: !acr_values.is_empty(),
            acr_values,
            max_age: self.max_age.map(std::time::Duration::from_secs),
            idp: self.idp,
            extra_params: self.params,
            subject: None,
        }
    }
}

fn name_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

#[derive(Debug, Args)]
pub struct BrowserArg {
    /// Run CMD URL instead of the system browser (CMD is split like a shell would).
    #[arg(long, value_name = "CMD")]
    pub browser: Option<String>,
}
