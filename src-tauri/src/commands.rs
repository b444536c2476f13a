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

/// Signs out (signed out at once, even when the identity provider is unreachable).
#[tauri::command]
pub async fn sign_out<R: Runtime>(app: AppHandle<R>) -> Result<AuthView> {
    Ok(controller(&app)?.sign_out().await)
}

/// GET a path of the configured API with the access token; returns status and body.
#[tauri::command]
pub async fn call_api<R: Runtime>(app: AppHandle<R>, path: String) -> Result<ApiResponse> {
    Ok(controller(&app)?.call_api(&path).await?)
}
