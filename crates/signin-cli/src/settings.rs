//! Which provider and client to use: flags over environment variables over the config file, and for
//! commands after `login`, the issuer and client id of the stored session (and its SSO group, for
//! the commands that do not sign in).

use std::path::{Path, PathBuf};

use native_oidc::{
    AccountId, Accounts, Config, ConfigSource, Error, Result, Session, SessionStore, SsoShare,
    StoreOptions,
};

use crate::args::Common;

/// The redirect URI used for commands that never redirect (token, refresh, call, status, logout).
const UNUSED_REDIRECT: &str = "http://127.0.0.1/callback";

/// The keystore service of `signin`'s sessions.
const KEYSTORE_SERVICE: &str = "signin";

/// The session file: `--session`, or `signin/session.json` in the user's data folder. With the
/// keystore, the file's path names the session's keystore items, and its folder holds the lock file.
pub fn session_path(common: &Common) -> Result<PathBuf> {
    if let Some(path) = &common.session {
        return std::path::absolute(path)
            .map_err(|e| Error::Config(format!("bad --session {}: {e}", path.display())));
    }
    let data = dirs::data_dir()
        .ok_or_else(|| Error::Config("no data folder; pass --session FILE".into()))?;
    Ok(data.join("signin").join("session.json"))
}

/// Test option (hidden, for the chaos test in crates/chaos): with this environment variable set to a
/// number of bytes, a keystore value larger than that is split into chunks, as every session is on
/// Windows (2,560 bytes per item).
pub const TEST_KEYSTORE_CHUNK_ENV: &str = "SIGNIN_TEST_KEYSTORE_CHUNK_BYTES";

/// The session store that `--token-storage` asks for.
pub async fn store(common: &Common, path: &Path) -> Result<SessionStore> {
    let options = StoreOptions {
        storage: common.token_storage.parse()?,
        file: path.to_path_buf(),
        service: KEYSTORE_SERVICE.to_string(),
        account_prefix: format!("{}#", path.display()),
    };
    let store = options.open().await?;
    let chunk = std::env::var(TEST_KEYSTORE_CHUNK_ENV).ok();
    match chunk.and_then(|bytes| bytes.parse().ok()) {
        Some(bytes) if store.storage() == native_oidc::Storage::Keystore => {
            // The Secret Service client blocks: not on a runtime thread.
            let prefix = options.account_prefix.clone();
            let vault = tokio::task::spawn_blocking(move || {
                native_oidc::KeystoreVault::open(KEYSTORE_SERVICE, &prefix)
            })
            .await
            .map_err(|e| Error::Storage(format!("the store task failed: {e}")))??
            .with_max_value_size(bytes);
            let mut lock = path.as_os_str().to_owned();
            lock.push(".lock"); // the lock file StoreOptions::open uses
            Ok(SessionStore::new(std::sync::Arc::new(vault)).with_lock_file(lock.into()))
        }
        _ => Ok(store),
    }
}

/// The account to use: its store (`--account`'s, else the default one's; the first slot when no
/// account is signed in), and with `--account`, the account it must hold.
pub struct Chosen {
    pub accounts: Accounts,
    pub store: SessionStore,
    pub named: Option<AccountId>,
}

/// The accounts kept in the store `--token-storage` asks for, and the account to use.
pub async fn account_store(common: &Common) -> Result<Chosen> {
    let path = session_path(common)?;
    let accounts = Accounts::new(store(common, &path).await?);
    let (store, named) = match &common.account {
        Some(key) => {
            let account = accounts.find(key).await?;
            (accounts.store_of(&account), Some(account.id))
        }
        None => (accounts.default_store().await?, None),
    };
    Ok(Chosen {
        accounts,
        store,
        named,
    })
}

/// Flags, then environment, then config file.
pub fn sources(
    common: &Common,
    redirect_uri: Option<String>,
    logout_redirect_uri: Option<String>,
    scopes: Vec<String>,
    dpop: bool,
) -> Result<ConfigSource> {
    let flags = ConfigSource {
        issuer: common.issuer.clone(),
        client_id: common.client_id.clone(),
        redirect_uri,
        logout_redirect_uri,
        scopes: (!scopes.is_empty()).then_some(scopes),
        dpop: dpop.then_some(true),
        par: None,
        sso_group: common.sso_group.clone(),
        sso_audience: None,
    };
    let file = match &common.config {
        Some(path) => ConfigSource::from_file(path)?,
        None => ConfigSource::default(),
    };
    Ok(flags.or(ConfigSource::from_env()).or(file))
}

/// The share of the configured SSO group (Native SSO), where `--token-storage` says; `None` without
/// a group.
pub async fn sso_share(common: &Common, config: &Config) -> Result<Option<SsoShare>> {
    let Some(group) = config.sso_group() else {
        return Ok(None);
    };
    let data = dirs::data_dir()
        .ok_or_else(|| Error::Config("no data folder for the SSO group's shared sign-in".into()))?;
    Ok(Some(
        SsoShare::open(group, common.token_storage.parse()?, &data).await?,
    ))
}

/// Issuer and client id of the stored session, as the last fallback.
pub async fn from_session(store: &SessionStore) -> Result<ConfigSource> {
    Ok(store
        .load()
        .await?
        .as_ref()
        .map(of_session)
        .unwrap_or_default())
}

fn of_session(session: &Session) -> ConfigSource {
    ConfigSource {
        issuer: Some(session.issuer().to_string()),
        client_id: Some(session.client_id().to_string()),
        ..Default::default()
    }
}

/// The configuration of a command that does not sign in. The stored session's SSO group (the one it
/// signed in with) is the last fallback too, when the session is of the issuer and client configured:
/// `refresh` keeps the group's share up to date and `logout --all-apps` finds the group with no flag.
/// (Not for `login`: a sign-in asks for what it is told, and a group only when told.)
pub async fn for_session(common: &Common, store: &SessionStore) -> Result<Config> {
    let session = store.load().await?;
    let mut source = sources(common, None, None, Vec::new(), false)?
        .or(session.as_ref().map(of_session).unwrap_or_default());
    if let Some(session) = session.filter(|session| {
        source.issuer.as_deref() == Some(session.issuer().as_str())
            && source.client_id.as_deref() == Some(session.client_id().as_str())
    }) {
        source.sso_group = source
            .sso_group
            .or_else(|| session.sso_group().map(str::to_string));
    }
    if source.issuer.is_none() || source.client_id.is_none() {
        tracing::debug!(
            "no issuer or client id configured, and no session stored to take them from"
        );
        return Err(Error::NotSignedIn);
    }
    source
        .redirect_uri
        .get_or_insert_with(|| UNUSED_REDIRECT.to_string());
    source.build()
}
