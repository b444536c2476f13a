//! One function per command; each returns what `main` prints.

use axum::{http::StatusCode, response::Html};
use native_oidc::{
    http::BodyError, store::SESSION, Account, Accounts, Auth, ConfigSource, EndSessionRequest,
    Error, OidcClient, PendingAuthorizations, Result, SessionStore, SessionSummary, SharedSignOut,
    Storage, PENDING_LIFETIME,
};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use url::Url;

use crate::{
    args::{Common, Login},
    browser, device,
    loopback::{page_html, Loopback},
    settings,
};

/// The redirect when none is configured: loopback on a free port (RFC 8252 §7.3).
const DEFAULT_REDIRECT: &str = "http://127.0.0.1/callback";

/// How long tokens that must be kept (a refresh's answer, a new sign-in) are saved again when the
/// store fails (the keyring restarting, a full disk). `signin` exits when its command is done, and
/// what it could not save would go with it, so it waits longer than an app, which keeps them in
/// memory until it can save them.
const SAVE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// The engine for the account of `store`, with `signin`'s patience for saves: a sign-in is kept as
/// its account among `accounts`. With an SSO group, the group's share is open: a sign-in is left
/// there, and a device secret the provider rotates at a refresh replaces the shared one. A share
/// that cannot be opened is said and done without: the command still works for this app.
async fn engine(
    common: &Common,
    config: native_oidc::Config,
    store: SessionStore,
    accounts: &Accounts,
) -> Result<Auth> {
    let share = settings::sso_share(common, &config)
        .await
        .unwrap_or_else(|error| {
            eprintln!(
                "warning: the SSO group's shared sign-in cannot be opened ({}: {error}); going on \
                 without it",
                error.kind()
            );
            None
        });
    let config = match share {
        Some(_) => config,
        None => config.without_sso_group(),
    };
    let auth = Auth::new(OidcClient::new(config)?, store)
        .with_save_patience(SAVE_PATIENCE)
        .with_accounts(accounts.clone());
    Ok(match share {
        Some(share) => auth.with_sso_share(share),
        None => auth,
    })
}

/// A summary of the session, and where its tokens are kept.
#[derive(Debug, Serialize)]
pub struct Status {
    #[serde(flatten)]
    summary: SessionSummary,
    storage: Storage,
    /// After `login`: `browser`, `device` or `native_sso`.
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_in_with: Option<&'static str>,
}

impl Status {
    fn new(summary: SessionSummary, auth: &Auth) -> Self {
        Self {
            summary,
            storage: auth.storage(),
            signed_in_with: None,
        }
    }

    fn signed_in_with(mut self, way: &'static str) -> Self {
        self.signed_in_with = Some(way);
        self
    }
}

/// An `Auth` for the stored session of the account to use; `NotSignedIn` when there is none.
async fn signed_in(common: &Common) -> Result<Auth> {
    let settings::Chosen {
        accounts,
        store,
        named,
    } = settings::account_store(common).await?;
    let config = settings::for_session(common, &store).await?;
    let auth = engine(common, config, store, &accounts).await?;
    restore(&auth).await?;
    // The account's slot may hold another one by now (it signed out, another process reused it).
    if let Some(named) = named {
        if auth.session().await.map(|s| s.account) != Some(named) {
            return Err(Error::NotSignedIn);
        }
    }
    Ok(auth)
}

/// Restores the stored session. One of another client or issuer than the configuration names (a
/// flag, an `OIDC_*` variable, the config file) is a `config` error that says which, not "not
/// signed in".
async fn restore(auth: &Auth) -> Result<()> {
    if auth.restore().await?.is_some() {
        return Ok(());
    }
    let config = auth.client().config();
    if let Some(stored) = auth.store().load().await? {
        if stored.client_id() != config.client_id() || stored.issuer() != config.issuer() {
            return Err(Error::Config(format!(
                "the stored session is for client {} at {}, but the configuration (flags, OIDC_* \
                 variables, --config) names client {} at {}: pass --client-id and --issuer of the \
                 session, or unset what names the other",
                stored.client_id().as_str(),
                stored.issuer().as_str(),
                config.client_id().as_str(),
                config.issuer().as_str()
            )));
        }
    }
    Err(Error::NotSignedIn)
}

