//! Native SSO (OpenID Connect Native SSO for Mobile Apps 1.0, as Okta does it): one sign-in for all
//! of a vendor's apps on a device.
//!
//! An app configured with an SSO group ([`crate::Config::with_sso_group`]) asks for the `device_sso`
//! scope. The provider answers its sign-in with a `device_secret`, and the ID token carries its hash
//! (`ds_hash`, checked with the ID token like `at_hash`: a secret that does not match it is refused with
//! the whole answer). [`crate::Auth`] then leaves the ID token and the device secret in the group's
//! [`SsoShare`], one keystore item that every app of the group reads. Another app of the group, with
//! its own client id, finds it at start and exchanges it for its own tokens with no browser
//! ([`OidcClient::exchange_device_secret`]: RFC 8693 token exchange, the ID token as `subject_token`,
//! the device secret as `actor_token`). Signing out of all apps revokes the device secret
//! ([`OidcClient::revoke_device_secret`]): the provider then refuses every app's next exchange and
//! refresh.

use std::{path::Path, sync::Arc};

use chrono::{DateTime, Utc};
use openidconnect::{core::CoreIdToken, ClientId, IssuerUrl, SubjectIdentifier};
use serde::{Deserialize, Serialize};

use crate::{
    client::{OidcClient, TokenAnswer},
    dpop::DpopKey,
    error::{Error, Result},
    session::Session,
    store::{LaterFields, SessionStore, StoreLock, Vault},
};

/// The scope that asks for a device secret.
pub const DEVICE_SSO_SCOPE: &str = "device_sso";

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const DEVICE_SECRET_TYPE: &str = "urn:x-oath:params:oauth:token-type:device-secret";

/// The entry of the shared item in the group's store: the keystore account `sign-in` of the group's
/// service, or the file `<group>.sign-in.json`.
pub(crate) const ITEM: &str = "sign-in";

/// A device secret (Okta's `device_secret`): with the ID token it came with, it signs in any app of the
/// vendor. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceSecret(String);

impl DeviceSecret {
    /// The secret itself.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// A name for the secret that does not give it away (base64url of its SHA-256), kept with a
    /// session to find its item in the share.
    pub(crate) fn fingerprint(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&self.0))
    }
}

impl std::fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceSecret([redacted])")
    }
}

/// What a signed-in app leaves for the other apps of its group: the ID token and device secret of its
/// sign-in, and whose they are. Its `Debug` shows neither token.
#[derive(Clone, Serialize, Deserialize)]
pub struct SsoItem {
    /// The provider that issued them.
    pub issuer: IssuerUrl,
    /// The user they sign in.
    pub subject: SubjectIdentifier,
    /// When the sign-in that left them was made.
    pub saved_at: DateTime<Utc>,
    /// The client the device secret was issued to: the one that may revoke it (a provider lets a
    /// client revoke only its own tokens, as Okta does). `None` in an item an earlier version left.
    #[serde(default)]
    pub issued_to: Option<ClientId>,
    id_token: CoreIdToken,
    device_secret: DeviceSecret,
    #[serde(flatten)]
    later: LaterFields,
}

impl std::fmt::Debug for SsoItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoItem")
            .field("issuer", &self.issuer.as_str())
            .field("saved_at", &self.saved_at)
            .finish_non_exhaustive()
    }
}

impl SsoItem {
    /// The item of a session that came with a device secret.
    pub(crate) fn of(session: &Session) -> Option<Self> {
        Some(Self {
            issuer: session.issuer.clone(),
            subject: session.subject.clone(),
            saved_at: session.issued_at,
            issued_to: Some(session.client_id.clone()),
            id_token: session.id_token.as_deref()?.clone(),
            device_secret: session.device_secret.clone()?,
            later: LaterFields::default(),
        })
    }

    /// The device secret.
    pub fn device_secret(&self) -> &DeviceSecret {
        &self.device_secret
    }
}

/// How many sign-ins a share keeps (each app's browser sign-in leaves one).
pub const MAX_SHARED: usize = 8;

/// How many retired device secrets a share keeps for a later revocation.
const MAX_RETIRED: usize = 64;

/// What a share holds: the sign-ins the group's apps left, newest first, and the device secrets no
/// app signs in with any more that may still be live at the provider.
#[derive(Default, Serialize, Deserialize)]
struct Shared {
    items: Vec<SsoItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired: Vec<Retired>,
    #[serde(flatten)]
    later: LaterFields,
}

