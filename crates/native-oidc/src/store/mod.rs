//! Where a [`Session`] and the sign-ins in progress live between runs.
//!
//! A [`SessionStore`] keeps two entries, `session` and `pending`, in a [`Vault`]:
//!
//! - [`KeystoreVault`] (cargo feature `keystore`): the OS keystore: the Keychain on macOS and iOS
//!   (data-protection keychain, readable after first unlock, this device only), the Windows Credential
//!   Manager, the Secret Service on Linux, the Android Keystore;
//! - [`FileVault`]: a file only the user can read (0600 from its first byte, in a 0700 folder), written
//!   atomically and durably; the fallback where no keystore answers;
//! - [`MemoryVault`]: nothing survives the process.
//!
//! [`StoreOptions::open`] picks one by the `tokenStorage` setting ([`TokenStorage`]). Every write is
//! durable when it returns, an entry that cannot be read is kept aside and reported as a `storage`
//! error, and [`SessionStore::lock`] serialises processes that share one session (the app and the
//! `signin` command line) with an OS file lock.

mod file;
#[cfg(feature = "keystore")]
mod keystore;

use std::{fmt, path::PathBuf, sync::Arc};

use crate::{
    error::{Error, Result},
    pending::PendingAuthorizations,
    session::Session,
};

pub use file::FileVault;
#[cfg(feature = "keystore")]
pub use keystore::KeystoreVault;

/// The entry holding the session.
pub const SESSION: &str = "session";
/// The entry holding the sign-ins in progress.
pub const PENDING: &str = "pending";

/// Where secrets are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    /// The OS keystore.
    Keystore,
    /// A file only the user can read.
    File,
    /// Memory only.
    Memory,
}

impl Storage {
    /// `keystore`, `file` or `memory`.
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Keystore => "keystore",
            Storage::File => "file",
            Storage::Memory => "memory",
        }
    }
}

/// The `tokenStorage` setting: where tokens should be kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    /// The OS keystore when it answers, else a file (with a logged warning).
    #[default]
    Auto,
    /// The OS keystore, or a `storage` error: never a file.
    Keystore,
    /// A file only the user can read.
    File,
}

impl std::str::FromStr for TokenStorage {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "auto" => Ok(TokenStorage::Auto),
            "keystore" => Ok(TokenStorage::Keystore),
            "file" => Ok(TokenStorage::File),
            other => Err(Error::Config(format!(
                "tokenStorage `{other}` is not one of auto, keystore, file"
            ))),
        }
    }
}

/// Named secret values, each written atomically and durably.
pub trait Vault: Send + Sync + fmt::Debug {
    /// What kind of place this is.
    fn storage(&self) -> Storage;
    /// The value of `name`, if any.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Replaces the value of `name`; durable when it returns.
    fn write(&self, name: &str, value: &[u8]) -> Result<()>;
    /// Removes `name` (no error when it is absent).
    fn remove(&self, name: &str) -> Result<()>;
    /// Moves the unreadable value of `name` out of the way, keeping it for inspection; returns where.
    fn set_aside(&self, name: &str) -> Result<String> {
        let aside = format!("{name}.corrupt");
        if let Some(value) = self.read(name)? {
            self.write(&aside, &value)?;
        }
        self.remove(name)?;
        Ok(format!("the entry `{aside}`"))
    }
}

/// A vault in memory: nothing survives the process.
#[derive(Debug, Default)]
pub struct MemoryVault {
    values: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl MemoryVault {
    fn values(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, std::collections::HashMap<String, Vec<u8>>>> {
        self.values
            .lock()
            .map_err(|_| Error::Storage("the in-memory store was poisoned by a panic".into()))
    }
}

impl Vault for MemoryVault {
    fn storage(&self) -> Storage {
        Storage::Memory
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.values()?.get(name).cloned())
    }

    fn write(&self, name: &str, value: &[u8]) -> Result<()> {
        self.values()?.insert(name.to_string(), value.to_vec());
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.values()?.remove(name);
        Ok(())
    }
}

/// How to open the store of one app.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// The `tokenStorage` setting.
    pub storage: TokenStorage,
    /// The session file of the file fallback; its folder also holds the lock file.
    pub file: PathBuf,
    /// The keystore's service name (the app's identifier, e.g. `com.okta.example`).
    pub service: String,
    /// Prefix of the keystore account names (empty, or something that tells sessions apart).
    pub account_prefix: String,
}

