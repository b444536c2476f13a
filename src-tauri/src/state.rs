//! The app's managed state: one `app_core::Controller` built at setup (or, when the app lacks settings,
//! the "not configured" state), and its Tauri platform, which opens the system browser and sends every
//! state change to the UI's channels.

use std::sync::{Arc, Mutex, OnceLock};

use app_core::{AppConfig, AuthView, Controller, NotConfigured, Platform};
use native_oidc::{Auth, OidcClient};
use tauri::{ipc::Channel, AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::error::Error;

/// What setup made of the configuration.
pub enum Setup<R: Runtime> {
    /// Signed in or out, with a controller.
    Ready(Arc<Controller<TauriPlatform<R>>>),
    /// Settings are missing or unusable; this is what the UI shows.
    NotConfigured(Box<AuthView>),
}

/// Managed state: set once at setup, and the UI's channels.
pub struct AppState<R: Runtime> {
    setup: OnceLock<Setup<R>>,
    channels: Arc<Subscribers>,
}

impl<R: Runtime> Default for AppState<R> {
    fn default() -> Self {
        Self {
            setup: OnceLock::new(),
            channels: Arc::default(),
        }
    }
}

/// The UI's channels: the only way state reaches the webview (no events: an event could be heard by
/// any script allowed to listen, and tauri-plugin-deep-link emits every opened URL as one).
#[derive(Default)]
pub struct Subscribers(Mutex<Vec<Channel<AuthView>>>);

impl Subscribers {
    fn send(&self, view: &AuthView) {
        let mut channels = self.0.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|channel| channel.send(view.clone()).is_ok());
    }

    fn add(&self, channel: Channel<AuthView>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(channel);
    }
}

fn state<R: Runtime>(app: &AppHandle<R>) -> Result<tauri::State<'_, AppState<R>>, Error> {
    app.try_state::<AppState<R>>().ok_or(Error::NotReady)
}

/// The controller, once set up.
pub fn controller<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<Arc<Controller<TauriPlatform<R>>>, Error> {
    match state(app)?.setup.get() {
        Some(Setup::Ready(controller)) => Ok(controller.clone()),
        Some(Setup::NotConfigured(view)) => {
            let message = match view.as_ref() {
                AuthView::NotConfigured { message, .. } => message.clone(),
                _ => "The app is not configured.".to_string(),
            };
            Err(Error::App(app_core::AppError::new(
                app_core::Kind::NotConfigured,
                message,
            )))
        }
        _ => Err(Error::NotReady),
    }
}

/// The current state, for the UI (the "not configured" state too).
pub fn view<R: Runtime>(app: &AppHandle<R>) -> Result<AuthView, Error> {
    match state(app)?.setup.get() {
        Some(Setup::Ready(controller)) => Ok(controller.view()),
        Some(Setup::NotConfigured(view)) => Ok(view.as_ref().clone()),
        None => Ok(AuthView::Restoring),
    }
}

/// Sends every state change to `channel` from now on; returns the current state.
pub fn subscribe<R: Runtime>(
    app: &AppHandle<R>,
    channel: Channel<AuthView>,
) -> Result<AuthView, Error> {
    state(app)?.channels.add(channel);
    view(app)
}

/// Opens a URL in place of the system browser (tests).
pub type Launcher = Arc<dyn Fn(&Url) -> Result<(), String> + Send + Sync>;

/// Opens URLs with tauri-plugin-opener and tells the UI through its channels.
pub struct TauriPlatform<R: Runtime> {
    app: AppHandle<R>,
    channels: Arc<Subscribers>,
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
        self.channels.send(view);
    }
}

/// Builds the controller from the configuration and the token vault (in the app's data folder, or
/// the OS keystore under the app's identifier), or the "not configured" state, and manages it.
pub fn install<R: Runtime>(
    app: &AppHandle<R>,
    config: Result<AppConfig, NotConfigured>,
    launcher: Option<Launcher>,
) -> Result<(), String> {
    let state = app
        .try_state::<AppState<R>>()
        .ok_or("the app state is not managed")?;
    let setup = match config {
        Ok(config) => {
            let data = app.path().app_data_dir().map_err(|e| e.to_string())?;
            let store = tauri::async_runtime::block_on(app_core::open_store(
                &data,
                &app.config().identifier,
                config.token_storage,
            ))
            .map_err(|e| format!("{}: {e}", e.kind()))?;
            let client = OidcClient::new(config.oidc).map_err(|e| e.to_string())?;
            let platform = TauriPlatform {
                app: app.clone(),
                channels: state.channels.clone(),
                launcher,
            };
            Setup::Ready(Arc::new(Controller::new(
                Auth::new(client, store),
                platform,
                config.api_base_url,
            )))
        }
        Err(problem) => {
            tracing::warn!(%problem, "the app is not configured");
            Setup::NotConfigured(Box::new(AuthView::from(&problem)))
        }
    };
    state
        .setup
        .set(setup)
        .map_err(|_| "the app is already set up".to_string())
}