pub async fn login(common: &Common, mut login: Login) -> Result<Status> {
    let settings::Chosen {
        accounts, store, ..
    } = settings::account_store(common).await?;
    if login.add {
        // The browser is likely signed in at the provider as an account that is here already.
        login.request.prompt.get_or_insert_with(|| "login".into());
    }
    // The stored session only fills in issuer and client id; an unreadable one must not block a new
    // login: it is set aside (never deleted), out of the new session's way.
    let stored = match settings::from_session(&store).await {
        Ok(stored) => stored,
        Err(error) => {
            set_aside_unreadable(&store, &error).await?;
            ConfigSource::default()
        }
    };
    let mut source = settings::sources(
        common,
        login.redirect_uri,
        login.logout_redirect_uri,
        login.scopes,
        login.dpop,
    )?
    .or(stored);
    let options = login.request.options();
    if login.device {
        // No browser comes back here: the redirect URI is only what the configuration needs.
        source
            .redirect_uri
            .get_or_insert_with(|| DEFAULT_REDIRECT.to_string());
        // The device sign-in's device secret is left for the group's apps too.
        let auth = engine(common, source.build()?, store, &accounts).await?;
        if let Some(status) = native_sso(&auth, &options, "on another device").await {
            return Ok(status);
        }
        let summary = device::sign_in(&auth).await?;
        return Ok(Status::new(summary, &auth).signed_in_with("device"));
    }
    let redirect = source
        .redirect_uri
        .get_or_insert_with(|| DEFAULT_REDIRECT.to_string())
        .clone();
    // Validate first, so a bad redirect is a config error before anything listens.
    let mut loopback = None;
    if source.clone().build()?.is_loopback_redirect() {
        let listener = Loopback::bind(&redirect).await?;
        source.redirect_uri = Some(listener.redirect_uri().to_string());
        loopback = Some(listener);
    }
    let config = source.build()?;
    let redirect = config.redirect_uri().to_string();
    let auth = engine(common, config, store, &accounts).await?;
    if let Some(status) = native_sso(&auth, &options, "through the browser").await {
        return Ok(status);
    }

    let request = auth.begin_sign_in(options).await?;
    let mut pending = PendingAuthorizations::new();
    pending.insert(request.pending);
    let command = login.browser.browser.as_deref();
    let mut opened = browser::open(request.url.as_str(), request.url.as_str(), command)?;

    let outcome = tokio::time::timeout(PENDING_LIFETIME, async {
        match loopback.as_mut() {
            Some(listener) => loopback_sign_in(listener, &auth, &mut pending).await,
            None => {
                let callback = match opened.callback_from_output(&redirect).await? {
                    Some(callback) => callback,
                    None if command.is_some() => {
                        return Err(Error::Protocol(format!(
                            "the browser command ended without printing a URL that starts with {redirect}"
                        )))
                    }
                    None => paste_callback(&redirect).await?,
                };
                auth.complete_sign_in(&callback, &mut pending).await
            }
        }
    })
    .await
    .map_err(|_| Error::AuthorizationExpired)?;
    drop(loopback);
    opened.finish().await?;
    Ok(Status::new(outcome?, &auth).signed_in_with("browser"))
}