/// A device secret no app of the group signs in with any more, kept to be revoked: one forgotten for
/// newer sign-ins (the share was full) at the group's next sign-out of all apps, one that sign-out
/// could not revoke (`asked`) at every chance after it (an app of the group signing in, the next
/// sign-out of all apps), as the user asked.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Retired {
    pub(crate) issuer: IssuerUrl,
    pub(crate) issued_to: Option<ClientId>,
    pub(crate) device_secret: DeviceSecret,
    #[serde(default)]
    asked: bool,
    #[serde(flatten)]
    later: LaterFields,
}

impl Retired {
    /// `item`'s secret, retired. An item an earlier version left does not say which client the
    /// secret was issued to: its ID token does (its one audience), read without a check (this is only
    /// whom the revocation is asked as; the provider judges it).
    fn of(item: SsoItem, asked: bool) -> Self {
        let issued_to = item.issued_to.or_else(|| {
            let claims = crate::id_token::unverified_claims(&item.id_token)?;
            let audience = match &claims["aud"] {
                serde_json::Value::String(one) => Some(one.as_str()),
                serde_json::Value::Array(all) if all.len() == 1 => all[0].as_str(),
                _ => None,
            };
            audience.map(|aud| ClientId::new(aud.to_string()))
        });
        Self {
            issuer: item.issuer,
            issued_to,
            device_secret: item.device_secret,
            asked,
            later: LaterFields::default(),
        }
    }
}

impl Shared {
    /// Keeps `retired` for a later revocation (at most [`MAX_RETIRED`]: an older one beyond is
    /// forgotten, and lives at the provider until it expires).
    fn retire(&mut self, retired: Retired) {
        self.retired
            .retain(|kept| kept.device_secret != retired.device_secret);
        self.retired.insert(0, retired);
        if self.retired.len() > MAX_RETIRED {
            tracing::warn!(
                "the Native SSO share keeps too many device secrets to revoke; forgetting the oldest"
            );
            self.retired.truncate(MAX_RETIRED);
        }
    }

    /// The device secrets of `issuer` a sign-out of all apps asked to revoke and could not (yet).
    fn asked(&self, issuer: &IssuerUrl) -> Vec<Retired> {
        self.retired
            .iter()
            .filter(|retired| retired.asked && &retired.issuer == issuer)
            .cloned()
            .collect()
    }
}

/// The one item of an SSO group that all of the vendor's apps read and write: in the OS keystore
/// under the group's name (on iOS and macOS in the keychain access group of that name), or in a file
/// where there is none. Written under the store's cross-process lock, atomically.
#[derive(Clone, Debug)]
pub struct SsoShare {
    store: SessionStore,
}

impl SsoShare {
    /// The share in `store` (opened with [`crate::StoreOptions::open_shared`], the group's name as
    /// its service).
    pub fn new(store: SessionStore) -> Self {
        Self { store }
    }

    /// The share of SSO group `group`: in the keystore (`storage` permitting) under the group's name,
    /// else in the file `<data_dir>/native-sso/<group>.sign-in.json`, `data_dir` being the user's data folder
    /// (`~/.local/share` on Linux), where every app of the vendor finds it.
    ///
    /// On Android, [`crate::Error::Config`]: its keystore and data folder are each app's own, and a
    /// share between apps (a content provider guarded by a signature permission) is not built yet;
    /// a share there would hold this app's sign-in only, and look like Native SSO while being none.
    pub async fn open(group: &str, storage: crate::TokenStorage, data_dir: &Path) -> Result<Self> {
        if cfg!(target_os = "android") {
            return Err(Error::config(
                "Native SSO between apps is not available on Android yet (each app's keystore is \
                 its own): remove ssoGroup there; the app signs in through the browser",
            ));
        }
        let store = crate::StoreOptions {
            storage,
            file: data_dir.join("native-sso").join(format!("{group}.json")),
            service: group.to_string(),
            account_prefix: String::new(),
        }
        .open_shared()
        .await?;
        Ok(Self::new(store))
    }

    /// The share in `vault`, with no cross-process lock (tests, embedding).
    pub fn in_vault(vault: Arc<dyn Vault>) -> Self {
        Self::new(SessionStore::new(vault))
    }

