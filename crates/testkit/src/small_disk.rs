//! [`SmallDisk`]: a real full disk for tests. A small tmpfs mounted on a test's folder and filled to the
//! last byte by a ballast file, so every write in it fails with ENOSPC as on a full disk, until it is
//! freed. Mounting needs root (CI's machine runs as root); elsewhere [`SmallDisk::mount`] says why not.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

/// A tmpfs mounted on a folder, unmounted on drop.
#[derive(Debug)]
pub struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size_kb` on `dir` (created if needed; what it held is hidden until the
    /// unmount). `Err` says why the machine does not allow it.
    pub fn mount(dir: &Path, size_kb: u64) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size_kb}k,mode=0700"))
            .arg("tmpfs")
            .arg(dir)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cannot mount a tmpfs (it needs root): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn ballast(&self) -> PathBuf {
        self.dir.join("ballast")
    }

    /// Fills the disk: every write in it fails with ENOSPC until [`SmallDisk::free`].
    pub fn fill(&self) {
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
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