/// Native SSO first, when an SSO group is set: the sign-in another app of the group left on this
/// device, with no browser. `None` when it cannot sign in (said on standard error, with why): the
/// caller then signs in `otherwise` ("through the browser", "on another device").
async fn native_sso(
    auth: &Auth,
    options: &native_oidc::SignInOptions,
    otherwise: &str,
) -> Option<Status> {
    let group = auth.sso_group()?;
    // A sign-in that asks for something (a level, max_age, prompt, another account, …) is the
    // provider's to answer: the shared sign-in cannot.
    let asks = *options != native_oidc::SignInOptions::default();
    match if asks {
        Err(None)
    } else {
        auth.sign_in_with_sso().await.map_err(Some)
    } {
        Ok(Some(summary)) => {
            eprintln!(
                "Signed in with Native SSO: the sign-in another app of the SSO group {group} \
                 left on this device; no browser needed."
            );
            return Some(Status::new(summary, auth).signed_in_with("native_sso"));
        }
        Ok(None) => eprintln!(
            "No sign-in of the SSO group {group} on this device yet: signing in {otherwise}."
        ),
        Err(None) => eprintln!(
            "This sign-in asks the provider for something the SSO group's shared sign-in cannot \
             answer: signing in {otherwise}."
        ),
        Err(Some(error)) => eprintln!(
            "Native SSO did not sign you in ({}: {error}): signing in {otherwise}.",
            error.kind()
        ),
    }
    None
}

/// Waits on the loopback listener for this sign-in's callback and completes the sign-in with it,
/// answering the browser with the outcome. Anything that is not this sign-in's callback (another
/// page, a guess at the port) is refused and the wait goes on.
async fn loopback_sign_in(
    listener: &mut Loopback,
    auth: &Auth,
    pending: &mut PendingAuthorizations,
) -> Result<SessionSummary> {
    loop {
        let (callback, answer) = listener
            .next()
            .await
            .ok_or_else(|| Error::Protocol("the loopback listener stopped".into()))?;
        if !carries_state_of(&callback, pending) {
            let _ = answer.send((
                StatusCode::BAD_REQUEST,
                Html(page_html(
                    "Not the sign-in in progress",
                    "This request does not belong to the sign-in the terminal is waiting for.",
                )),
            ));
            continue;
        }
        let result = auth.complete_sign_in(&callback, pending).await;
        let _ = answer.send(match &result {
            Ok(summary) => (
                StatusCode::OK,
                Html(page_html(
                    "Signed in",
                    &format!(
                        "Signed in as {}. You can close this tab and go back to the terminal.",
                        summary.name.as_deref().unwrap_or(&summary.subject)
                    ),
                )),
            ),
            Err(error) => (
                StatusCode::BAD_REQUEST,
                Html(page_html("Sign-in failed", &error.to_string())),
            ),
        });
        return result;
    }
}

/// After the stored session could not be read (`error`): makes sure it is out of the way of a new
/// one. A value that is not a session was already set aside by the store; one that cannot even be
/// read (a folder in its place, no permission) is set aside here, whole. Never deleted.
async fn set_aside_unreadable(store: &SessionStore, error: &Error) -> Result<()> {
    eprintln!("warning: {}: {error}; signing in afresh", error.kind());
    let lock = store.lock().await?;
    if store.load_locked(&lock).await.is_ok() {
        return Ok(());
    }
    let vault = store.vault().clone();
    let aside = tokio::task::spawn_blocking(move || vault.set_aside(SESSION))
        .await
        .map_err(|e| Error::Storage(format!("the store task failed: {e}")))?
        .map_err(|e| {
            Error::Storage(format!(
                "the stored session cannot be read, nor moved out of the way of a new one: {e}"
            ))
        })?;
    eprintln!("warning: storage: the unreadable session was moved to {aside}");
    Ok(())
}

/// True when `url`'s query has a `state` of a sign-in in `pending`.
fn carries_state_of(url: &str, pending: &PendingAuthorizations) -> bool {
    Url::parse(url).is_ok_and(|url| {
        url.query_pairs()
            .any(|(name, value)| name == "state" && pending.contains(&value))
    })
}

async fn paste_callback(redirect: &str) -> Result<String> {
    eprintln!("After signing in, the browser is sent to {redirect}?…");
    eprintln!("Paste that whole URL here and press Enter:");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| Error::Protocol(format!("cannot read standard input: {e}")))?
    {
        if !line.trim().is_empty() {
            return Ok(line.trim().to_string());
        }
    }
    Err(Error::Protocol(
        "no callback URL was pasted on standard input".into(),
    ))
}

