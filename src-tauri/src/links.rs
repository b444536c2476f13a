//! Deep links from the OS, handled one at a time and in order, after start-up has restored the
//! session: the launch URL (`get_current`, for a cold start through a link) and links opened while the
//! app runs (`on_open_url`; on Linux and Windows, single-instance forwards a second process's link to
//! it). Each goes to `Controller::handle_url`.

use tauri::{AppHandle, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;
use tokio::sync::mpsc;

use crate::state::controller;

/// Starts the controller and wires every source of deep links to it. A debug build registers the
/// URL scheme for itself (Linux, Windows); an installed app is registered by its package (the
/// `.desktop` file of the `.deb`), which a development build run later must not take over.
pub fn listen<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
    if let Err(error) = app.deep_link().register_all() {
        tracing::warn!(%error, "could not register the URL scheme");
    }
    let (sender, mut links) = mpsc::unbounded_channel::<String>();
    for url in app
        .deep_link()
        .get_current()
        .ok()
        .flatten()
        .unwrap_or_default()
    {
        let _ = sender.send(url.to_string());
    }
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            let _ = sender.send(url.to_string());
        }
    });
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(controller) = controller(&handle) else {
            return; // not configured: links are dropped
        };
        controller.start().await;
        while let Some(url) = links.recv().await {
            controller.handle_url(&url).await;
        }
    });
}

/// A second process was started (for a link, or by the user): bring the window forward. Its link
/// reaches `on_open_url` through single-instance's `deep-link` feature.
#[cfg(desktop)]
pub fn focus_main<R: Runtime>(app: &AppHandle<R>) {
    use tauri::Manager;
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
