//! A private D-Bus session bus for a test, with or without a real Secret Service on it (Debian's
//! `gnome-keyring`, unlocked with a known password as on a headless machine, or locked with no prompt
//! to unlock it).
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
    keyring: Option<Child>,
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
            keyring: None,
        }
    }

    /// A bus with a real Secret Service: `gnome-keyring-daemon`, its login keyring unlocked.
    pub fn with_secret_service(dir: &Path) -> Self {
        let mut bus = Self::empty(dir);
        bus.start_secret_service();
        bus
    }

    /// Starts the Secret Service (again): its items, kept in the bus's HOME, are back once it answers.
    pub fn start_secret_service(&mut self) {
        assert!(self.keyring.is_none(), "the Secret Service is running");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(self.env())
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
        self.keyring = Some(keyring);
        wait_until("the Secret Service on the bus", || {
            self.name_owned("org.freedesktop.secrets")
        });
    }

    /// A bus whose Secret Service answers but cannot store: gnome-keyring started without the password
    /// that unlocks (here: creates) its login keyring, and no prompter to ask for it, as on a headless
    /// or remote desktop, or after the user dismissed the prompt. Reads find nothing; writes fail.
    pub fn with_locked_secret_service(dir: &Path) -> Self {
        let mut bus = Self::empty(dir);
        let keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--components=secrets"])
            .envs(bus.env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (Debian package gnome-keyring; make test installs it)");
        bus.keyring = Some(keyring);
        wait_until("the Secret Service on the bus", || {
            bus.name_owned("org.freedesktop.secrets")
        });
        bus
    }

    /// Stops the Secret Service (SIGTERM, as a session ending does) and waits until it is gone from
    /// the bus: every keystore request fails until [`SessionBus::start_secret_service`].
    pub fn stop_secret_service(&mut self) {
        let Some(mut keyring) = self.keyring.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &keyring.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while keyring.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = keyring.kill();
        let _ = keyring.wait();
        wait_until("the Secret Service to leave the bus", || {
            !self.name_owned("org.freedesktop.secrets")
        });
    }

    /// True while the Secret Service started by this bus runs.
    pub fn secret_service_running(&self) -> bool {
        self.keyring.is_some()
    }

    /// Every item of the Secret Service whose attributes include `attributes`, through `secret-tool
    /// search --all` (what any program on the bus can see). `None` when `secret-tool` fails (no
    /// Secret Service answers), or could not give every item's secret (it then says why, leaves the
    /// item's secret out, and still exits 0: a listing that would show an item as emptied).
    pub fn secret_items(&self, attributes: &[(&str, &str)]) -> Option<Vec<SecretItem>> {
        // secret-tool prints each item's attributes on standard error, the rest on standard output:
        // one stream keeps them together.
        let output = Command::new("sh")
            .args([
                "-c",
                "exec secret-tool search --all --unlock \"$@\" 2>&1",
                "sh",
            ])
            .args(attributes.iter().flat_map(|(k, v)| [*k, *v]))
            .envs(self.env())
            .stdin(Stdio::null())
            .output()
            .expect("sh");
        if !output.status.success() {
            // secret-tool exits 1 with nothing printed when no item matches.
            return output.stdout.is_empty().then(Vec::new);
        }
        SecretItem::parse_search(&String::from_utf8_lossy(&output.stdout))
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

/// One item listed by `secret-tool search --all`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretItem {
    /// Its attributes (`service`, `username`, …).
    pub attributes: Vec<(String, String)>,
    /// Its secret, as `secret-tool` prints it (text).
    pub secret: String,
}

impl SecretItem {
    /// The value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `secret-tool search`'s output: `None` when it reported an error or an item came without its
    /// secret.
    fn parse_search(text: &str) -> Option<Vec<SecretItem>> {
        let mut items = Vec::new();
        // Each item, and whether its secret was printed.
        let mut item: Option<(SecretItem, bool)> = None;
        for line in text.lines() {
            if line.starts_with("secret-tool: ") {
                return None;
            }
            if line.starts_with('[') && line.ends_with(']') {
                items.extend(item.take());
                item = Some((SecretItem::default(), false));
            } else if let (Some((current, has_secret)), Some((key, value))) =
                (item.as_mut(), line.split_once(" = "))
            {
                if let Some(name) = key.strip_prefix("attribute.") {
                    current
                        .attributes
                        .push((name.to_string(), value.to_string()));
                } else if key == "secret" {
                    current.secret = value.to_string();
                    *has_secret = true;
                }
            }
        }
        items.extend(item);
        items
            .into_iter()
            .map(|(item, has_secret)| has_secret.then_some(item))
            .collect()
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        if let Some(mut keyring) = self.keyring.take() {
            let _ = keyring.kill();
            let _ = keyring.wait();
        }
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SecretItem;

    const TWO_ITEMS: &str = "[1]\nlabel = a\nsecret = s1\ncreated = x\nattribute.username = a\n\
                             [2]\nlabel = b\nsecret = \ncreated = x\nattribute.username = b\n";

    #[test]
    fn a_listing_is_read_only_when_every_item_came_with_its_secret() {
        let items = SecretItem::parse_search(TWO_ITEMS).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].secret, "s1");
        assert_eq!(items[1].attribute("username"), Some("b"));
        assert_eq!(items[1].secret, "");
        assert_eq!(SecretItem::parse_search("").unwrap().len(), 0);
        // The secret of a locked item could not be retrieved: said on standard error, left out.
        let locked = "secret-tool: Cannot get secret of a locked object\n\
                      [1]\nlabel = a\ncreated = x\nattribute.username = a\n";
        assert!(SecretItem::parse_search(locked).is_none());
        let no_secret = "[1]\nlabel = a\ncreated = x\nattribute.username = a\n";
        assert!(SecretItem::parse_search(no_secret).is_none());
    }
}