/// `accounts`: every account signed in here (no network), after making `switch` the default.
pub async fn accounts(common: &Common, switch: Option<&str>) -> Result<Vec<Account>> {
    let path = settings::session_path(common)?;
    let accounts = Accounts::new(settings::store(common, &path).await?);
    if let Some(key) = switch {
        let account = accounts.find(key).await?;
        accounts.set_default(&account.id).await?;
    }
    accounts.list().await
}

pub async fn status(common: &Common) -> Result<Status> {
    let auth = signed_in(common).await?;
    let summary = auth.session().await.ok_or(Error::NotSignedIn)?;
    Ok(Status::new(summary, &auth))
}

pub async fn token(common: &Common) -> Result<String> {
    let auth = signed_in(common).await?;
    let token = auth.access_token().await?.secret().clone();
    // RFC 6749 §A.12: an access token is printable ASCII (VSCHAR). Anything else is not printed: it
    // would reach the terminal as it is.
    if token.is_empty() || !token.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(Error::Protocol(
            "the access token the provider issued is not printable text (RFC 6749 §A.12); it is not printed"
                .into(),
        ));
    }
    Ok(token)
}

pub async fn refresh(common: &Common) -> Result<Status> {
    let auth = signed_in(common).await?;
    let summary = auth.refresh().await?;
    Ok(Status::new(summary, &auth))
}

/// The largest API answer `signin call` reads.
const MAX_CALL_ANSWER: usize = 16 * 1024 * 1024;

