//! Where a [`Session`] lives between runs.
//!
//! [`SessionStore`] is the seam: the Tauri app implements it over tauri-plugin-store, the CLI uses
//! [`FileStore`], which writes atomically (temporary file, fsync, rename) with permissions 0600 and
//! moves an unreadable file aside instead of destroying it.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
};

use crate::{
    error::{Error, Result},
    session::Session,
};

/// Loads, saves and clears the one session of an app.
pub trait SessionStore: Send + Sync {
    /// The stored session, if any.
    fn load(&self) -> Result<Option<Session>>;
    /// Replaces the stored session. Must be durable when it returns (a rotated refresh token
    /// that is lost ends the session).
    fn save(&self, session: &Session) -> Result<()>;
    /// Removes the stored session.
    fn clear(&self) -> Result<()>;
}

/// A store that keeps the session in memory only (nothing survives the process).
#[derive(Debug, Default)]
pub struct MemoryStore {
    session: Mutex<Option<Session>>,
}

impl SessionStore for MemoryStore {
    fn load(&self) -> Result<Option<Session>> {
        Ok(self.session.lock().map_err(poisoned)?.clone())
    }

    fn save(&self, session: &Session) -> Result<()> {
        *self.session.lock().map_err(poisoned)? = Some(session.clone());
        Ok(())
    }

    fn clear(&self) -> Result<()> {
        *self.session.lock().map_err(poisoned)? = None;
        Ok(())
    }
}

fn poisoned<T>(_: T) -> Error {
    Error::Storage("the in-memory store was poisoned by a panic".into())
}

/// A JSON file, written atomically with permissions 0600.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store at `path` (created on first save, with its folder).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn storage_error(&self, what: &str, error: std::io::Error) -> Error {
        Error::Storage(format!("cannot {what} {}: {error}", self.path.display()))
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> Result<Option<Session>> {
        let text = match fs::read(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.storage_error("read", e)),
        };
        match serde_json::from_slice(&text) {
            Ok(session) => Ok(Some(session)),
            Err(parse_error) => {
                // Keep the damaged file for inspection; the next load starts clean.
                let aside = self.path.with_extension("corrupt");
                fs::rename(&self.path, &aside)
                    .map_err(|e| self.storage_error("move aside the unreadable", e))?;
                Err(Error::Storage(format!(
                    "the stored session in {} could not be read ({}); it was moved to {}",
                    self.path.display(),
                    parse_error.classify_name(),
                    aside.display()
                )))
            }
        }
    }

    fn save(&self, session: &Session) -> Result<()> {
        let json = serde_json::to_vec_pretty(session)
            .map_err(|e| Error::Storage(format!("cannot encode the session: {e}")))?;
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.storage_error("create the folder of", e))?;
        let tmp = self
            .path
            .with_extension(format!("tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            #[cfg(unix)]
            if let Ok(dir) = fs::File::open(dir) {
                let _ = dir.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.storage_error("write", e)
        })
    }

    fn clear(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.storage_error("remove", e)),
        }
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected content",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_no_session_and_clear_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("nested/session.json"));
        assert!(store.load().unwrap().is_none());
        store.clear().unwrap();
    }

    #[test]
    fn corrupted_file_is_a_storage_error_and_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let secret_looking = r#"{"access_token": "eyJsecretvalue", "issuer": 5"#;
        fs::write(&path, secret_looking).unwrap();
        let store = FileStore::new(&path);
        let error = store.load().unwrap_err();
        assert_eq!(error.kind(), "storage");
        assert!(!error.to_string().contains("eyJsecretvalue"));
        assert!(error.to_string().contains("session.corrupt"), "{error}");
        assert_eq!(
            fs::read_to_string(dir.path().join("session.corrupt")).unwrap(),
            secret_looking,
            "nothing is lost"
        );
        assert!(
            store.load().unwrap().is_none(),
            "the next load starts clean"
        );
    }
}
