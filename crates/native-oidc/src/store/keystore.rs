//! [`KeystoreVault`]: secrets in the OS keystore, through `keyring-core` and the platform stores of the
//! keyring-rs project, chosen by target:
//!
//! | Platform | Store | Item |
//! | --- | --- | --- |
//! | macOS, iOS | `apple-native-keyring-store` (data-protection keychain) | accessible after first unlock, this device only |
//! | Windows | `windows-native-keyring-store` (Credential Manager) | generic credential, local persistence |
//! | Linux, BSD | `zbus-secret-service-keyring-store` (Secret Service over D-Bus, pure Rust) | item in the default collection |
//! | Android | `android-native-keyring-store` (values encrypted with an Android Keystore key) | |
//!
//! Each entry `name` is the item with service `<service>` and account `<prefix><name>`. A value larger
//! than the platform allows in one item (2560 bytes on Windows) is split into chunks in items
//! `<name>#<generation>.<i>`, and the entry item holds only their count and SHA-256: a new value is
//! written under the other generation before the entry item is switched to it, so a crash between the
//! writes leaves the previous value whole. The chunks such a crash leaves, which no entry names, go with
//! the next write or removal (under the store's lock).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use keyring_core::{CredentialStore, Entry};
use sha2::{Digest, Sha256};

use super::{Storage, Vault};
use crate::error::{Error, Result};

/// The largest value one item holds on this platform.
#[cfg(windows)]
const MAX_VALUE: usize = 2560;
#[cfg(not(windows))]
const MAX_VALUE: usize = 64 * 1024;

/// At most this many chunks per value.
const MAX_CHUNKS: usize = 64;

/// Secrets in the OS keystore (see the module docs).
pub struct KeystoreVault {
    store: Mutex<Arc<CredentialStore>>,
    /// True for the platform's store, which is made anew when it fails (see [`reconnect`]).
    reconnects: bool,
    service: String,
    prefix: String,
    max_value: usize,
    modifiers: HashMap<&'static str, String>,
}

impl std::fmt::Debug for KeystoreVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoreVault")
            .field("service", &self.service)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// What a user can always do instead of using the keystore.
const USE_A_FILE: &str = "choose to keep tokens in a file (setting tokenStorage: \"file\")";

/// A keystore error in words a user can act on; the backend's own message goes to the log only.
fn unreachable(error: keyring_core::Error) -> Error {
    tracing::debug!(%error, "the system keystore failed");
    Error::Storage(match error {
        keyring_core::Error::NoStorageAccess(_) => {
            format!("your system keyring is locked (or refused access): unlock it, or {USE_A_FILE}")
        }
        keyring_core::Error::TooLong(..) | keyring_core::Error::Invalid(..) => {
            format!("the system keyring refused to store the session: {USE_A_FILE}")
        }
        _ => format!(
            "the system keyring cannot be reached (is a keyring service such as GNOME Keyring or \
             KWallet running?): start it, or {USE_A_FILE}"
        ),
    })
}

/// The platform's credential store of this process, created on first success.
static STORE: Mutex<Option<Arc<CredentialStore>>> = Mutex::new(None);
/// Stores replaced by [`reconnect`]: kept, never dropped (the Secret Service store must not be
/// dropped on an async runtime's thread). One per reconnection.
static REPLACED: Mutex<Vec<Arc<CredentialStore>>> = Mutex::new(Vec::new());

fn poisoned<T>(_: T) -> Error {
    Error::Storage("the keystore was poisoned by a panic".into())
}

/// The platform's credential store: one per process, shared by every vault.
fn platform_store() -> Result<Arc<CredentialStore>> {
    let mut cached = STORE.lock().map_err(poisoned)?;
    if let Some(store) = cached.as_ref() {
        return Ok(store.clone());
    }
    let store = new_platform_store().map_err(unreachable)?;
    *cached = Some(store.clone());
    Ok(store)
}

/// A new platform store in place of `failed`, whose connection may be to a keystore service that has
/// gone (the Secret Service restarted): a long-running app would otherwise fail until it restarts.
/// Another vault may have replaced it already; then that store is returned.
fn reconnect(failed: &Arc<CredentialStore>) -> Result<Arc<CredentialStore>> {
    let mut cached = STORE.lock().map_err(poisoned)?;
    if let Some(current) = cached.as_ref().filter(|c| !Arc::ptr_eq(c, failed)) {
        return Ok(current.clone());
    }
    let store = new_platform_store().map_err(unreachable)?;
    if let Some(old) = cached.replace(store.clone()) {
        REPLACED.lock().map_err(poisoned)?.push(old);
    }
    Ok(store)
}

