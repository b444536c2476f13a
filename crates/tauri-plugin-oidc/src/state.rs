//! The plugin's managed state: the sign-in controller (or, when the app lacks settings, the "not
//! configured" state), and the channels state changes go to.

use std::sync::{Arc, Mutex, OnceLock};

use app_core::{AppConfig, Controller, NotConfigured, Platform};
use native_oidc::{Auth, OidcClient};
use tauri::{ipc::Channel, AppHandle, Manager, Runtime};
use url::Url;

use crate::{models::AuthView, platform::SignInPage, Error, Result};

/// The controller of this plugin's platform.
pub type OidcController<R> = Controller<TauriPlatform<R>>;

/// What setup made of the configuration.
enum Setup<R: Runtime> {
    Ready(Arc<OidcController<R>>),
    NotConfigured(NotConfigured),
}

/// Managed state: set once at setup, and the webview's channels.
pub(crate) struct State<R: Runtime> {
    setup: OnceLock<Setup<R>>,
    channels: Arc<Subscribers>,
}

impl<R: Runtime> Default for State<R> {
    fn default() -> Self {
        Self {
            setup: OnceLock::new(),
            channels: Arc::default(),
        }
    }
}

/// The webview's channels: the only way state reaches it (no events: an event could be heard by any
/// script allowed to listen, and tauri-plugin-deep-link emits every opened URL as one).
#[derive(Default)]
struct Subscribers(Mutex<Vec<Channel<AuthView>>>);

impl Subscribers {
    fn send(&self, view: &AuthView) {
        let mut channels = self.0.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|channel| channel.send(view.clone()).is_ok());
    }
}

fn state<R: Runtime>(app: &AppHandle<R>) -> Result<tauri::State<'_, State<R>>> {
    app.try_state::<State<R>>().ok_or(Error::NotReady)
}

/// The controller, once set up.
pub(crate) fn controller<R: Runtime>(app: &AppHandle<R>) -> Result<Arc<OidcController<R>>> {
    match state(app)?.setup.get() {
        Some(Setup::Ready(controller)) => Ok(controller.clone()),
        Some(Setup::NotConfigured(problem)) => Err(Error::App(app_core::AppError::new(
            app_core::Kind::NotConfigured,
            problem.message.clone(),
        ))),
        None => Err(Error::NotReady),
    }
}

/// The current state (the "not configured" state too).
pub(crate) fn view<R: Runtime>(app: &AppHandle<R>) -> Result<AuthView> {
    Ok(match state(app)?.setup.get() {
        Some(Setup::Ready(controller)) => controller.view(),
        Some(Setup::NotConfigured(problem)) => AuthView::from(problem),
        None => AuthView::Restoring,
    })
}

/// Sends every state change to `channel` from now on; returns the current state.
pub(crate) fn subscribe<R: Runtime>(
    app: &AppHandle<R>,
    channel: Channel<AuthView>,
) -> Result<AuthView> {
    state(app)?
        .channels
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(channel);
    view(app)
}

/// Opens the sign-in page ([`SignInPage`]: the system browser, or an authentication session) and
/// tells the webview through its channels.
pub struct TauriPlatform<R: Runtime> {
    page: SignInPage<R>,
    channels: Arc<Subscribers>,
}

impl<R: Runtime> Platform for TauriPlatform<R> {
    fn open_browser(&self, url: &Url) -> std::result::Result<(), String> {
        self.page.open(url)
    }

    fn state_changed(&self, view: &AuthView) {
        self.channels.send(view);
    }
}

/// Builds the controller from the configuration and the token vault (in the app's data folder, or
/// the OS keystore under the app's identifier), or the "not configured" state, and manages it.
pub(crate) fn install<R: Runtime>(
    app: &AppHandle<R>,
    config: std::result::Result<AppConfig, NotConfigured>,
    page: SignInPage<R>,
) -> std::result::Result<(), String> {
    let state = app
        .try_state::<State<R>>()
        .ok_or("the plugin state is not managed")?;
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
                page,
                channels: state.channels.clone(),
            };
            Setup::Ready(Arc::new(Controller::new(
                Auth::new(client, store),
                platform,
                config.api_base_url,
            )))
        }
        Err(problem) => {
            tracing::warn!(%problem, "the app is not configured");
            Setup::NotConfigured(problem)
        }
    };
    state
        .setup
        .set(setup)
        .map_err(|_| "the plugin is already set up".to_string())
}
