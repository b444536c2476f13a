//! The plugin's managed state: the sign-in controller (or, when the app lacks settings, the "not
//! configured" state; when its session store cannot be opened, the storage problem, until the user
//! tries again or starts over), and the channels state changes go to.

use std::sync::{Arc, Mutex, RwLock};

use native_oidc::{Accounts, Auth, OidcClient, SessionStore, SsoShare};
use tauri::{ipc::Channel, AppHandle, Manager, Runtime};
use tauri_plugin_oidc_core::{
    AppConfig, AppStore, Controller, NotConfigured, Notice, Platform, StorageProblem,
};
use tokio::sync::{mpsc, watch};
use url::Url;

use crate::{
    deep_links::{self, Incoming},
    error::{Error, Result},
    models::AuthView,
    page::SignInPage,
};

/// The controller of this plugin's platform.
pub type OidcController<R> = Controller<TauriPlatform<R>>;

/// What setup made of the configuration and the store.
enum Setup<R: Runtime> {
    Ready(Arc<OidcController<R>>),
    NotConfigured(NotConfigured),
    StorageProblem(Box<Waiting<R>>),
}

/// Everything a controller needs but the store, kept while the store cannot be opened.
struct Waiting<R: Runtime> {
    problem: StorageProblem,
    store: AppStore,
    client: OidcClient,
    share: Option<SsoShare>,
    api_base_url: Option<Url>,
    page: SignInPage<R>,
}

/// Managed state: set at setup (changed once more when a storage problem is solved), the controller
/// once started (the deep-link listener waits for it), and the webview's channels.
pub(crate) struct State<R: Runtime> {
    setup: RwLock<Option<Setup<R>>>,
    live: watch::Sender<Option<Arc<OidcController<R>>>>,
    reopening: tokio::sync::Mutex<()>,
    channels: Arc<Subscribers>,
}

impl<R: Runtime> Default for State<R> {
    fn default() -> Self {
        Self {
            setup: RwLock::new(None),
            live: watch::Sender::new(None),
            reopening: tokio::sync::Mutex::new(()),
            channels: Arc::default(),
        }
    }
}