#[cfg(any(target_os = "macos", target_os = "ios"))]
fn new_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(apple_native_keyring_store::protected::Store::new()?)
}
#[cfg(windows)]
fn new_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}
#[cfg(target_os = "android")]
fn new_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(android_native_keyring_store::Store::new()?)
}
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn new_platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

/// How items are created: on Apple platforms readable after the first unlock, never synchronised to
/// other devices; on Windows kept on this machine (not roaming with the profile).
fn item_modifiers() -> HashMap<&'static str, String> {
    if cfg!(any(target_os = "macos", target_os = "ios")) {
        HashMap::from([(
            "access-policy",
            "after-first-unlock-this-device-only".to_string(),
        )])
    } else if cfg!(windows) {
        HashMap::from([("persistence", "Local".to_string())])
    } else {
        HashMap::new()
    }
}

impl KeystoreVault {
    /// The OS keystore, if it answers (a read of the session item succeeds or finds nothing).
    pub fn open(service: &str, account_prefix: &str) -> Result<Self> {
        let vault = Self {
            store: Mutex::new(platform_store()?),
            reconnects: true,
            service: service.to_string(),
            prefix: account_prefix.to_string(),
            max_value: MAX_VALUE,
            modifiers: item_modifiers(),
        };
        vault.get(super::SESSION)?;
        Ok(vault)
    }

    /// Checks that the keystore stores: a canary entry is written, read back and deleted. A keystore
    /// can answer reads and still refuse every write (a locked keyring with no one to unlock it).
    pub fn probe(&self) -> Result<()> {
        let name = format!("probe-{}", std::process::id());
        let mut value = [0u8; 16];
        getrandom::fill(&mut value)
            .map_err(|e| Error::Storage(format!("no randomness for the keystore probe: {e}")))?;
        let written = self.set(&name, &value).and_then(|()| self.get(&name));
        let removed = self.delete(&name);
        match written? {
            Some(read) if read == value => removed.map(|_| ()),
            _ => Err(Error::Storage(
                "the system keyring did not return what was stored in it: choose to keep tokens \
                 in a file (setting tokenStorage: \"file\")"
                    .into(),
            )),
        }
    }

    /// A vault over any `keyring-core` store (no item modifiers), e.g. for tests.
    pub fn with_store(store: Arc<CredentialStore>, service: &str, account_prefix: &str) -> Self {
        Self {
            store: Mutex::new(store),
            reconnects: false,
            service: service.to_string(),
            prefix: account_prefix.to_string(),
            max_value: MAX_VALUE,
            modifiers: HashMap::new(),
        }
    }

    /// The keystore where every app of the vendor reads the items of `group` (Native SSO,
    /// [`crate::SsoShare`]): on iOS and macOS a store of the keychain access group `group` (the
    /// apps' shared `keychain-access-groups` entitlement, e.g. `ABCDE12345.com.example.shared`);
    /// elsewhere the user's keystore, which the user's apps share, under the service `group`.
    pub fn open_shared(group: &str) -> Result<Self> {
        #[cfg(any(target_os = "macos", target_os = "ios"))]
        {
            let config = HashMap::from([("access-group", group)]);
            let store: Arc<CredentialStore> =
                apple_native_keyring_store::protected::Store::new_with_configuration(&config)
                    .map_err(unreachable)?;
            let vault = Self {
                store: Mutex::new(store),
                // Its own store (the platform's is the app's own access group): never replaced.
                reconnects: false,
                service: group.to_string(),
                prefix: String::new(),
                max_value: MAX_VALUE,
                modifiers: item_modifiers(),
            };
            vault.get(super::SESSION)?;
            Ok(vault)
        }
        #[cfg(not(any(target_os = "macos", target_os = "ios")))]
        Self::open(group, "")
    }

    /// Sets the largest value one item may hold (larger values are split in chunks).
    pub fn with_max_value_size(mut self, bytes: usize) -> Self {
        self.max_value = bytes.max(64);
        self
    }