    fn vault(&self) -> Arc<dyn Vault> {
        self.store.vault().clone()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let vault = self.vault();
        tokio::task::spawn_blocking(move || work(vault.as_ref()))
            .await
            .map_err(|e| Error::Storage(format!("the SSO share task failed: {e}")))?
    }

    /// What the share holds. Nothing when it cannot be read (written by a later version, damaged):
    /// it is removed, and the next sign-in of an app of the group shares again; the device secrets it
    /// held, and the retired ones, are then not revoked by a sign-out of all apps, and live at the
    /// provider until they expire. Call under the share's lock.
    fn read(vault: &dyn Vault) -> Result<Shared> {
        let Some(bytes) = vault.read(ITEM)? else {
            return Ok(Shared::default());
        };
        match serde_json::from_slice::<Shared>(&bytes) {
            Ok(shared) => Ok(shared),
            Err(error) => {
                tracing::warn!(%error, "the Native SSO share cannot be read; removing it");
                vault.remove(ITEM)?;
                Ok(Shared::default())
            }
        }
    }

    /// Writes what the share holds (removes it when empty). Call under the share's lock.
    fn write(vault: &dyn Vault, shared: &Shared) -> Result<()> {
        // Nothing this version knows of is left (a sign-out of all apps revoked it all): the share
        // goes, with what a later version kept in it, as every sign-out erases every copy.
        if shared.items.is_empty() && shared.retired.is_empty() {
            vault.remove(ITEM)?;
            return vault.remove_leftovers(ITEM);
        }
        let bytes = serde_json::to_vec(shared)
            .map_err(|e| Error::Storage(format!("cannot encode the Native SSO share: {e}")))?;
        vault.write(ITEM, &bytes)
    }

