//! [`FileVault`]: secrets in files only the user can read, for a machine without a keystore.
//!
//! Each entry is one file: the session at the path given, any other entry `name` beside it as
//! `<stem>.<name>.json` (`session.json`, `session.pending.json`). A write goes to a new temporary file in
//! the same folder, opened with mode 0600 (never wider, whatever the umask), is fsynced, renamed over the
//! entry and the folder is fsynced: a crash leaves the old value or the new one, never a mix, and the
//! file is never merged with what was there. The folder is created 0700.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use super::{Storage, Vault, SESSION};
use crate::error::{Error, Result};

/// Secrets in files only the user can read (see the module docs).
#[derive(Debug, Clone)]
pub struct FileVault {
    path: PathBuf,
}

impl FileVault {
    /// A vault whose session lives at `path` (created on first write, with its folder).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The session file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file of entry `name`.
    pub fn entry_path(&self, name: &str) -> PathBuf {
        if name == SESSION {
            return self.path.clone();
        }
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| SESSION.to_string());
        self.path.with_file_name(format!("{stem}.{name}.json"))
    }

    fn error(&self, what: &str, path: &Path, error: std::io::Error) -> Error {
        Error::Storage(format!("cannot {what} {}: {error}", path.display()))
    }
}

/// Creates the folder of `path` with mode 0700 when it does not exist.
pub(crate) fn ensure_private_dir(path: &Path) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(&dir)
        .map_err(|e| Error::Storage(format!("cannot create the folder {}: {e}", dir.display())))?;
    Ok(dir)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A temporary file name no other writer uses (this process, a counter, the time).
fn temporary(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(
        ".{name}.tmp-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

impl Vault for FileVault {
    fn storage(&self) -> Storage {
        Storage::File
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.entry_path(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("read", &path, e)),
        }
    }

    fn write(&self, name: &str, value: &[u8]) -> Result<()> {
        let path = self.entry_path(name);
        let dir = ensure_private_dir(&path)?;
        let tmp = temporary(&path);
        let write = || -> std::io::Result<()> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(value)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            sync_dir(&dir)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.error("write", &path, e)
        })
    }

    fn remove(&self, name: &str) -> Result<()> {
        let path = self.entry_path(name);
        match fs::remove_file(&path) {
            Ok(()) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    sync_dir(dir).map_err(|e| self.error("sync the folder of", &path, e))?;
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.error("remove", &path, e)),
        }
    }

    /// Moves the entry's file (or whatever is in its place) to `<stem>.corrupt`, or, when an earlier
    /// copy is there, to `<stem>.corrupt.<n>`: a copy set aside is never replaced.
    fn set_aside(&self, name: &str) -> Result<String> {
        let path = self.entry_path(name);
        let first = path.with_extension("corrupt");
        let aside = (0..)
            .map(|n| match n {
                0 => first.clone(),
                n => PathBuf::from(format!("{}.{n}", first.display())),
            })
            .find(|candidate| fs::symlink_metadata(candidate).is_err())
            .unwrap_or(first);
        fs::rename(&path, &aside).map_err(|e| self.error("move aside", &path, e))?;
        Ok(aside.display().to_string())
    }

    /// Removes the set-aside copies of `name` and the temporary files of its writers that crashed
    /// between creating them and renaming them into place. A folder set aside is an error, not removed.
    fn remove_leftovers(&self, name: &str) -> Result<()> {
        let path = self.entry_path(name);
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let aside = path.with_extension("corrupt");
        let aside = aside.file_name().unwrap_or_default().to_string_lossy();
        let temporary = format!(
            ".{}.tmp-",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.error("list", dir, e)),
        };
        let leftovers = entries.filter_map(|entry| entry.ok()).filter(|entry| {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            file == aside || file.starts_with(&format!("{aside}.")) || file.starts_with(&temporary)
        });
        for leftover in leftovers {
            // A folder set aside (found in an entry's place) is not a copy this vault wrote: it is
            // reported, never deleted with whatever it holds.
            let path = leftover.path();
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.error("remove", &path, e)),
            }
        }
        sync_dir(dir).map_err(|e| self.error("sync the folder of", &path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_live_beside_the_session_file() {
        let vault = FileVault::new("/data/signin/session.json");
        assert_eq!(
            vault.entry_path("session"),
            Path::new("/data/signin/session.json")
        );
        assert_eq!(
            vault.entry_path("pending"),
            Path::new("/data/signin/session.pending.json")
        );
    }

    #[test]
    fn missing_entries_are_none_and_removing_them_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let vault = FileVault::new(dir.path().join("nested/session.json"));
        assert!(vault.read("session").unwrap().is_none());
        vault.remove("session").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_in_a_0700_folder_and_replaced_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let vault = FileVault::new(dir.path().join("vault/session.json"));
        vault
            .write("session", b"a much longer first value")
            .unwrap();
        vault.write("session", b"short").unwrap();
        assert_eq!(vault.read("session").unwrap().unwrap(), b"short");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("vault/session.json")), 0o600);
        assert_eq!(mode(&dir.path().join("vault")), 0o700);
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("vault"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["session.json"], "no temporary file is left");
    }
}
