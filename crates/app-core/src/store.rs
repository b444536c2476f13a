//! Where the app keeps the session and the sign-in in progress: the engine's vault, chosen by the
//! `tokenStorage` setting: the OS keystore (service = the app's identifier), or a file only the user
//! can read at `<data dir>/vault/session.json`.
//!
//! Up to version 0.1 the app kept both in plaintext in tauri-plugin-store's file
//! (`<data dir>/session.json`, a JSON object with the keys `session` and `pending`). At start-up,
//! what that file still holds moves into the vault and is erased from it; the file goes when empty.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use native_oidc::{Error, Result, SessionStore, Storage, StoreOptions, TokenStorage, Vault};
use serde_json::{Map, Value};

/// The vault's session file, under the app's data folder.
pub const VAULT_FILE: &str = "vault/session.json";
/// tauri-plugin-store's file of version 0.1, which held the tokens in plaintext.
pub const LEGACY_STORE_FILE: &str = "session.json";

/// Opens the app's store in `data_dir` and moves a plaintext session of version 0.1 into it.
pub async fn open_store(
    data_dir: &Path,
    identifier: &str,
    storage: TokenStorage,
) -> Result<SessionStore> {
    let store = StoreOptions {
        storage,
        file: data_dir.join(VAULT_FILE),
        service: identifier.to_string(),
        account_prefix: String::new(),
    }
    .open()
    .await?;
    let legacy = LegacyStoreFile::new(data_dir.join(LEGACY_STORE_FILE));
    if legacy.path.exists() && store.adopt(Arc::new(legacy)).await? {
        tracing::info!(
            storage = store.storage().as_str(),
            "moved the session out of the plaintext store file of an earlier version"
        );
    }
    Ok(store)
}

/// tauri-plugin-store's JSON file of version 0.1, read as a vault: entry `name` is the key `name`.
#[derive(Debug)]
pub struct LegacyStoreFile {
    path: PathBuf,
}

impl LegacyStoreFile {
    /// The file at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    fn entries(&self) -> Result<Map<String, Value>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => {
                return Err(Error::Storage(format!(
                    "cannot read {}: {e}",
                    self.path.display()
                )))
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(entries)) => Ok(entries),
            _ => Err(Error::Storage(format!(
                "{} is not the store file of an earlier version",
                self.path.display()
            ))),
        }
    }
}

impl Vault for LegacyStoreFile {
    fn storage(&self) -> Storage {
        Storage::File
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.entries()?.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::to_vec(value)
                .map(Some)
                .map_err(|e| Error::Storage(e.to_string())),
        }
    }

    fn write(&self, _name: &str, _value: &[u8]) -> Result<()> {
        Err(Error::Storage(
            "the store file of an earlier version is only read, then erased".into(),
        ))
    }

    /// Removes the key; the file itself once nothing is left in it.
    fn remove(&self, name: &str) -> Result<()> {
        let mut entries = self.entries()?;
        if entries.remove(name).is_none() {
            return Ok(());
        }
        let result = if entries.is_empty() {
            std::fs::remove_file(&self.path)
        } else {
            let tmp = self.path.with_extension("json.tmp");
            serde_json::to_vec(&entries)
                .map_err(std::io::Error::other)
                .and_then(|bytes| std::fs::write(&tmp, bytes))
                .and_then(|()| std::fs::rename(&tmp, &self.path))
        };
        result.map_err(|e| Error::Storage(format!("cannot erase {}: {e}", self.path.display())))
    }
}
