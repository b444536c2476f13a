//! The app's configuration: the engine's settings (Okta's sample names) plus `apiBaseUrl`,
//! `tokenStorage` and `allowInsecureLoopback`.
//!
//! Precedence: environment variables (`OIDC_*`, `API_BASE_URL`, `TOKEN_STORAGE`; an empty or blank one
//! counts as unset) over the config file
//! (`$OKTA_SIGNIN_CONFIG`, else `okta.json` in the app's config folder) over the defaults the app is
//! built with. A debug build's defaults are `src-tauri/okta.json`: the local identity provider and demo
//! API of `make run`. A release build carries no such development values: issuer, client id and
//! `apiBaseUrl` must come from the user's configuration, and plain http to a loopback issuer or API
//! (a port any local user can take) needs `"allowInsecureLoopback": true` in the config file.
//! Anything missing or unsafe is a [`NotConfigured`]: the app shows what to set, and where.

use std::path::{Path, PathBuf};

use native_oidc::{
    is_https_or_loopback,
    settings::{given, CLIENT_ID, ISSUER},
    Config, ConfigSource, Error, Setting, TokenStorage,
};
use serde::Deserialize;
use url::Url;

/// The environment variable naming a config file.
pub const CONFIG_ENV: &str = "OKTA_SIGNIN_CONFIG";

/// The only origin (and path prefix) the UI's API calls send tokens to.
pub const API_BASE_URL: Setting = Setting {
    key: "apiBaseUrl",
    env: "API_BASE_URL",
};
/// Where tokens are kept: `auto`, `keystore` or `file`.
pub const TOKEN_STORAGE: Setting = Setting {
    key: "tokenStorage",
    env: "TOKEN_STORAGE",
};

/// The defaults of a release build: the app's own redirect URIs and scopes, nothing about a server.
pub const RELEASE_DEFAULTS: &str = r#"{
  "redirectUri": "com.okta.example:/callback",
  "logoutRedirectUri": "com.okta.example:/logout",
  "scopes": "openid profile email offline_access"
}"#;

/// Which kind of build reads the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// A development build: plain http on loopback is fine.
    Debug,
    /// A build for users: no development defaults, https unless the config file allows loopback.
    Release,
}

impl Build {
    /// The build this code was compiled as.
    pub fn current() -> Self {
        if cfg!(debug_assertions) {
            Build::Debug
        } else {
            Build::Release
        }
    }
}

/// The app's own settings beside the engine's.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppSection {
    api_base_url: Option<String>,
    token_storage: Option<String>,
    #[serde(default)]
    allow_insecure_loopback: bool,
}

/// A validated app configuration.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The sign-in settings.
    pub oidc: Config,
    /// The only origin (and path prefix) the UI's API calls send tokens to (none: no API calls).
    pub api_base_url: Option<Url>,
    /// Where tokens are kept (`tokenStorage`: `auto`, `keystore` or `file`).
    pub token_storage: TokenStorage,
}

/// Why the app cannot sign anyone in yet: settings missing, or unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct NotConfigured {
    /// The settings that are missing (`issuer`, `clientId`, `apiBaseUrl`).
    pub missing: Vec<String>,
    /// The config file the app reads.
    pub file: PathBuf,
    /// What to do, in words.
    pub message: String,
}

impl NotConfigured {
    fn invalid(file: &Path, error: &Error) -> Self {
        Self {
            missing: Vec::new(),
            file: file.to_path_buf(),
            message: format!(
                "The configuration in {} cannot be used: {error}",
                file.display()
            ),
        }
    }

    /// The settings without which nothing can be signed in to (issuer, client id, API), each named
    /// with its environment variable.
    fn check_present(source: &ConfigSource, api: bool, file: &Path) -> Result<(), NotConfigured> {
        let missing: Vec<Setting> = [
            (ISSUER, source.issuer.is_some()),
            (CLIENT_ID, source.client_id.is_some()),
            (API_BASE_URL, api),
        ]
        .into_iter()
        .filter(|(_, present)| !present)
        .map(|(setting, _)| setting)
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = missing.iter().map(|s| s.key).collect();
        let variables: Vec<&str> = missing.iter().map(|s| s.env).collect();
        Err(NotConfigured {
            message: format!(
                "Set {} in {} (or the environment variables {}).",
                names.join(", "),
                file.display(),
                variables.join(", ")
            ),
            missing: names.into_iter().map(str::to_string).collect(),
            file: file.to_path_buf(),
        })
    }
}

impl AppConfig {
    fn from_json(text: &str, what: &Path) -> Result<(ConfigSource, AppSection), Error> {
        let invalid =
            |e: serde_json::Error| Error::Config(format!("{} is not valid: {e}", what.display()));
        let source: ConfigSource = serde_json::from_str(text).map_err(invalid)?;
        let app: AppSection = serde_json::from_str(text).map_err(invalid)?;
        Ok((source, app))
    }

