//! Desktop (Linux, macOS, Windows): the sign-in page opens in the system browser (tauri-plugin-opener,
//! with no script of its own in the webview); the browser comes back through a deep link.

use tauri::{plugin::PluginApi, AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::{
    deep_links::LinkSender,
    page::{Launcher, PageSettings},
};

/// Opens the sign-in and sign-out pages.
pub struct SignInPage<R: Runtime> {
    app: AppHandle<R>,
    launcher: Option<Launcher>,
}

impl<R: Runtime> SignInPage<R> {
    pub(crate) fn new(
        app: &AppHandle<R>,
        _api: PluginApi<R, ()>,
        _links: LinkSender,
        settings: PageSettings,
    ) -> Result<Self, String> {
        if app.try_state::<tauri_plugin_opener::Opener<R>>().is_none()
            && settings.launcher.is_none()
        {
            return Err(
                "tauri-plugin-oidc needs tauri-plugin-opener on desktop: register \
                        tauri_plugin_oidc::opener() before it"
                    .into(),
            );
        }
        Ok(Self {
            app: app.clone(),
            launcher: settings.launcher,
        })
    }

    /// Opens `url` in the system browser (which has no ephemeral session to ask for: an added
    /// account's sign-in relies on `prompt=login`).
    pub(crate) fn open(&self, url: &Url, _ephemeral: bool) -> Result<(), String> {
        if let Some(launch) = &self.launcher {
            return launch(url);
        }
        self.app
            .opener()
            .open_url(url.as_str(), None::<&str>)
            .map_err(|e| e.to_string())
    }
}
