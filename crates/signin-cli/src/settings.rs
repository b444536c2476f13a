//! Which provider and client to use: flags over environment variables over the config file, and for
//! commands after `login`, the issuer and client id of the stored session.

use std::path::{Path, PathBuf};

use native_oidc::{Config, ConfigSource, Error, FileStore, Result, SessionStore};

use crate::args::Common;

/// The redirect URI used for commands that never redirect (token, refresh, call, status, logout).
const UNUSED_REDIRECT: &str = "http://127.0.0.1/callback";

/// The session file: `--session`, or `signin/session.json` in the user's data folder.
pub fn session_path(common: &Common) -> Result<PathBuf> {
    if let Some(path) = &common.session {
        return Ok(path.clone());
    }
    let data = dirs::data_dir()
        .ok_or_else(|| Error::Config("no data folder; pass --session FILE".into()))?;
    Ok(data.join("signin").join("session.json"))
}

/// Flags, then environment, then config file.
pub fn sources(
    common: &Common,
    redirect_uri: Option<String>,
    scopes: Vec<String>,
) -> Result<ConfigSource> {
    let flags = ConfigSource {
        issuer: common.issuer.clone(),
        client_id: common.client_id.clone(),
        redirect_uri,
        logout_redirect_uri: None,
        scopes: (!scopes.is_empty()).then_some(scopes),
    };
    let file = match &common.config {
        Some(path) => ConfigSource::from_file(path)?,
        None => ConfigSource::default(),
    };
    Ok(flags.or(ConfigSource::from_env()).or(file))
}

/// Issuer and client id of the stored session, as the last fallback.
pub fn from_session(path: &Path) -> Result<ConfigSource> {
    Ok(match FileStore::new(path).load()? {
        Some(session) => ConfigSource {
            issuer: Some(session.issuer().to_string()),
            client_id: Some(session.client_id().to_string()),
            ..Default::default()
        },
        None => ConfigSource::default(),
    })
}

/// The configuration of a command that does not sign in.
pub fn for_session(common: &Common, path: &Path) -> Result<Config> {
    let mut source = sources(common, None, Vec::new())?.or(from_session(path)?);
    if source.issuer.is_none() || source.client_id.is_none() {
        return Err(Error::NotSignedIn);
    }
    source
        .redirect_uri
        .get_or_insert_with(|| UNUSED_REDIRECT.to_string());
    source.build()
}