impl StoreOptions {
    /// Opens the store the setting asks for. `auto` uses the keystore when it answers, else the file
    /// (with a logged warning); `keystore` never falls back to a file. When the keystore is used, a
    /// session left in the plaintext file (by an earlier version, or `file`) moves into it and the
    /// file is erased.
    pub async fn open(&self) -> Result<SessionStore> {
        let options = self.clone();
        tokio::task::spawn_blocking(move || options.open_blocking())
            .await
            .map_err(|e| Error::Storage(format!("the store task failed: {e}")))?
    }

    fn open_blocking(&self) -> Result<SessionStore> {
        let file: Arc<dyn Vault> = Arc::new(FileVault::new(&self.file));
        let vault = match self.storage {
            TokenStorage::File => file.clone(),
            TokenStorage::Keystore => self.keystore().map_err(|error| match error {
                Error::Storage(message) => Error::Storage(format!(
                    "{message}; with tokenStorage `keystore` tokens are never kept in a file \
                     (choose `auto` or `file` for that)"
                )),
                other => other,
            })?,
            TokenStorage::Auto => match self.keystore() {
                Ok(vault) => vault,
                Err(error) => {
                    tracing::warn!(
                        %error,
                        file = %self.file.display(),
                        "no keystore answers: tokens are kept in a file only you can read"
                    );
                    file.clone()
                }
            },
        };
        if vault.storage() == Storage::Keystore && adopt(vault.as_ref(), file.as_ref())? {
            tracing::info!(
                file = %self.file.display(),
                "moved the session from a plaintext file into the keystore and erased the file"
            );
        }
        Ok(SessionStore::new(vault).with_lock_file(lock_path(&self.file)))
    }

    #[cfg(feature = "keystore")]
    fn keystore(&self) -> Result<Arc<dyn Vault>> {
        Ok(Arc::new(KeystoreVault::open(
            &self.service,
            &self.account_prefix,
        )?))
    }

    #[cfg(not(feature = "keystore"))]
    fn keystore(&self) -> Result<Arc<dyn Vault>> {
        Err(Error::Storage(
            "this build has no keystore support (cargo feature `keystore` of native-oidc)".into(),
        ))
    }
}

/// Moves every entry of `other` into `vault` (keeping what `vault` already has), then erases it in
/// `other`. True when something moved.
fn adopt(vault: &dyn Vault, other: &dyn Vault) -> Result<bool> {
    let mut moved = false;
    for name in [SESSION, PENDING] {
        if let Some(value) = other.read(name)? {
            if vault.read(name)?.is_none() {
                vault.write(name, &value)?;
                moved = true;
            }
            other.remove(name)?;
        }
    }
    Ok(moved)
}

/// The lock file beside a session file.
fn lock_path(file: &std::path::Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    file.with_file_name(name)
}

/// The session and the sign-ins in progress of one app, in a [`Vault`].
#[derive(Clone, Debug)]
pub struct SessionStore {
    vault: Arc<dyn Vault>,
    lock_file: Option<PathBuf>,
}

/// Held while a process works on the shared session (see [`SessionStore::lock`]).
#[derive(Debug)]
pub struct StoreLock {
    _file: Option<std::fs::File>,
}

impl SessionStore {
    /// A store over `vault`, with no cross-process lock.
    pub fn new(vault: Arc<dyn Vault>) -> Self {
        Self {
            vault,
            lock_file: None,
        }
    }

