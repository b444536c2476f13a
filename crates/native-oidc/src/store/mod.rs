//! Where a [`Session`] and the sign-ins in progress live between runs.
//!
//! A [`SessionStore`] keeps the entries `session` and `pending` (and, for an app of a Native SSO
//! group, `signed-out`: [`SIGNED_OUT`]) in a [`Vault`]:
//!
//! - [`KeystoreVault`] (cargo feature `keystore`): the OS keystore: the Keychain on macOS and iOS
//!   (data-protection keychain, readable after first unlock, this device only), the Windows Credential
//!   Manager, the Secret Service on Linux, the Android Keystore;
//! - [`FileVault`]: a file only the user can read (0600 from its first byte, in a 0700 folder), written
//!   atomically and durably; the fallback where no keystore answers;
//! - [`MemoryVault`]: nothing survives the process.
//!
//! Several accounts ([`crate::Accounts`]) share one vault: each account has a *slot*
//! ([`SessionStore::for_slot`]) whose entries are named `<slot>.<entry>` and which has its own lock
//! file, so a refresh of one account never waits for, reads, writes or erases another's. The store
//! opened by [`StoreOptions::open`] is the first slot (the one an earlier, single-account version
//! used), and holds the list of the others in the entry [`ACCOUNTS`].
//!
//! [`StoreOptions::open`] picks one by the `tokenStorage` setting ([`TokenStorage`]); with `auto` the
//! keystore must pass a probe (a canary entry written, read back and deleted) or the file is used.
//!
//! Processes that share one session (the app and the `signin` command line) work on it under
//! [`SessionStore::lock`], an OS file lock: every write takes a [`StoreLock`] as proof, and every
//! read-modify-write reads the stored value afresh under it ([`SessionStore::load_locked`]). A reader
//! without the lock ([`SessionStore::load`]) may see a value half-replaced by a writer (a chunked
//! keystore entry): it reads again under the lock, and only a value still unreadable there is kept
//! aside and reported as a `storage` error. Every write is durable when it returns; [`SessionStore::clear`]
//! erases every copy, set-aside ones and a crashed writer's temporary files included.

mod file;
#[cfg(feature = "keystore")]
pub(crate) mod keystore;
mod later;

use std::{fmt, path::PathBuf, sync::Arc};

use crate::{
    error::{Error, Result},
    pending::PendingAuthorizations,
    session::Session,
};

pub use file::FileVault;
#[cfg(feature = "keystore")]
pub use keystore::KeystoreVault;
pub(crate) use later::LaterFields;

/// The entry holding the session.
pub const SESSION: &str = "session";
/// The entry holding the sign-ins in progress.
pub const PENDING: &str = "pending";
/// The entry that says the user signed out on purpose: an app of a Native SSO group does not sign
/// itself in again at start with the group's shared sign-in.
pub const SIGNED_OUT: &str = "signed-out";

/// The entry listing the accounts besides the first one, and which one is the default (no secret).
pub const ACCOUNTS: &str = "accounts";

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
        let aside = set_aside_name(name);
        if let Some(value) = self.read(name)? {
            self.write(&aside, &value)?;
        }
        self.remove(name)?;
        Ok(format!("the entry `{aside}`"))
    }
    /// Removes what `name` left besides its value: its set-aside copy, and temporary files of writers
    /// that crashed. Called under the store's lock, so no writer of `name` is under way.
    fn remove_leftovers(&self, name: &str) -> Result<()> {
        self.remove(&set_aside_name(name))
    }
}

