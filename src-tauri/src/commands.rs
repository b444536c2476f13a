//! The IPC commands of the main window: thin wrappers over `app_core::Controller`.
//! None of them returns a token.

use app_core::{ApiResponse, AuthView};
use tauri::{AppHandle, Runtime};

use crate::{error::Result, state::controller};

/// The current sign-in state.
#[tauri::command]
pub fn auth_state<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    Ok(controller(&app)?.view())
}

/// Opens the system browser on the sign-in page.
#[tauri::command]
pub async fn sign_in<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    Ok(controller(&app)?.sign_in(None).await?)
}

/// Stops waiting for the browser.
#[tauri::command]
pub async fn cancel_sign_in<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    Ok(controller(&app)?.cancel_sign_in().await)
}

/// Signs out at once, even when the identity provider is unreachable; revocation and the provider's
/// sign-out page follow in the background.
#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    let controller = controller(&app)?;
    let (view, session) = controller.sign_out().await;
    if let Some(session) = session {
        tauri::async_runtime::spawn(async move { controller.finish_sign_out(session).await });
    }
    Ok(view)
}

/// GET a path of the configured API with the access token; returns status and body.
#[tauri::command]
pub async fn call_api<R: Runtime>(app: AppHandle<R>, path: String) -> Result<ApiResponse> {
    Ok(controller(&app)?.call_api(&path).await?)
}
