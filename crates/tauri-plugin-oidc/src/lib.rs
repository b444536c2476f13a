//! # tauri-plugin-oidc
//!
//! Sign in with Okta, or any OpenID Connect provider, from a Tauri 2 app, the way a native app must
//! (RFC 8252): the sign-in page in the **system browser** on desktop and in an **authentication
//! session** on iOS (`ASWebAuthenticationSession`) and Android (Custom Tabs), never in a webview;
//! authorization code + PKCE, `state`, `nonce`, RFC 9207 `iss`; full ID token validation; userinfo;
//! refresh-token rotation that never loses a token; tokens in the OS keystore; optional DPoP; sign-out
//! with revocation and RP-initiated logout. Tokens stay in Rust: the webview gets states, the profile
//! and API answers.
//!
//! ```no_run
//! # fn run(config: native_oidc::Config, context: tauri::Context<tauri::Wry>) {
//! tauri::Builder::default()
//!     // Desktop: a second process started for a link hands it to this one (register it first).
//!     // .plugin(tauri_plugin_single_instance::init(|_, _, _| {}))
//!     .plugin(tauri_plugin_oidc::deep_link())
//!     .plugin(tauri_plugin_oidc::opener())
//!     .plugin(
//!         tauri_plugin_oidc::Builder::new(config)
//!             .api_base_url("https://api.example.com/".parse().unwrap())
//!             .build(),
//!     )
//!     .run(context)
//!     .expect("the app failed");
//! # }
//! ```
//!
//! The webview calls the plugin's JavaScript API (`guest-js/`, also `window.__TAURI__.oidc`), which its
//! capability must allow (`"oidc:default"`); Rust code of the app uses [`OidcExt::oidc`]. It needs
//! tauri-plugin-deep-link (the redirect URI's scheme, declared in `tauri.conf.json`) and, on desktop,
//! tauri-plugin-opener, registered before it: [`deep_link`] and [`opener`] give them as this plugin
//! wants them (Tauri cannot register a plugin from another's setup).

mod commands;
mod deep_links;
#[cfg(desktop)]
mod desktop;
mod error;
#[cfg(mobile)]
mod mobile;
pub mod models;
mod page;
#[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
mod registration;
mod state;

use std::{path::Path, sync::Arc};

use tauri::{
    plugin::{Builder as PluginBuilder, Plugin, TauriPlugin},
    AppHandle, Manager, Runtime,
};
use tauri_plugin_oidc_core::{AppConfig, Build, NotConfigured};
use url::Url;

pub use error::{Error, Result};
/// The provider settings ([`Config::new`]: issuer, client id, redirect URI; then sign-out redirect,
/// scopes, DPoP), the token storage choice and the access token, from the sign-in engine.
pub use native_oidc::{AccessToken, Config, TokenStorage};
pub use page::Launcher;
pub use state::{OidcController, TauriPlatform};

/// tauri-plugin-deep-link, which brings the redirect URI's links to the plugin: register it before.
pub fn deep_link<R: Runtime>() -> impl Plugin<R> {
    tauri_plugin_deep_link::init()
}

/// tauri-plugin-opener (desktop), which opens the system browser: register it before. It injects no
/// script into the webview (`open_js_links_on_click(false)`), so a page cannot reach it.
#[cfg(desktop)]
pub fn opener<R: Runtime>() -> impl Plugin<R> {
    tauri_plugin_opener::Builder::new()
        .open_js_links_on_click(false)
        .build()
}

/// Where the configuration comes from: the type parameter of [`Builder`], so a setting that only
/// makes sense for one source (the API base URL and token storage given in code) cannot be called on
/// a builder of another.
pub trait ConfigOrigin: Send + 'static {
    /// The configuration, given the user's config file (`okta.json` in the app's config folder).
    fn load(self, user_file: &Path) -> std::result::Result<AppConfig, NotConfigured>;
}

/// The configuration given in code ([`Builder::new`]).
pub struct FromCode {
    oidc: Box<Config>,
    api_base_url: Option<Url>,
    token_storage: TokenStorage,
}

