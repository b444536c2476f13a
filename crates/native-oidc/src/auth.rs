//! Staying signed in: one session, kept in a [`SessionStore`], refreshed when it is about to expire.
//!
//! Concurrent callers share one refresh: the session lock is held across it. Processes that share the
//! store (the app and the `signin` command line) change the stored session only under the store's OS
//! lock, on a fresh read of it ([`Auth::reconcile`]): a process that lost a race uses the winner's
//! tokens instead of spending a used-up refresh token, a late profile save never writes back tokens
//! another process has rotated since, and a session replaced by another sign-in (or ended by a
//! sign-out) is never overwritten. The provider's answer to a refresh is saved, durably, before
//! anything in it is checked: once the provider has rotated the refresh token, the old one is
//! worthless, so the new one is never lost. An answer that fails its checks (another token type, an ID
//! token that is not valid) ends the session and its tokens are revoked. `invalid_grant` ends the
//! session; network errors, 5xx and 429 keep it.

use std::{fmt, time::Duration};

use chrono::Utc;
use openidconnect::AccessToken;
use tokio::sync::Mutex;

use crate::{
    callback::IntoCallback,
    challenge,
    client::{EndSessionRequest, OidcClient},
    dpop::{self, DpopKey},
    error::{Error, Result},
    pending::{AuthorizationRequest, PendingAuthorizations, SignInOptions},
    session::{Session, SessionSummary, TokenType},
    store::{SessionStore, Storage, StoreLock},
};

/// How long a save that must not fail (the answer to a refresh holds the only valid refresh token;
/// a new sign-in's tokens) is retried by default before its error is returned: a keystore
/// restarting, a disk briefly full. A long-running app keeps what it could not save in memory and
/// saves it at its next chance; a program that exits should be more patient
/// ([`Auth::with_save_patience`]).
pub const DEFAULT_SAVE_PATIENCE: Duration = Duration::from_secs(8);

/// The first wait between two tries of such a save; each wait is three times the last, at most
/// [`MAX_SAVE_WAIT`].
const FIRST_SAVE_WAIT: Duration = Duration::from_millis(100);
const MAX_SAVE_WAIT: Duration = Duration::from_secs(4);

/// Refresh this long before the access token expires (at most half its lifetime).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// What [`Auth::finish_sign_out`] did. The local session is gone in every case.
#[derive(Debug)]
pub struct SignOut {
    /// Open this in the system browser to end the provider's session, if it supports that.
    pub end_session: Option<EndSessionRequest>,
    /// Why revocation or building the end-session URL failed (the provider was unreachable, …).
    pub error: Option<Error>,
    /// The copy on this device could not be erased (the tokens were revoked all the same).
    pub erase_error: Option<Error>,
}

/// The network half of a sign-out: the signed-out session's tokens, to revoke with
/// [`Auth::finish_sign_out`]. Opaque: it shows no token and does not serialise.
pub struct SignOutTask {
    session: Session,
    /// Other live sessions found in the store (another sign-in made meanwhile): revoked too.
    others: Vec<Session>,
    erase_error: Option<Error>,
}

impl fmt::Debug for SignOutTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignOutTask")
            .field("subject", &self.session.subject)
            .field("erase_error", &self.erase_error)
            .finish_non_exhaustive()
    }
}

impl SignOutTask {
    /// The device copy of the session could not be erased.
    pub fn erase_error(&self) -> Option<&Error> {
        self.erase_error.as_ref()
    }

    /// Where the provider should send the browser after sign-out, as configured at sign-in.
    pub fn post_logout_redirect_uri(&self) -> Option<&openidconnect::PostLogoutRedirectUrl> {
        self.session.post_logout_redirect_uri()
    }
}

/// A signed-in user's session, kept in a store and refreshed as needed.
pub struct Auth {
    client: std::sync::Arc<OidcClient>,
    /// The store of the account in memory; changed (with the session lock held) when a sign-in as
    /// another account is stored, by [`Auth::switch_to`] and by [`Auth::restore_default`].
    store: std::sync::RwLock<SessionStore>,
    session: Mutex<Option<Session>>,
    accounts: Option<crate::Accounts>,
    refresh_margin: Duration,
    save_patience: Duration,
    sso: Option<crate::sso::SsoShare>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("client", &self.client)
            .field("storage", &self.store().storage())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// An `Auth` with no session in memory; call [`Auth::restore`] to load the stored one.
    pub fn new(client: OidcClient, store: SessionStore) -> Self {
        Self::on(std::sync::Arc::new(client), store)
    }

    /// An `Auth` of `client` on `store`, with the default settings and nothing in memory.
    fn on(client: std::sync::Arc<OidcClient>, store: SessionStore) -> Self {
        Self {
            client,
            store: std::sync::RwLock::new(store),
            session: Mutex::new(None),
            accounts: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            save_patience: DEFAULT_SAVE_PATIENCE,
            sso: None,
        }
    }

    /// Signs in once for all the vendor's apps (Native SSO): sign-ins leave their device secret in
    /// `share`, [`Auth::sign_in_with_sso`] uses what another app left there, and
    /// [`Auth::end_shared_sign_in`] revokes it. The configuration needs an SSO group
    /// ([`crate::Config::with_sso_group`]).
    pub fn with_sso_share(mut self, share: crate::sso::SsoShare) -> Self {
        self.sso = Some(share);
        self
    }

    /// Keeps several accounts (see [`crate::Accounts`]): a sign-in is kept in its account's slot
    /// (the one that holds it already, else a new one) and that account becomes the default and the
    /// one in memory; a sign-out forgets the account signed out. `store` given to [`Auth::new`] is
    /// the slot of the account to restore (e.g. [`crate::Accounts::default_store`]).
    pub fn with_accounts(mut self, accounts: crate::Accounts) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// The accounts, when this `Auth` keeps several.
    pub fn accounts(&self) -> Option<&crate::Accounts> {
        self.accounts.as_ref()
    }

    /// The accounts, or a `config` error saying this app keeps one.
    pub fn accounts_kept(&self) -> Result<&crate::Accounts> {
        self.accounts
            .as_ref()
            .ok_or_else(|| Error::Config("this app keeps one account".into()))
    }

