//! What every end-to-end test needs: an isolated desktop (HOME, XDG folders, the default browser, the
//! handlers of URL schemes), waiting for ports, and clean-up of every process a run started.

use std::{path::PathBuf, process::Command, time::Duration};

use e2e::{kill_pids, pids_with_env};
use testkit::SessionBus;

/// Where the built binaries are (the test binary lives in `<target>/debug/deps`).
pub fn target_debug() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository")
}

/// Screenshots and logs: `target/e2e/`.
pub fn shots() -> PathBuf {
    repo().join("target/e2e")
}

pub fn wait_port(port: u16) -> Result<(), String> {
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on port {port} after 15 s"))
}

/// A user's desktop for one test: its own HOME and XDG folders under `target/e2e/<name>/`, its own
/// session bus with a real Secret Service (gnome-keyring, unlocked), the e2e browser as the default web
/// browser, and a GNOME-like environment, so `xdg-open` goes through `gio` as on a GNOME desktop
/// (Debian 12's xdg-open without a desktop cannot run the quoted `Exec=` lines that
/// tauri-plugin-deep-link writes).
///
/// The session bus starts no services on demand: with the desktop portal activatable, Chromium may
/// hand a link to the portal instead of xdg-open, and the portal (started by the bus, outside this
/// HOME) would look for handlers elsewhere and ask through a dialog. Every process started with
/// [`Desktop::env`] carries `E2E_DIR`, so dropping the desktop kills exactly those processes.
pub struct Desktop {
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub bus: SessionBus,
}

impl Desktop {
    pub fn new(name: &str) -> Result<Self, String> {
        let dir = shots().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let home = dir.join("home");
        let data = home.join(".local/share");
        let config = home.join(".config");
        std::fs::create_dir_all(data.join("applications")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
        let browser = PathBuf::from(env!("CARGO_BIN_EXE_e2e-browser"));
        let bus = SessionBus::with_secret_service(&dir.join("session-bus"));
        let mut desktop = Self {
            env: [
                ("HOME", home.display().to_string()),
                ("XDG_DATA_HOME", data.display().to_string()),
                ("XDG_CONFIG_HOME", config.display().to_string()),
                ("XDG_CACHE_HOME", home.join(".cache").display().to_string()),
                (
                    "XDG_STATE_HOME",
                    home.join(".local/state").display().to_string(),
                ),
                ("XDG_CURRENT_DESKTOP", "GNOME".to_string()),
                ("BROWSER", browser.display().to_string()),
                ("E2E_DIR", dir.display().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            dir,
            bus,
        };
        let address = desktop.bus.address().to_string();
        desktop
            .env
            .push(("DBUS_SESSION_BUS_ADDRESS".to_string(), address));
        desktop.install(
            "e2e-browser",
            &format!("{} %u", browser.display()),
            &["http", "https"],
        )?;
        desktop.set_browser_action("signin");
        Ok(desktop)
    }

    /// Installs an application (`~/.local/share/applications/<name>.desktop`) as the default handler
    /// of these URL schemes, as a package or the app itself does.
    pub fn install(&self, name: &str, exec: &str, schemes: &[&str]) -> Result<(), String> {
        let mime: Vec<String> = schemes
            .iter()
            .map(|s| format!("x-scheme-handler/{s}"))
            .collect();
        std::fs::write(
            self.dir
                .join(format!("home/.local/share/applications/{name}.desktop")),
            format!(
                "[Desktop Entry]\nType=Application\nName={name}\nExec={exec}\nMimeType={};\n",
                mime.join(";")
            ),
        )
        .map_err(|e| e.to_string())?;
        let list = self.dir.join("home/.config/mimeapps.list");
        let mut text = std::fs::read_to_string(&list)
            .unwrap_or_else(|_| "[Default Applications]\n".to_string());
        for mime in mime {
            text.push_str(&format!("{mime}={name}.desktop\n"));
        }
        std::fs::write(list, text).map_err(|e| e.to_string())
    }

    /// What the person does on the login page: `signin` (demo), `alice` or `cancel`.
    pub fn set_browser_action(&self, action: &str) {
        std::fs::write(self.dir.join("browser-action"), action).unwrap();
    }

    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// How many times the browser was opened.
    pub fn browser_runs(&self) -> usize {
        self.file("browser.log").matches("opened ").count()
    }

    /// The person opens their browser on `url` (and does their part there); waits until it is done.
    pub fn browse(&self, url: &str) -> Result<(), String> {
        let status = Command::new(env!("CARGO_BIN_EXE_e2e-browser"))
            .arg(url)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| format!("e2e-browser: {e}"))?;
        status.success().then_some(()).ok_or(format!(
            "the browser failed: {status}\n{}",
            self.file("browser.log")
        ))
    }

    /// Another program opens a URL through the OS URL handler (a link in a mail, a forged link).
    pub fn open_url(&self, url: &str) -> Result<(), String> {
        let status = Command::new("gio")
            .args(["open", url])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .status()
            .map_err(|e| format!("gio open: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or(format!("gio open {url}: {status}"))
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// What `secret-tool` finds in this desktop's keyring for `service` and `account`.
    pub fn secret(&self, service: &str, account: &str) -> Option<Vec<u8>> {
        let output = Command::new("secret-tool")
            .args(["lookup", "service", service, "username", account])
            .envs(self.bus.env())
            .output()
            .ok()?;
        (output.status.success() && !output.stdout.is_empty()).then_some(output.stdout)
    }

    /// Every file under this desktop whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<String> {
        testkit::files_containing(&self.dir, needle)
    }

    /// Every process of this desktop (apps, browsers, their drivers).
    pub fn processes(&self) -> Vec<u32> {
        pids_with_env("E2E_DIR", &self.dir.display().to_string())
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        kill_pids(&self.processes());
    }
}
