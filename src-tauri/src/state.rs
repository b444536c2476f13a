//! The app's managed state: one `app_core::Controller`, built at setup, and its Tauri platform.

use std::sync::{Arc, OnceLock};

use app_core::{AppConfig, AuthView, Controller, Platform};
use native_oidc::{Auth, OidcClient};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::error::Error;

/// The event the UI listens to.
pub const AUTH_CHANGED: &str = "auth-changed";

/// Managed state: set once setup has built the controller.
pub struct AppState<R: Runtime>(pub OnceLock<Arc<Controller<TauriPlatform<R>>>>);

/// The controller, once set up.
pub fn controller<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<Arc<Controller<TauriPlatform<R>>>, Error> {
    app.try_state::<AppState<R>>()
        .and_then(|state| state.0.get().cloned())
        .ok_or(Error::NotReady)
}

/// Opens a URL in place of the system browser (tests).
pub type Launcher = Arc<dyn Fn(&Url) -> Result<(), String> + Send + Sync>;

/// Opens URLs with tauri-plugin-opener and tells the UI through `auth-changed`.
pub struct TauriPlatform<R: Runtime> {
    app: AppHandle<R>,
    launcher: Option<Launcher>,
}

impl<R: Runtime> Platform for TauriPlatform<R> {
    fn open_browser(&self, url: &Url) -> Result<(), String> {
        if let Some(launch) = &self.launcher {
            return launch(url);
        }
        self.app
            .opener()
            .open_url(url.as_str(), None::<&str>)
            .map_err(|e| e.to_string())
    }

    fn state_changed(&self, view: &AuthView) {
        if let Err(error) = self.app.emit(AUTH_CHANGED, view) {
            tracing::warn!(%error, "could not notify the UI");
        }
    }
}

/// Builds the controller from the configuration and the token vault (in the app's data folder, or
/// the OS keystore under the app's identifier), and manages it.
pub fn install<R: Runtime>(
    app: &AppHandle<R>,
    config: AppConfig,
    launcher: Option<Launcher>,
) -> Result<(), String> {
    let data = app.path().app_data_dir().map_err(|e| e.to_string())?;
    let store = tauri::async_runtime::block_on(app_core::open_store(
        &data,
        &app.config().identifier,
        config.token_storage,
    ))
    .map_err(|e| format!("{}: {e}", e.kind()))?;
    let client = OidcClient::new(config.oidc).map_err(|e| e.to_string())?;
    let auth = Auth::new(client, store);
    let platform = TauriPlatform {
        app: app.clone(),
        launcher,
    };
    let controller = Arc::new(Controller::new(auth, platform, config.api_base_url));
    let state = app
        .try_state::<AppState<R>>()
        .ok_or("the app state is not managed")?;
    state
        .0
        .set(controller)
        .map_err(|_| "the controller is already installed".to_string())
}
