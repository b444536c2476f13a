//! A private D-Bus session bus for a test, with or without a real Secret Service on it (Debian's
//! `gnome-keyring`, unlocked with a known password, as on a headless machine).
//!
//! The bus starts no service on demand, so nothing outside the test (a desktop's keyring, portals)
//! takes part. Processes started with [`SessionBus::env`] talk to this bus only.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running private session bus (and Secret Service); stopped when dropped.
pub struct SessionBus {
    address: String,
    home: PathBuf,
    children: Vec<Child>,
}

impl SessionBus {
    /// A bus with nothing on it: no Secret Service answers.
    pub fn empty(dir: &Path) -> Self {
        let home = dir.join("home");
        let runtime = home.join(".run");
        std::fs::create_dir_all(&runtime).expect("bus home");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
                .expect("runtime dir");
        }
        let socket = dir.join("bus");
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .expect("bus config");
        let daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("dbus-daemon (Debian package dbus-daemon; make test installs it)");
        wait_until(&format!("the bus at {}", socket.display()), || {
            socket.exists()
        });
        Self {
            address: format!("unix:path={}", socket.display()),
            home,
            children: vec![daemon],
        }
    }

    /// A bus with a real Secret Service: `gnome-keyring-daemon`, its login keyring unlocked.
    pub fn with_secret_service(dir: &Path) -> Self {
        let mut bus = Self::empty(dir);
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(bus.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring; make test installs it)");
        keyring
            .stdin
            .take()
            .expect("keyring stdin")
            .write_all(b"pw")
            .expect("unlock the keyring");
        bus.children.push(keyring);
        wait_until("the Secret Service on the bus", || {
            bus.name_owned("org.freedesktop.secrets")
        });
        bus
    }

    /// True while a process owns `name` on this bus.
    pub fn name_owned(&self, name: &str) -> bool {
        Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{name}"))
            .envs(self.env())
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
    }

    /// `unix:path=…`
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The environment of a process on this bus: its address, and a HOME (with XDG folders) of the
    /// bus's own, where the keyring keeps its files.
    pub fn env(&self) -> Vec<(String, String)> {
        let home = self.home.display().to_string();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS".into(), self.address.clone()),
            ("HOME".into(), home.clone()),
            ("XDG_DATA_HOME".into(), format!("{home}/.local/share")),
            ("XDG_CONFIG_HOME".into(), format!("{home}/.config")),
            ("XDG_CACHE_HOME".into(), format!("{home}/.cache")),
            ("XDG_RUNTIME_DIR".into(), format!("{home}/.run")),
        ]
    }
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
