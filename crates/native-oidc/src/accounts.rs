//! Several accounts in one app: each kept apart, one of them the default.
//!
//! An account is an issuer, a client id and a subject: [`AccountId`] names it. Each account's
//! session lives in a slot of the app's store ([`SessionStore::for_slot`]): its own entries (tokens,
//! DPoP key) and its own lock file, so a refresh of one account never reads, writes or erases
//! another's, across processes too; a sign-out erases a slot only while it holds the account signed
//! out. The first slot is the store an earlier,
//! single-account version used: the session stored there is an account as it is (the default one
//! when no other is), with no sign-in needed. The entry [`crate::store::ACCOUNTS`] of the first slot
//! lists the others and names the default; it holds no secret and changes under a lock of its own,
//! on a fresh read. Locks are taken in one order, by every process: the list's, then a slot's (the
//! first slot's before another's when both are held), never the other way round.
//!
//! A sign-in is kept where its account already is ([`Accounts::place`]): signing in again as an
//! account updates it, never adds a second copy. An [`crate::Auth`] built
//! [`with accounts`](crate::Auth::with_accounts) does this for every sign-in (browser, device,
//! Native SSO), makes the account signed in the default, and forgets an account it signs out.

use std::fmt;

use openidconnect::{ClientId, IssuerUrl, SubjectIdentifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    error::{Error, Result},
    session::Session,
    store::{SessionStore, ACCOUNTS},
};

/// An account: issuer, client id and subject, as 16 hex digits of their SHA-256 (stable, the same
/// in every process, and no personal data on its own). Read back from a store, anything else is
/// refused: an id names a slot, so it never carries a path or a separator into an entry's name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl TryFrom<String> for AccountId {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<Self, String> {
        if text.len() == 16 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(text))
        } else {
            Err("an account id is 16 lowercase hex digits".into())
        }
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