    /// Sets how early before expiry the access token is refreshed.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Sets how long a save that must not fail is retried before its error is returned (see
    /// [`DEFAULT_SAVE_PATIENCE`]).
    pub fn with_save_patience(mut self, patience: Duration) -> Self {
        self.save_patience = patience;
        self
    }

    /// The protocol client.
    pub fn client(&self) -> &OidcClient {
        &self.client
    }

    /// The store of the account in memory (where its tokens are kept). With several accounts, keep
    /// sign-ins in progress in [`crate::Accounts::first`]: a sign-in may come back as any account.
    pub fn store(&self) -> SessionStore {
        match self.store.read() {
            Ok(store) => store.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_store(&self, store: SessionStore) {
        match self.store.write() {
            Ok(mut current) => *current = store,
            Err(poisoned) => *poisoned.into_inner() = store,
        }
    }

    /// Loads the default account's session, as [`Auth::restore`] does (no network): the account
    /// signed in or switched to last (of this configuration's issuer and client). With a session in
    /// memory already, or without accounts, [`Auth::restore`].
    pub async fn restore_default(&self) -> Result<Option<SessionSummary>> {
        if let Some(accounts) = &self.accounts {
            let guard = self.session.lock().await;
            if guard.is_none() {
                // The default, unless it signed in with another configuration (the app's issuer or
                // client changed): then the first account of this one.
                let config = self.client.config();
                let store = accounts
                    .default_store_where(|a| config.made_here(&a.issuer, &a.client_id))
                    .await?;
                self.set_store(store);
            }
        }
        self.restore().await
    }

    /// An `Auth` for `account`, another of this one's accounts, with the same client, settings and
    /// Native SSO share, its session restored (no network): to call an API as that account, or
    /// sign it out, while this one stays in memory. The two work on their stores under the store's
    /// locks, as two processes would.
    pub async fn for_account(&self, account: &crate::Account) -> Result<Auth> {
        let accounts = self.accounts_kept()?;
        let mut auth = Auth::on(self.client.clone(), accounts.store_of(account))
            .with_accounts(accounts.clone())
            .with_refresh_margin(self.refresh_margin)
            .with_save_patience(self.save_patience);
        auth.sso = self.sso.clone();
        // The slot may hold another account by now (this one signed out and the slot reused), or
        // one of another configuration: neither is `account`.
        match auth.restore().await? {
            Some(summary) if summary.account == account.id => Ok(auth),
            _ => Err(Error::NotSignedIn),
        }
    }

    /// Makes `account` the one in memory and the default (no network): its stored session is
    /// loaded in place of the current one, which stays stored as it is.
    pub async fn switch_to(&self, account: &crate::Account) -> Result<Option<SessionSummary>> {
        let accounts = self.accounts_kept()?;
        let mut guard = self.session.lock().await;
        let store = accounts.store_of(account);
        let stored = store.load().await?.filter(|s| s.account() == account.id);
        let Some(stored) = stored else {
            return Err(Error::NotSignedIn);
        };
        if !self.belongs_here(&stored) {
            return Err(Error::Config(format!(
                "that account signed in at {} with client {}, not with this app's configuration",
                stored.issuer.as_str(),
                stored.client_id.as_str()
            )));
        }
        if guard.as_ref().is_some_and(|c| c.account() != account.id) {
            // What the account in memory could not save yet is saved first, or nothing switches.
            let lock = self.store().lock().await?;
            self.reconcile(&mut guard, &lock).await?;
        }
        accounts.set_default(&account.id).await?;
        self.set_store(store);
        let summary = stored.summary();
        *guard = Some(stored);
        tracing::info!(account = %account.id, "switched account");
        Ok(Some(summary))
    }

    /// Where tokens are kept.
    pub fn storage(&self) -> Storage {
        self.store().storage()
    }

    /// Loads the stored session (no network). A session of another issuer or client is ignored.
    /// With a session already in memory, the two are reconciled under the store's lock instead: the
    /// one in memory may hold tokens an earlier save could not keep (the provider has rotated the
    /// stored refresh token), and the newer wins.
    pub async fn restore(&self) -> Result<Option<SessionSummary>> {
        let mut guard = self.session.lock().await;
        if guard.is_some() {
            let lock = self.store().lock().await?;
            let current = self.reconcile(&mut guard, &lock).await?;
            return Ok(current.as_ref().map(Session::summary));
        }
        let stored = self.store().load().await?;
        tracing::debug!(stored = stored.is_some(), "restore: the stored session");
        let stored = stored.filter(|s| {
            let here = self.belongs_here(s);
            if !here {
                tracing::debug!("restore: the stored session is for another issuer or client");
            }
            here
        });
        let summary = stored.as_ref().map(Session::summary);
        *guard = stored;
        Ok(summary)
    }

    fn belongs_here(&self, session: &Session) -> bool {
        self.client
            .config()
            .made_here(session.issuer.as_str(), session.client_id.as_str())
    }

    /// The current session, without tokens.
    pub async fn session(&self) -> Option<SessionSummary> {
        self.session.lock().await.as_ref().map(Session::summary)
    }

    /// True when the access token must be refreshed before use.
    pub async fn needs_refresh(&self) -> bool {
        self.session
            .lock()
            .await
            .as_ref()
            .is_some_and(|s| s.needs_refresh(Utc::now(), self.refresh_margin))
    }

    /// Starts a sign-in: see [`OidcClient::begin_sign_in`].
    pub async fn begin_sign_in(&self, options: SignInOptions) -> Result<AuthorizationRequest> {
        self.client.begin_sign_in(options).await
    }

    /// Completes a sign-in, stores the new session durably and loads the profile (userinfo):
    /// [`Auth::finish_sign_in`], then [`Auth::load_profile`]. On an error before the session is
    /// stored, nothing is (with Native SSO, the sign-in may be in the group's share already, which
    /// is written first: it is the group's then, and a sign-out of all apps revokes it).
    pub async fn complete_sign_in(
        &self,
        callback: impl IntoCallback,
        pending: &mut PendingAuthorizations,
    ) -> Result<SessionSummary> {
        self.finish_sign_in(callback, pending).await?;
        self.load_profile().await
    }

    /// Completes a sign-in after one round trip: exchanges the code, validates the ID token and stores
    /// the session durably, with the ID token's claims as the profile. [`Auth::load_profile`] adds
    /// userinfo (an app shows the user at once and loads it after). The new session replaces what the
    /// store held (a provider may share one grant between sign-ins, so the old tokens are not revoked
    /// here: that could end the new session too); with several accounts, it replaces only its own
    /// account's session and is kept beside the others.
    pub async fn finish_sign_in(
        &self,
        callback: impl IntoCallback,
        pending: &mut PendingAuthorizations,
    ) -> Result<SessionSummary> {
        // Whose session this app holds (in memory, else stored): a refused answer for that user is not
        // revoked, as it may share the session's grant (see `OidcClient::complete_sign_in_beside`).
        let holder = match self.session.lock().await.as_ref() {
            Some(session) => Some(session.subject.clone()),
            None => self.store().load().await.ok().flatten().map(|s| s.subject),
        };
        let session = self
            .client
            .complete_sign_in_beside(callback, pending, holder.as_ref())
            .await?;
        self.keep_signed_in(session).await
    }

    /// Completes a device sign-in (RFC 8628; see [`OidcClient::begin_device_sign_in`]): polls until
    /// the user has signed in on the other device, then stores the session durably, as
    /// [`Auth::finish_sign_in`] does. [`Auth::load_profile`] adds userinfo.
    pub async fn finish_device_sign_in(
        &self,
        authorization: &crate::DeviceAuthorization,
    ) -> Result<SessionSummary> {
        let session = self.client.complete_device_sign_in(authorization).await?;
        self.keep_signed_in(session).await
    }

    /// Stores a new session durably in place of what the store held (with several accounts: in its
    /// account's slot, beside the others), and keeps it in memory.
    /// With Native SSO, a sign-in that came with a device secret leaves it, with its ID token, in
    /// the group's share for the vendor's other apps first ([`Auth::share_sign_in`]).
    async fn keep_signed_in(&self, mut session: Session) -> Result<SessionSummary> {
        let asked = self.share_sign_in(&mut session).await;
        // What this sign-in keeps unshared (not what `carry_unshared` may add: the store holds that).
        let own = session.unshared.clone();
        let mut current = self.session.lock().await;
        let stored = match &self.accounts {
            None => {
                let store = self.store();
                match store.lock().await {
                    Ok(lock) => {
                        // (The save that follows retries a vault that cannot be read now.)
                        let replaced: Option<Session> = store
                            .load_entry_to_replace(crate::store::SESSION, &lock)
                            .await
                            .unwrap_or_else(|error| {
                                tracing::warn!(%error, "the session this sign-in replaces cannot be read: a sign-in it kept for the SSO group, if any, is not carried over");
                                None
                            });
                        let dropped = self.carry_unshared(&mut session, replaced.as_ref()).await;
                        self.save_durably_in(&store, &session, &lock)
                            .await
                            .map(|()| (store, dropped))
                    }
                    Err(error) => Err(error),
                }
            }
            Some(accounts) => {
                if current
                    .as_ref()
                    .is_some_and(|c| c.account() != session.account())
                {
                    // Another account takes the place in memory: what it could not save yet first.
                    self.save_what_memory_holds(&mut current).await;
                }
                self.keep_as_account(accounts, &mut session).await
            }
        };
        let (store, dropped) = match stored {
            Ok(stored) => stored,
            Err(error) => {
                drop(current);
                // Not kept anywhere (neither the share nor the store took it): revoked.
                if let Some(own) = own {
                    self.revoke_kept(&own).await;
                }
                return Err(error);
            }
        };
        // Only once it is stored is it the account in memory (with its store).
        self.set_store(store);
        let summary = session.summary();
        *current = Some(session);
        drop(current);
        if self.client.config().sso_group().is_some() {
            self.record_sign_out(false).await;
        }
        tracing::info!(subject = %crate::text::Printable(&summary.subject), "signed in");
        if let Some(dropped) = dropped {
            // The replaced session kept it, the share cannot take it, and the new session keeps its
            // own: no app holds it any more.
            self.revoke_kept(&dropped).await;
        }
        if let Some(share) = &self.sso {
            self.revoke_asked(share, asked).await;
        }
        Ok(summary)
    }

    /// Saves `session` in its account's slot ([`crate::Accounts::place`]), checked under the slot's
    /// lock: a slot another process filled with another account meanwhile is not written, and the
    /// account is placed again. Returns the slot's store, and what [`Auth::carry_unshared`] dropped.
    async fn keep_as_account(
        &self,
        accounts: &crate::Accounts,
        session: &mut Session,
    ) -> Result<(SessionStore, Option<Box<crate::sso::SsoItem>>)> {
        for _ in 0..5 {
            let store = accounts.place(session).await?;
            let lock = store.lock().await?;
            // A value that is not a session is set aside (the slot is free); a store that cannot be
            // read is the error: whose slot it is cannot be told.
            let stored: Option<Session> = store
                .load_entry_to_replace(crate::store::SESSION, &lock)
                .await?;
            if stored
                .as_ref()
                .is_some_and(|stored| stored.account() != session.account())
            {
                tracing::info!("another account took that place meanwhile; placing again");
                continue;
            }
            let dropped = self.carry_unshared(session, stored.as_ref()).await;
            self.save_durably_in(&store, session, &lock).await?;
            return Ok((store, dropped));
        }
        Err(Error::Storage(
            "no place in the store kept still for the new sign-in (other processes keep signing \
             in); try again"
                .into(),
        ))
    }

    /// A new sign-in replaces `replaced` (what its place in the store held): a sign-in of the SSO
    /// group that one kept unshared ([`Session::unshared`]) is not dropped with it. It is shared now,
    /// else the new session keeps it (to share at its next refresh, revoked when it ends) when it
    /// keeps none of its own; else it is returned, to be revoked once the new session is stored (no
    /// app holds it then). When `replaced` is of another issuer, client or group, this app cannot
    /// revoke it: that is logged, and its device secret lives at the provider until it expires.
    async fn carry_unshared(
        &self,
        session: &mut Session,
        replaced: Option<&Session>,
    ) -> Option<Box<crate::sso::SsoItem>> {
        let (replaced, kept) =
            replaced.and_then(|replaced| Some((replaced, replaced.unshared.as_ref()?)))?;
        if !(self.belongs_here(replaced)
            && replaced.sso_group.as_deref() == self.client.config().sso_group())
        {
            tracing::warn!("the replaced session, of another configuration, kept a sign-in its SSO group's share could not take: it is dropped with it (its device secret lives at the provider until it expires)");
            return None;
        }
        if let Some(own) = &session.unshared {
            if own.device_secret() == kept.device_secret() {
                return None;
            }
        }
        if let Some(share) = &self.sso {
            match Box::pin(share.save(kept)).await {
                Ok(_) => {
                    tracing::info!("left the replaced session's sign-in for the other apps of the SSO group, as it could not be before");
                    return None;
                }
                Err(error) => {
                    tracing::warn!(%error, "the replaced session's sign-in still cannot be shared")
                }
            }
        }
        if session.unshared.is_none() {
            session.unshared = Some(kept.clone());
            return None;
        }
        tracing::info!("a sign-in the SSO group's share could not take is dropped with the session it replaced: its device secret is revoked");
        Some(kept.clone())
    }

    /// Before another account takes the place in memory: saves the tokens of the one there that an
    /// earlier save could not keep (the provider may have rotated its stored refresh token), under
    /// its store's lock. A failure is logged.
    async fn save_what_memory_holds(&self, current: &mut Option<Session>) {
        let store = self.store();
        let saved = match store.lock().await {
            Ok(lock) => self.reconcile(current, &lock).await.map(drop),
            Err(error) => Err(error),
        };
        if let Err(error) = saved {
            tracing::warn!(%error, "the account in memory could not be saved before switching");
        }
    }

    /// Where the record of a sign-out on purpose (Native SSO) is kept: one for the app, in the first
    /// slot when it keeps several accounts.
    fn marker_store(&self) -> SessionStore {
        match &self.accounts {
            Some(accounts) => accounts.first().clone(),
            None => self.store(),
        }
    }

    /// Records (or forgets) that the user signed out on purpose; a failure is logged. Call with no
    /// store lock held (the marker's store may be the one locked).
    async fn record_sign_out(&self, on: bool) {
        let store = self.marker_store();
        let recorded = match store.lock().await {
            Ok(lock) => store.set_signed_out(on, &lock).await,
            Err(error) => Err(error),
        };
        if let Err(error) = recorded {
            tracing::warn!(%error, on, "could not record whether the user signed out on purpose");
        }
    }

    /// The SSO group whose apps share this app's sign-in, when Native SSO is on.
    pub fn sso_group(&self) -> Option<&str> {
        self.sso.as_ref().and(self.client.config().sso_group())
    }

    /// Signs in with no browser, with a sign-in another app of the vendor's SSO group left in the
    /// share (Native SSO: [`OidcClient::exchange_device_secret`]), then loads the profile (a profile
    /// the provider cannot be reached for is logged: the user is signed in). `None` when there is no
    /// share or nothing of this issuer in it. A refused exchange (`invalid_grant`: the secret revoked
    /// or expired, or this app not allowed) is the error, and a browser sign-in is the way on; the
    /// shared item stays for the group's other apps until a sign-in replaces it.
    pub async fn sign_in_with_sso(&self) -> Result<Option<SessionSummary>> {
        let Some(share) = &self.sso else {
            return Ok(None);
        };
        let Some(item) = share.load(self.client.config().issuer()).await? else {
            return Ok(None);
        };
        match self.client.exchange_device_secret(&item).await {
            Ok(session) => {
                let summary = self.keep_signed_in(session).await?;
                tracing::info!("signed in with Native SSO");
                match self.load_profile().await {
                    Ok(summary) => Ok(Some(summary)),
                    // Unreachable: signed in all the same, the profile comes later. Anything else
                    // (another user at userinfo ended the session, a sign-out meanwhile) is said.
                    Err(error) if error.is_transient() => {
                        tracing::warn!(%error, "signed in with Native SSO; the profile could not be loaded");
                        Ok(Some(summary))
                    }
                    Err(error) => Err(error),
                }
            }
            // The shared item is left as it is, whatever the refusal: an `invalid_grant` may be this
            // app's (its client, its policy) as well as the secret's, and the group's other apps may
            // still sign in with it. The next sign-in of any app of the group replaces it.
            Err(error) => Err(error),
        }
    }

    /// True when, with Native SSO, the user signed out of this app on purpose and has not signed in
    /// since: an app does not then sign itself in at start with the group's shared sign-in.
    pub async fn signed_out_on_purpose(&self) -> bool {
        self.client.config().sso_group().is_some()
            && self
                .marker_store()
                .signed_out_on_purpose()
                .await
                .unwrap_or(false)
    }

    /// Ends the sign-ins this device shares with the vendor's other apps (Native SSO): revokes every
    /// device secret of this provider in the share (the provider then refuses every app's next
    /// exchange and refresh, whichever secret it signed in with), each as the client it was issued
    /// to. They leave the share's sign-ins first, so no app signs in with them again; one whose
    /// revocation fails is kept to be revoked, tried again whenever an app of the group signs in or
    /// signs out of all apps (which the result says). Sign out of this app as usual first
    /// ([`Auth::sign_out_locally`]): this needs the network.
    pub async fn end_shared_sign_in(&self) -> Result<crate::sso::SharedSignOut> {
        use crate::sso::SharedSignOut;
        let Some(share) = &self.sso else {
            return Ok(SharedSignOut::NothingShared);
        };
        let retired = share.retire_all(self.client.config().issuer()).await?;
        if retired.is_empty() {
            return Ok(SharedSignOut::NothingShared);
        }
        Ok(match self.revoke_retired(share, retired).await {
            None => {
                tracing::info!("revoked the sign-in the SSO group's apps share");
                SharedSignOut::Revoked
            }
            Some((error, kept)) => SharedSignOut::NotRevoked { error, kept },
        })
    }

    /// Revokes retired device secrets. Each the provider revoked is forgotten, and so is each it
    /// cannot revoke (it refused, or has no revocation endpoint); one it could not be reached for is
    /// kept, and so are the ones after it (not tried: a sign-in does not wait on every one). The
    /// first failure, and whether some are kept.
    async fn revoke_retired(
        &self,
        share: &crate::SsoShare,
        retired: Vec<crate::sso::Retired>,
    ) -> Option<(Error, bool)> {
        let mut failed: Option<Error> = None;
        for retired in retired {
            let issued_to = retired
                .issued_to
                .clone()
                .unwrap_or_else(|| self.client.config().client_id().clone());
            match self
                .client
                .revoke_device_secret(&retired.device_secret, &issued_to)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    failed.get_or_insert(Error::protocol(
                        "the identity provider has no revocation endpoint: the shared sign-in \
                         ends only when it expires",
                    ));
                }
                Err(error) if error.is_transient() => {
                    tracing::warn!(%error, "a shared device secret could not be revoked; kept to try again");
                    return Some((failed.unwrap_or(error), true));
                }
                Err(error) => {
                    tracing::warn!(%error, "the provider refused to revoke a shared device secret");
                    failed.get_or_insert(error);
                }
            }
            // A secret kept by a failure to forget it is revoked again later: harmless.
            if let Err(error) = share.forget(&retired.device_secret).await {
                tracing::warn!(%error, "a revoked device secret could not be removed from the SSO share");
            }
        }
        failed.map(|error| (error, false))
    }

