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
/// A plain `signIn()` with Native SSO first tries the sign-in the group's apps share (no browser).
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
        (None, Some(options)) if options.add_account => {
            controller.add_account(options.into()).await?
        }
        (None, Some(options)) => controller.sign_in_with(options.into()).await?,
        (None, None) if login_hint.is_none() => controller.sign_in_here().await?,
        (None, None) => controller.sign_in(login_hint).await?,
    })
}

/// Stops waiting for the browser.
#[tauri::command]
pub(crate) async fn cancel_sign_in<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    Ok(state::controller(&app)?.cancel_sign_in().await)
}

/// Signs out at once, even offline; revocation and the provider's sign-out page follow in the
/// background. With `account` (an id, email or subject), of that account only (the one shown by
/// default; the others stay signed in); with `all_accounts`, of every account; with `all_apps`, of
/// every app of the SSO group too (Native SSO).
#[tauri::command]
pub(crate) async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    all_apps: Option<bool>,
    account: Option<String>,
    all_accounts: Option<bool>,
) -> Result<AuthView> {
    let controller = state::controller(&app)?;
    if all_accounts == Some(true) {
        let (view, tasks) = controller.sign_out_of_every_account().await;
        tauri::async_runtime::spawn(async move {
            let mut tasks = tasks.into_iter();
            if let Some(shown) = tasks.next() {
                controller.finish_sign_out(shown).await;
            }
            for task in tasks {
                controller.finish_revocation(task).await;
            }
        });
        return Ok(view);
    }
    let (view, task) = if all_apps == Some(true) {
        controller.sign_out_of_all_apps().await
    } else {
        controller.sign_out_account(account.as_deref()).await?
    };
    if let Some(task) = task {
        tauri::async_runtime::spawn(async move { controller.finish_sign_out(task).await });
    }
    Ok(view)
}

/// GET a path of the configured API with the access token of `account` (an id, email or subject;
/// the one shown by default); returns status and body.
#[tauri::command]
pub(crate) async fn fetch_api<R: Runtime>(
    app: AppHandle<R>,
    path: String,
    account: Option<String>,
) -> Result<ApiResponse> {
    Ok(state::controller(&app)?
        .call_api_as(&path, account.as_deref())
        .await?)
}

/// The accounts signed in on this device, without tokens: id, issuer, subject, name, email, and
/// which one is the default (shown at start).
#[tauri::command]
pub(crate) async fn accounts<R: Runtime>(app: AppHandle<R>) -> Result<Vec<native_oidc::Account>> {
    Ok(state::controller(&app)?.accounts().await?)
}

/// Shows account `id` (an id, email or subject) and makes it the default.
#[tauri::command]
pub(crate) async fn switch_account<R: Runtime>(app: AppHandle<R>, id: String) -> Result<AuthView> {
    Ok(state::controller(&app)?.switch_account(&id).await?)
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
