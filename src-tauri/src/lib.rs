//! The Tauri app: glue between the webview (`ui/`), the OS (deep links, the system browser) and
//! `app_core`, which holds all the behaviour. No token ever crosses into the webview.
//!
//! `run()` delegates to [`run_app`] so tests can pass `tauri::test::mock_builder()`.

mod commands;
mod error;
mod links;
mod state;

use std::path::Path;

use app_core::{AppConfig, Build, NotConfigured};
use tauri::{Builder, Manager, Runtime};

pub use app_core::store::{LEGACY_STORE_FILE, VAULT_FILE};
pub use state::{controller, subscribe, AppState, Launcher};

/// The defaults the app is built with: in a debug build the local services of `make run`
/// (`src-tauri/okta.json`); in a release build only the app's own redirect URIs and scopes, so issuer,
/// client id and API come from the user's configuration.
#[cfg(debug_assertions)]
pub const DEFAULT_CONFIG: &str = include_str!("../okta.json");
/// The defaults the app is built with (see the debug build's).
#[cfg(not(debug_assertions))]
pub const DEFAULT_CONFIG: &str = app_core::RELEASE_DEFAULTS;

/// The user's config file: `okta.json` in the app's config folder (`~/.config/com.okta.example/` on
/// Linux), unless `OKTA_SIGNIN_CONFIG` names another.
pub const USER_CONFIG_FILE: &str = "okta.json";

/// How the app gets its configuration at setup, given the user's config file.
pub type ConfigLoader = Box<dyn FnOnce(&Path) -> Result<AppConfig, NotConfigured> + Send + 'static>;

/// Loads the configuration the way the app does (environment, config file, built-in defaults).
pub fn load_config() -> ConfigLoader {
    Box::new(|file| AppConfig::load(DEFAULT_CONFIG, file, Build::current()))
}

/// The IPC handler with the app's commands (for `run_app` and tests).
pub fn commands<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::auth_state,
        commands::subscribe,
        commands::sign_in,
        commands::cancel_sign_in,
        commands::sign_out,
        commands::call_api,
    ]
}

/// Registers the plugins, state and commands; builds the controller and handles deep links at setup.
pub fn setup_app<R: Runtime>(builder: Builder<R>, config: ConfigLoader) -> Builder<R> {
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
    config: ConfigLoader,
    launcher: Option<Launcher>,
) -> Builder<R> {
    builder
        .plugin(tauri_plugin_deep_link::init())
        // Opens the system browser for Rust only: no script injected into the page that would open
        // links on click through the opener.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .manage(AppState::<R>::default())
        .invoke_handler(commands())
        .setup(move |app| {
            let file = app.path().app_config_dir()?.join(USER_CONFIG_FILE);
            state::install(app.handle(), config(&file), launcher)?;
            links::listen(app.handle());
            Ok(())
        })
}

/// Builds and runs the app with `builder`.
pub fn run_app<R: Runtime>(builder: Builder<R>, context: tauri::Context<R>) {
    if let Err(error) = setup_app(builder, load_config()).run(context) {
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
