//! The app's configuration: the engine's settings (Okta's sample names) plus `apiBaseUrl`.
//!
//! Precedence: environment variables (`OIDC_*`, `API_BASE_URL`) over the file named by
//! `OKTA_SIGNIN_CONFIG` over the defaults the app bundles (`src-tauri/okta.json`, which points at the
//! local identity provider and demo API of `make run`). Pointing the app at a real Okta org is a change
//! of that file or those variables.

use std::path::Path;

use native_oidc::{is_https_or_loopback, Config, ConfigSource, Error, Result, TokenStorage};
use serde::Deserialize;
use url::Url;

/// The environment variable naming a config file.
pub const CONFIG_ENV: &str = "OKTA_SIGNIN_CONFIG";

/// The app's own settings beside the engine's.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppSection {
    api_base_url: Option<String>,
    token_storage: Option<String>,
}

/// A validated app configuration.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The sign-in settings.
    pub oidc: Config,
    /// The only origin (and path prefix) bearer tokens are sent to.
    pub api_base_url: Url,
    /// Where tokens are kept (`tokenStorage`: `auto`, `keystore` or `file`).
    pub token_storage: TokenStorage,
}

impl AppConfig {
    /// Parses a config JSON text (Okta's names plus the app's own).
    fn from_json(text: &str) -> Result<(ConfigSource, AppSection)> {
        let source: ConfigSource = serde_json::from_str(text)
            .map_err(|e| Error::Config(format!("the app config is not valid: {e}")))?;
        let app: AppSection = serde_json::from_str(text)
            .map_err(|e| Error::Config(format!("the app config is not valid: {e}")))?;
        Ok((source, app))
    }

    /// Loads environment over `$OKTA_SIGNIN_CONFIG` over `defaults` (a config JSON text).
    pub fn load(defaults: &str) -> Result<Self> {
        Self::load_with(defaults, |name| std::env::var(name).ok())
    }

    /// Like [`AppConfig::load`] with any environment lookup.
    pub fn load_with(defaults: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let (defaults, default_app) = Self::from_json(defaults)?;
        let (file, file_app) = match env(CONFIG_ENV).filter(|p| !p.is_empty()) {
            Some(path) => {
                let text = std::fs::read_to_string(Path::new(&path)).map_err(|e| {
                    Error::Config(format!("cannot read the app config {path}: {e}"))
                })?;
                Self::from_json(&text)?
            }
            None => (ConfigSource::default(), AppSection::default()),
        };
        let oidc = ConfigSource::from_lookup(&env)
            .or(file)
            .or(defaults)
            .build()?;
        let setting = |name: &str, file: Option<String>, default: Option<String>| {
            env(name).filter(|v| !v.is_empty()).or(file).or(default)
        };
        let api = setting(
            "API_BASE_URL",
            file_app.api_base_url,
            default_app.api_base_url,
        )
        .unwrap_or_default();
        let token_storage = setting(
            "TOKEN_STORAGE",
            file_app.token_storage,
            default_app.token_storage,
        )
        .map(|value| value.parse())
        .transpose()?
        .unwrap_or_default();
        Ok(Self {
            oidc,
            api_base_url: validate_api(&api)?,
            token_storage,
        })
    }
}

fn validate_api(text: &str) -> Result<Url> {
    let mut url = Url::parse(text)
        .map_err(|e| Error::Config(format!("apiBaseUrl `{text}` is not a URL: {e}")))?;
    if !is_https_or_loopback(&url) {
        return Err(Error::Config(format!(
            "apiBaseUrl `{text}` must be https (plain http only on loopback): tokens are sent there"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "apiBaseUrl `{text}` must not have a query or fragment"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: &str = include_str!("../../../src-tauri/okta.json");

    #[test]
    fn defaults_point_at_the_local_services() {
        let config = AppConfig::load_with(DEFAULTS, |_| None).unwrap();
        assert_eq!(
            config.oidc.issuer().as_str(),
            "http://127.0.0.1:9000/oauth2/default"
        );
        assert_eq!(config.api_base_url.as_str(), "http://127.0.0.1:9001/");
        assert_eq!(
            config.oidc.post_logout_redirect_uri().unwrap().as_str(),
            "com.okta.example:/logout"
        );
        assert_eq!(config.token_storage, TokenStorage::Auto);
    }

    #[test]
    fn token_storage_comes_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("okta.json");
        std::fs::write(&file, r#"{"tokenStorage":"keystore"}"#).unwrap();
        let path = file.display().to_string();
        let from_file =
            AppConfig::load_with(DEFAULTS, |name| (name == CONFIG_ENV).then(|| path.clone()))
                .unwrap();
        assert_eq!(from_file.token_storage, TokenStorage::Keystore);
        let from_env = AppConfig::load_with(DEFAULTS, |name| match name {
            CONFIG_ENV => Some(path.clone()),
            "TOKEN_STORAGE" => Some("file".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(from_env.token_storage, TokenStorage::File);
        let error = AppConfig::load_with(DEFAULTS, |name| {
            (name == "TOKEN_STORAGE").then(|| "plaintext".into())
        })
        .unwrap_err();
        assert_eq!(error.kind(), "config");
    }

    #[test]
    fn environment_and_file_override_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("okta.json");
        std::fs::write(
            &file,
            r#"{"issuer":"https://dev-1.okta.com/oauth2/default","clientId":"0oaREAL","apiBaseUrl":"https://api.example.com/v1"}"#,
        )
        .unwrap();
        let path = file.display().to_string();
        let config = AppConfig::load_with(DEFAULTS, |name| match name {
            CONFIG_ENV => Some(path.clone()),
            "OIDC_CLIENT_ID" => Some("0oaENV".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            config.oidc.issuer().as_str(),
            "https://dev-1.okta.com/oauth2/default"
        );
        assert_eq!(config.oidc.client_id().as_str(), "0oaENV");
        assert_eq!(
            config.oidc.redirect_uri().as_str(),
            "com.okta.example:/callback"
        );
        assert_eq!(config.api_base_url.as_str(), "https://api.example.com/v1/");
    }

    #[test]
    fn an_api_that_would_leak_tokens_is_refused() {
        for api in [
            "http://api.example.com/",
            "ftp://127.0.0.1/",
            "https://api.example.com/?a=b",
        ] {
            let error = AppConfig::load_with(DEFAULTS, |name| {
                (name == "API_BASE_URL").then(|| api.to_string())
            })
            .unwrap_err();
            assert_eq!(error.kind(), "config", "{api}");
        }
    }
}