    /// The keystore account of entry `name`.
    pub fn account(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Runs `operation` on the item of entry `name`. When the store fails (anything but a missing
    /// item), the platform's store is made anew and the operation tried once more.
    fn on_item<T>(
        &self,
        name: &str,
        operation: impl Fn(&Entry) -> keyring_core::Result<T>,
    ) -> Result<std::result::Result<T, keyring_core::Error>> {
        let account = self.account(name);
        let attempt = |store: &Arc<CredentialStore>| {
            let entry = if self.modifiers.is_empty() {
                Entry::new_in_store(store, &self.service, &account)
            } else {
                let modifiers: HashMap<&str, &str> = self
                    .modifiers
                    .iter()
                    .map(|(k, v)| (*k, v.as_str()))
                    .collect();
                Entry::new_in_store_with_modifiers(store, &self.service, &account, &modifiers)
            };
            entry.and_then(|entry| operation(&entry))
        };
        let store = self.store.lock().map_err(poisoned)?.clone();
        match attempt(&store) {
            Err(error) if self.reconnects && !matches!(error, keyring_core::Error::NoEntry) => {
                tracing::debug!(%error, "the system keystore failed; connecting again");
                let Ok(fresh) = reconnect(&store) else {
                    return Ok(Err(error));
                };
                *self.store.lock().map_err(poisoned)? = fresh.clone();
                Ok(attempt(&fresh))
            }
            other => Ok(other),
        }
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.on_item(name, |item| item.get_secret())? {
            Ok(bytes) => Ok(Some(bytes)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(unreachable(e)),
        }
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<()> {
        self.on_item(name, |item| item.set_secret(value))?
            .map_err(unreachable)
    }

    fn delete(&self, name: &str) -> Result<bool> {
        match self.on_item(name, |item| item.delete_credential())? {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(unreachable(e)),
        }
    }

    /// Removes every chunk of entry `name` that its head (`None`: it has none) does not name: the
    /// other generation's, and the current one's past its count.
    fn sweep(&self, name: &str, head: Option<&Head>) -> Result<()> {
        for generation in 0..2 {
            let keep = match head {
                Some(Head::Chunked {
                    generation: named,
                    chunks,
                    ..
                }) if *named == generation => *chunks,
                _ => 0,
            };
            self.delete_chunks(name, generation, keep)?;
        }
        Ok(())
    }

    fn chunk_name(name: &str, generation: u8, index: usize) -> String {
        format!("{name}#{generation}.{index}")
    }

    /// Removes the chunks of `generation` from `from` on, the last first: chunks are written first to
    /// last, so whatever a crash interrupts, the chunks left of a generation are always `0..n` and the
    /// next removal finds them all.
    fn delete_chunks(&self, name: &str, generation: u8, from: usize) -> Result<()> {
        let mut end = from;
        while end < MAX_CHUNKS
            && self
                .get(&Self::chunk_name(name, generation, end))?
                .is_some()
        {
            end += 1;
        }
        for index in (from..end).rev() {
            self.delete(&Self::chunk_name(name, generation, index))?;
        }
        Ok(())
    }
}

/// What the entry item holds: the value itself, or where its chunks are.
pub(crate) enum Head {
    Inline(Vec<u8>),
    Chunked {
        generation: u8,
        chunks: usize,
        sha256: String,
    },
}

impl Head {
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Head::Inline(value) => [b"I".as_slice(), value].concat(),
            Head::Chunked {
                generation,
                chunks,
                sha256,
            } => format!("C{generation} {chunks} {sha256}").into_bytes(),
        }
    }

    pub(crate) fn decode(bytes: Vec<u8>) -> Option<Head> {
        match bytes.first()? {
            b'I' => Some(Head::Inline(bytes[1..].to_vec())),
            b'C' => {
                let text = std::str::from_utf8(&bytes[1..]).ok()?;
                let mut parts = text.split(' ');
                let generation = parts.next()?.parse().ok().filter(|g| *g < 2)?;
                let chunks = parts.next()?.parse().ok().filter(|n| *n <= MAX_CHUNKS)?;
                let sha256 = parts.next()?.to_string();
                Some(Head::Chunked {
                    generation,
                    chunks,
                    sha256,
                })
            }
            _ => None,
        }
    }

    fn generation(&self) -> Option<u8> {
        match self {
            Head::Chunked { generation, .. } => Some(*generation),
            Head::Inline(_) => None,
        }
    }
}

fn hex_sha256(value: &[u8]) -> String {
    Sha256::digest(value)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Vault for KeystoreVault {
    fn storage(&self) -> Storage {
        Storage::Keystore
    }

    /// A value whose chunks are missing or do not match, or an item this vault did not write, is
    /// returned as the raw item: it is not JSON, so the store sets it aside as unreadable.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(raw) = self.get(name)? else {
            return Ok(None);
        };
        let Some(Head::Chunked {
            generation,
            chunks,
            sha256,
        }) = Head::decode(raw.clone())
        else {
            return Ok(Some(match Head::decode(raw.clone()) {
                Some(Head::Inline(value)) => value,
                _ => raw,
            }));
        };
        let mut value = Vec::new();
        for index in 0..chunks {
            match self.get(&Self::chunk_name(name, generation, index))? {
                Some(chunk) => value.extend(chunk),
                None => return Ok(Some(raw)),
            }
        }
        if hex_sha256(&value) != sha256 {
            return Ok(Some(raw));
        }
        Ok(Some(value))
    }

    fn write(&self, name: &str, value: &[u8]) -> Result<()> {
        let old_generation = self
            .get(name)?
            .and_then(Head::decode)
            .and_then(|h| h.generation());
        let head = if value.len() < self.max_value {
            Head::Inline(value.to_vec())
        } else {
            let generation = old_generation.map_or(0, |g| 1 - g);
            let chunks: Vec<&[u8]> = value.chunks(self.max_value).collect();
            if chunks.len() > MAX_CHUNKS {
                return Err(Error::Storage(format!(
                    "the {name} is too large for the system keystore ({} bytes)",
                    value.len()
                )));
            }
            for (index, chunk) in chunks.iter().enumerate() {
                self.set(&Self::chunk_name(name, generation, index), chunk)?;
            }
            Head::Chunked {
                generation,
                chunks: chunks.len(),
                sha256: hex_sha256(value),
            }
        };
        let entry = head.encode();
        // The switch: until here, the entry still names the previous value.
        self.set(name, &entry)?;
        // Read back: a keystore that acknowledged the write and then lost it (a service stopped while
        // it wrote) must not pass for one that kept it; the caller writes again.
        if self.get(name)?.as_deref() != Some(entry.as_slice()) {
            return Err(Error::Storage(format!(
                "the system keyring did not keep the {name} just written; {USE_A_FILE} if this goes on"
            )));
        }
        // What no entry names goes now: the previous value's chunks, and chunks a write cut short left
        // behind (a process killed before its switch). A failure here does not undo the write: the
        // next write or removal tries again.
        if let Err(error) = self.sweep(name, Some(&head)) {
            tracing::debug!(%error, "chunks no entry names are left for the next write");
        }
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.delete(name)?;
        self.sweep(name, None)
    }

    fn set_aside(&self, name: &str) -> Result<String> {
        let aside = super::set_aside_name(name);
        if let Some(value) = self.get(name)? {
            self.set(&aside, &value)?;
        }
        self.remove(name)?;
        Ok(format!(
            "the keystore item {} / {}",
            self.service,
            self.account(&aside)
        ))
    }
}

#[cfg(test)]
mod tests {
    use keyring_core::mock;