    /// What the share holds, read under its lock and handed to `look`.
    async fn inspect<T: Send + 'static>(
        &self,
        look: impl FnOnce(Shared) -> T + Send + 'static,
    ) -> Result<T> {
        let _lock: StoreLock = self.store.lock().await?;
        self.blocking(move |vault| Ok(look(Self::read(vault)?)))
            .await
    }

    /// Changes what the share holds: read under its lock, changed by `change`, written back under
    /// the same lock (atomically, by the vault), unless `change` says it changed nothing.
    async fn update<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Shared) -> Changed<T> + Send + 'static,
    ) -> Result<T> {
        let _lock: StoreLock = self.store.lock().await?;
        self.blocking(move |vault| {
            let mut shared = Self::read(vault)?;
            match change(&mut shared) {
                Changed::Yes(outcome) => {
                    Self::write(vault, &shared)?;
                    Ok(outcome)
                }
                Changed::No(outcome) => Ok(outcome),
            }
        })
        .await
    }

    /// The newest sign-in of `issuer` the group's apps left, if any.
    pub async fn load(&self, issuer: &IssuerUrl) -> Result<Option<SsoItem>> {
        Ok(self.load_all(issuer).await?.into_iter().next())
    }

    /// Every sign-in of `issuer` the group's apps left, newest first: each device secret is live at
    /// the provider until revoked, and an app of the group may have signed in with any of them.
    pub async fn load_all(&self, issuer: &IssuerUrl) -> Result<Vec<SsoItem>> {
        let issuer = issuer.clone();
        self.inspect(move |shared| {
            shared
                .items
                .into_iter()
                .filter(|item| item.issuer == issuer)
                .collect()
        })
        .await
    }

    /// Leaves `item` for the other apps, before the ones already there (at most [`MAX_SHARED`]
    /// are kept; an older one beyond is retired: no app signs in with it any more, and the group's
    /// next sign-out of all apps revokes it). Returns the device secrets of `item`'s provider an
    /// earlier sign-out of all apps asked to revoke and could not (read in the same round).
    pub(crate) async fn save(&self, item: &SsoItem) -> Result<Vec<Retired>> {
        let item = item.clone();
        self.update(move |shared| {
            shared
                .items
                .retain(|kept| kept.device_secret != item.device_secret);
            let issuer = item.issuer.clone();
            shared.items.insert(0, item);
            if shared.items.len() > MAX_SHARED {
                tracing::info!("the Native SSO share is full; retiring its oldest sign-in");
                for oldest in shared.items.split_off(MAX_SHARED) {
                    shared.retire(Retired::of(oldest, false));
                }
            }
            Changed::Yes(shared.asked(&issuer))
        })
        .await
    }

    /// Sign-out of all apps: every sign-in of `issuer` the share holds, and every device secret of
    /// it kept to be revoked, is retired as asked to be revoked (no app signs in with it again, even
    /// when its revocation fails or is cut short) and returned, to be revoked.
    pub(crate) async fn retire_all(&self, issuer: &IssuerUrl) -> Result<Vec<Retired>> {
        let issuer = issuer.clone();
        self.update(move |shared| {
            let (of_issuer, others): (Vec<_>, Vec<_>) = std::mem::take(&mut shared.items)
                .into_iter()
                .partition(|item| item.issuer == issuer);
            shared.items = others;
            for item in of_issuer {
                shared.retire(Retired::of(item, true));
            }
            for retired in &mut shared.retired {
                if retired.issuer == issuer {
                    retired.asked = true;
                }
            }
            Changed::Yes(shared.asked(&issuer))
        })
        .await
    }

    /// The device secrets of `issuer` a sign-out of all apps asked to revoke and could not.
    pub(crate) async fn asked_to_revoke(&self, issuer: &IssuerUrl) -> Result<Vec<Retired>> {
        let issuer = issuer.clone();
        self.inspect(move |shared| shared.asked(&issuer)).await
    }

    /// Forgets a retired device secret (revoked, or one the provider cannot revoke).
    pub(crate) async fn forget(&self, secret: &DeviceSecret) -> Result<()> {
        let secret = secret.clone();
        self.update(move |shared| {
            shared
                .retired
                .retain(|retired| retired.device_secret != secret);
            Changed::Yes(())
        })
        .await
    }

    /// Puts `item` in the place of the sign-in whose device secret has fingerprint `previous` (the
    /// secret rotated at a refresh): same place, so the newest sign-in stays first. A retired secret
    /// (the app still signed in with it) is replaced among the retired ones, so the revocation meant
    /// for it ends the live one. Nothing is written when neither holds it.
    pub(crate) async fn replace(&self, previous: &str, item: &SsoItem) -> Result<Replaced> {
        let previous = previous.to_string();
        let item = item.clone();
        self.update(move |shared| {
            let held = |secret: &DeviceSecret| secret.fingerprint() == previous;
            if let Some(place) = shared
                .items
                .iter()
                .position(|kept| held(&kept.device_secret))
            {
                shared.items[place] = item.clone();
                let mut index = 0;
                shared.items.retain(|kept| {
                    index += 1;
                    index - 1 == place || kept.device_secret != item.device_secret
                });
                Changed::Yes(Replaced::Shared)
            } else if let Some(retired) = shared
                .retired
                .iter_mut()
                .find(|retired| held(&retired.device_secret))
            {
                retired.device_secret = item.device_secret.clone();
                Changed::Yes(Replaced::Retired {
                    asked: retired.asked,
                })
            } else {
                Changed::No(Replaced::Nowhere)
            }
        })
        .await
    }
}

/// What a change to the share did to it ([`SsoShare::update`]): written back only when it changed.
enum Changed<T> {
    Yes(T),
    No(T),
}

/// Where [`SsoShare::replace`] put a rotated device secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replaced {
    /// In the place of the shared sign-in it rotated.
    Shared,
    /// Among the retired secrets, to be revoked; `asked`: a sign-out of all apps asked for it.
    Retired { asked: bool },
    /// Nowhere: the share no longer holds the sign-in it rotated.
    Nowhere,
}

/// What [`crate::Auth::end_shared_sign_in`] did.
#[derive(Debug)]
pub enum SharedSignOut {
    /// The share held no sign-in of this provider.
    NothingShared,
    /// Every device secret is revoked and removed from the share.
    Revoked,
    /// The device secrets are removed from the share (no app signs in with them again), but the
    /// provider did not revoke one: the apps signed in with it stay so until it is revoked or
    /// expires.
    NotRevoked {
        /// Why (the first failure).
        error: Error,
        /// Some are kept to be revoked (the provider could not be reached): tried again whenever an
        /// app of the group signs in or signs out of all apps. False when the provider refused, or
        /// has no revocation endpoint: nothing is tried again.
        kept: bool,
    },
}

