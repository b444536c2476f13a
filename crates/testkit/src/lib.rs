//! Test helpers shared by the crates' integration tests.
//!
//! - [`Idp`] starts the real local identity provider (`dev/idp`, Node) on a free port and stops it on drop.
//! - [`Browser`] is a cookie-keeping HTTP client that does what a person in a browser does on the
//!   identity provider's pages: fill in the login form (or press Cancel), type the second-factor
//!   code, confirm a device activation, and submit the auto-submitting sign-out form. It stops at the
//!   first redirect to a non-http scheme (the app's custom scheme).
//!
//! - [`SessionBus`] is a private D-Bus session bus, with a real Secret Service (gnome-keyring) on it
//!   (unlocked, or locked with no way to unlock it) or nothing, for tests of the OS keystore.
//!
//! - [`SmallDisk`] is a small tmpfs that can be filled: a real full disk.
//!
//! The binary `testkit-browser` wraps [`Browser`] for tests of programs that open a browser command.

mod browser;
mod idp;
mod session_bus;
mod small_disk;

pub use browser::{Browser, LoginAction, Outcome, DEV_OTP_CODE};
pub use idp::{token_hash, Idp, IdpOptions, TokenEvent, CLIENT_ID};
pub use session_bus::{SecretItem, SessionBus};
pub use small_disk::SmallDisk;

/// Every file under `dir`, in its folders too.
pub fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                stack.push(entry.path());
            }
        } else {
            found.push(path);
        }
    }
    found
}

/// Every file under `dir` whose bytes contain `needle` (to prove a secret is nowhere in plaintext).
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|path| {
            std::fs::read(path).is_ok_and(|bytes| {
                bytes
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())
            })
        })
        .map(|path| path.display().to_string())
        .collect()
}
