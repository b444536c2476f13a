//! Where the app keeps the session and the sign-in in progress: the engine's vault, chosen by the
//! `tokenStorage` setting: the OS keystore (service = the app's identifier), or a file only the user
//! can read at `<data dir>/vault/session.json`.
//!
//! Up to version 0.1 the app kept both in plaintext in tauri-plugin-store's file
//! (`<data dir>/session.json`, a JSON object with the keys `session` and `pending`). At start-up,
//! what that file still holds moves into the vault and is erased from it; the file goes when empty.
//!
//! Opening never fails silently and never stops the app: whatever goes wrong is a [`StorageProblem`]
//! the app shows, and [`AppStore::start_over`] sets the broken part aside (renamed, never deleted)
//! and opens a fresh store.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use native_oidc::{
    Error, FileVault, Result, SessionStore, Storage, StoreOptions, TokenStorage, Vault,
};
use serde_json::{Map, Value};

use crate::problem::{Stage, StorageProblem};

/// The vault's session file, under the app's data folder.
pub const VAULT_FILE: &str = "vault/session.json";
/// tauri-plugin-store's file of version 0.1, which held the tokens in plaintext.
pub const LEGACY_STORE_FILE: &str = "session.json";
/// The vault's entries (the engine's names): the session, and the sign-ins in progress.
const ENTRIES: [&str; 2] = ["session", "pending"];

/// Where the app keeps its session, and where the user chooses how (for the words of a problem).
#[derive(Clone, Debug)]
pub struct AppStore {
    /// The app's data folder (`~/.local/share/<identifier>` on Linux).
    pub data_dir: PathBuf,
    /// The app's identifier: the keystore's service name.
    pub identifier: String,
    /// The `tokenStorage` setting.
    pub storage: TokenStorage,
    /// The config file where `tokenStorage` is set.
    pub config_file: PathBuf,
}

impl AppStore {
    /// The vault's session file.
    pub fn vault_file(&self) -> PathBuf {
        self.data_dir.join(VAULT_FILE)
    }

    /// The store file of version 0.1.
    pub fn legacy_file(&self) -> PathBuf {
        self.data_dir.join(LEGACY_STORE_FILE)
    }

    /// Files outside the vault whose set-aside copies may hold a session: the store file of version
    /// 0.1 (see [`crate::Controller::with_copies_outside_the_store`]).
    pub fn copies_outside_the_vault(&self) -> Vec<PathBuf> {
        vec![self.legacy_file()]
    }

    /// Opens the app's store, moves a plaintext session of version 0.1 into it, and checks that what
    /// it holds can be read (parsing comes later: a damaged entry is set aside by the engine and the
    /// user signed out with a reason). Anything else is a [`StorageProblem`], nothing is touched.
    pub async fn open(&self) -> std::result::Result<SessionStore, StorageProblem> {
        let store = StoreOptions {
            storage: self.storage,
            file: self.vault_file(),
            service: self.identifier.clone(),
            account_prefix: String::new(),
        }
        .open()
        .await
        .map_err(|error| StorageProblem::new(self, Stage::Open, &error))?;
        self.migrate(&store).await?;
        self.check_readable(&store).await?;
        Ok(store)
    }

    /// Moves the store file of version 0.1 into `store`. A file that cannot be read, or is not that
    /// file's JSON object, is left where it is and reported.
    async fn migrate(&self, store: &SessionStore) -> std::result::Result<(), StorageProblem> {
        let path = self.legacy_file();
        let problem =
            |error: &Error| StorageProblem::new(self, Stage::Migrate(path.clone()), error);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(());
        }
        let legacy = LegacyStoreFile::new(path.clone());
        legacy.entries().map_err(|error| problem(&error))?;
        match store.adopt(Arc::new(legacy)).await {
            Ok(true) => tracing::info!(
                storage = store.storage().as_str(),
                "moved the session out of the plaintext store file of an earlier version"
            ),
            Ok(false) => {}
            Err(error) => return Err(problem(&error)),
        }
        Ok(())
    }

    /// Reads each entry of the vault (without parsing it): one that cannot be read is a problem.
    async fn check_readable(
        &self,
        store: &SessionStore,
    ) -> std::result::Result<(), StorageProblem> {
        let vault = store.vault().clone();
        let file = FileVault::new(self.vault_file());
        let result = tokio::task::spawn_blocking(move || {
            ENTRIES
                .into_iter()
                .try_for_each(|name| vault.read(name).map(drop).map_err(|error| (name, error)))
        })
        .await;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err((name, error))) => {
                let place = (store.storage() == Storage::File).then(|| file.entry_path(name));
                Err(StorageProblem::new(
                    self,
                    Stage::Read {
                        storage: store.storage(),
                        place,
                    },
                    &error,
                ))
            }
            Err(error) => Err(StorageProblem::new(
                self,
                Stage::Open,
                &Error::Storage(format!("the store task failed: {error}")),
            )),
        }
    }

    /// Starts over from `problem`: sets aside what it names as unreadable (renamed beside itself to
    /// `….corrupt`, never deleted), then opens a fresh store. Returns the store and where the old
    /// copy now is; a problem again when the store still cannot be opened.
    pub async fn start_over(
        &self,
        problem: &StorageProblem,
    ) -> std::result::Result<(SessionStore, Option<PathBuf>), StorageProblem> {
        // Already gone: the engine set it aside itself when it found it unreadable.
        let broken = problem
            .set_aside
            .as_deref()
            .filter(|path| std::fs::symlink_metadata(path).is_ok());
        let aside = match broken {
            Some(path) => Some(set_aside(path).map_err(|error| {
                StorageProblem::new(self, Stage::SetAside(path.to_path_buf()), &error)
            })?),
            None => None,
        };
        Ok((self.open().await?, aside))
    }
}

/// Renames `path` (a file, or whatever stands in its place) to its set-aside name with the engine's file
/// vault, as it does with an entry it cannot read; returns the new path.
fn set_aside(path: &Path) -> Result<PathBuf> {
    let aside = PathBuf::from(FileVault::new(path).set_aside(ENTRIES[0])?);
    tracing::warn!(from = %path.display(), to = %aside.display(), "set aside an unreadable store file");
    Ok(aside)
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

    /// An entry the vault cannot take sets the whole file aside (it is only read, never rewritten).
    fn set_aside(&self, _name: &str) -> Result<String> {
        set_aside(&self.path).map(|aside| aside.display().to_string())
    }
}