    /// Native SSO: leaves a new sign-in's ID token and device secret in the group's share, for the
    /// vendor's other apps. When the share cannot take them, `session` keeps them
    /// ([`Session::unshared`]) to share at its next refresh (this app is signed in all the same).
    /// Returns what an earlier sign-out of all apps left to revoke (read in the same round).
    async fn share_sign_in(&self, session: &mut Session) -> Vec<crate::sso::Retired> {
        let Some(share) = &self.sso else {
            return Vec::new();
        };
        let asked = match crate::sso::SsoItem::of(session) {
            Some(item) => match share.save(&item).await {
                Ok(asked) => {
                    tracing::info!("left the sign-in for the other apps of the SSO group");
                    Ok(asked)
                }
                Err(error) => {
                    tracing::warn!(%error, "the sign-in could not be shared with the SSO group; kept to share at the next refresh");
                    session.unshared = Some(Box::new(item));
                    return Vec::new();
                }
            },
            None => share.asked_to_revoke(self.client.config().issuer()).await,
        };
        asked.unwrap_or_else(|error| {
            tracing::warn!(%error, "the SSO group's share could not be read");
            Vec::new()
        })
    }

    /// Native SSO: the sign-in the group's share could not take when it was made (kept with the
    /// session) is shared now; once it is, the session no longer keeps it. A failure is logged, and
    /// the next refresh tries again.
    async fn share_kept(&self) {
        let Some(share) = &self.sso else {
            return;
        };
        let mut guard = self.session.lock().await;
        let shared = async {
            let lock = self.store().lock().await?;
            let Some(mut current) = self.reconcile(&mut guard, &lock).await? else {
                return Ok(None);
            };
            let Some(item) = current.unshared.take() else {
                return Ok(None);
            };
            let asked = share.save(&item).await?;
            self.save_durably(&current, &lock).await?;
            *guard = Some(current);
            Ok::<_, Error>(Some(asked))
        }
        .await;
        drop(guard);
        match shared {
            Ok(Some(asked)) => {
                tracing::info!("left the sign-in for the other apps of the SSO group, as it could not be at sign-in");
                self.revoke_asked(share, asked).await;
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "the sign-in is still not shared with the SSO group; tried again at the next refresh")
            }
        }
    }

    /// When `session` ends: the device secret it keeps because the group's share could not take it
    /// ([`Session::unshared`]) is revoked, as no other app holds it; unless the share holds it after
    /// all (shared by a round whose session write then failed): it is then the group's, and a
    /// sign-out of all apps revokes it.
    async fn revoke_unshared(&self, session: &Session) {
        if let Some(unshared) = &session.unshared {
            self.revoke_kept(unshared).await;
        }
    }

    /// [`Auth::revoke_unshared`] of one kept sign-in.
    async fn revoke_kept(&self, unshared: &crate::sso::SsoItem) {
        if let Some(share) = &self.sso {
            if let Ok(items) = share.load_all(&unshared.issuer).await {
                if items
                    .iter()
                    .any(|item| item.device_secret() == unshared.device_secret())
                {
                    return;
                }
            }
        }
        self.client
            .revoke_device_secret_quietly(unshared.device_secret())
            .await;
    }

    /// After a sign-in (or a rotation of a secret it asked for), the device secrets an earlier
    /// sign-out of all apps could not revoke: revoked now (the provider is reachable again), a
    /// failure logged.
    async fn revoke_asked(&self, share: &crate::SsoShare, asked: Vec<crate::sso::Retired>) {
        if asked.is_empty() {
            return;
        }
        match self.revoke_retired(share, asked).await {
            None => tracing::info!(
                "revoked what an earlier sign-out of all apps could not: the apps signed in with it are signed out"
            ),
            Some((error, _)) => tracing::warn!(
                %error,
                "what an earlier sign-out of all apps could not revoke is still not revoked"
            ),
        }
    }

    /// Loads userinfo into the session (and the store). Its `sub` must be the session's: anything
    /// else the provider says there (another subject, an answer that is not valid) ends the session,
    /// revoking its tokens, with [`Error::InvalidUserinfo`]; a network error keeps it. The profile is
    /// written into the session as stored now (another process may have refreshed it meanwhile).
    pub async fn load_profile(&self) -> Result<SessionSummary> {
        let (session, store) = {
            let guard = self.session.lock().await;
            (guard.clone().ok_or(Error::NotSignedIn)?, self.store())
        };
        let profile = match self.client.userinfo(&session).await {
            Err(error) if !matches!(error, Error::InvalidUserinfo(_)) => return Err(error),
            profile => profile,
        };
        let mut guard = Some(self.session.lock().await);
        if self.store().slot_name() != store.slot_name() {
            // Switched to another account meanwhile: the profile's account is worked on in its own
            // slot, and the account in memory is left alone.
            guard = None;
        }
        let lock = store.lock().await?;
        let current = match guard.as_deref_mut() {
            Some(memory) => self.reconcile(memory, &lock).await?,
            None => store.load_locked(&lock).await?,
        }
        // Signed out, or replaced by another sign-in, meanwhile: not this session's.
        .filter(|current| current.same_user(&session));
        match profile {
            Ok(profile) => {
                let mut current = current.ok_or(Error::NotSignedIn)?;
                current.profile = profile;
                store.save(&current, &lock).await?;
                let summary = current.summary();
                if let Some(memory) = guard.as_deref_mut() {
                    *memory = Some(current);
                }
                Ok(summary)
            }
            Err(error) => {
                tracing::warn!(%error, "userinfo cannot be trusted; ending the session");
                let mut revoke = vec![session];
                if let Some(current) = current {
                    if let Some(memory) = guard.as_deref_mut() {
                        *memory = None;
                    }
                    store.clear(&lock).await?;
                    revoke.push(current);
                }
                drop((guard, lock));
                self.revoke_all(revoke).await;
                Err(error)
            }
        }
    }

    /// Brings the session in memory up to date with the store, under the store's lock: the stored
    /// session wins (another process refreshed, signed out or signed in meanwhile), unless the one in
    /// memory is newer (its save failed), which is then saved. `None` (and nothing in memory) when the
    /// store holds no session of this app, or another user's.
    async fn reconcile(
        &self,
        guard: &mut Option<Session>,
        lock: &StoreLock,
    ) -> Result<Option<Session>> {
        let Some(memory) = guard.clone() else {
            return Ok(None);
        };
        let stored = self.store().load_locked(lock).await?;
        match stored {
            Some(stored) if stored.same_user(&memory) && self.belongs_here(&stored) => {
                if memory.is_newer_than(&stored) {
                    tracing::info!("saving tokens that an earlier save could not keep");
                    // With what a later version stored since (see `store::LaterFields`).
                    let mut memory = memory;
                    memory.later = stored.later;
                    self.save_durably(&memory, lock).await?;
                    *guard = Some(memory.clone());
                    return Ok(Some(memory));
                }
                if !stored.same_tokens(&memory) {
                    tracing::info!("another process changed the session; using its tokens");
                }
                *guard = Some(stored.clone());
                Ok(Some(stored))
            }
            Some(_) => {
                tracing::info!("another sign-in replaced this session");
                *guard = None;
                Ok(None)
            }
            None => {
                tracing::info!("another process ended the session");
                *guard = None;
                Ok(None)
            }
        }
    }

    /// Saves `session` in the store in memory, retrying for as long as the save patience allows.
    async fn save_durably(&self, session: &Session, lock: &StoreLock) -> Result<()> {
        self.save_durably_in(&self.store(), session, lock).await
    }

    /// Saves `session` in `store` (whose `lock` is held), retrying for as long as the save patience
    /// allows.
    async fn save_durably_in(
        &self,
        store: &SessionStore,
        session: &Session,
        lock: &StoreLock,
    ) -> Result<()> {
        let now = tokio::time::Instant::now();
        // A patience too long for a clock (`Duration::MAX`) is a century.
        let deadline = now
            .checked_add(self.save_patience)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        let mut wait = FIRST_SAVE_WAIT;
        loop {
            match store.save(session, lock).await {
                Ok(()) => return Ok(()),
                Err(error) if tokio::time::Instant::now() + wait <= deadline => {
                    tracing::warn!(%error, "the session could not be saved; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 3).min(MAX_SAVE_WAIT);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Revokes the tokens of `sessions` (each grant once), logging failures.
    async fn revoke_all(&self, sessions: Vec<Session>) {
        let mut revoked: Vec<Session> = Vec::new();
        for session in sessions {
            if revoked.iter().any(|r| r.same_grant(&session)) {
                continue;
            }
            if let Err(error) = self.client.revoke(&session).await {
                tracing::warn!(%error, "could not revoke the tokens");
            }
            self.revoke_unshared(&session).await;
            revoked.push(session);
        }
    }

    /// A valid access token, refreshed first if it expires within the refresh margin.
    pub async fn access_token(&self) -> Result<AccessToken> {
        Ok(self.fresh_session(Refresh::IfExpiring).await?.access_token)
    }

    /// Refreshes now, whatever the expiry (unless another process sharing the store just did).
    pub async fn refresh(&self) -> Result<SessionSummary> {
        Ok(self.fresh_session(Refresh::Always).await?.summary())
    }

    fn due(&self, session: &Session, when: &Refresh<'_>) -> bool {
        match when {
            Refresh::Always => true,
            Refresh::IfExpiring => session.needs_refresh(Utc::now(), self.refresh_margin),
            // Another caller may have refreshed while this one waited.
            Refresh::IfStill(rejected) => session.access_token.secret() == rejected.secret(),
        }
    }

    async fn fresh_session(&self, when: Refresh<'_>) -> Result<Session> {
        let mut guard = self.session.lock().await;
        let in_memory = guard.clone().ok_or(Error::NotSignedIn)?;
        if !self.due(&in_memory, &when) {
            return Ok(in_memory);
        }
        let lock = self.store().lock().await?;
        let current = self
            .reconcile(&mut guard, &lock)
            .await?
            .ok_or(Error::NotSignedIn)?;
        if !current.same_tokens(&in_memory) {
            // Another process refreshed: that counts as this refresh, unless its tokens are due again.
            let done = match when {
                Refresh::Always => true,
                ref other => !self.due(&current, other),
            };
            if done {
                return Ok(current);
            }
        }

        // The answer will hold the only valid refresh token: the store must be able to keep it, so it
        // is written once before asking (a full disk, a keystore that went away), and nothing is spent
        // when it cannot.
        self.store().save(&current, &lock).await?;
        let answer = match self.client.refresh_tokens(&current).await {
            Ok(answer) => answer,
            Err(error @ Error::SessionExpired(_)) => {
                tracing::info!(%error, "the session has ended");
                *guard = None;
                self.store().clear(&lock).await?;
                drop((lock, guard));
                self.revoke_unshared(&current).await;
                return Err(error);
            }
            Err(error) => {
                tracing::info!(%error, "refresh failed; the session is kept");
                return Err(error);
            }
        };
        // The provider has answered: the refresh token in `current` may be used up. Keep the new tokens
        // before anything else can fail.
        let unchecked = answer.session().clone();
        let answered_dpop =
            TokenType::from_token_type(answer.token_type()) == Some(TokenType::DPoP);
        *guard = Some(unchecked.clone());
        self.save_durably(&unchecked, &lock).await?;
        tracing::info!(expires_at = ?unchecked.expires_at, "tokens refreshed");

        match self.client.check_refresh(&current, answer).await {
            Ok(next) => {
                if next.id_token.as_ref().map(|t| t.to_string())
                    != unchecked.id_token.as_ref().map(|t| t.to_string())
                {
                    self.save_durably(&next, &lock).await?;
                }
                *guard = Some(next.clone());
                drop((lock, guard));
                if next.unshared.is_some() {
                    self.share_kept().await;
                } else if next.device_secret.is_some() {
                    self.share_rotated(&current, &next).await;
                }
                Ok(next)
            }
            Err(error @ Error::Network(_)) => {
                // No verdict on the ID token (its keys could not be fetched): the new tokens are kept
                // with the previous ID token, and the next refresh checks its ID token again. A
                // device secret the answer rotated is not shared unchecked: the group's apps sign in
                // through the browser until a later rotation or sign-in shares a new one.
                tracing::warn!(%error, "the refreshed ID token could not be checked; keeping the previous one");
                Ok(unchecked)
            }
            Err(error) => {
                tracing::info!(%error, "the refresh's answer was refused; ending the session");
                *guard = None;
                let cleared = self.store().clear(&lock).await;
                drop(lock);
                let mut refused = unchecked;
                if !answered_dpop {
                    refused.dpop_key = None; // the provider's tokens are not bound to the key
                }
                if let Some(secret) = refused.device_secret.take() {
                    self.client.revoke_device_secret_quietly(&secret).await;
                }
                self.revoke_all(vec![refused]).await;
                cleared?;
                Err(error)
            }
        }
    }

    /// Native SSO: a refresh answered a new device secret (checked with its new ID token). The
    /// share's item of this session's previous secret gets the new pair, in its place; a sign-in no
    /// longer shared (its item erased, or forgotten for newer ones) stays so. Either failure is
    /// logged: the group's apps then sign in through the browser.
    async fn share_rotated(&self, before: &Session, next: &Session) {
        let (Some(share), Some(item)) = (&self.sso, crate::sso::SsoItem::of(next)) else {
            return;
        };
        use crate::sso::Replaced;
        let replaced = match &before.shared_secret {
            Some(previous) => share.replace(previous, &item).await,
            None => Ok(Replaced::Nowhere),
        };
        match replaced {
            Ok(Replaced::Shared) => {
                tracing::info!("the SSO group's apps share the rotated device secret")
            }
            // A sign-out of all apps asked for it and could not revoke it yet: now, the provider
            // answered (this session ends with it, as the user asked).
            Ok(Replaced::Retired { asked: true }) => {
                match share.asked_to_revoke(self.client.config().issuer()).await {
                    Ok(asked) => self.revoke_asked(share, asked).await,
                    Err(error) => tracing::warn!(%error, "the SSO group's share could not be read"),
                }
            }
            Ok(Replaced::Retired { asked: false }) => tracing::info!(
                "the provider rotated a retired device secret; the new one is kept to be revoked"
            ),
            Ok(Replaced::Nowhere) => tracing::warn!(
                "the provider rotated the device secret of a sign-in the SSO group no longer shares; the new one is not shared"
            ),
            Err(error) => {
                tracing::warn!(%error, "the rotated device secret could not be shared")
            }
        }
    }

    /// A request for [`Auth::send`], on the engine's HTTP client (no redirects, timeouts).
    pub fn request(&self, method: reqwest::Method, url: url::Url) -> Result<reqwest::Request> {
        self.client
            .http()
            .reqwest()
            .request(method, url)
            .build()
            .map_err(|e| Error::Config(format!("the request could not be built: {e}")))
    }

    /// Sends `request` with the access token: `Authorization: Bearer <token>`, or for DPoP-bound
    /// tokens `Authorization: DPoP <token>` and a proof (answering the server's nonce challenge once).
    /// When the API answers 401 with a challenge for an invalid token (`error="invalid_token"`, or no
    /// error code: RFC 6750 §3), refreshes once and retries once (when the request body can be
    /// replayed). A 401 asking for a stronger sign-in (RFC 9470 `insufficient_user_authentication`)
    /// is [`Error::StepUpRequired`], the session untouched; any other 401 (`insufficient_scope`, no
    /// challenge) is returned as it is.
    pub async fn send(&self, request: reqwest::Request) -> Result<reqwest::Response> {
        let retry = request.try_clone();
        let session = self.fresh_session(Refresh::IfExpiring).await?;
        let response = step_up_refusal(self.execute(request, &session).await?)?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED
            || !challenge::asks_for_a_new_token(response.headers(), session.token_type().as_str())
        {
            return Ok(response);
        }
        let Some(retry) = retry else {
            return Ok(response);
        };
        tracing::info!("the API refused the access token; refreshing and retrying once");
        let session = self
            .fresh_session(Refresh::IfStill(&session.access_token))
            .await?;
        step_up_refusal(self.execute(retry, &session).await?)
    }

    /// Sends `request` with the session's access token: Bearer, or DPoP with a proof (through
    /// [`dpop::send_with_nonce_retry`], which answers the server's nonce challenge once).
    async fn execute(
        &self,
        request: reqwest::Request,
        session: &Session,
    ) -> Result<reqwest::Response> {
        let token = &session.access_token;
        let Some(key) = &session.dpop_key else {
            return self.transmit(request, token, None).await;
        };
        let url = request.url().clone();
        let spare = request.try_clone();
        let can_retry = spare.is_some();
        let mut requests = std::iter::once(request).chain(spare);
        dpop::send_with_nonce_retry(self.client.nonces(), &url, can_retry, || {
            let request = requests.next();
            async move {
                let request = request.ok_or_else(|| Error::protocol("no request left to send"))?;
                self.transmit(request, token, Some(key)).await
            }
        })
        .await
    }

    /// Sends `request` with `Authorization: Bearer <token>`, or with a key `Authorization: DPoP
    /// <token>` and a DPoP proof (for the server's latest nonce).
    async fn transmit(
        &self,
        mut request: reqwest::Request,
        token: &AccessToken,
        key: Option<&DpopKey>,
    ) -> Result<reqwest::Response> {
        let scheme = TokenType::bound_to_a_key(key.is_some());
        let mut value =
            reqwest::header::HeaderValue::from_str(&format!("{scheme} {}", token.secret()))
                .map_err(|_| Error::protocol("the access token is not a valid header value"))?;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert(reqwest::header::AUTHORIZATION, value);
        if let Some(key) = key {
            let nonce = self.client.nonces().get(request.url());
            let proof = key.proof(
                request.method().as_str(),
                request.url(),
                nonce.as_deref(),
                Some(token.secret()),
            )?;
            let proof = reqwest::header::HeaderValue::from_str(&proof)
                .map_err(|_| Error::protocol("the DPoP proof is not a valid header value"))?;
            request.headers_mut().insert(dpop::DPOP, proof);
        }
        self.client
            .http()
            .reqwest()
            .execute(request)
            .await
            .map_err(|e| {
                Error::Network(format!(
                    "cannot reach the API ({})",
                    crate::http::describe(&e)
                ))
            })
    }

    /// Signs out: the local session is removed at once; then the tokens are revoked and the
    /// end-session URL is built, as far as the provider can be reached.
    pub async fn sign_out(&self) -> Result<SignOut> {
        let task = self.sign_out_locally().await?;
        Ok(self.finish_sign_out(task).await)
    }

    /// The local half of sign-out: forgets the session in memory and on the device (every copy:
    /// set-aside ones and temporary files too). Returns the task that revokes its tokens
    /// ([`Auth::finish_sign_out`]), also when the device copy could not be erased (the task says so).
    /// [`Error::NotSignedIn`] when there was no session, in memory or stored. An app of a Native SSO
    /// group records the sign-out ([`crate::store::SIGNED_OUT`]): it does not sign itself in again
    /// with the group's shared sign-in at its next start ([`Auth::signed_out_on_purpose`]).
    pub async fn sign_out_locally(&self) -> Result<SignOutTask> {
        let mut guard = self.session.lock().await;
        let memory = guard.take();
        let store = self.store();
        let (stored, erased, another) = match store.lock().await {
            Ok(lock) => {
                // An unreadable stored session is set aside by the read, then erased with the rest.
                let stored = store.load_locked(&lock).await.ok().flatten();
                // With several accounts, the slot may hold another account by now (this one was
                // signed out elsewhere and the slot reused): that one is not this sign-out's.
                let another = self.accounts.is_some()
                    && matches!((&memory, &stored), (Some(m), Some(s)) if m.account() != s.account());
                if another {
                    (None, Ok(()), true)
                } else {
                    (stored, store.clear(&lock).await, false)
                }
            }
            Err(error) => (None, Err(error), false),
        };
        if self.client.config().sso_group().is_some() {
            self.record_sign_out(true).await;
        }
        let stored = stored.filter(|s| self.belongs_here(s));
        let (session, others) = match (memory, stored) {
            (Some(memory), Some(stored)) if stored.same_grant(&memory) => {
                // The stored copy has the latest tokens (another process may have refreshed).
                let latest = if memory.is_newer_than(&stored) {
                    memory
                } else {
                    stored
                };
                (latest, Vec::new())
            }
            (Some(memory), Some(stored)) => (memory, vec![stored]),
            (Some(session), None) | (None, Some(session)) => (session, Vec::new()),
            (None, None) => {
                erased?;
                return Err(Error::NotSignedIn);
            }
        };
        let erase_error = erased.err();
        if let (Some(accounts), None, false) = (&self.accounts, &erase_error, another) {
            // The account leaves the list (the default moves on); the others stay as they are.
            if let Err(error) = accounts.forget(&store, &session.account()).await {
                tracing::warn!(%error, "the account signed out is still listed");
            }
        }
        match &erase_error {
            Some(error) => {
                tracing::warn!(%error, "signed out, but the device copy could not be erased")
            }
            None => tracing::info!("signed out locally"),
        }
        Ok(SignOutTask {
            session,
            others,
            erase_error,
        })
    }

    /// The network half of sign-out: revokes the tokens and builds the end-session URL.
    pub async fn finish_sign_out(&self, task: SignOutTask) -> SignOut {
        self.finish_sign_out_to(task, None).await
    }

    /// Like [`Auth::finish_sign_out`], with the logout redirect URI of this sign-out (a loopback
    /// listener's exact URI) instead of the one stored with the session.
    pub async fn finish_sign_out_to(
        &self,
        task: SignOutTask,
        redirect: Option<&url::Url>,
    ) -> SignOut {
        let SignOutTask {
            session,
            others,
            erase_error,
        } = task;
        let end_session = self.client.end_session_request(&session, redirect).await;
        let revoked = self.client.revoke(&session).await;
        self.revoke_unshared(&session).await;
        self.revoke_all(others).await;
        let (end_session, error) = match (end_session, revoked) {
            (Ok(end_session), Ok(_)) => (end_session, None),
            (Ok(end_session), Err(e)) => (end_session, Some(e)),
            (Err(e), _) => (None, Some(e)),
        };
        SignOut {
            end_session,
            error,
            erase_error,
        }
    }
}

enum Refresh<'a> {
    Always,
    IfExpiring,
    IfStill(&'a AccessToken),
}

/// `response`, unless it is an API's RFC 9470 challenge for a stronger sign-in.
fn step_up_refusal(response: reqwest::Response) -> Result<reqwest::Response> {
    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
        if let Some(step_up) = crate::StepUp::from_headers(response.headers()) {
            tracing::info!(%step_up, "the API asks for a stronger sign-in");
            return Err(Error::StepUpRequired(step_up));
        }
    }
    Ok(response)
}