    use super::*;

    fn vault(max: usize) -> (Arc<mock::Store>, KeystoreVault) {
        let store = mock::Store::new().unwrap();
        let vault = KeystoreVault::with_store(store.clone(), "com.example.test", "")
            .with_max_value_size(max);
        (store, vault)
    }

    #[test]
    fn small_values_are_one_item_and_large_ones_are_chunked() {
        let (_, vault) = vault(100);
        vault.write("session", b"small").unwrap();
        assert_eq!(vault.read("session").unwrap().unwrap(), b"small");
        let large: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        vault.write("session", &large).unwrap();
        assert_eq!(vault.read("session").unwrap().unwrap(), large);
        let again: Vec<u8> = large.iter().rev().copied().collect();
        vault.write("session", &again).unwrap();
        assert_eq!(vault.read("session").unwrap().unwrap(), again);
        vault.write("session", b"small again").unwrap();
        assert_eq!(vault.read("session").unwrap().unwrap(), b"small again");
        for generation in 0..2 {
            assert!(
                vault
                    .get(&KeystoreVault::chunk_name("session", generation, 0))
                    .unwrap()
                    .is_none(),
                "no chunk of an old value is left"
            );
        }
        vault.remove("session").unwrap();
        assert!(vault.read("session").unwrap().is_none());
    }

