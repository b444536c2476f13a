//! The plugin's IPC commands: thin wrappers over the sign-in controller. None returns a token; state
//! changes reach the webview through the channel it hands to `subscribe`.

use native_oidc::StepUp;
use tauri::{ipc::Channel, AppHandle, Runtime};
use tauri_plugin_oidc_core::SignInRequest;

use crate::{
    models::{ApiResponse, AuthView},
    state, Result,
};

/// The current sign-in state.
#[tauri::command]
pub(crate) fn get_state<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    state::view(&app)
}

/// Every later state change goes to `on_state`; returns the current state.
#[tauri::command]
pub(crate) fn subscribe<R: Runtime>(
    app: AppHandle<R>,
    on_state: Channel<AuthView>,
) -> Result<AuthView> {
    state::subscribe(&app, on_state)
}

/// Opens the sign-in page: with the account a sign-in request suggested (`login_hint`), with the
/// options of `signIn({ … })`, or as the step-up an API asked for (`step_up`, the signed-in user only).
#[tauri::command]
pub(crate) async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    login_hint: Option<String>,
    options: Option<SignInRequest>,
    step_up: Option<StepUp>,
) -> Result<AuthView> {
    let controller = state::controller(&app)?;
    Ok(match (step_up, options) {
        (Some(step_up), _) => controller.step_up(&step_up).await?,
        (None, Some(options)) => controller.sign_in_with(options.into()).await?,
        (None, None) => controller.sign_in(login_hint).await?,
    })
}

/// Stops waiting for the browser.
#[tauri::command]
pub(crate) async fn cancel_sign_in<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    Ok(state::controller(&app)?.cancel_sign_in().await)
}

/// Signs out at once, even offline; revocation and the provider's sign-out page follow in the
/// background. With `all_apps`, of every app of the SSO group too (Native SSO).
#[tauri::command]
pub(crate) async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    all_apps: Option<bool>,
) -> Result<AuthView> {
    let controller = state::controller(&app)?;
    let (view, task) = if all_apps == Some(true) {
        controller.sign_out_of_all_apps().await
    } else {
        controller.sign_out().await
    };
    if let Some(task) = task {
        tauri::async_runtime::spawn(async move { controller.finish_sign_out(task).await });
    }
    Ok(view)
}

/// GET a path of the configured API with the access token; returns status and body.
#[tauri::command]
pub(crate) async fn fetch_api<R: Runtime>(app: AppHandle<R>, path: String) -> Result<ApiResponse> {
    Ok(state::controller(&app)?.call_api(&path).await?)
}

/// After a storage problem at start-up: opens the store again (the user unlocked the keyring, fixed a
/// permission, …) or, with `start_over`, sets aside what could not be read (renamed, never deleted)
/// and opens a fresh store. Returns the restored state, or the storage problem that remains.
#[tauri::command]
pub(crate) async fn reopen_store<R: Runtime>(
    app: AppHandle<R>,
    start_over: bool,
) -> Result<AuthView> {
    state::reopen(&app, start_over).await
}