/// The name of the set-aside copy of entry `name`.
pub(crate) fn set_aside_name(name: &str) -> String {
    format!("{name}.corrupt")
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

/// The entries of one account's slot in a shared vault: entry `name` is `<slot>.<name>` there.
#[derive(Debug)]
pub(crate) struct SlotVault {
    inner: Arc<dyn Vault>,
    prefix: String,
}

impl SlotVault {
    /// The entries of slot `slot` of `inner`.
    pub(crate) fn new(inner: Arc<dyn Vault>, slot: &str) -> Self {
        Self {
            inner,
            prefix: format!("{slot}."),
        }
    }

    fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

impl Vault for SlotVault {
    fn storage(&self) -> Storage {
        self.inner.storage()
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.inner.read(&self.name(name))
    }

    fn write(&self, name: &str, value: &[u8]) -> Result<()> {
        self.inner.write(&self.name(name), value)
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.inner.remove(&self.name(name))
    }

    fn set_aside(&self, name: &str) -> Result<String> {
        self.inner.set_aside(&self.name(name))
    }

    fn remove_leftovers(&self, name: &str) -> Result<()> {
        self.inner.remove_leftovers(&self.name(name))
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
        tokio::task::spawn_blocking(move || options.open_blocking(false))
            .await
            .map_err(|e| Error::Storage(format!("the store task failed: {e}")))?
    }

    /// [`StoreOptions::open`] for a store every app of the vendor reads (Native SSO): in the keystore,
    /// its items are in the access group named by `service` (`KeystoreVault::open_shared`), and an
    /// entry left in the plaintext file moves into it.
    pub async fn open_shared(&self) -> Result<SessionStore> {
        let options = self.clone();
        tokio::task::spawn_blocking(move || options.open_blocking(true))
            .await
            .map_err(|e| Error::Storage(format!("the store task failed: {e}")))?
    }

    fn open_blocking(&self, shared: bool) -> Result<SessionStore> {
        let file: Arc<dyn Vault> = Arc::new(FileVault::new(&self.file));
        let vault = match self.storage {
            TokenStorage::File => file.clone(),
            TokenStorage::Keystore => self.keystore(shared)?,
            TokenStorage::Auto => match self.keystore(shared) {
                Ok(vault) => vault,
                Err(error) => {
                    tracing::warn!(
                        %error,
                        file = %self.file.display(),
                        "the system keystore cannot store tokens: they are kept in a file only you can read"
                    );
                    file.clone()
                }
            },
        };
        let store = SessionStore::new(vault).with_lock_file(lock_path(&self.file));
        if store.storage() == Storage::Keystore {
            // The list of accounts first, then the first slot, then the others: the order every
            // process takes these locks in (crate::accounts).
            let accounts_lock = if shared {
                None
            } else {
                Some(store.with_own_lock(ACCOUNTS).lock_blocking()?)
            };
            let lock = store.lock_blocking()?;
            if let Some(accounts_lock) = &accounts_lock {
                // The file's first slot may hold another account than the keystore's (one signed
                // in while the keystore was away): it goes to a slot of its own, not over the other.
                if let Err(error) =
                    crate::accounts::adopt_first_as_another(&store, file.as_ref(), accounts_lock)
                {
                    tracing::warn!(%error, "the file's account could not be moved into the keystore");
                }
            }
            match adopt(store.vault.as_ref(), file.as_ref(), &lock) {
                Ok(true) => tracing::info!(
                    file = %self.file.display(),
                    "moved the session from a plaintext file into the keystore and erased the file"
                ),
                Ok(false) => {}
                // The keystore answered the probe, so this is the file's fault: what it holds stays
                // where it is (set aside when unreadable), and the keystore is used.
                Err(error) => {
                    tracing::warn!(%error, "the session file could not be moved into the keystore")
                }
            }
            // What else may have been left in the file while no keystore answered: the Native SSO
            // item of a shared store, an app's record of a sign-out.
            let entry = if shared { crate::sso::ITEM } else { SIGNED_OUT };
            if let Err(error) = move_entry(store.vault.as_ref(), file.as_ref(), entry) {
                tracing::warn!(%error, entry, "could not be moved into the keystore");
            }
            drop(lock);
            // The other accounts' slots and their list, left in the file the same way.
            if let Some(accounts_lock) = &accounts_lock {
                if let Err(error) =
                    crate::accounts::adopt_slots(&store, file.clone(), accounts_lock)
                {
                    tracing::warn!(%error, "the other accounts could not be moved into the keystore");
                }
            }
        }
        Ok(store)
    }

    /// The keystore, if it stores: a canary entry is written, read back and deleted (once per open).
    #[cfg(feature = "keystore")]
    fn keystore(&self, shared: bool) -> Result<Arc<dyn Vault>> {
        let vault = if shared {
            KeystoreVault::open_shared(&self.service)?
        } else {
            KeystoreVault::open(&self.service, &self.account_prefix)?
        };
        vault.probe()?;
        Ok(Arc::new(vault))
    }

    #[cfg(not(feature = "keystore"))]
    fn keystore(&self, _shared: bool) -> Result<Arc<dyn Vault>> {
        Err(Error::Storage(
            "this build has no keystore support (cargo feature `keystore` of native-oidc)".into(),
        ))
    }
}

/// Moves the entries of `other` into `vault`, then erases them in `other`. Of two sessions the newer
/// (the later `issued_at`: a sign-in or refresh made while the keystore could not be used) wins; the
/// sign-ins in progress of both are kept. What is written is read back before `other`'s copy is
/// erased. An entry of `other` that cannot be parsed is set aside there, never erased. True when
/// something moved.
///
/// The older session is erased, not revoked: the store has no client to revoke with when it opens,
/// and the older copy may be an earlier generation of the newer one's own grant (the same sign-in,
/// refreshed since in one place), whose revocation could end the session kept. Another account's
/// session was moved to a slot of its own before (`crate::accounts::adopt_first_as_another`); its
/// refresh token lapses at the provider.
pub(crate) fn adopt(vault: &dyn Vault, other: &dyn Vault, _lock: &StoreLock) -> Result<bool> {
    let mut moved = false;
    if let Some(theirs) = other.read(SESSION)? {
        let Ok(their_session) = serde_json::from_slice::<Session>(&theirs) else {
            other.set_aside(SESSION)?;
            return Err(Error::Storage(
                "the session file to move into the keystore could not be read; it was set aside"
                    .into(),
            ));
        };
        let ours = vault
            .read(SESSION)?
            .and_then(|bytes| serde_json::from_slice::<Session>(&bytes).ok());
        if ours.is_none_or(|ours| their_session.is_newer_than(&ours)) {
            write_verified(vault, SESSION, &theirs)?;
            moved = true;
        }
        other.remove(SESSION)?;
    }
    if let Some(theirs) = other.read(PENDING)? {
        let Ok(mut merged) = serde_json::from_slice::<PendingAuthorizations>(&theirs) else {
            other.set_aside(PENDING)?;
            return Ok(moved);
        };
        if let Some(ours) = vault
            .read(PENDING)?
            .and_then(|bytes| serde_json::from_slice::<PendingAuthorizations>(&bytes).ok())
        {
            merged.merge(ours);
        }
        let bytes = serde_json::to_vec(&merged)
            .map_err(|e| Error::Storage(format!("cannot encode the sign-ins in progress: {e}")))?;
        write_verified(vault, PENDING, &bytes)?;
        other.remove(PENDING)?;
        moved = true;
    }
    Ok(moved)
}

/// Moves entry `name` of `other` into `vault` when `vault` has none (else `vault`'s is kept), read
/// back before `other`'s copy and its leftovers are erased.
fn move_entry(vault: &dyn Vault, other: &dyn Vault, name: &str) -> Result<()> {
    if let Some(theirs) = other.read(name)? {
        if vault.read(name)?.is_none() {
            write_verified(vault, name, &theirs)?;
        }
        other.remove(name)?;
    }
    other.remove_leftovers(name)
}

/// Writes `value` and reads it back: an error unless the vault returns exactly what was written.
pub(crate) fn write_verified(vault: &dyn Vault, name: &str, value: &[u8]) -> Result<()> {
    vault.write(name, value)?;
    if vault.read(name)?.as_deref() != Some(value) {
        return Err(Error::Storage(format!(
            "the {name} written to the {} did not read back the same",
            vault.storage().as_str()
        )));
    }
    Ok(())
}

/// The lock file `<lock>.<name>` (the lock file itself when `name` is empty).
fn beside(lock: &std::path::Path, name: &str) -> PathBuf {
    if name.is_empty() {
        return lock.to_path_buf();
    }
    let mut path = lock.as_os_str().to_owned();
    path.push(format!(".{name}"));
    PathBuf::from(path)
}

/// The lock file beside a session file.
fn lock_path(file: &std::path::Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    file.with_file_name(name)
}

/// The session and the sign-ins in progress of one app (of one account of it: see
/// [`SessionStore::for_slot`]), in a [`Vault`].
#[derive(Clone, Debug)]
pub struct SessionStore {
    vault: Arc<dyn Vault>,
    lock_file: Option<PathBuf>,
    /// The account slot ("" for the first one, whose entries have no prefix).
    slot: String,
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
            slot: String::new(),
        }
    }

    /// The store of the account slot `slot` beside this one (`slot` is a plain name: letters,
    /// digits, `-`): the same vault, its entries named `<slot>.<entry>`, and a lock file of its own
    /// (`<lock file>.<slot>`), so that each account's read-modify-writes are serialised apart.
    pub fn for_slot(&self, slot: &str) -> SessionStore {
        debug_assert!(self.slot.is_empty(), "slots are made from the first store");
        let vault: Arc<dyn Vault> = if slot.is_empty() {
            self.vault.clone()
        } else {
            Arc::new(SlotVault::new(self.vault.clone(), slot))
        };
        SessionStore {
            vault,
            lock_file: self.lock_file.as_ref().map(|lock| beside(lock, slot)),
            slot: slot.to_string(),
        }
    }

    /// This store with its own lock file (`<lock file>.<name>`) over the same entries: for an
    /// entry that is changed apart from the session (the list of accounts).
    pub(crate) fn with_own_lock(&self, name: &str) -> SessionStore {
        SessionStore {
            lock_file: self.lock_file.as_ref().map(|lock| beside(lock, name)),
            ..self.clone()
        }
    }

    /// The account slot of this store ("" for the first one).
    pub fn slot_name(&self) -> &str {
        &self.slot
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

    /// Reads entry `name`: lock-free first (what a restore or a status needs); a value that does not
    /// parse may be a concurrent writer's half-replaced one, so it is read again under the lock, and
    /// only a value still unreadable there is set aside.
    async fn read_json<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>> {
        if let Ok(value) = self.blocking(move |vault| parse::<T>(vault, name)).await? {
            return Ok(value);
        }
        let lock = self.lock().await?;
        self.read_json_locked(name, &lock).await
    }

    /// Reads entry `name` under the lock; an unreadable value is set aside and reported.
    async fn read_json_locked<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
        lock: &StoreLock,
    ) -> Result<Option<T>> {
        self.read_or_set_aside(name, lock)
            .await?
            .map_err(Error::Storage)
    }

    /// Reads entry `name` under the lock ([`read_or_set_aside`]).
    async fn read_or_set_aside<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
        _lock: &StoreLock,
    ) -> Result<std::result::Result<Option<T>, String>> {
        self.blocking(move |vault| read_or_set_aside(vault, name))
            .await
    }

    /// Entry `name` read afresh under the lock by a writer about to replace it ([`read_to_replace`]).
    pub(crate) async fn load_entry_to_replace<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
        _lock: &StoreLock,
    ) -> Result<Option<T>> {
        self.blocking(move |vault| read_to_replace(vault, name))
            .await
    }

    /// Entry `name` as JSON, read like the session ([`SessionStore::load`]).
    pub(crate) async fn load_entry<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>> {
        self.read_json(name).await
    }

    /// Replaces entry `name` with `value` as JSON, under the lock.
    pub(crate) async fn save_entry(
        &self,
        name: &'static str,
        value: &impl serde::Serialize,
        _lock: &StoreLock,
    ) -> Result<()> {
        self.write_json(name, value).await
    }

    /// Removes entry `name`, under the lock.
    pub(crate) async fn remove_entry(&self, name: &'static str, _lock: &StoreLock) -> Result<()> {
        self.blocking(move |vault| vault.remove(name)).await
    }

    async fn write_json(&self, name: &'static str, value: &impl serde::Serialize) -> Result<()> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::Storage(format!("cannot encode the {name}: {e}")))?;
        self.blocking(move |vault| vault.write(name, &bytes)).await
    }

    /// The stored session, if any, read without the lock (a read-modify-write uses
    /// [`SessionStore::load_locked`]). An unreadable one is kept aside and reported as a `storage` error.
    pub async fn load(&self) -> Result<Option<Session>> {
        self.read_json(SESSION).await
    }

    /// The stored session, leaving a value that is not one where it is: for a listing, which must
    /// not take away from the command that uses the entry the error it reports. `Err` when the store
    /// cannot be read (the keystore away); `Ok(Err)` when the value is not a session. A value that
    /// does not parse may be a concurrent writer's half-replaced one, so it is read again under the
    /// lock.
    pub(crate) async fn peek(&self) -> Result<Result<Option<Session>>> {
        if let Ok(value) = self
            .blocking(|vault| parse::<Session>(vault, SESSION))
            .await?
        {
            return Ok(Ok(value));
        }
        let _lock = self.lock().await?;
        Ok(
            match self
                .blocking(|vault| parse::<Session>(vault, SESSION))
                .await?
            {
                Ok(value) => Ok(value),
                Err(error) => Err(Error::Storage(format!(
                    "the stored session could not be read ({})",
                    classify(&error)
                ))),
            },
        )
    }

    /// The stored session, read afresh under the lock.
    pub async fn load_locked(&self, lock: &StoreLock) -> Result<Option<Session>> {
        self.read_json_locked(SESSION, lock).await
    }

    /// Replaces the stored session; durable when it returns. Only under the lock, on a value read
    /// afresh under it.
    pub async fn save(&self, session: &Session, _lock: &StoreLock) -> Result<()> {
        self.write_json(SESSION, session).await
    }

    /// Erases the stored session and every other copy of it: its set-aside copies and a crashed
    /// writer's temporary files, of the sign-ins in progress too (they hold DPoP keys).
    pub async fn clear(&self, _lock: &StoreLock) -> Result<()> {
        self.blocking(|vault| {
            // Each is tried, whatever became of the others; the first error is returned.
            let results = [
                vault.remove(SESSION),
                vault.remove_leftovers(SESSION),
                vault.remove_leftovers(PENDING),
            ];
            results.into_iter().collect::<Result<Vec<()>>>().map(|_| ())
        })
        .await
    }

    /// Records (or forgets) that the user signed out on purpose ([`SIGNED_OUT`]).
    pub async fn set_signed_out(&self, on: bool, _lock: &StoreLock) -> Result<()> {
        self.blocking(move |vault| {
            if on {
                vault.write(SIGNED_OUT, b"1")
            } else {
                vault.remove(SIGNED_OUT)
            }
        })
        .await
    }

    /// True when the user signed out on purpose and has not signed in since.
    pub async fn signed_out_on_purpose(&self) -> Result<bool> {
        self.blocking(|vault| vault.read(SIGNED_OUT).map(|value| value.is_some()))
            .await
    }

    /// The sign-ins in progress saved by an earlier run (none when there are none).
    pub async fn load_pending(&self) -> Result<PendingAuthorizations> {
        Ok(self.read_json(PENDING).await?.unwrap_or_default())
    }

    /// Saves the sign-ins in progress (removes the entry when there are none), under the lock: a
    /// chunked keystore value is a read-modify-write of its generations, and another process's move
    /// out of a plaintext store ([`SessionStore::adopt`]) writes the same entry.
    pub async fn save_pending(&self, pending: &PendingAuthorizations) -> Result<()> {
        let _lock = self.lock().await?;
        if pending.is_empty() {
            return self.blocking(|vault| vault.remove(PENDING)).await;
        }
        self.write_json(PENDING, pending).await
    }

    /// Moves what `other` holds (a plaintext store of an earlier version) into this store, under the
    /// lock: of two sessions the newer wins, what is written is read back before `other`'s copy is
    /// erased, and an entry of `other` that cannot be parsed is set aside there. True when something
    /// moved.
    pub async fn adopt(&self, other: Arc<dyn Vault>) -> Result<bool> {
        let lock = self.lock().await?;
        self.blocking(move |vault| adopt(vault, other.as_ref(), &lock))
            .await
    }

    /// Waits for the OS lock that processes sharing this store take around every read-modify-write
    /// of the session. Without a lock file (memory), there is nothing to wait for.
    pub async fn lock(&self) -> Result<StoreLock> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.lock_blocking())
            .await
            .map_err(|e| Error::Storage(format!("the lock task failed: {e}")))?
    }

    pub(crate) fn lock_blocking(&self) -> Result<StoreLock> {
        let Some(path) = &self.lock_file else {
            return Ok(StoreLock { _file: None });
        };
        file::ensure_private_dir(path)?;
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = match options.open(path) {
            Ok(file) => file,
            // Something that is no lock file is in its place (a folder, a file of another user): no
            // process can lock it, so it is set aside, never deleted, and a new one made.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                let aside = PathBuf::from(format!("{}.corrupt", path.display()));
                tracing::warn!(error = %e, lock = %path.display(), "the lock file cannot be opened; setting it aside");
                std::fs::rename(path, &aside)
                    .and_then(|()| options.open(path))
                    .map_err(|e| {
                        Error::Storage(format!("cannot open the lock file {}: {e}", path.display()))
                    })?
            }
            Err(e) => {
                return Err(Error::Storage(format!(
                    "cannot open the lock file {}: {e}",
                    path.display()
                )))
            }
        };
        file.lock()
            .map_err(|e| Error::Storage(format!("cannot lock {}: {e}", path.display())))?;
        Ok(StoreLock { _file: Some(file) })
    }
}