impl OidcClient {
    /// Signs this app in with another app's sign-in (Native SSO): checks `item`'s ID token (this
    /// provider's, of `item`'s user, naming its device secret: else `invalid_id_token`, and nothing is
    /// sent), exchanges it and the device secret at the token endpoint for this client's own tokens,
    /// with DPoP when it is on, and checks the answer as a sign-in's (the token type; a valid ID
    /// token, of `item`'s user). The provider's refusal is its OAuth error (`invalid_grant` for a
    /// revoked or expired device secret).
    pub async fn exchange_device_secret(&self, item: &SsoItem) -> Result<Session> {
        let audience = self.config().sso_audience().ok_or_else(|| {
            Error::config("Native SSO needs an SSO group (setting ssoGroup) in the configuration")
        })?;
        let discovered = self.discovered().await?;
        let token_endpoint = discovered
            .provider
            .metadata()
            .token_endpoint()
            .ok_or_else(|| Error::protocol("the identity provider has no token endpoint"))?
            .url()
            .clone();
        let scopes: Vec<_> = self
            .config()
            .scopes()
            .iter()
            .filter(|s| s.as_str() != DEVICE_SSO_SCOPE)
            .cloned()
            .collect();
        let scope = scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // What another app left is checked before it is sent: a share whose ID token and secret do
        // not belong together (or to the user it names) is refused here, not by the provider.
        self.validator
            .validate_shared(
                &discovered.provider,
                self.http(),
                &item.id_token,
                &item.subject,
                &item.device_secret,
            )
            .await?;
        let dpop_key = self.config().dpop().then(DpopKey::generate).transpose()?;
        let id_token = item.id_token.to_string();
        let response = self
            .post_form(
                &token_endpoint,
                &[
                    ("grant_type", TOKEN_EXCHANGE),
                    ("client_id", self.config().client_id().as_str()),
                    ("subject_token", &id_token),
                    ("subject_token_type", ID_TOKEN_TYPE),
                    ("actor_token", item.device_secret.secret()),
                    ("actor_token_type", DEVICE_SECRET_TYPE),
                    ("audience", audience),
                    ("scope", &scope),
                ],
                dpop_key.as_ref(),
                "the token exchange",
            )
            .await?;
        let answer: TokenAnswer = serde_json::from_slice(response.body()).map_err(|e| {
            Error::protocol(format!(
                "the identity provider's token exchange answer could not be read (at `{}`)",
                e.line()
            ))
        })?;
        let subject = &item.subject;
        let shared = Some(&item.device_secret);
        self.accept_answer(
            &discovered.provider,
            &answer,
            dpop_key,
            scopes,
            shared,
            |claims| {
                if claims.subject() == subject {
                    Ok(())
                } else {
                    Err(Error::InvalidIdToken(
                        "the token exchange answered for another user than the shared sign-in's"
                            .into(),
                    ))
                }
            },
        )
        .await
        .map(|mut session| {
            // The group's own secret sent back: it is shared already, and not this app's alone.
            if session.device_secret.as_ref() == Some(&item.device_secret) {
                session.device_secret = None;
            }
            session
        })
    }

    /// [`OidcClient::revoke_device_secret`] of a secret issued to this client that no other app
    /// holds (one in a refused answer, or one the group's share never took): best effort, a failure
    /// logged.
    pub(crate) async fn revoke_device_secret_quietly(&self, secret: &DeviceSecret) {
        let client_id = self.config().client_id().clone();
        if let Err(error) = self.revoke_device_secret(secret, &client_id).await {
            tracing::warn!(%error, "could not revoke a device secret no other app holds");
        }
    }

    /// Revokes a device secret (`token_type_hint=device_secret`, as Okta takes it), as the client it
    /// was issued to (`issued_to`: a provider lets a client revoke only its own tokens; the group's
    /// apps are public clients of one vendor): the provider then refuses it to every app, and ends
    /// the sessions signed in with it. False when the provider has no revocation endpoint.
    pub async fn revoke_device_secret(
        &self,
        secret: &DeviceSecret,
        issued_to: &ClientId,
    ) -> Result<bool> {
        let provider = self.provider().await?;
        let Some(url) = provider.extra().revocation_endpoint.clone() else {
            return Ok(false);
        };
        self.post_form(
            url.url(),
            &[
                ("token", secret.secret()),
                ("token_type_hint", "device_secret"),
                ("client_id", issued_to.as_str()),
            ],
            None,
            "the revocation",
        )
        .await?;
        Ok(true)
    }
}