impl ConfigOrigin for FromCode {
    fn load(self, _user_file: &Path) -> std::result::Result<AppConfig, NotConfigured> {
        Ok(AppConfig {
            oidc: *self.oidc,
            api_base_url: self.api_base_url,
            token_storage: self.token_storage,
        })
    }
}

/// The configuration loaded at setup ([`Builder::from_config_file`]): environment over `okta.json`
/// in the app's config folder (or `$OKTA_SIGNIN_CONFIG`) over the built-in defaults.
pub struct FromConfigFile {
    defaults: &'static str,
}

impl ConfigOrigin for FromConfigFile {
    fn load(self, user_file: &Path) -> std::result::Result<AppConfig, NotConfigured> {
        AppConfig::load(self.defaults, user_file, Build::current())
    }
}

/// How an app loads its configuration, given the user's config file (`okta.json` in its config folder).
pub type ConfigLoader =
    Box<dyn FnOnce(&Path) -> std::result::Result<AppConfig, NotConfigured> + Send + 'static>;

/// The configuration loaded at setup by a function of the app ([`Builder::from_loader`]).
pub struct FromLoader(ConfigLoader);

impl ConfigOrigin for FromLoader {
    fn load(self, user_file: &Path) -> std::result::Result<AppConfig, NotConfigured> {
        (self.0)(user_file)
    }
}

/// Builds the plugin.
pub struct Builder<S: ConfigOrigin = FromCode> {
    source: S,
    launcher: Option<Launcher>,
    prefers_ephemeral_session: bool,
}

impl Builder<FromCode> {
    /// The plugin for this configuration (issuer, client id, redirect URIs, scopes, DPoP).
    pub fn new(config: Config) -> Self {
        Self::with_source(FromCode {
            oidc: Box::new(config),
            api_base_url: None,
            token_storage: TokenStorage::Auto,
        })
    }

    /// The only place access tokens are sent: `fetchApi` and [`Oidc::send`] refuse anything else.
    /// (With [`Builder::from_config_file`] it is the `apiBaseUrl` setting.)
    pub fn api_base_url(mut self, url: Url) -> Self {
        self.source.api_base_url = Some(url);
        self
    }

    /// Where tokens are kept: the OS keystore, a file only the user can read, or the keystore when
    /// one stores (the default). (With [`Builder::from_config_file`] it is the `tokenStorage`
    /// setting.)
    pub fn token_storage(mut self, storage: TokenStorage) -> Self {
        self.source.token_storage = storage;
        self
    }
}

impl Builder<FromConfigFile> {
    /// The plugin configured at start-up from the environment (`OIDC_*`, `API_BASE_URL`,
    /// `TOKEN_STORAGE`), the user's `okta.json` in the app's config folder (or `$OKTA_SIGNIN_CONFIG`),
    /// and `defaults` (a config JSON text). Anything missing or unsafe shows a "not configured" state.
    pub fn from_config_file(defaults: &'static str) -> Self {
        Self::with_source(FromConfigFile { defaults })
    }
}

impl Builder<FromLoader> {
    /// The plugin configured at start-up by `loader`, given the user's config file.
    pub fn from_loader(loader: ConfigLoader) -> Self {
        Self::with_source(FromLoader(loader))
    }
}

impl<S: ConfigOrigin> Builder<S> {
    fn with_source(source: S) -> Self {
        Self {
            source,
            launcher: None,
            prefers_ephemeral_session: false,
        }
    }

    /// iOS: an ephemeral authentication session (no cookies shared with Safari, no "wants to use … to
    /// sign in" prompt, but no single sign-on either).
    pub fn prefers_ephemeral_session(mut self, ephemeral: bool) -> Self {
        self.prefers_ephemeral_session = ephemeral;
        self
    }

    /// Opens URLs with `launcher` instead of the system browser (tests).
    #[doc(hidden)]
    pub fn launcher(mut self, launcher: Launcher) -> Self {
        self.launcher = Some(launcher);
        self
    }

