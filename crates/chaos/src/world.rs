//! Everything one regime runs against: dev/idp (with its token log and a second user), a private
//! session bus with gnome-keyring, the small disk, the demo API, the fault proxy, and how to start
//! `signin` on the shared session.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use testkit::{Idp, IdpOptions, SessionBus, CLIENT_ID};

use crate::{
    disk::Disk,
    proxy::{FaultProxy, CALM},
    rng::Rng,
};

/// The keystore service of `signin`'s sessions (crates/signin-cli/src/settings.rs).
pub const SERVICE: &str = "signin";
/// The keystore value size every session is chunked at (Windows allows 2,560 bytes per item).
pub const CHUNK_BYTES: usize = 600;
/// The second user, whose session nobody touches.
pub const OTHER_USER: &str = "alice";

/// Where the shared session's tokens are kept in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// gnome-keyring, chunked.
    Keystore,
    /// A file on the small disk.
    File,
}

impl Backing {
    /// `keystore` or `file`, as `--token-storage` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backing::Keystore => "keystore",
            Backing::File => "file",
        }
    }
}

/// A session's place: its file (and lock file) and keystore account prefix.
#[derive(Clone, Debug)]
pub struct Place {
    /// The session file (`--session`).
    pub file: PathBuf,
}

impl Place {
    /// The keystore account prefix `signin` uses for it.
    pub fn prefix(&self) -> String {
        format!("{}#", self.file.display())
    }

    /// The folder that holds its file, lock file and temporary files.
    pub fn folder(&self) -> &Path {
        self.file.parent().expect("a session file has a folder")
    }
}

/// One regime's components.
pub struct World {
    /// The provider (behind [`World::proxy`] for every client).
    pub idp: Idp,
    /// dev/idp's token log.
    pub token_log: PathBuf,
    /// The bus with the Secret Service.
    pub bus: Arc<Mutex<SessionBus>>,
    /// The environment of a process on the bus.
    pub bus_env: Vec<(String, String)>,
    /// The small disk with the session folders.
    pub disk: Arc<Disk>,
    /// The fault proxy.
    pub proxy: FaultProxy,
    /// The demo API's `whoami` URL.
    pub api_url: url::Url,
    /// The demo API's base URL.
    pub api_base: url::Url,
    /// The shared session.
    pub shared: Place,
    /// The other user's session in the keystore, and in a file.
    pub other_keystore: Place,
    /// The other user's file session.
    pub other_file: Place,
    signin: PathBuf,
    browser: PathBuf,
    _dir: tempfile::TempDir,
}

impl World {
    /// Starts everything on `bus` (one for the whole run: the in-process app's keystore client
    /// connects once per process); `grace` is the provider's refresh-token grace period in seconds.
    pub async fn start(bus: Arc<Mutex<SessionBus>>, grace: u64, rng: Rng) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let users = dir.path().join("users.json");
        std::fs::write(
            &users,
            serde_json::json!([{
                "id": "00u1alice000000000002",
                "username": OTHER_USER,
                "password": OTHER_USER,
                "claims": { "name": "Alice Other", "email": "alice@example.com", "email_verified": true }
            }])
            .to_string(),
        )
        .expect("users file");
        let token_log = dir.path().join("tokens.jsonl");
        let idp = Idp::start_with(IdpOptions {
            refresh_token_grace: Some(grace),
            // Every `token` and `call` refreshes when the access token is within 30 s of expiry.
            access_token_ttl: Some(40),
            token_log: Some(token_log.clone()),
            users_file: Some(users),
            ..Default::default()
        });
        let bus_env = bus.lock().expect("bus").env();
        let disk = Arc::new(Disk::new(&dir.path().join("disk"), 2048));
        let api_base = demo_api(idp.issuer()).await;
        let proxy = FaultProxy::start(CALM, rng).await.expect("fault proxy");
        let exe = std::env::current_exe().expect("the chaos binary's path");
        let bin = exe.parent().expect("target folder");
        let (signin, browser) = (bin.join("signin"), bin.join("testkit-browser"));
        for binary in [&signin, &browser] {
            assert!(
                binary.exists(),
                "{} is missing: build it with `cargo build -p signin-cli -p testkit --bins` (make chaos does)",
                binary.display()
            );
        }
        let place = |name: &str| Place {
            file: disk.dir().join(name).join("session.json"),
        };
        Self {
            api_url: api_base.join("api/whoami").expect("API URL"),
            api_base,
            shared: place("shared"),
            other_keystore: place("other-keystore"),
            other_file: place("other-file"),
            idp,
            token_log,
            bus,
            bus_env,
            disk,
            proxy,
            signin,
            browser,
            _dir: dir,
        }
    }

    /// `signin <args> --session <place> --token-storage <backing>`, on the bus, through the proxy.
    pub fn signin(
        &self,
        place: &Place,
        backing: Backing,
        args: &[&str],
    ) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.signin);
        command
            .args(args)
            .arg("--session")
            .arg(&place.file)
            .args(["--token-storage", backing.as_str()])
            .envs(self.bus_env.iter().cloned())
            .env("HTTP_PROXY", &self.proxy.url)
            .env("http_proxy", &self.proxy.url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        for var in native_oidc::ENV_VARS.iter().chain(&[
            "NO_PROXY",
            "no_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]) {
            command.env_remove(var);
        }
        // Its reads and decisions, for the report of a violation (and one more place where a token
        // must never appear).
        command.env("RUST_LOG", "signin=debug,native_oidc=debug");
        if backing == Backing::Keystore {
            command.env("SIGNIN_TEST_KEYSTORE_CHUNK_BYTES", CHUNK_BYTES.to_string());
        }
        command
    }

    /// The `--browser` command: the stand-in browser, going to the provider directly (the faults are
    /// for `signin`'s own requests), its standard error dropped (killed with `signin`, it may panic on a
    /// closed pipe: not `signin`'s panic).
    fn browser_command(&self, extra: &str) -> String {
        format!(
            "sh -c 'exec env -u HTTP_PROXY -u http_proxy {} {extra} \"$@\" 2>/dev/null' sh",
            self.browser.display()
        )
    }

    /// The arguments of `signin login` for `user` (the shared session's user is `demo`).
    pub fn login_args(&self, user: &str) -> Vec<String> {
        let browser = if user == "demo" {
            self.browser_command("")
        } else {
            self.browser_command(&format!("--user {user} --password {user}"))
        };
        vec![
            "login".into(),
            "--issuer".into(),
            self.idp.issuer().into(),
            "--client-id".into(),
            CLIENT_ID.into(),
            "--browser".into(),
            browser,
        ]
    }

    /// The arguments of `signin logout`.
    pub fn logout_args(&self) -> Vec<String> {
        vec![
            "logout".into(),
            "--browser".into(),
            self.browser_command(""),
        ]
    }

    /// What dev/idp's token log holds so far.
    pub fn token_events(&self) -> Vec<testkit::TokenEvent> {
        testkit::TokenEvent::parse_log(
            &std::fs::read_to_string(&self.token_log).unwrap_or_default(),
        )
    }
}

/// The demo API, in this process, trusting tokens of `issuer`; its base URL.
async fn demo_api(issuer: &str) -> url::Url {
    let api = Arc::new(demo_api::Api::new(demo_api::Verifier::new(
        issuer,
        "api://default",
        [CLIENT_ID],
    )));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("demo API port");
    let url = url::Url::parse(&format!(
        "http://{}/",
        listener.local_addr().expect("address")
    ))
    .expect("demo API URL");
    tokio::spawn(async move {
        let _ = axum::serve(listener, demo_api::app(api)).await;
    });
    url
}