/// What the fuzz target `sso_share` checks of a share it read.
#[cfg(feature = "fuzzing")]
#[derive(Debug)]
pub struct SharedRead {
    /// The share serialised again.
    pub serialised: Vec<u8>,
    /// For each item: the client it names as its secret's (`issued_to`), and the one its secret
    /// would be revoked as.
    pub revoked_as: Vec<(Option<String>, Option<String>)>,
    /// Each item's `Debug`, and beside it (in `secrets`) its device secret.
    pub shown: Vec<String>,
    /// The items' device secrets.
    pub secrets: Vec<String>,
}

/// The share parsed, serialised again, and each item retired as a sign-out of all apps would.
#[cfg(feature = "fuzzing")]
pub(crate) fn share_round_trip(bytes: &[u8]) -> Option<SharedRead> {
    let shared = serde_json::from_slice::<Shared>(bytes).ok()?;
    let serialised = serde_json::to_vec(&shared).ok()?;
    let shown = shared
        .items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect();
    let secrets = shared
        .items
        .iter()
        .map(|item| item.device_secret.secret().to_string())
        .collect();
    let revoked_as = shared
        .items
        .into_iter()
        .map(|item| {
            let issued_to = item.issued_to.as_ref().map(|c| c.to_string());
            let retired = Retired::of(item, true);
            (issued_to, retired.issued_to.map(|c| c.to_string()))
        })
        .collect();
    Some(SharedRead {
        serialised,
        revoked_as,
        shown,
        secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sign-in of `issuer` with device secret `secret` (an unsigned ID token: the share does not
    /// check it).
    fn item(issuer: &str, secret: &str) -> SsoItem {
        use base64::Engine;
        let part = |json: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
        };
        let jwt = format!(
            "{}.{}.c2ln",
            part(serde_json::json!({ "alg": "RS256" })),
            part(serde_json::json!({
                "iss": issuer, "sub": "u", "aud": "the-app", "exp": 2_000_000_000, "iat": 1_000_000_000
            }))
        );
        SsoItem {
            issuer: IssuerUrl::new(issuer.into()).unwrap(),
            subject: SubjectIdentifier::new("u".into()),
            saved_at: Utc::now(),
            issued_to: Some(ClientId::new("the-client".into())),
            id_token: serde_json::from_value(serde_json::Value::String(jwt)).unwrap(),
            device_secret: DeviceSecret(secret.into()),
            later: LaterFields::default(),
        }
    }

    fn secrets(retired: &[Retired]) -> Vec<&str> {
        retired.iter().map(|r| r.device_secret.secret()).collect()
    }

    #[tokio::test]
    async fn a_full_share_retires_its_oldest_sign_in_and_sign_out_of_all_apps_takes_every_one() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(crate::store::FileVault::new(dir.path().join("share.json")));
        let share = SsoShare::in_vault(vault);
        let (here, there) = ("https://idp.example/", "https://other.example/");
        for n in 0..=MAX_SHARED {
            let asked = share.save(&item(here, &format!("s{n}"))).await.unwrap();
            assert!(asked.is_empty(), "no sign-out of all apps asked for any");
        }
        share.save(&item(there, "elsewhere")).await.unwrap();
        let issuer = IssuerUrl::new(here.into()).unwrap();
        let shared = share.load_all(&issuer).await.unwrap();
        assert_eq!(
            shared.len(),
            MAX_SHARED - 1,
            "the other issuer's takes a place"
        );
        assert_eq!(shared[0].device_secret.secret(), format!("s{MAX_SHARED}"));
        // Forgotten for sign-ins, not asked to be revoked yet.
        assert!(share.asked_to_revoke(&issuer).await.unwrap().is_empty());

        // Sign-out of all apps: every secret of the issuer, the retired ones too, and nothing of
        // the other issuer; none is offered for a sign-in any more.
        let mut all = share.retire_all(&issuer).await.unwrap();
        all.sort_by(|a, b| a.device_secret.secret().cmp(b.device_secret.secret()));
        let expected: Vec<String> = (0..=MAX_SHARED).map(|n| format!("s{n}")).collect();
        assert_eq!(secrets(&all), expected);
        assert!(share.load_all(&issuer).await.unwrap().is_empty());
        assert_eq!(
            share.asked_to_revoke(&issuer).await.unwrap().len(),
            all.len()
        );
        let there = IssuerUrl::new(there.into()).unwrap();
        assert_eq!(share.load_all(&there).await.unwrap().len(), 1);
        assert!(share.asked_to_revoke(&there).await.unwrap().is_empty());
        // A sign-in of the other issuer is told of none of them; one of this issuer, of all.
        assert!(share
            .save(&item(there.as_str(), "more"))
            .await
            .unwrap()
            .is_empty());
        let told = share.save(&item(here, "after")).await.unwrap();
        assert_eq!(told.len(), all.len());
        let issuer_only = share.retire_all(&issuer).await.unwrap();
        assert_eq!(issuer_only.len(), all.len() + 1, "the new sign-in too");
        share.forget(&DeviceSecret("after".into())).await.unwrap();

        // An app still signed in with one refreshes, and the provider rotates it: the new secret
        // takes its place among the ones to revoke.
        let rotated = item(here, "s3-rotated");
        let previous = DeviceSecret("s3".into()).fingerprint();
        assert_eq!(
            share.replace(&previous, &rotated).await.unwrap(),
            Replaced::Retired { asked: true }
        );
        let asked = share.asked_to_revoke(&issuer).await.unwrap();
        assert!(secrets(&asked).contains(&"s3-rotated"));
        assert!(!secrets(&asked).contains(&"s3"));
        assert_eq!(
            share.replace("unknown", &rotated).await.unwrap(),
            Replaced::Nowhere
        );

        // Each one revoked is forgotten.
        for retired in &asked {
            share.forget(&retired.device_secret).await.unwrap();
        }
        assert!(share.asked_to_revoke(&issuer).await.unwrap().is_empty());
    }

    /// Several writers at once, each with its own handle on the share (its own lock file
    /// descriptor, as separate processes have), sign in and sign out of all apps in a random order:
    /// no device secret is lost or doubled. `SSO_SEED=N` replays an order.
    #[test]
    fn concurrent_writers_lose_no_device_secret() {
        const WRITERS: u64 = 6;
        const ROUNDS: u64 = 10;
        let seed = std::env::var("SSO_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                let mut bytes = [0; 8];
                getrandom::fill(&mut bytes).unwrap();
                u64::from_le_bytes(bytes) | 1
            });
        eprintln!("seed {seed} (replay: SSO_SEED={seed})");
        let dir = tempfile::tempdir().unwrap();
        let issuer = "https://idp.example/";
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let data = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async move {
                        let share =
                            SsoShare::open("com.example.group", crate::TokenStorage::File, &data)
                                .await
                                .unwrap();
                        let issuer = IssuerUrl::new(issuer.into()).unwrap();
                        let mut state = seed.wrapping_mul(writer + 1) | 1;
                        let (mut saved, mut revoked) = (Vec::new(), Vec::new());
                        for round in 0..ROUNDS {
                            state ^= state << 13;
                            state ^= state >> 7;
                            state ^= state << 17;
                            if state.is_multiple_of(4) {
                                // Sign-out of all apps: what it takes is revoked, then forgotten.
                                for retired in share.retire_all(&issuer).await.unwrap() {
                                    share.forget(&retired.device_secret).await.unwrap();
                                    revoked.push(retired.device_secret.secret().to_string());
                                }
                            } else {
                                let secret = format!("w{writer}-{round}");
                                share.save(&item(issuer.as_str(), &secret)).await.unwrap();
                                saved.push(secret);
                            }
                            if state.is_multiple_of(3) {
                                std::thread::yield_now();
                            }
                        }
                        (saved, revoked)
                    })
                })
            })
            .collect();
        let (mut saved, mut revoked) = (Vec::new(), Vec::new());
        for writer in writers {
            let (s, r) = writer.join().unwrap();
            saved.extend(s);
            revoked.extend(r);
        }
        let share = SsoShare::in_vault(Arc::new(crate::store::FileVault::new(
            dir.path().join("native-sso").join("com.example.group.json"),
        )));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let issuer = IssuerUrl::new(issuer.into()).unwrap();
        let (items, retired) = runtime.block_on(async {
            let items = share.load_all(&issuer).await.unwrap();
            let retired = share.retire_all(&issuer).await.unwrap();
            (items, retired)
        });
        // Everything left is retired now: the items and the older ones retired for lack of room.
        // (Two sign-outs at once may both revoke a secret: revocation is idempotent.)
        use std::collections::BTreeSet;
        assert!(items.len() <= MAX_SHARED);
        let left: Vec<String> = secrets(&retired).iter().map(|s| s.to_string()).collect();
        let kept: BTreeSet<String> = left.iter().cloned().collect();
        assert_eq!(kept.len(), left.len(), "seed {seed}: a secret kept twice");
        let revoked: BTreeSet<String> = revoked.into_iter().collect();
        assert!(
            kept.is_disjoint(&revoked),
            "seed {seed}: a forgotten secret came back"
        );
        let saved: BTreeSet<String> = saved.into_iter().collect();
        let accounted: BTreeSet<String> = kept.union(&revoked).cloned().collect();
        assert_eq!(accounted, saved, "seed {seed}: a device secret was lost");
        assert!(left.len() <= MAX_RETIRED, "seed {seed}");
    }

    #[test]
    fn the_fuzz_target_s_seeds_are_shares() {
        let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/sso_share");
        let mut read = 0;
        for seed in std::fs::read_dir(seeds).unwrap() {
            let bytes = std::fs::read(seed.unwrap().path()).unwrap();
            let shared: Shared = serde_json::from_slice(&bytes).unwrap();
            assert!(!shared.items.is_empty());
            read += 1;
        }
        assert!(read >= 3);
    }

    #[tokio::test]
    async fn a_secret_an_earlier_version_shared_is_revoked_as_its_id_token_audience() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(crate::store::FileVault::new(dir.path().join("share.json")));
        let share = SsoShare::in_vault(vault);
        let here = "https://idp.example/";
        let mut old = item(here, "old");
        old.issued_to = None;
        share.save(&old).await.unwrap();
        share.save(&item(here, "new")).await.unwrap();
        let issuer = IssuerUrl::new(here.into()).unwrap();
        let retired = share.retire_all(&issuer).await.unwrap();
        let issued_to = |secret: &str| {
            retired
                .iter()
                .find(|r| r.device_secret.secret() == secret)
                .and_then(|r| r.issued_to.clone())
                .map(|c| c.as_str().to_string())
        };
        assert_eq!(issued_to("old").as_deref(), Some("the-app"), "its aud");
        assert_eq!(
            issued_to("new").as_deref(),
            Some("the-client"),
            "as recorded"
        );
    }

    #[tokio::test]
    async fn what_a_later_version_wrote_into_the_share_is_kept_when_this_one_rewrites_it() {
        let dir = tempfile::tempdir().unwrap();
        let vault = crate::store::FileVault::new(dir.path().join("share.json"));
        let path = vault.entry_path(ITEM);
        let share = SsoShare::in_vault(Arc::new(vault));
        let here = "https://idp.example/";
        share.save(&item(here, "theirs")).await.unwrap();
        // A later version adds a field to the share and one to its sign-in.
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).expect("the share is JSON");
        json["to_revoke_v9"] = serde_json::json!([{ "secret": "kept-for-later" }]);
        json["items"][0]["bound_to_v9"] = "hardware".into();
        std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();

        share.save(&item(here, "ours")).await.unwrap();
        let issuer = IssuerUrl::new(here.into()).unwrap();
        let written = || -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
        };
        let after = written();
        assert_eq!(after["to_revoke_v9"], json["to_revoke_v9"]);
        assert_eq!(after["items"][1]["device_secret"], "theirs");
        assert_eq!(after["items"][1]["bound_to_v9"], "hardware");
        assert!(
            after["items"][0].get("bound_to_v9").is_none(),
            "ours is ours"
        );

        // Sign-out of all apps takes every sign-in; kept to be revoked, they keep the share as it
        // is. Once revoked and forgotten, the share is erased, what a later version kept included.
        let retired = share.retire_all(&issuer).await.unwrap();
        assert_eq!(retired.len(), 2);
        assert_eq!(written()["to_revoke_v9"], json["to_revoke_v9"]);
        for retired in &retired {
            share.forget(&retired.device_secret).await.unwrap();
        }
        assert!(!path.exists(), "erased");
    }

    #[test]
    fn a_device_secret_is_never_shown() {
        let secret = DeviceSecret("secret".into());
        assert_eq!(format!("{secret:?}"), "DeviceSecret([redacted])");
    }
}
