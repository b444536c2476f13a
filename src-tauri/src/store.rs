//! The session and the pending sign-ins, kept with tauri-plugin-store in the app's data folder.
//!
//! The store is plain JSON, so the file is restricted to the user (0600) after each save; the webview
//! has no `store:*` permission and cannot read it.

use std::{path::PathBuf, sync::Arc};

use native_oidc::{Error, PendingAuthorizations, Result, Session, SessionStore};
use tauri::{Manager, Runtime};
use tauri_plugin_store::{Store, StoreExt};

/// The store file, in `app_data_dir()`.
pub const STORE_FILE: &str = "session.json";
const SESSION_KEY: &str = "session";
const PENDING_KEY: &str = "pending";

/// [`SessionStore`] over tauri-plugin-store.
pub struct TauriStore<R: Runtime> {
    store: Arc<Store<R>>,
    path: Option<PathBuf>,
}

impl<R: Runtime> TauriStore<R> {
    /// Opens (or creates) the app's store.
    pub fn open<M: Manager<R>>(manager: &M) -> Result<Self> {
        let store = manager
            .store(STORE_FILE)
            .map_err(|e| Error::Storage(format!("cannot open the store: {e}")))?;
        let path = manager
            .path()
            .app_data_dir()
            .ok()
            .map(|dir| dir.join(STORE_FILE));
        Ok(Self { store, path })
    }

    fn persist(&self) -> Result<()> {
        self.store
            .save()
            .map_err(|e| Error::Storage(format!("cannot write the store: {e}")))?;
        #[cfg(unix)]
        if let Some(path) = &self.path {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }

    /// The pending sign-ins saved by an earlier run (none when unreadable).
    pub fn pending(&self) -> PendingAuthorizations {
        self.store
            .get(PENDING_KEY)
            .and_then(|value| serde_json::from_value(value).ok())
            .unwrap_or_default()
    }

    /// Saves the pending sign-ins.
    pub fn save_pending(&self, pending: &PendingAuthorizations) -> Result<()> {
        let value = serde_json::to_value(pending)
            .map_err(|e| Error::Storage(format!("cannot encode pending sign-ins: {e}")))?;
        self.store.set(PENDING_KEY, value);
        self.persist()
    }
}

impl<R: Runtime> SessionStore for TauriStore<R> {
    fn load(&self) -> Result<Option<Session>> {
        // Pick up changes written by another process (a second instance, the CLI).
        let _ = self.store.reload();
        match self.store.get(SESSION_KEY) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value).map(Some).map_err(|_| {
                Error::Storage("the stored session could not be read; sign in again".into())
            }),
        }
    }

    fn save(&self, session: &Session) -> Result<()> {
        let value = serde_json::to_value(session)
            .map_err(|e| Error::Storage(format!("cannot encode the session: {e}")))?;
        self.store.set(SESSION_KEY, value);
        self.persist()
    }

    fn clear(&self) -> Result<()> {
        self.store.delete(SESSION_KEY);
        self.persist()
    }
}