    /// A store in memory only.
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryVault::default()))
    }

    /// A store in a file only the user can read, locked with `<file>.lock` beside it.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let lock = lock_path(&path);
        Self::new(Arc::new(FileVault::new(path))).with_lock_file(lock)
    }

    /// Serialises processes sharing this store with an OS lock on `path` (created 0600).
    pub fn with_lock_file(mut self, path: PathBuf) -> Self {
        self.lock_file = Some(path);
        self
    }

    /// Where the secrets are kept.
    pub fn storage(&self) -> Storage {
        self.vault.storage()
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<dyn Vault> {
        &self.vault
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let vault = self.vault.clone();
        tokio::task::spawn_blocking(move || work(vault.as_ref()))
            .await
            .map_err(|e| Error::Storage(format!("the store task failed: {e}")))?
    }

    async fn read_json<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>> {
        self.blocking(move |vault| {
            let Some(bytes) = vault.read(name)? else {
                return Ok(None);
            };
            match serde_json::from_slice(&bytes) {
                Ok(value) => Ok(Some(value)),
                Err(error) => {
                    // Keep the damaged value for inspection; the next read starts clean.
                    let aside = vault.set_aside(name)?;
                    Err(Error::Storage(format!(
                        "the stored {name} could not be read ({}); it was moved to {aside}",
                        classify(&error)
                    )))
                }
            }
        })
        .await
    }

    async fn write_json(&self, name: &'static str, value: &impl serde::Serialize) -> Result<()> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::Storage(format!("cannot encode the {name}: {e}")))?;
        self.blocking(move |vault| vault.write(name, &bytes)).await
    }

    /// The stored session, if any. An unreadable one is kept aside and reported as a `storage` error.
    pub async fn load(&self) -> Result<Option<Session>> {
        self.read_json(SESSION).await
    }

    /// Replaces the stored session; durable when it returns.
    pub async fn save(&self, session: &Session) -> Result<()> {
        self.write_json(SESSION, session).await
    }

    /// Removes the stored session.
    pub async fn clear(&self) -> Result<()> {
        self.blocking(|vault| vault.remove(SESSION)).await
    }

    /// The sign-ins in progress saved by an earlier run (none when there are none).
    pub async fn load_pending(&self) -> Result<PendingAuthorizations> {
        Ok(self.read_json(PENDING).await?.unwrap_or_default())
    }

    /// Saves the sign-ins in progress (removes the entry when there are none).
    pub async fn save_pending(&self, pending: &PendingAuthorizations) -> Result<()> {
        if pending.is_empty() {
            return self.blocking(|vault| vault.remove(PENDING)).await;
        }
        self.write_json(PENDING, pending).await
    }

    /// Moves what `other` holds (a plaintext store of an earlier version) into this store, entry by
    /// entry, then erases it there. An entry this store already has is kept and the other erased.
    /// True when something moved.
    pub async fn adopt(&self, other: Arc<dyn Vault>) -> Result<bool> {
        self.blocking(move |vault| adopt(vault, other.as_ref()))
            .await
    }

    /// Waits for the OS lock that processes sharing this store take around load → refresh → save.
    /// Without a lock file (memory), there is nothing to wait for.
    pub async fn lock(&self) -> Result<StoreLock> {
        let Some(path) = self.lock_file.clone() else {
            return Ok(StoreLock { _file: None });
        };
        tokio::task::spawn_blocking(move || {
            file::ensure_private_dir(&path)?;
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options.open(&path).map_err(|e| {
                Error::Storage(format!("cannot open the lock file {}: {e}", path.display()))
            })?;
            file.lock()
                .map_err(|e| Error::Storage(format!("cannot lock {}: {e}", path.display())))?;
            Ok(StoreLock { _file: Some(file) })
        })
        .await
        .map_err(|e| Error::Storage(format!("the lock task failed: {e}")))?
    }
}

fn classify(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "unexpected content",
        serde_json::error::Category::Eof => "truncated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_corrupted_entry_is_a_storage_error_and_is_kept_aside() {
        let vault = Arc::new(MemoryVault::default());
        let secret_looking = br#"{"access_token": "eyJsecretvalue", "issuer": 5"#;
        vault.write(SESSION, secret_looking).unwrap();
        let store = SessionStore::new(vault.clone());
        let error = store.load().await.unwrap_err();
        assert_eq!(error.kind(), "storage");
        assert!(!error.to_string().contains("eyJsecretvalue"));
        assert!(error.to_string().contains("session.corrupt"), "{error}");
        assert_eq!(
            vault.read("session.corrupt").unwrap().unwrap(),
            secret_looking
        );
        assert!(
            store.load().await.unwrap().is_none(),
            "the next load starts clean"
        );
    }

    #[test]
    fn token_storage_setting_names() {
        for (text, value) in [
            ("auto", TokenStorage::Auto),
            ("keystore", TokenStorage::Keystore),
            ("file", TokenStorage::File),
        ] {
            assert_eq!(text.parse::<TokenStorage>().unwrap(), value);
        }
        let error = "plaintext".parse::<TokenStorage>().unwrap_err();
        assert_eq!(error.kind(), "config");
    }
}
