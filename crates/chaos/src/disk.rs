//! The full disk: the shared session's folder (and the other user's) on a small tmpfs, filled to the
//! last byte by a ballast file and emptied again. Mounting needs root; where the machine does not
//! allow it, the folder is a plain one and the in-process app's file store is wrapped in
//! [`FullDiskVault`], which fails writes with ENOSPC while the disk is "full" (the `signin` processes
//! then see no full disk: the run says so).

use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use native_oidc::{Error, Result, Storage, Vault};
use testkit::SmallDisk;

/// The folder of the session files.
pub struct Disk {
    dir: std::path::PathBuf,
    mounted: Option<SmallDisk>,
    full: Arc<AtomicBool>,
    /// Why the fallback is used, if it is.
    pub fallback: Option<String>,
}

impl Disk {
    /// A tmpfs of `size_kb` at `dir` where the machine allows it, else a plain folder.
    pub fn new(dir: &Path, size_kb: u64) -> Self {
        std::fs::create_dir_all(dir).expect("disk folder");
        let (mounted, fallback) = match SmallDisk::mount(dir, size_kb) {
            Ok(disk) => (Some(disk), None),
            Err(why) => (None, Some(why)),
        };
        Self {
            dir: dir.to_path_buf(),
            mounted,
            full: Arc::new(AtomicBool::new(false)),
            fallback,
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Fills the disk: every write on it fails with ENOSPC until [`Disk::free`].
    pub fn fill(&self) {
        self.full.store(true, Ordering::SeqCst);
        if let Some(disk) = &self.mounted {
            disk.fill();
        }
    }

    /// Frees the disk.
    pub fn free(&self) {
        if let Some(disk) = &self.mounted {
            disk.free();
        }
        self.full.store(false, Ordering::SeqCst);
    }

    /// `vault`, failing writes while the disk is full when the folder is not a real small disk.
    pub fn wrap(&self, vault: Arc<dyn Vault>) -> Arc<dyn Vault> {
        if self.mounted.is_some() {
            vault
        } else {
            Arc::new(FullDiskVault {
                inner: vault,
                full: self.full.clone(),
            })
        }
    }
}

/// A vault whose writes fail with ENOSPC while the disk is "full" (the fallback where no tmpfs can be
/// mounted; a mock of the full disk, so the run says when it is used).
#[derive(Debug)]
pub struct FullDiskVault {
    inner: Arc<dyn Vault>,
    full: Arc<AtomicBool>,
}

impl FullDiskVault {
    fn check(&self) -> Result<()> {
        if self.full.load(Ordering::SeqCst) {
            let error = std::io::Error::from_raw_os_error(28);
            return Err(Error::Storage(format!(
                "cannot write the session file: {error}"
            )));
        }
        Ok(())
    }
}

impl Vault for FullDiskVault {
    fn storage(&self) -> Storage {
        self.inner.storage()
    }

    fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.inner.read(name)
    }

    fn write(&self, name: &str, value: &[u8]) -> Result<()> {
        self.check()?;
        self.inner.write(name, value)
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.inner.remove(name)
    }
}