impl AccountId {
    /// The id of `subject` signed in at `issuer` with `client_id`.
    pub fn of(issuer: &IssuerUrl, client_id: &ClientId, subject: &SubjectIdentifier) -> Self {
        let mut hash = Sha256::new();
        for part in [issuer.as_str(), client_id.as_str(), subject.as_str()] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        Self(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The slot a new account's session is kept in.
    fn slot(&self) -> String {
        format!("account-{}", self.0)
    }

    /// The account whose slot is `slot` (`None` for the first slot, whose account is in it).
    fn of_slot(slot: &str) -> Option<Self> {
        Self::try_from(slot.strip_prefix("account-")?.to_string()).ok()
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One account, without tokens: what an account switcher shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// The issuer it signed in at.
    pub issuer: String,
    /// The client it signed in with.
    pub client_id: String,
    /// The user's `sub`.
    pub subject: String,
    /// `name` from the profile or the ID token.
    pub name: Option<String>,
    /// `email` from the profile or the ID token.
    pub email: Option<String>,
    /// True for the account used when none is named.
    pub default: bool,
    #[serde(skip)]
    slot: String,
}

/// The list of accounts besides the first slot's, and the default.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Registry {
    #[serde(default)]
    accounts: Vec<AccountId>,
    #[serde(default)]
    default: Option<AccountId>,
    #[serde(flatten)]
    later: crate::store::LaterFields,
}

impl Registry {
    /// Every slot: the first one, then those of the accounts listed.
    fn slots(&self) -> Vec<String> {
        std::iter::once(String::new())
            .chain(self.accounts.iter().map(AccountId::slot))
            .collect()
    }
}

/// What the slots hold: the readable accounts, the slots that cannot be read, and the list.
struct Scan {
    accounts: Vec<Account>,
    unreadable: Vec<String>,
    registry: Registry,
}

/// The accounts of one app, in the slots of its store (see the module docs).
#[derive(Clone, Debug)]
pub struct Accounts {
    first: SessionStore,
    registry: SessionStore,
}

impl Accounts {
    /// The accounts kept in `store` (the store [`crate::StoreOptions::open`] opened: the first slot).
    pub fn new(store: SessionStore) -> Self {
        let first = store.for_slot("");
        Self {
            registry: first.with_own_lock(ACCOUNTS),
            first,
        }
    }

    /// Every account with a session stored (no network): the first slot's first, then the others
    /// in the order they were added. A slot whose session cannot be read is left out (and left as
    /// it is: the command that uses that slot reports it and sets it aside; see
    /// [`Accounts::default_store`]). When the list itself cannot be read (it is set aside), only the
    /// first slot's account is found.
    pub async fn list(&self) -> Result<Vec<Account>> {
        Ok(self.scan().await?.accounts)
    }

    async fn scan(&self) -> Result<Scan> {
        // An unreadable list is set aside by the read: the first slot's account is still found.
        let registry = match self.registry.load_entry::<Registry>(ACCOUNTS).await {
            Ok(registry) => registry.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "the list of accounts cannot be read");
                Registry::default()
            }
        };
        let slots = registry.slots();
        let mut accounts: Vec<Account> = Vec::new();
        let mut unreadable = Vec::new();
        for slot in slots {
            let store = self.first.for_slot(&slot);
            let session = match store.peek().await {
                Ok(Ok(Some(session))) => session,
                Ok(Ok(None)) => continue,
                // Said by the command that uses the slot, when it sets the value aside.
                Ok(Err(error)) => {
                    tracing::debug!(%error, slot, "an account's session is not one");
                    unreadable.push(slot);
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, slot, "an account's session cannot be read");
                    unreadable.push(slot);
                    continue;
                }
            };
            let id = session.account();
            if accounts.iter().any(|a| a.id == id) {
                continue; // listed twice (a slot reused while a list was being rebuilt): the first wins
            }
            accounts.push(Account {
                id,
                issuer: session.issuer().to_string(),
                client_id: session.client_id().to_string(),
                subject: session.subject().to_string(),
                name: session.name(),
                email: session.email(),
                default: false,
                slot,
            });
        }
        let default = registry
            .default
            .clone()
            .filter(|id| accounts.iter().any(|a| &a.id == id))
            .or_else(|| accounts.first().map(|a| a.id.clone()));
        for account in &mut accounts {
            account.default = Some(&account.id) == default.as_ref();
        }
        Ok(Scan {
            accounts,
            unreadable,
            registry,
        })
    }

    /// Erases every slot whose session cannot be read (each under its lock, with its set-aside
    /// copies and temporary files): what "sign out of every account" does for the accounts it cannot
    /// list, whose tokens it cannot revoke. Returns how many were erased; the first error, once all
    /// were tried.
    pub async fn erase_unreadable(&self) -> Result<usize> {
        let scan = self.scan().await?;
        let mut first_error = None;
        let mut erased = 0;
        for slot in &scan.unreadable {
            let store = self.first.for_slot(slot);
            let cleared = match store.lock().await {
                Ok(lock) => store.clear(&lock).await,
                Err(error) => Err(error),
            };
            let cleared = match (cleared, AccountId::of_slot(slot)) {
                (Ok(()), Some(id)) => self.forget(&store, &id).await,
                (cleared, _) => cleared,
            };
            match cleared {
                Ok(()) => erased += 1,
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(erased),
        }
    }

    /// The default account, if any account is stored.
    pub async fn default_account(&self) -> Result<Option<Account>> {
        Ok(self.list().await?.into_iter().find(|a| a.default))
    }

    /// The store of the default account; the first slot when there is none (where a first sign-in
    /// goes). When the default's session (or, with no default named, the first slot's) cannot be
    /// read, its slot: whoever uses it then reports the problem and sets the value aside, and no
    /// other account is used in its place without a word.
    pub async fn default_store(&self) -> Result<SessionStore> {
        self.default_store_where(|_| true).await
    }

    /// [`Accounts::default_store`], preferring an account that `fits` to a default that does not
    /// (one of another configuration), in one look at the slots.
    pub(crate) async fn default_store_where(
        &self,
        fits: impl Fn(&Account) -> bool,
    ) -> Result<SessionStore> {
        let scan = self.scan().await?;
        if scan.accounts.iter().any(|a| a.default && !fits(a)) {
            if let Some(account) = scan.accounts.iter().find(|a| fits(a)) {
                return Ok(self.store_of(account));
            }
        }
        let named = scan.registry.default.as_ref();
        let default_unreadable = match named {
            Some(id) => {
                !scan.accounts.iter().any(|a| &a.id == id)
                    && scan
                        .unreadable
                        .iter()
                        .any(|slot| slot.is_empty() || *slot == id.slot())
            }
            None => scan.unreadable.iter().any(String::is_empty),
        };
        if default_unreadable {
            // The default's own slot when it is unreadable, else the first slot (which holds it).
            let own = named
                .map(AccountId::slot)
                .filter(|s| scan.unreadable.contains(s));
            return Ok(self.first.for_slot(own.as_deref().unwrap_or("")));
        }
        if scan.accounts.is_empty() {
            if let Some(slot) = scan.unreadable.first() {
                return Ok(self.first.for_slot(slot));
            }
        }
        Ok(match scan.accounts.into_iter().find(|a| a.default) {
            Some(account) => self.store_of(&account),
            None => self.first.clone(),
        })
    }

    /// The account `key` names: its id, its email or its subject. A `config` error when no
    /// account, or more than one, matches.
    pub async fn find(&self, key: &str) -> Result<Account> {
        let accounts = self.list().await?;
        let matching: Vec<&Account> = accounts
            .iter()
            .filter(|a| {
                a.id.as_str() == key
                    || a.subject == key
                    || a.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(key))
            })
            .collect();
        match matching.as_slice() {
            [account] => Ok((*account).clone()),
            [] => Err(Error::Config(format!(
                "no account `{}` is signed in here ({} account(s) are: list them with their ids)",
                crate::text::Printable(key),
                accounts.len()
            ))),
            _ => Err(Error::Config(format!(
                "`{}` names {} accounts (of several issuers or clients): name one by its id",
                crate::text::Printable(key),
                matching.len()
            ))),
        }
    }

    /// The first slot: where a single-account version kept its session, and where an app keeps
    /// what belongs to no account yet (a sign-in in progress that may add one).
    pub fn first(&self) -> &SessionStore {
        &self.first
    }

    /// The store of `account`.
    pub fn store_of(&self, account: &Account) -> SessionStore {
        self.first.for_slot(&account.slot)
    }

    /// Makes `id` the default account (no check that it is stored: [`Accounts::list`] falls back to
    /// the first account when the default is gone).
    pub async fn set_default(&self, id: &AccountId) -> Result<()> {
        let lock = self.registry.lock().await?;
        let mut registry = self.read_locked(&lock).await?;
        registry.default = Some(id.clone());
        self.save_registry(&registry, &lock).await
    }

    /// Where the session of a sign-in is kept, and the account it is made the default: the slot
    /// that holds its account already (it is updated), else the first slot when it is empty, else a
    /// new slot of its own (listed). Nothing is written to the slot here: the caller writes it under
    /// the slot's lock, after checking that no other account took it meanwhile.
    pub async fn place(&self, session: &Session) -> Result<SessionStore> {
        let id = session.account();
        let lock = self.registry.lock().await?;
        let mut registry = self.read_locked(&lock).await?;
        let slots = registry.slots();
        let mut empty = None;
        let mut found = None;
        for slot in slots {
            // A store that cannot be read now (the keystore away) is an error: whose slot it is
            // cannot be told, and a guess could leave the account in two places.
            match self.first.for_slot(&slot).peek().await? {
                Ok(Some(stored)) if stored.account() == id => {
                    found = Some(slot);
                    break;
                }
                Ok(None) if empty.is_none() => empty = Some(slot),
                // Another account, or a value that is not a session (left as it is): not this
                // sign-in's place (its own slot is overwritten once the value is set aside).
                _ => {}
            }
        }
        let slot = match (found, empty) {
            (Some(slot), _) => slot,
            (None, Some(slot)) if slot.is_empty() => slot,
            _ => {
                if !registry.accounts.contains(&id) {
                    registry.accounts.push(id.clone());
                }
                id.slot()
            }
        };
        registry.default = Some(id);
        self.save_registry(&registry, &lock).await?;
        Ok(self.first.for_slot(&slot))
    }

    /// Forgets the account of the slot `store` (after its sign-out): it leaves the list, and the
    /// default moves to the first account left when it was the default. A slot that holds the
    /// account again (signed in meanwhile by another process) stays as it is.
    pub async fn forget(&self, store: &SessionStore, id: &AccountId) -> Result<()> {
        let lock = self.registry.lock().await?;
        if let Ok(Ok(Some(stored))) = store.peek().await {
            if &stored.account() == id {
                return Ok(());
            }
        }
        let mut registry = self.read_locked(&lock).await?;
        if !store.slot_name().is_empty() {
            registry.accounts.retain(|a| a.slot() != store.slot_name());
        }
        if registry.default.as_ref() == Some(id) {
            registry.default = None;
        }
        self.save_registry(&registry, &lock).await
    }

    /// Writes the list; an empty one (no other account, no default: everyone signed out) is
    /// removed, so a sign-out leaves nothing behind.
    async fn save_registry(
        &self,
        registry: &Registry,
        lock: &crate::store::StoreLock,
    ) -> Result<()> {
        if registry.accounts.is_empty() && registry.default.is_none() {
            return self.registry.remove_entry(ACCOUNTS, lock).await;
        }
        self.registry.save_entry(ACCOUNTS, registry, lock).await
    }

    /// The list, read afresh under its lock. One that cannot be parsed is set aside and a new one
    /// starts (the accounts' sessions are still in their slots; the first slot's is found all the
    /// same); a store that cannot be read (the keystore away) is the error.
    async fn read_locked(&self, lock: &crate::store::StoreLock) -> Result<Registry> {
        self.registry
            .load_entry_to_replace(ACCOUNTS, lock)
            .await
            .map(Option::unwrap_or_default)
    }
}

