//! A store that cannot be opened at start-up, in words a user can act on: what is wrong, what to do
//! (start or unlock the keyring, choose another `tokenStorage`, or start over with a fresh store), and
//! what "start over" would set aside. Never the backend's own message: that goes to the log.

use std::path::{Path, PathBuf};

use native_oidc::{Error, ErrorKind, Storage, TokenStorage};
use serde::Serialize;

use crate::{
    config::TOKEN_STORAGE,
    error::{AppError, Kind, Notice},
    store::AppStore,
};

/// What kind of storage problem: the stable name a UI branches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// `keystore_unavailable`: the system keyring does not answer, or is locked.
    KeystoreUnavailable,
    /// `store_unreadable`: a file of the store (or of an earlier version's) cannot be read.
    StoreUnreadable,
}

/// Why the app's store could not be opened, and what the user can do about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StorageProblem {
    /// The kind.
    pub kind: ProblemKind,
    /// What is wrong, in words.
    pub message: String,
    /// What the user can do, one sentence each.
    pub actions: Vec<String>,
    /// The config file where `tokenStorage` is set.
    pub config_file: PathBuf,
    /// What "start over" sets aside (none: starting over would not help, so it is not offered).
    pub set_aside: Option<PathBuf>,
}

/// Where opening the store went wrong.
#[derive(Clone, Debug)]
pub(crate) enum Stage {
    /// Opening the vault the setting asks for.
    Open,
    /// Reading the store file of version 0.1, at this path.
    Migrate(PathBuf),
    /// Reading the vault's entries (`place`: the file, for a file vault).
    Read {
        storage: Storage,
        place: Option<PathBuf>,
    },
    /// Setting this file aside to start over.
    SetAside(PathBuf),
}

/// True when `error` at `stage` means the system keystore cannot be used. The one place that reads the
/// engine's storage errors at start-up: only the keystore can fail the opening of a store set to
/// `keystore` (a file vault opens without any I/O), and only the keystore is read when it was chosen.
fn keystore_failed(stage: &Stage, setting: TokenStorage, _error: &Error) -> bool {
    match stage {
        Stage::Open => setting == TokenStorage::Keystore,
        Stage::Read { storage, .. } => *storage == Storage::Keystore,
        Stage::Migrate(_) | Stage::SetAside(_) => false,
    }
}

impl StorageProblem {
    /// The problem `error` at `stage` is for the app's store `store`. The engine's message is logged,
    /// never shown.
    pub(crate) fn new(store: &AppStore, stage: Stage, error: &Error) -> Self {
        tracing::warn!(%error, ?stage, "the session store cannot be opened");
        let config = store.config_file.display();
        if keystore_failed(&stage, store.storage, error) {
            let setting = if store.storage == TokenStorage::Keystore {
                format!(
                    "Or let the app keep your tokens in a file only you can read when the keyring \
                     is unavailable: set \"{key}\" to \"auto\" (or \"file\") in {config} \
                     (or the environment variable {env}), then restart the app.",
                    key = TOKEN_STORAGE.key,
                    env = TOKEN_STORAGE.env,
                )
            } else {
                format!(
                    "Or keep your tokens in a file only you can read: set \"{key}\" to \
                     \"file\" in {config} (or the environment variable {env}), then restart \
                     the app.",
                    key = TOKEN_STORAGE.key,
                    env = TOKEN_STORAGE.env,
                )
            };
            return Self {
                kind: ProblemKind::KeystoreUnavailable,
                message: "Your system keyring cannot be reached, or it is locked, so your session \
                          can be neither read nor saved."
                    .into(),
                actions: vec![
                    "Start or unlock your keyring (on Linux: GNOME Keyring, KWallet or KeePassXC; \
                     it may ask for your login password), then press Try again."
                        .into(),
                    setting,
                ],
                config_file: store.config_file.clone(),
                set_aside: None,
            };
        }
        // Another `tokenStorage` helps only with the vault's own file: any store reads that of 0.1.
        let other_storage = matches!(stage, Stage::Open | Stage::Read { .. });
        let (message, set_aside) = match stage {
            Stage::Migrate(path) => (
                format!(
                    "The session saved by an earlier version of this app ({}) cannot be read.",
                    path.display()
                ),
                Some(path),
            ),
            Stage::Read {
                place: Some(path), ..
            } => (
                format!("Your saved session ({}) cannot be read.", path.display()),
                Some(path),
            ),
            Stage::SetAside(path) => (
                format!(
                    "Your saved session ({}) cannot be read, and it could not be set aside either.",
                    path.display()
                ),
                Some(path),
            ),
            Stage::Open | Stage::Read { place: None, .. } => (
                format!(
                    "Your saved session (in {}) cannot be opened.",
                    store.data_dir.display()
                ),
                None,
            ),
        };
        let mut actions = Vec::new();
        if set_aside.is_some() {
            actions.push(
                "Start over: the unreadable file is set aside (renamed, not deleted) and you sign \
                 in again."
                    .to_string(),
            );
        }
        actions.push(
            "If it should be readable (its owner or permissions changed, the disk is full or \
             read-only), fix that, then press Try again."
                .to_string(),
        );
        if other_storage {
            actions.push(format!(
                "Or choose where tokens are kept: \"tokenStorage\" (\"auto\", \"keystore\" or \
                 \"file\") in {config}, then restart the app."
            ));
        }
        Self {
            kind: ProblemKind::StoreUnreadable,
            message,
            actions,
            config_file: store.config_file.clone(),
            set_aside,
        }
    }

    /// True when "start over" is offered.
    pub fn can_start_over(&self) -> bool {
        self.set_aside.is_some()
    }

    /// What the signed-out screen says after starting over, when something was set aside.
    pub fn started_over(aside: Option<&Path>) -> Option<Notice> {
        aside.map(|aside| {
            AppError::new(
                Kind::Engine(ErrorKind::Storage),
                format!(
                    "Your saved session could not be read; it was set aside as {} (kept, not \
                     deleted). Please sign in again.",
                    aside.display()
                ),
            )
        })
    }
}

impl From<&StorageProblem> for AppError {
    fn from(problem: &StorageProblem) -> Self {
        AppError::new(Kind::Engine(ErrorKind::Storage), problem.message.clone())
    }
}