    /// Loads the environment over the config file over `defaults` (a config JSON text). The config
    /// file is `$OKTA_SIGNIN_CONFIG`, else `user_file` when it exists.
    pub fn load(defaults: &str, user_file: &Path, build: Build) -> Result<Self, NotConfigured> {
        Self::load_with(defaults, user_file, build, |name| std::env::var(name).ok())
    }

    /// Like [`AppConfig::load`] with any environment lookup.
    pub fn load_with(
        defaults: &str,
        user_file: &Path,
        build: Build,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, NotConfigured> {
        let file = config_file_with(user_file, &env);
        let invalid = |error: Error| NotConfigured::invalid(&file, &error);
        let (defaults, default_app) =
            Self::from_json(defaults, Path::new("the built-in defaults")).map_err(invalid)?;
        let named = given(env(CONFIG_ENV)).is_some();
        let (from_file, file_app) = Self::read_file(&file, named)?;
        let source = ConfigSource::from_lookup(&env).or(from_file).or(defaults);
        let setting = |setting: Setting, file: Option<String>, default: Option<String>| {
            given(env(setting.env)).or(file).or(default)
        };
        let api = setting(
            API_BASE_URL,
            file_app.api_base_url,
            default_app.api_base_url,
        );
        NotConfigured::check_present(&source, api.is_some(), &file)?;

        let oidc = source.build().map_err(invalid)?;
        let token_storage = setting(
            TOKEN_STORAGE,
            file_app.token_storage,
            default_app.token_storage,
        )
        .map(|value| value.parse())
        .transpose()
        .map_err(invalid)?
        .unwrap_or_default();
        let api_base_url = validate_api(&api.unwrap_or_default()).map_err(invalid)?;
        // Plain http (on loopback, the only place the engine allows it) only where it is meant.
        if build == Build::Release && !file_app.allow_insecure_loopback {
            refuse_plain_http(&[
                (ISSUER.key, oidc.issuer().url()),
                (API_BASE_URL.key, &api_base_url),
            ])
            .map_err(invalid)?;
        }
        Ok(Self {
            oidc,
            api_base_url: Some(api_base_url),
            token_storage,
        })
    }

    /// The config file's settings; none when it does not exist and no environment variable named it.
    fn read_file(file: &Path, named: bool) -> Result<(ConfigSource, AppSection), NotConfigured> {
        let invalid = |error: Error| NotConfigured::invalid(file, &error);
        match std::fs::read_to_string(file) {
            Ok(text) => Self::from_json(&text, file).map_err(invalid),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
                Ok((ConfigSource::default(), AppSection::default()))
            }
            Err(e) => Err(invalid(Error::Config(format!(
                "cannot read {}: {e}",
                file.display()
            )))),
        }
    }
}

/// A release build sends tokens only over https, unless the config file allows a loopback server.
fn refuse_plain_http(urls: &[(&str, &Url)]) -> Result<(), Error> {
    match urls.iter().find(|(_, url)| url.scheme() == "http") {
        Some((name, url)) => Err(Error::Config(format!(
            "{name} `{url}` is plain http; a release build sends tokens only over https \
             (set \"allowInsecureLoopback\": true in the config file to allow a loopback server)"
        ))),
        None => Ok(()),
    }
}

/// The config file the app reads: `$OKTA_SIGNIN_CONFIG`, else `user_file` (`okta.json` in the app's
/// config folder).
pub fn config_file(user_file: &Path) -> PathBuf {
    config_file_with(user_file, |name| std::env::var(name).ok())
}

fn config_file_with(user_file: &Path, env: impl Fn(&str) -> Option<String>) -> PathBuf {
    given(env(CONFIG_ENV))
        .map(PathBuf::from)
        .unwrap_or_else(|| user_file.to_path_buf())
}

