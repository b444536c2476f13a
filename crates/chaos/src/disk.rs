//! The full disk: the shared session's folder (and the other user's) on a small tmpfs, filled to the
//! last byte by a ballast file and emptied again. Mounting needs root; where the machine does not
//! allow it, the folder is a plain one and the in-process app's file store is wrapped in
//! [`FullDiskVault`], which fails writes with ENOSPC while the disk is "full" (the `signin` processes
//! then see no full disk: the run says so).

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use native_oidc::{Error, Result, Storage, Vault};

/// The folder of the session files.
pub struct Disk {
    dir: PathBuf,
    mounted: bool,
    full: Arc<AtomicBool>,
    /// Why the fallback is used, if it is.
    pub fallback: Option<String>,
}

impl Disk {
    /// A tmpfs of `size_kb` at `dir` where the machine allows it, else a plain folder.
    pub fn new(dir: &Path, size_kb: u64) -> Self {
        std::fs::create_dir_all(dir).expect("disk folder");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_kb}k,mode=0700"))
            .arg("tmpfs")
            .arg(dir)
            .output();
        let fallback = match output {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Some(e.to_string()),
        };
        Self {
            dir: dir.to_path_buf(),
            mounted: fallback.is_none(),
            full: Arc::new(AtomicBool::new(false)),
            fallback,
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn ballast(&self) -> PathBuf {
        self.dir.join("ballast")
    }

    /// Fills the disk: every write on it fails with ENOSPC until [`Disk::free`].
    pub fn fill(&self) {
        self.full.store(true, Ordering::SeqCst);
        if !self.mounted {
            return;
        }
        let Ok(mut file) = std::fs::File::create(self.ballast()) else {
            return;
        };
        let block = vec![0u8; 16 * 1024];
        while file.write_all(&block).is_ok() {}
        for size in [4096, 512, 64, 1] {
            while file.write_all(&block[..size]).is_ok() {}
        }
        let _ = file.sync_all();
    }

    /// Frees the disk.
    pub fn free(&self) {
        let _ = std::fs::remove_file(self.ballast());
        self.full.store(false, Ordering::SeqCst);
    }

    /// `vault`, failing writes while the disk is full when the folder is not a real small disk.
    pub fn wrap(&self, vault: Arc<dyn Vault>) -> Arc<dyn Vault> {
        if self.mounted {
            vault
        } else {
            Arc::new(FullDiskVault {
                inner: vault,
                full: self.full.clone(),
            })
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        self.free();
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
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