pub async fn call(common: &Common, url: &str) -> Result<String> {
    let target =
        Url::parse(url).map_err(|e| Error::Config(format!("`{url}` is not a URL: {e}")))?;
    if !native_oidc::is_https_or_loopback(&target) {
        return Err(Error::Config(format!(
            "refusing to send a token to `{url}`: use https (plain http only on loopback)"
        )));
    }
    let auth = signed_in(common).await?;
    let request = auth.request(reqwest::Method::GET, target)?;
    let response = auth.send(request).await?;
    let status = response.status();
    let body = native_oidc::http::read_limited(response, MAX_CALL_ANSWER)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => Error::Protocol(format!(
                "{url} answered with more than {} MiB; it was not read",
                MAX_CALL_ANSWER / (1024 * 1024)
            )),
            BodyError::Read(_) => Error::Network(format!("cannot read the answer ({e})")),
        })?;
    if !status.is_success() {
        return Err(Error::Protocol(format!("{url} answered HTTP {status}")));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// `logout` when the stored session cannot be read (`error`): its tokens cannot be revoked, but what
/// can be erased on this device is (the store keeps a copy it set aside only until sign-out).
async fn erase_unreadable(store: &SessionStore, error: &Error) -> Result<()> {
    eprintln!("warning: {}: {error}", error.kind());
    let lock = store.lock().await?;
    store.clear(&lock).await.map_err(|e| {
        not_erased(
            e,
            "its tokens could not be revoked either (it cannot be read)",
        )
    })?;
    eprintln!(
        "Signed out on this device: the unreadable session is erased. Its tokens could not be \
         revoked; they end when they expire (or sign out at the identity provider's site)."
    );
    Ok(())
}

/// A sign-out that could not erase everything on this device: an error (exit code 1), saying what
/// remains, what became of the tokens (`tokens`) and what to do.
fn not_erased(error: Error, tokens: &str) -> Error {
    let why = match error {
        Error::Storage(message) => message,
        other => other.to_string(),
    };
    Error::Storage(format!(
        "not signed out on this device: the stored session could not be erased ({why}); {tokens}; \
         run `signin logout` again once that is fixed"
    ))
}

/// How long `logout` waits for the browser to come back to a loopback logout redirect.
const LOGOUT_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// `logout`: this app's own sign-out, then with `all_apps` the sign-in the SSO group's apps share
/// (its settings read first, from the session this sign-out erases). Either failing is the command's
/// error, once both have been tried.
pub async fn logout(
    common: &Common,
    browser_command: Option<&str>,
    all_apps: bool,
    all_accounts: bool,
) -> Result<()> {
    let settings::Chosen {
        accounts, store, ..
    } = settings::account_store(common).await?;
    if all_accounts {
        return logout_everyone(common, browser_command, all_apps, &accounts).await;
    }
    logout_account(common, browser_command, all_apps, &accounts, store).await
}

/// `logout --all-accounts`: each account's sign-out in turn, whatever became of the others; the
/// first error is the command's.
async fn logout_everyone(
    common: &Common,
    browser_command: Option<&str>,
    all_apps: bool,
    accounts: &Accounts,
) -> Result<()> {
    let list = accounts.list().await?;
    if list.is_empty() {
        return logout_account(
            common,
            browser_command,
            all_apps,
            accounts,
            accounts.default_store().await?,
        )
        .await;
    }
    let mut first_error = None;
    // Sessions that cannot be read: their tokens cannot be revoked, but nothing of them stays here.
    match accounts.erase_unreadable().await {
        Ok(0) => {}
        Ok(erased) => eprintln!(
            "Erased {erased} unreadable session(s); their tokens could not be revoked (they end \
             when they expire)."
        ),
        Err(error) => {
            eprintln!("warning: {}: {error}", error.kind());
            first_error = Some(error);
        }
    }
    for account in list {
        let who = account
            .email
            .as_deref()
            .unwrap_or(&account.subject)
            .to_string();
        eprintln!("Signing out {}…", native_oidc::text::Printable(&who));
        let store = accounts.store_of(&account);
        if let Err(error) = logout_account(common, browser_command, all_apps, accounts, store).await
        {
            eprintln!("warning: {}: {error}", error.kind());
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The sign-out of the account of `store` (and with `all_apps`, of the SSO group's shared sign-in).
async fn logout_account(
    common: &Common,
    browser_command: Option<&str>,
    all_apps: bool,
    accounts: &Accounts,
    store: SessionStore,
) -> Result<()> {
    let group_config = if all_apps {
        Some(settings::for_session(common, &store).await)
    } else {
        None
    };
    let here = logout_here(common, browser_command, store.clone(), accounts).await;
    let Some(config) = group_config else {
        return here;
    };
    let shared = end_shared_sign_in(common, config, &store, accounts).await;
    match (here, shared) {
        // Nothing was signed in here; the group's sign-in is ended: done.
        (Ok(()) | Err(Error::NotSignedIn), Ok(())) => Ok(()),
        (Err(here), Ok(())) => Err(here),
        (Ok(()) | Err(Error::NotSignedIn), Err(shared)) => Err(shared),
        (Err(here), Err(shared)) => {
            eprintln!(
                "warning: the sign-in shared by the SSO group's apps was not ended ({}: {shared})",
                shared.kind()
            );
            Err(here)
        }
    }
}

/// This app's own sign-out.
async fn logout_here(
    common: &Common,
    browser_command: Option<&str>,
    store: SessionStore,
    accounts: &Accounts,
) -> Result<()> {
    // Whatever state the store is in, what is on this device is erased (or said why not).
    let session = match store.load().await {
        Ok(session) => session,
        Err(error) => return erase_unreadable(&store, &error).await,
    };
    tracing::debug!(
        stored = session.is_some(),
        "sign-out: the stored session, read without the lock"
    );
    if session.is_none() {
        // Nothing to revoke; a set-aside copy from an earlier run may still hold tokens.
        let lock = store.lock().await?;
        store
            .clear(&lock)
            .await
            .map_err(|e| not_erased(e, "no tokens to revoke"))?;
        return Err(Error::NotSignedIn);
    }
    let auth = engine(
        common,
        settings::for_session(common, &store).await?,
        store,
        accounts,
    )
    .await?;
    restore(&auth).await?;
    let task = auth.sign_out_locally().await?;
    if task.erase_error().is_none() {
        eprintln!("Signed out: the stored session is erased.");
    }
    // A loopback logout redirect (stored with the session): listen for the browser's return.
    let mut listener = match task.post_logout_redirect_uri() {
        Some(uri) if uri.starts_with("http://") => Some(Loopback::bind(uri).await?),
        _ => None,
    };
    let redirect = listener.as_ref().map(|l| l.redirect_uri().clone());
    let sign_out = auth.finish_sign_out_to(task, redirect.as_ref()).await;
    if let Some(error) = &sign_out.error {
        eprintln!("warning: {}: {error}", error.kind());
    }
    // What could not be erased is the command's error, once the rest of the sign-out is done.
    let erased = match sign_out.erase_error {
        None => Ok(()),
        Some(error) if sign_out.error.is_none() => Err(not_erased(error, "its tokens are revoked")),
        Some(error) => Err(not_erased(error, "its tokens may not be revoked")),
    };
    let Some(end_session) = sign_out.end_session else {
        return erased;
    };
    let mut shown = end_session.url.clone();
    shown.set_query(None);
    let opened = browser::open(end_session.url.as_str(), shown.as_str(), browser_command)?;
    if let Some(listener) = listener.as_mut() {
        if logout_return(listener, &end_session).await {
            eprintln!("The browser came back: signed out at the identity provider too.")
        } else {
            eprintln!(
                "warning: the browser did not come back to {} within {} s",
                listener.redirect_uri(),
                LOGOUT_WAIT.as_secs()
            )
        }
    }
    // The sign-out is over: stop listening before waiting for the browser command.
    drop(listener);
    opened.finish().await?;
    erased
}

/// `logout --all-apps`: revokes the sign-in the SSO group's apps share (each is then signed out at
/// its next refresh), with the settings `config` (read before this app's own sign-out).
async fn end_shared_sign_in(
    common: &Common,
    config: Result<native_oidc::Config>,
    store: &SessionStore,
    accounts: &Accounts,
) -> Result<()> {
    let config = config?;
    let Some(group) = config.sso_group().map(str::to_string) else {
        return Err(Error::Config(
            "--all-apps needs the SSO group: --sso-group NAME (or ssoGroup in the config file, \
             OIDC_SSO_GROUP)"
                .into(),
        ));
    };
    let auth = engine(common, config, store.clone(), accounts).await?;
    if auth.sso_group().is_none() {
        return Err(Error::Storage(format!(
            "the shared sign-in of the SSO group {group} cannot be opened (see the warning above)"
        )));
    }
    match auth.end_shared_sign_in().await? {
        SharedSignOut::Revoked => eprintln!(
            "Signed out of every app of the SSO group {group}: their shared sign-in is revoked."
        ),
        SharedSignOut::NothingShared => {
            eprintln!("The SSO group {group} shares no sign-in on this device.")
        }
        SharedSignOut::NotRevoked { error, kept } => {
            eprintln!(
                "The shared sign-in of the SSO group {group} is removed from this device (no app \
                 signs in with it again), but it is not revoked: the apps signed in with it stay \
                 so until {}",
                if kept {
                    "it is. It is tried again when an app of the group signs in; run `signin \
                     logout --all-apps` again once the provider can be reached."
                } else {
                    "it expires (the provider did not revoke it)."
                }
            );
            return Err(error);
        }
    }
    Ok(())
}

/// Waits (at most [`LOGOUT_WAIT`]) on the loopback listener for the provider's return from its
/// end-session page; true when it came, with this sign-out's `state`. Anything else is refused and
/// the wait goes on.
async fn logout_return(listener: &mut Loopback, end_session: &EndSessionRequest) -> bool {
    let back = tokio::time::timeout(LOGOUT_WAIT, async {
        while let Some((callback, answer)) = listener.next().await {
            if end_session.check_callback(&callback).is_ok() {
                let _ = answer.send((
                    StatusCode::OK,
                    Html(page_html(
                        "Signed out",
                        "You are signed out. You can close this tab and go back to the terminal.",
                    )),
                ));
                return true;
            }
            let _ = answer.send((
                StatusCode::BAD_REQUEST,
                Html(page_html(
                    "Not the sign-out in progress",
                    "This request does not belong to the sign-out the terminal is waiting for.",
                )),
            ));
        }
        false
    })
    .await;
    back.unwrap_or(false)
}