/// Entry `name` parsed: `Err` with the parse error when its bytes are not a `T`.
fn parse<T: serde::de::DeserializeOwned>(
    vault: &dyn Vault,
    name: &str,
) -> Result<std::result::Result<Option<T>, serde_json::Error>> {
    Ok(match vault.read(name)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some),
    })
}

/// Reads entry `name` of `vault` (blocking; call under its lock): `Ok(Err(said))` when its value
/// could not be parsed and was set aside (kept for inspection; the next read starts clean), `said`
/// telling where; `Err` when the vault cannot be read.
fn read_or_set_aside<T: serde::de::DeserializeOwned>(
    vault: &dyn Vault,
    name: &str,
) -> Result<std::result::Result<Option<T>, String>> {
    match parse::<T>(vault, name)? {
        Ok(value) => Ok(Ok(value)),
        Err(error) => {
            let aside = vault.set_aside(name)?;
            Ok(Err(format!(
                "the stored {name} could not be read ({}); it was moved to {aside}",
                classify(&error)
            )))
        }
    }
}

/// Entry `name` of `vault` read by a writer about to replace it (blocking; call under its lock): a
/// value that cannot be parsed is set aside (logged) and the entry counts as empty; a vault that
/// cannot be read is the error (what it holds cannot be told).
pub(crate) fn read_to_replace<T: serde::de::DeserializeOwned>(
    vault: &dyn Vault,
    name: &str,
) -> Result<Option<T>> {
    Ok(read_or_set_aside(vault, name)?.unwrap_or_else(|said| {
        tracing::warn!("{said}; what is written now replaces it");
        None
    }))
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