    /// Chunks that a write cut short left with no entry naming them (a process killed before its
    /// switch: here made by hand) are gone after the next write, whatever its size.
    #[test]
    fn a_write_clears_the_chunks_a_killed_write_left_behind() {
        let large: Vec<u8> = (0..450u32).map(|i| (i % 251) as u8).collect();
        for next in [&large[..], b"small"] {
            let (_, vault) = vault(100);
            for generation in 0..2 {
                for index in 0..3 {
                    vault
                        .set(
                            &KeystoreVault::chunk_name("session", generation, index),
                            &[7; 100],
                        )
                        .unwrap();
                }
            }
            vault.write("session", next).unwrap();
            assert_eq!(vault.read("session").unwrap().unwrap(), next);
            let named = vault
                .get("session")
                .unwrap()
                .and_then(Head::decode)
                .and_then(|h| h.generation());
            for generation in (0..2).filter(|g| Some(*g) != named) {
                assert!(
                    vault
                        .get(&KeystoreVault::chunk_name("session", generation, 0))
                        .unwrap()
                        .is_none(),
                    "generation {generation} is left with no entry naming it"
                );
            }
        }
    }

    /// The keystore refuses a write half-way (as the OS may, or a crash would stop it): the previous
    /// value is still read whole. The mock store is used for this failure, which a real keystore cannot
    /// be made to produce on demand.
    #[test]
    fn a_write_that_stops_half_way_leaves_the_previous_value() {
        let (store, vault) = vault(100);
        let first: Vec<u8> = vec![1; 450];
        vault.write("session", &first).unwrap();
        let chunk = Entry::new_in_store(
            &(store.clone() as Arc<CredentialStore>),
            "com.example.test",
            &KeystoreVault::chunk_name("session", 1, 2),
        )
        .unwrap();
        let mock: &mock::Cred = chunk.as_any().downcast_ref().unwrap();
        mock.set_error(keyring_core::Error::PlatformFailure("disk full".into()));
        let error = vault.write("session", &[2; 450]).unwrap_err();
        assert_eq!(error.kind(), "storage");
        assert_eq!(vault.read("session").unwrap().unwrap(), first);
        vault.write("session", &[3; 450]).unwrap();
        assert_eq!(vault.read("session").unwrap().unwrap(), vec![3; 450]);
    }

    /// A removal stopped half-way (the keystore went away, the process was killed) leaves no chunk
    /// that the next removal cannot find: sign-out erases every piece of a session.
    #[test]
    fn a_removal_stopped_half_way_is_finished_by_the_next_one() {
        let (store, vault) = vault(100);
        vault.write("session", &[7; 450]).unwrap();
        let chunk = Entry::new_in_store(
            &(store.clone() as Arc<CredentialStore>),
            "com.example.test",
            &KeystoreVault::chunk_name("session", 0, 2),
        )
        .unwrap();
        let mock: &mock::Cred = chunk.as_any().downcast_ref().unwrap();
        mock.set_error(keyring_core::Error::PlatformFailure("gone".into()));
        assert!(vault.remove("session").is_err());
        vault.remove("session").unwrap();
        for index in 0..5 {
            assert!(
                vault
                    .get(&KeystoreVault::chunk_name("session", 0, index))
                    .unwrap()
                    .is_none(),
                "chunk {index} is left"
            );
        }
    }

    #[tokio::test]
    async fn damaged_chunks_are_a_storage_error_and_are_set_aside() {
        let (_, vault) = vault(100);
        let json = format!("\"{}\"", "x".repeat(300));
        vault.write("session", json.as_bytes()).unwrap();
        vault
            .set(&KeystoreVault::chunk_name("session", 0, 1), &[8; 100])
            .unwrap();
        let vault = Arc::new(vault);
        let store = super::super::SessionStore::new(vault.clone());
        let error = store.load().await.unwrap_err();
        assert_eq!(error.kind(), "storage");
        assert!(error.to_string().contains("session.corrupt"), "{error}");
        assert!(vault.read("session").unwrap().is_none(), "set aside");
        assert!(vault
            .get(&KeystoreVault::chunk_name("session", 0, 0))
            .unwrap()
            .is_none());
    }
}
