//! The Tauri app: glue between the webview (`ui/`), the OS (deep links, the system browser) and
//! `app_core`, which holds all the behaviour. No token ever crosses into the webview.
//!
//! `run()` delegates to [`run_app`] so tests can pass `tauri::test::mock_builder()`.

mod commands;
mod error;
mod links;
mod state;

use app_core::AppConfig;
use tauri::{Builder, Runtime};

pub use app_core::store::{LEGACY_STORE_FILE, VAULT_FILE};
pub use state::{controller, AppState, Launcher, AUTH_CHANGED};

/// The configuration the app ships with (the local services of `make run`); `OKTA_SIGNIN_CONFIG` and
/// environment variables override it.
pub const DEFAULT_CONFIG: &str = include_str!("../okta.json");

/// The IPC handler with the app's commands (for `run_app` and tests).
pub fn commands<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::auth_state,
        commands::sign_in,
        commands::cancel_sign_in,
        commands::sign_out,
        commands::call_api,
    ]
}

/// Registers the plugins, state and commands; builds the controller and handles deep links at setup.
pub fn setup_app<R: Runtime>(builder: Builder<R>, config: AppConfig) -> Builder<R> {
    // Desktop: a second process started for a deep link hands it to this one (must come first).
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        links::focus_main(app);
    }));
    with_core(builder, config, None)
}

/// Everything but single-instance: deep links, opener, state and commands. `launcher` replaces
/// tauri-plugin-opener for opening the browser (tests record the URL instead).
pub fn with_core<R: Runtime>(
    builder: Builder<R>,
    config: AppConfig,
    launcher: Option<Launcher>,
) -> Builder<R> {
    builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .manage(AppState::<R>(Default::default()))
        .invoke_handler(commands())
        .setup(move |app| {
            state::install(app.handle(), config.clone(), launcher.clone())?;
            links::listen(app.handle());
            Ok(())
        })
}

/// Builds and runs the app with `builder`.
pub fn run_app<R: Runtime>(builder: Builder<R>, context: tauri::Context<R>) {
    let config = match AppConfig::load(DEFAULT_CONFIG) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {}: {error}", error.kind());
            std::process::exit(1);
        }
    };
    if let Err(error) = setup_app(builder, config).run(context) {
        eprintln!("error: the app failed: {error}");
        std::process::exit(1);
    }
}

/// The app's real context (configuration, capabilities) with empty assets, for tests on the mock runtime.
#[doc(hidden)]
pub fn test_context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!(test = true)
}

/// The app's entry point (desktop `main`, and the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    run_app(tauri::Builder::default(), tauri::generate_context!());
}