    /// The plugin.
    pub fn build<R: Runtime>(self) -> TauriPlugin<R> {
        let Builder {
            source,
            launcher,
            prefers_ephemeral_session,
        } = self;
        PluginBuilder::<R, ()>::new("oidc")
            .invoke_handler(tauri::generate_handler![
                commands::get_state,
                commands::subscribe,
                commands::sign_in,
                commands::cancel_sign_in,
                commands::sign_out,
                commands::fetch_api,
                commands::reopen_store,
                commands::accounts,
                commands::switch_account,
            ])
            .setup(move |app, api| {
                if app
                    .try_state::<tauri_plugin_deep_link::DeepLink<R>>()
                    .is_none()
                {
                    return Err("tauri-plugin-oidc needs tauri-plugin-deep-link: register \
                                tauri_plugin_oidc::deep_link() before it"
                        .into());
                }
                app.manage(state::State::<R>::default());
                app.manage(Oidc { app: app.clone() });
                let file = app.path().app_config_dir()?.join("okta.json");
                let config = source.load(&file);
                let callback_scheme = config
                    .as_ref()
                    .map(|c| c.oidc.redirect_uri().url().scheme().to_string())
                    .unwrap_or_default();
                let (sender, receiver) = deep_links::queue();
                let page = page::SignInPage::new(
                    app,
                    api,
                    sender.clone(),
                    page::PageSettings {
                        launcher,
                        callback_scheme,
                        prefers_ephemeral_session,
                    },
                )?;
                state::install(
                    app,
                    config,
                    &tauri_plugin_oidc_core::config_file(&file),
                    page,
                )?;
                deep_links::listen(app, sender);
                state::start(app, receiver);
                Ok(())
            })
            .build()
    }
}

/// The plugin for this configuration, with the defaults of [`Builder`].
pub fn init<R: Runtime>(config: Config) -> TauriPlugin<R> {
    Builder::new(config).build()
}

/// The sign-in, for the app's own Rust code: `app.oidc()` ([`OidcExt`]).
pub struct Oidc<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> Oidc<R> {
    /// The current state (who is signed in; never a token).
    pub fn state(&self) -> Result<models::AuthView> {
        state::view(&self.app)
    }

    /// Sends every later state change to `channel` (as the webview's `subscribe` does); returns the
    /// current state.
    pub fn subscribe(
        &self,
        channel: tauri::ipc::Channel<models::AuthView>,
    ) -> Result<models::AuthView> {
        state::subscribe(&self.app, channel)
    }

    /// A valid access token, refreshed first when it is about to expire (for a request the app
    /// builds itself; prefer [`Oidc::send`], which also handles DPoP and a refused token).
    pub async fn access_token(&self) -> Result<AccessToken> {
        Ok(state::controller(&self.app)?.auth().access_token().await?)
    }

    /// A request on the engine's HTTP client (no redirects, timeouts), for [`Oidc::send`].
    pub fn request(&self, method: reqwest::Method, url: Url) -> Result<reqwest::Request> {
        Ok(state::controller(&self.app)?.auth().request(method, url)?)
    }

    /// Sends `request` with the access token (Bearer, or DPoP with a proof), refreshing and retrying
    /// once when the API says the token is no longer valid. Any URL: the app's Rust code decides where
    /// its tokens may go (the webview's `fetchApi` only reaches the configured API).
    pub async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response> {
        Ok(state::controller(&self.app)?.auth().send(request).await?)
    }

    /// The controller itself (sign in, deep links, sign out), for an app that drives it from Rust.
    pub fn controller(&self) -> Result<Arc<OidcController<R>>> {
        state::controller(&self.app)
    }
}

/// `app.oidc()` on the app, its handle, windows and webviews.
pub trait OidcExt<R: Runtime> {
    /// The sign-in (panics when the plugin is not registered, like `app.state()`).
    fn oidc(&self) -> &Oidc<R>;
}

impl<R: Runtime, T: Manager<R>> OidcExt<R> for T {
    fn oidc(&self) -> &Oidc<R> {
        self.state::<Oidc<R>>().inner()
    }
}