/// The list of accounts in `vault` (blocking, under the list's lock): one that cannot be parsed is
/// set aside (logged), and a new one starts, as [`Accounts`] does it.
fn registry_in(vault: &dyn crate::store::Vault) -> Result<Registry> {
    crate::store::read_to_replace(vault, ACCOUNTS).map(Option::unwrap_or_default)
}

/// When the first slot of `other` (a file store written while no keystore answered) holds another
/// account than the first slot of `store` (the keystore), moves it into its own slot of `store`
/// (the newer of two copies wins, read back before `other`'s is erased) and lists it there, so that
/// [`crate::store::StoreOptions::open`]'s move of the first slot never puts one account over
/// another. Call with the list's lock held (then the first slot's).
pub(crate) fn adopt_first_as_another(
    store: &SessionStore,
    other: &dyn crate::store::Vault,
    _accounts_lock: &crate::store::StoreLock,
) -> Result<()> {
    use crate::store::{write_verified, SlotVault, Vault, SESSION};
    let parse = |bytes: &[u8]| serde_json::from_slice::<Session>(bytes).ok();
    let Some(theirs) = other.read(SESSION)? else {
        return Ok(());
    };
    let vault = store.vault().clone();
    let (Some(their_session), Some(ours)) = (
        parse(&theirs),
        vault.read(SESSION)?.as_deref().and_then(parse),
    ) else {
        return Ok(()); // one side empty or unreadable: the first slot's own move handles it
    };
    let id = their_session.account();
    if ours.account() == id {
        return Ok(()); // the same account: the newer copy wins in the first slot's own move
    }
    let slot = id.slot();
    let _slot_lock = store.for_slot(&slot).lock_blocking()?;
    let target = SlotVault::new(vault.clone(), &slot);
    let existing = target.read(SESSION)?.as_deref().and_then(parse);
    if existing.is_none_or(|existing| their_session.is_newer_than(&existing)) {
        write_verified(&target, SESSION, &theirs)?;
    }
    let mut list = registry_in(vault.as_ref())?;
    if !list.accounts.contains(&id) {
        list.accounts.push(id);
        let bytes = serde_json::to_vec(&list)
            .map_err(|e| Error::Storage(format!("cannot encode the list of accounts: {e}")))?;
        write_verified(vault.as_ref(), ACCOUNTS, &bytes)?;
    }
    other.remove(SESSION)
}

