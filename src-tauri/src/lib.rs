//! The example app: its configuration and the sign-in plugin, `tauri-plugin-oidc`, which does
//! everything else (system browser or authentication session, deep links, the token vault, the
//! webview's commands). No token ever crosses into the webview.
//!
//! `run()` delegates to [`run_app`] so tests can pass `tauri::test::mock_builder()`.
// On iOS, `tauri::mobile_entry_point` adds an undocumented `start_app`; the docs are checked elsewhere.
#![cfg_attr(target_os = "ios", allow(missing_docs))]

use tauri::{Builder, Runtime};
use tauri_plugin_oidc_core::{AppConfig, Build};

pub use tauri_plugin_oidc::{ConfigLoader, Launcher};

/// The defaults the app is built with: in a debug build the local services of `make run`
/// (`src-tauri/okta.json`); in a release build only the app's own redirect URIs and scopes, so issuer,
/// client id and API come from the user's configuration.
#[cfg(debug_assertions)]
pub const DEFAULT_CONFIG: &str = include_str!("../okta.json");
/// The defaults the app is built with (see the debug build's).
#[cfg(not(debug_assertions))]
pub const DEFAULT_CONFIG: &str = tauri_plugin_oidc_core::RELEASE_DEFAULTS;

/// Loads the configuration: environment, the user's `okta.json` (app config folder, or
/// `$OKTA_SIGNIN_CONFIG`), the built-in defaults.
pub fn load_config() -> ConfigLoader {
    Box::new(|file| AppConfig::load(DEFAULT_CONFIG, file, Build::current()))
}

/// The app on `builder`: single-instance first (desktop), then the sign-in plugin.
pub fn setup_app<R: Runtime>(builder: Builder<R>, config: ConfigLoader) -> Builder<R> {
    // Desktop: a second process started for a deep link hands it to this one (must come first).
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        use tauri::Manager;
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    }));
    with_core(builder, config, None)
}

/// Everything but single-instance; `launcher` replaces the system browser (tests record the URL).
pub fn with_core<R: Runtime>(
    builder: Builder<R>,
    config: ConfigLoader,
    launcher: Option<Launcher>,
) -> Builder<R> {
    let mut oidc = tauri_plugin_oidc::Builder::from_loader(config);
    if let Some(launcher) = launcher {
        oidc = oidc.launcher(launcher);
    }
    let builder = builder.plugin(tauri_plugin_oidc::deep_link());
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_oidc::opener());
    builder.plugin(oidc.build())
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