impl<R: Runtime> State<R> {
    fn read<T>(&self, f: impl FnOnce(Option<&Setup<R>>) -> T) -> T {
        f(self
            .setup
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref())
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
    state(app)?.read(|setup| match setup {
        Some(Setup::Ready(controller)) => Ok(controller.clone()),
        Some(Setup::NotConfigured(problem)) => {
            Err(Error::App(tauri_plugin_oidc_core::AppError::new(
                tauri_plugin_oidc_core::Kind::NotConfigured,
                problem.message.clone(),
            )))
        }
        Some(Setup::StorageProblem(waiting)) => Err(Error::App((&waiting.problem).into())),
        None => Err(Error::NotReady),
    })
}

/// The current state (the "not configured" and storage problem states too).
pub(crate) fn view<R: Runtime>(app: &AppHandle<R>) -> Result<AuthView> {
    Ok(state(app)?.read(|setup| match setup {
        Some(Setup::Ready(controller)) => controller.view(),
        Some(Setup::NotConfigured(problem)) => AuthView::from(problem),
        Some(Setup::StorageProblem(waiting)) => AuthView::from(&waiting.problem),
        None => AuthView::Restoring,
    }))
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

/// Opens the sign-in page (the system browser, or an authentication session) and
/// tells the webview through its channels.
pub struct TauriPlatform<R: Runtime> {
    page: SignInPage<R>,
    channels: Arc<Subscribers>,
}

impl<R: Runtime> Platform for TauriPlatform<R> {
    fn open_browser(&self, url: &Url) -> std::result::Result<(), String> {
        self.page.open(url, false)
    }

    fn open_sign_in(&self, url: &Url, ephemeral: bool) -> std::result::Result<(), String> {
        self.page.open(url, ephemeral)
    }

    fn state_changed(&self, view: &AuthView) {
        self.channels.send(view);
    }
}

/// Builds the controller from the configuration and the token vault (in the app's data folder, or
/// the OS keystore under the app's identifier), or the "not configured" state, or the storage problem
/// when the vault cannot be opened, and manages it. `config_file` is the user's config file.
pub(crate) fn install<R: Runtime>(
    app: &AppHandle<R>,
    config: std::result::Result<AppConfig, NotConfigured>,
    config_file: &std::path::Path,
    page: SignInPage<R>,
) -> std::result::Result<(), String> {
    let state = app
        .try_state::<State<R>>()
        .ok_or("the plugin state is not managed")?;
    let setup = match config {
        Ok(config) => {
            let store = AppStore {
                data_dir: app.path().app_data_dir().map_err(|e| e.to_string())?,
                identifier: app.config().identifier.clone(),
                storage: config.token_storage,
                config_file: config_file.to_path_buf(),
            };
            let share = sso_share(app, &config);
            let oidc = match share {
                Some(_) => config.oidc,
                None => config.oidc.without_sso_group(),
            };
            let client = OidcClient::new(oidc).map_err(|e| e.to_string())?;
            match tauri::async_runtime::block_on(store.open()) {
                Ok(vault) => Setup::Ready(build(
                    client,
                    share,
                    (&store, vault),
                    page,
                    &state.channels,
                    config.api_base_url,
                )),
                Err(problem) => Setup::StorageProblem(Box::new(Waiting {
                    problem,
                    store,
                    client,
                    share,
                    api_base_url: config.api_base_url,
                    page,
                })),
            }
        }
        Err(problem) => {
            tracing::warn!(%problem, "the app is not configured");
            Setup::NotConfigured(problem)
        }
    };
    let mut current = state.setup.write().unwrap_or_else(|p| p.into_inner());
    if current.is_some() {
        return Err("the plugin is already set up".into());
    }
    *current = Some(setup);
    Ok(())
}

/// The share of the app's SSO group (Native SSO) in the user's data folder or keystore, when one is
/// configured. One that cannot be opened is logged, and the app works on without Native SSO.
fn sso_share<R: Runtime>(app: &AppHandle<R>, config: &AppConfig) -> Option<SsoShare> {
    let group = config.oidc.sso_group()?;
    let opened = app
        .path()
        .data_dir()
        .map_err(|e| e.to_string())
        .and_then(|data| {
            tauri::async_runtime::block_on(SsoShare::open(group, config.token_storage, &data))
                .map_err(|e| e.to_string())
        });
    match opened {
        Ok(share) => Some(share),
        Err(error) => {
            tracing::warn!(%error, "the SSO group's share cannot be opened: Native SSO is off");
            None
        }
    }
}

fn build<R: Runtime>(
    client: OidcClient,
    share: Option<SsoShare>,
    (store, vault): (&AppStore, SessionStore),
    page: SignInPage<R>,
    channels: &Arc<Subscribers>,
    api_base_url: Option<Url>,
) -> Arc<OidcController<R>> {
    let platform = TauriPlatform {
        page,
        channels: channels.clone(),
    };
    Arc::new(
        Controller::new(
            with_share(
                Auth::new(client, vault.clone()).with_accounts(Accounts::new(vault)),
                share,
            ),
            platform,
            api_base_url,
        )
        .with_copies_outside_the_store(store.copies_outside_the_vault()),
    )
}

fn with_share(auth: Auth, share: Option<SsoShare>) -> Auth {
    match share {
        Some(share) => auth.with_sso_share(share),
        None => auth,
    }
}

/// Starts the controller once setup has made it (at once, or when the user has solved a storage
/// problem): restores the session, then hands it the deep links queued meanwhile and later. When the
/// app is not configured, links are dropped.
pub(crate) fn start<R: Runtime>(app: &AppHandle<R>, links: mpsc::UnboundedReceiver<Incoming>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Ok(controller) = controller(&app) {
            go_live(&app, controller, None).await;
        }
        // While the store cannot be opened, links wait in the queue (a callback completes once the
        // user has solved it).
        if let Some(controller) = live(&app).await {
            deep_links::deliver(&controller, links).await;
        }
    });
}