fn validate_api(text: &str) -> Result<Url, Error> {
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

    const DEBUG_DEFAULTS: &str = include_str!("../../../src-tauri/okta.json");

    fn nowhere() -> PathBuf {
        PathBuf::from("/nonexistent/okta.json")
    }

    fn write(dir: &Path, json: &str) -> String {
        let file = dir.join("okta.json");
        std::fs::write(&file, json).unwrap();
        file.display().to_string()
    }

    /// A debug build's configuration with no user file and these environment variables.
    fn debug_with_env(env: &[(&str, &str)]) -> Result<AppConfig, NotConfigured> {
        AppConfig::load_with(DEBUG_DEFAULTS, &nowhere(), Build::Debug, |name| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn empty_and_blank_variables_count_as_unset_for_every_setting() {
        for unset in ["", "  "] {
            let config = debug_with_env(&[
                (CONFIG_ENV, unset),
                (ISSUER.env, unset),
                (API_BASE_URL.env, unset),
                (TOKEN_STORAGE.env, unset),
            ])
            .unwrap_or_else(|e| panic!("{unset:?}: {e}"));
            let defaults = debug_with_env(&[]).unwrap();
            assert_eq!(config.oidc.issuer(), defaults.oidc.issuer());
            assert_eq!(config.api_base_url, defaults.api_base_url);
            assert_eq!(config.token_storage, defaults.token_storage);
        }
    }

    #[test]
    fn debug_defaults_point_at_the_local_services() {
        let config = debug_with_env(&[]).unwrap();
        assert_eq!(
            config.oidc.issuer().as_str(),
            "http://127.0.0.1:9000/oauth2/default"
        );
        assert_eq!(
            config.api_base_url.unwrap().as_str(),
            "http://127.0.0.1:9001/"
        );
        assert_eq!(
            config.oidc.post_logout_redirect_uri().unwrap().as_str(),
            "com.okta.example:/logout"
        );
        assert_eq!(config.token_storage, TokenStorage::Auto);
    }

    #[test]
    fn a_release_build_has_no_development_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("okta.json");
        let error =
            AppConfig::load_with(RELEASE_DEFAULTS, &user, Build::Release, |_| None).unwrap_err();
        assert_eq!(error.missing, ["issuer", "clientId", "apiBaseUrl"]);
        assert_eq!(error.file, user);
        assert!(error.message.contains("okta.json"), "{}", error.message);

        // A config without apiBaseUrl does not fall back to a loopback API.
        write(
            dir.path(),
            r#"{"issuer":"https://dev-1.okta.com/oauth2/default","clientId":"0oaREAL"}"#,
        );
        let error =
            AppConfig::load_with(RELEASE_DEFAULTS, &user, Build::Release, |_| None).unwrap_err();
        assert_eq!(error.missing, ["apiBaseUrl"]);
        assert!(error.message.contains("API_BASE_URL"), "{}", error.message);

        write(
            dir.path(),
            r#"{"issuer":"https://dev-1.okta.com/oauth2/default","clientId":"0oaREAL",
                "apiBaseUrl":"https://api.example.com/"}"#,
        );
        let config =
            AppConfig::load_with(RELEASE_DEFAULTS, &user, Build::Release, |_| None).unwrap();
        assert_eq!(
            config.oidc.redirect_uri().as_str(),
            "com.okta.example:/callback"
        );
    }

    #[test]
    fn plain_http_on_loopback_needs_allow_insecure_loopback_in_a_release_build() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("okta.json");
        for (issuer, api) in [
            (
                "http://127.0.0.1:9000/oauth2/default",
                "https://api.example.com/",
            ),
            (
                "https://dev-1.okta.com/oauth2/default",
                "http://127.0.0.1:9001/",
            ),
        ] {
            let json = format!(r#"{{"issuer":"{issuer}","clientId":"c","apiBaseUrl":"{api}"}}"#);
            write(dir.path(), &json);
            let error = AppConfig::load_with(RELEASE_DEFAULTS, &user, Build::Release, |_| None)
                .unwrap_err();
            assert!(
                error.message.contains("allowInsecureLoopback"),
                "{}",
                error.message
            );
            AppConfig::load_with(RELEASE_DEFAULTS, &user, Build::Debug, |_| None).unwrap();
            let allowed = json.replace('{', r#"{"allowInsecureLoopback":true,"#);
            write(dir.path(), &allowed);
            AppConfig::load_with(RELEASE_DEFAULTS, &user, Build::Release, |_| None).unwrap();
        }
    }

    #[test]
    fn environment_and_file_override_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            r#"{"issuer":"https://dev-1.okta.com/oauth2/default","clientId":"0oaREAL","apiBaseUrl":"https://api.example.com/v1"}"#,
        );
        let config = debug_with_env(&[(CONFIG_ENV, &path), ("OIDC_CLIENT_ID", "0oaENV")]).unwrap();
        assert_eq!(
            config.oidc.issuer().as_str(),
            "https://dev-1.okta.com/oauth2/default"
        );
        assert_eq!(config.oidc.client_id().as_str(), "0oaENV");
        assert_eq!(
            config.oidc.redirect_uri().as_str(),
            "com.okta.example:/callback"
        );
        assert_eq!(
            config.api_base_url.unwrap().as_str(),
            "https://api.example.com/v1/"
        );
    }

    #[test]
    fn token_storage_comes_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), r#"{"tokenStorage":"keystore"}"#);
        let from_file = debug_with_env(&[(CONFIG_ENV, &path)]).unwrap();
        assert_eq!(from_file.token_storage, TokenStorage::Keystore);
        let from_env = debug_with_env(&[(CONFIG_ENV, &path), ("TOKEN_STORAGE", "file")]).unwrap();
        assert_eq!(from_env.token_storage, TokenStorage::File);
        let error = debug_with_env(&[("TOKEN_STORAGE", "plaintext")]).unwrap_err();
        assert!(error.message.contains("plaintext"), "{}", error.message);
    }

    #[test]
    fn an_api_that_would_leak_tokens_is_refused() {
        for api in [
            "http://api.example.com/",
            "ftp://127.0.0.1/",
            "https://api.example.com/?a=b",
        ] {
            let error = debug_with_env(&[("API_BASE_URL", api)]).unwrap_err();
            assert!(
                error.message.contains("apiBaseUrl"),
                "{api}: {}",
                error.message
            );
        }
    }
}