/// Moves the slots listed in `other`'s list of accounts (a file store written while no keystore
/// answered) into `store` (the keystore), each under its slot's lock, as
/// [`crate::store::StoreOptions::open`] moves the first slot: of two sessions the newer wins, what is
/// written is read back before `other`'s copy is erased. The lists are merged (this store's default
/// wins). Call with the list's lock held (and no slot's).
pub(crate) fn adopt_slots(
    store: &SessionStore,
    other: std::sync::Arc<dyn crate::store::Vault>,
    _accounts_lock: &crate::store::StoreLock,
) -> Result<()> {
    use crate::store::{adopt, write_verified, SlotVault};
    let Some(theirs) = other.read(ACCOUNTS)? else {
        return Ok(());
    };
    let Ok(theirs) = serde_json::from_slice::<Registry>(&theirs) else {
        other.set_aside(ACCOUNTS)?;
        return Err(Error::Storage(
            "the list of accounts in the file could not be read; it was set aside".into(),
        ));
    };
    let vault = store.vault().clone();
    let mut ours = registry_in(vault.as_ref())?;
    for id in &theirs.accounts {
        let slot = id.slot();
        let lock = store.for_slot(&slot).lock_blocking()?;
        adopt(
            &SlotVault::new(vault.clone(), &slot),
            &SlotVault::new(other.clone(), &slot),
            &lock,
        )?;
        if !ours.accounts.contains(id) {
            ours.accounts.push(id.clone());
        }
    }
    ours.default = ours.default.or(theirs.default);
    if ours.later.is_empty() {
        ours.later = theirs.later;
    }
    let bytes = serde_json::to_vec(&ours)
        .map_err(|e| Error::Storage(format!("cannot encode the list of accounts: {e}")))?;
    write_verified(vault.as_ref(), ACCOUNTS, &bytes)?;
    other.remove(ACCOUNTS)?;
    other.remove_leftovers(ACCOUNTS)
}