/// Starts `controller` (restores the session, showing `notice` with the result), then hands it to the
/// deep-link delivery. Returns the state it started in.
pub(crate) async fn go_live<R: Runtime>(
    app: &AppHandle<R>,
    controller: Arc<OidcController<R>>,
    notice: Option<Notice>,
) -> AuthView {
    let view = controller.start_with(notice).await;
    if let Ok(state) = state(app) {
        state.live.send_replace(Some(controller));
    }
    view
}

/// The controller once it has started; none when it never will (the app is not configured).
async fn live<R: Runtime>(app: &AppHandle<R>) -> Option<Arc<OidcController<R>>> {
    let state = state(app).ok()?;
    if state.read(|setup| matches!(setup, Some(Setup::NotConfigured(_)))) {
        return None;
    }
    let mut live = state.live.subscribe();
    let controller = live.wait_for(Option::is_some).await.ok()?.clone();
    controller
}

/// Opens the store again after a storage problem: as it is (`start_over` false: the user unlocked the
/// keyring, fixed a permission, …), or after setting aside what could not be read. On success the
/// controller starts and the returned state is the restored one; else the (new) storage problem.
/// Without a storage problem, nothing changes.
pub(crate) async fn reopen<R: Runtime>(app: &AppHandle<R>, start_over: bool) -> Result<AuthView> {
    let state = state(app)?;
    let _one_at_a_time = state.reopening.lock().await;
    let Some((store, problem)) = state.read(|setup| match setup {
        Some(Setup::StorageProblem(waiting)) => {
            Some((waiting.store.clone(), waiting.problem.clone()))
        }
        _ => None,
    }) else {
        let _ = controller(app)?;
        return view(app);
    };
    let opened = if start_over {
        store
            .start_over(&problem)
            .await
            .map(|(vault, aside)| (vault, StorageProblem::started_over(aside.as_deref())))
    } else {
        store.open().await.map(|vault| (vault, None))
    };
    match settle(&state, opened)? {
        Reopened::Ready(controller, notice) => Ok(go_live(app, controller, notice).await),
        Reopened::StillBroken(view) => {
            state.channels.send(&view);
            Ok(view)
        }
    }
}

/// What reopening the store gave.
enum Reopened<R: Runtime> {
    /// The controller to start, and what to tell the user with its first state.
    Ready(Arc<OidcController<R>>, Option<Notice>),
    /// The storage problem that remains, as a state.
    StillBroken(AuthView),
}

/// Records what reopening the store gave (synchronously: the setup's lock is never held across an
/// await).
fn settle<R: Runtime>(
    state: &State<R>,
    opened: std::result::Result<(SessionStore, Option<Notice>), StorageProblem>,
) -> Result<Reopened<R>> {
    let mut setup = state.setup.write().unwrap_or_else(|p| p.into_inner());
    // Still waiting: reopening is the only change after setup, and the caller holds its lock.
    let mut waiting = match setup.take() {
        Some(Setup::StorageProblem(waiting)) => waiting,
        other => {
            *setup = other;
            return Err(Error::NotReady);
        }
    };
    match opened {
        Err(problem) => {
            let view = AuthView::from(&problem);
            waiting.problem = problem;
            *setup = Some(Setup::StorageProblem(waiting));
            Ok(Reopened::StillBroken(view))
        }
        Ok((vault, notice)) => {
            let Waiting {
                client,
                share,
                api_base_url,
                page,
                store,
                ..
            } = *waiting;
            let controller = build(
                client,
                share,
                (&store, vault),
                page,
                &state.channels,
                api_base_url,
            );
            *setup = Some(Setup::Ready(controller.clone()));
            Ok(Reopened::Ready(controller, notice))
        }
    }
}