/// The stored list of accounts parsed, then serialised again (`None` when it is not one): for the
/// fuzz target `accounts`.
#[cfg(feature = "fuzzing")]
pub(crate) fn registry_round_trip(bytes: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    let registry = serde_json::from_slice::<Registry>(bytes).ok()?;
    let ids = registry
        .accounts
        .iter()
        .chain(&registry.default)
        .map(AccountId::slot)
        .collect();
    Some((serde_json::to_vec(&registry).ok()?, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_id_tells_issuer_client_and_subject_apart() {
        let issuer = IssuerUrl::new("https://example.okta.com".into()).unwrap();
        let other = IssuerUrl::new("https://example.okta.com/oauth2/default".into()).unwrap();
        let client = ClientId::new("0oa1".into());
        let demo = SubjectIdentifier::new("demo".into());
        let id = AccountId::of(&issuer, &client, &demo);
        assert_eq!(id, AccountId::of(&issuer, &client, &demo));
        assert_eq!(id.as_str().len(), 16);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, AccountId::of(&other, &client, &demo));
        assert_ne!(
            id,
            AccountId::of(&issuer, &ClientId::new("0oa2".into()), &demo)
        );
        assert_ne!(
            id,
            AccountId::of(&issuer, &client, &SubjectIdentifier::new("alice".into()))
        );
    }

    #[test]
    fn moving_the_accounts_of_a_file_never_overwrites_a_list_that_cannot_be_read() {
        use crate::store::{FileVault, SessionStore};
        let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let keystore = FileVault::new(ours.path().join("session.json"));
        let file = FileVault::new(theirs.path().join("session.json"));
        let damaged = keystore.entry_path(ACCOUNTS);
        std::fs::write(&damaged, b"{ damaged").unwrap();
        let id: AccountId = serde_json::from_str("\"0123456789abcdef\"").unwrap();
        let listed = serde_json::json!({ "accounts": [id], "from_v9": 1 });
        std::fs::write(file.entry_path(ACCOUNTS), listed.to_string()).unwrap();

        let store = SessionStore::new(std::sync::Arc::new(keystore));
        let lock = store.with_own_lock(ACCOUNTS).lock_blocking().unwrap();
        adopt_slots(&store, std::sync::Arc::new(file), &lock).unwrap();
        let moved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&damaged).unwrap()).unwrap();
        assert_eq!(moved["accounts"], serde_json::json!([id]));
        assert_eq!(moved["from_v9"], 1, "with what a later version kept in it");
        assert_eq!(
            std::fs::read(damaged.with_extension("corrupt")).unwrap(),
            b"{ damaged",
            "set aside, not overwritten"
        );
    }

    #[test]
    fn a_stored_id_that_is_not_one_is_refused() {
        let good: AccountId = serde_json::from_str("\"0123456789abcdef\"").unwrap();
        assert_eq!(good.slot(), "account-0123456789abcdef");
        for bad in [
            "\"../../etc/x\"",
            "\"0123456789ABCDEF\"",
            "\"\"",
            "\"0123456789abcdef0\"",
        ] {
            assert!(serde_json::from_str::<AccountId>(bad).is_err(), "{bad}");
        }
        let list = serde_json::from_str::<Registry>(r#"{"accounts":["a/b"],"default":null}"#);
        assert!(list.is_err(), "a list naming a path is not a list");
    }
}
