//! Starts `dev/idp` (the Okta-like oidc-provider) for a test.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The client id the tests register.
pub const CLIENT_ID: &str = "test-native-client";

/// Settings passed to `dev/idp` as environment variables.
#[derive(Clone, Debug, Default)]
pub struct IdpOptions {
    /// `IDP_ACCESS_TOKEN_TTL` in seconds.
    pub access_token_ttl: Option<u64>,
    /// `IDP_REFRESH_TOKEN_TTL` in seconds.
    pub refresh_token_ttl: Option<u64>,
    /// A fixed port (0 or `None`: a free one).
    pub port: Option<u16>,
    /// `IDP_KEYS_FILE`, so a restarted provider keeps its keys.
    pub keys_file: Option<PathBuf>,
    /// `IDP_DATA_DIR`: keys, grants and sessions survive a restart.
    pub data_dir: Option<PathBuf>,
    /// `IDP_REFRESH_TOKEN_GRACE` (dev/idp's default, like Okta's: 30 s; 0 refuses a rotated token at once).
    pub refresh_token_grace: Option<u64>,
    /// `IDP_TEST_INVALID_REFRESHED_ID_TOKEN`: refreshed ID tokens carry a broken signature.
    pub invalid_refreshed_id_token: bool,
    /// `IDP_TEST_CLOCK_SKEW`: the provider's clock runs this many seconds ahead.
    pub clock_skew: Option<i64>,
    /// `IDP_TEST_USERINFO_SUB`: userinfo answers with this `sub` instead of the user's.
    pub userinfo_subject: Option<String>,
    /// `IDP_DPOP`: `off`, `on` (dev/idp's default) or `required`.
    pub dpop: Option<&'static str>,
    /// `IDP_TEST_INVALID_REFRESHED_ID_TOKEN=iss`: refreshed ID tokens are validly signed, for another issuer.
    pub refreshed_id_token_for_another_issuer: bool,
    /// `IDP_TEST_USERINFO_DELAY_MS`: userinfo answers this many milliseconds late.
    pub userinfo_delay_ms: Option<u64>,
    /// `IDP_TEST_REFRESH_DELAY_MS`: a refresh answers this many milliseconds late (after rotating).
    pub refresh_delay_ms: Option<u64>,
    /// `IDP_TEST_REFRESH_TOKEN_TYPE`: refresh answers carry this `token_type` (a hostile provider).
    pub refresh_token_type: Option<&'static str>,
    /// `IDP_TEST_TOKEN_LOG`: one JSON line per refresh-token event in this file (see [`TokenEvent`]).
    pub token_log: Option<PathBuf>,
    /// `IDP_USERS_FILE`: more users (a JSON array of `{ id, username, password, claims }`).
    pub users_file: Option<PathBuf>,
    /// `IDP_TEST_IGNORE_MAX_AGE=1`: `max_age` is ignored (an old `auth_time` comes back).
    pub ignore_max_age: bool,
    /// `IDP_PAR`: `off` (dev/idp's default), `on` or `required`.
    pub par: Option<&'static str>,
    /// `IDP_DEVICE_INTERVAL`: how often a device sign-in polls, in seconds (dev/idp's default: 5).
    pub device_interval: Option<u64>,
    /// `IDP_TEST_DEVICE_POLL_LIMIT`: the spacing of polls enforced with `slow_down`, when not the interval.
    pub device_poll_limit: Option<u64>,
    /// `IDP_DEVICE_CODE_TTL`: how long a device sign-in's codes last, in seconds.
    pub device_code_ttl: Option<u64>,
    /// `IDP_TEST_DEVICE_EXPIRES_IN`: the lifetime announced to the client, when not `device_code_ttl`.
    pub device_expires_in: Option<u64>,
    /// `IDP_DEVICE_SECRET_TTL`: how long a Native SSO device secret lasts, in seconds.
    pub device_secret_ttl: Option<u64>,
    /// `IDP_TEST_WRONG_DS_HASH=1`: ID tokens name another device secret than the one answered.
    pub wrong_ds_hash: bool,
    /// `IDP_TEST_EXCHANGE_SUBJECT`: Native SSO's token exchange answers for this user instead.
    pub exchange_subject: Option<&'static str>,
    /// `IDP_DEVICE_SECRET_ROTATION=on`: a refresh rotates the sign-in's Native SSO device secret.
    pub device_secret_rotation: bool,
    /// `IDP_ID_TOKEN_ALG`: `RS256` (dev/idp's default, Okta's only one) or `EdDSA` (Ed25519).
    pub id_token_alg: Option<&'static str>,
}

/// A running `dev/idp`; killed when dropped.
#[derive(Debug)]
pub struct Idp {
    child: Child,
    issuer: String,
    _dir: tempfile::TempDir,
}

/// The repository's `dev/idp` folder.
pub fn idp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dev/idp")
}

impl Idp {
    /// Starts a provider with default settings.
    pub fn start() -> Self {
        Self::start_with(IdpOptions::default())
    }

    /// Starts a provider and waits (at most 30 s) until it accepts requests.
    pub fn start_with(options: IdpOptions) -> Self {
        let dir = idp_dir();
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "dev/idp has no node_modules: run `npm --prefix dev/idp ci` (make test does)"
        );
        let tmp = tempfile::tempdir().expect("temp dir");
        let ready = tmp.path().join("ready");
        let log_path = tmp.path().join("idp.log");
        let log = std::fs::File::create(&log_path).expect("idp log file");
        let mut command = Command::new("node");
        command
            .arg("src/index.js")
            .current_dir(&dir)
            .env("PORT", options.port.unwrap_or(0).to_string())
            .env("IDP_CLIENT_ID", CLIENT_ID)
            .env("IDP_READY_FILE", &ready)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(ttl) = options.access_token_ttl {
            command.env("IDP_ACCESS_TOKEN_TTL", ttl.to_string());
        }
        if let Some(ttl) = options.refresh_token_ttl {
            command.env("IDP_REFRESH_TOKEN_TTL", ttl.to_string());
        }
        if let Some(file) = &options.keys_file {
            command.env("IDP_KEYS_FILE", file);
        }
        if let Some(dir) = &options.data_dir {
            command.env("IDP_DATA_DIR", dir);
        }
        if let Some(grace) = options.refresh_token_grace {
            command.env("IDP_REFRESH_TOKEN_GRACE", grace.to_string());
        }
        if options.invalid_refreshed_id_token {
            command.env("IDP_TEST_INVALID_REFRESHED_ID_TOKEN", "1");
        }
        if let Some(skew) = options.clock_skew {
            command.env("IDP_TEST_CLOCK_SKEW", skew.to_string());
        }
        if let Some(sub) = &options.userinfo_subject {
            command.env("IDP_TEST_USERINFO_SUB", sub);
        }
        if let Some(dpop) = options.dpop {
            command.env("IDP_DPOP", dpop);
        }
        if options.refreshed_id_token_for_another_issuer {
            command.env("IDP_TEST_INVALID_REFRESHED_ID_TOKEN", "iss");
        }
        if let Some(delay) = options.userinfo_delay_ms {
            command.env("IDP_TEST_USERINFO_DELAY_MS", delay.to_string());
        }
        if let Some(delay) = options.refresh_delay_ms {
            command.env("IDP_TEST_REFRESH_DELAY_MS", delay.to_string());
        }
        if let Some(token_type) = options.refresh_token_type {
            command.env("IDP_TEST_REFRESH_TOKEN_TYPE", token_type);
        }
        if let Some(file) = &options.token_log {
            command.env("IDP_TEST_TOKEN_LOG", file);
        }
        if let Some(file) = &options.users_file {
            command.env("IDP_USERS_FILE", file);
        }
        if let Some(par) = options.par {
            command.env("IDP_PAR", par);
        }
        if options.ignore_max_age {
            command.env("IDP_TEST_IGNORE_MAX_AGE", "1");
        }
        for (name, value) in [
            ("IDP_DEVICE_INTERVAL", options.device_interval),
            ("IDP_TEST_DEVICE_POLL_LIMIT", options.device_poll_limit),
            ("IDP_DEVICE_CODE_TTL", options.device_code_ttl),
            ("IDP_TEST_DEVICE_EXPIRES_IN", options.device_expires_in),
            ("IDP_DEVICE_SECRET_TTL", options.device_secret_ttl),
        ] {
            if let Some(value) = value {
                command.env(name, value.to_string());
            }
        }
        if options.wrong_ds_hash {
            command.env("IDP_TEST_WRONG_DS_HASH", "1");
        }
        if let Some(alg) = options.id_token_alg {
            command.env("IDP_ID_TOKEN_ALG", alg);
        }
        if options.device_secret_rotation {
            command.env("IDP_DEVICE_SECRET_ROTATION", "on");
        }
        if let Some(subject) = options.exchange_subject {
            command.env("IDP_TEST_EXCHANGE_SUBJECT", subject);
        }
        let mut child = command.spawn().expect("cannot start node for dev/idp");
        let deadline = Instant::now() + Duration::from_secs(30);
        let issuer = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                if !text.trim().is_empty() {
                    break text.trim().to_string();
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("dev/idp exited before it was ready: {status}\n{log}");
            }
            if Instant::now() > deadline {
                // What the process was doing (its state and where it waited in the kernel).
                let proc = |name: &str| {
                    std::fs::read_to_string(format!("/proc/{}/{name}", child.id()))
                        .unwrap_or_default()
                };
                let state = proc("status")
                    .lines()
                    .filter(|l| l.starts_with("State:") || l.starts_with("Threads:"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let wchan = proc("wchan");
                let _ = child.kill();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("dev/idp was not ready within 30 s ({state}; waiting in {wchan:?})\n{log}");
            }
            std::thread::sleep(Duration::from_millis(25));
        };
        Self {
            child,
            issuer,
            _dir: tmp,
        }
    }

    /// `http://127.0.0.1:<port>/oauth2/default`
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Its port (to start it again at the same address, or to put another server there).
    pub fn port(&self) -> u16 {
        let url = url::Url::parse(&self.issuer).expect("issuer is a URL");
        url.port().expect("the issuer names its port")
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        let url = url::Url::parse(&self.issuer).expect("issuer is a URL");
        url.origin().ascii_serialization()
    }

    /// Request counts (`requests` by "METHOD path", `grants` by grant type) from `/__dev/stats`.
    pub async fn stats(&self) -> serde_json::Value {
        reqwest::get(format!("{}/__dev/stats", self.origin()))
            .await
            .expect("stats request")
            .json()
            .await
            .expect("stats JSON")
    }

    /// How many successful token requests of this grant type the provider answered.
    pub async fn grants(&self, grant_type: &str) -> u64 {
        self.stats().await["grants"][grant_type]
            .as_u64()
            .unwrap_or(0)
    }

    /// How many requests the provider has answered, not counting `/__dev/stats` itself.
    pub async fn request_count(&self) -> u64 {
        self.requests_where(|route| !route.ends_with("/__dev/stats"))
            .await
    }

    /// How many revocation requests the provider has answered.
    pub async fn revocations(&self) -> u64 {
        self.requests_where(|route| route.ends_with("/v1/revoke"))
            .await
    }

    /// How many live Native SSO device secrets the provider has revoked (a revocation of one it no
    /// longer knows, rotated, expired or revoked already, is not counted).
    pub async fn device_secrets_revoked(&self) -> u64 {
        self.stats().await["device_secrets_revoked"]
            .as_u64()
            .unwrap_or(0)
    }

    /// How many requests to the routes ("METHOD path") `counted` accepts the provider has answered.
    async fn requests_where(&self, counted: impl Fn(&str) -> bool) -> u64 {
        self.stats().await["requests"]
            .as_object()
            .map(|requests| {
                requests
                    .iter()
                    .filter(|(route, _)| counted(route))
                    .filter_map(|(_, n)| n.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Uses a refresh token at the token endpoint directly, as an old copy of it would be used;
    /// returns the JSON answer (`error: invalid_grant` once it is revoked or rotated).
    pub async fn refresh_grant(&self, refresh_token: &str) -> serde_json::Value {
        self.post(
            "v1/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// Revokes a token at the revocation endpoint (RFC 7009), as another party could.
    pub async fn revoke(&self, token: &str) {
        self.post("v1/revoke", &[("token", token)]).await;
    }

    async fn post(&self, endpoint: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let mut form = form.to_vec();
        form.push(("client_id", CLIENT_ID));
        let response = reqwest::Client::new()
            .post(format!("{}/{endpoint}", self.issuer))
            .form(&form)
            .send()
            .await
            .expect("request to dev/idp");
        response.json().await.unwrap_or(serde_json::Value::Null)
    }

    /// Stops the provider now (a test of an unreachable provider).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One line of dev/idp's token log (`IDP_TEST_TOKEN_LOG`): a refresh token issued at sign-in, rotated
/// by a refresh, refused, or revoked. Tokens are named by [`token_hash`], never by value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenEvent {
    /// When the provider wrote it (before it answered), milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// `issued`, `rotated`, `refused` or `revoked`.
    pub event: String,
    /// The grant (one sign-in's chain of refresh tokens), when the provider knew it.
    pub grant: Option<String>,
    /// The refresh token presented (`rotated`, `refused`) or revoked (`revoked`).
    pub from: Option<String>,
    /// The refresh token issued (`issued`, `rotated`).
    pub to: Option<String>,
    /// Why a refresh was refused (`invalid_grant: refresh token already used`, …).
    pub reason: Option<String>,
}

impl TokenEvent {
    /// Parses every complete line of a token log (a line being written is skipped).
    pub fn parse_log(text: &str) -> Vec<TokenEvent> {
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|v| {
                let text = |key: &str| v[key].as_str().map(str::to_string);
                TokenEvent {
                    at_ms: v["t"].as_u64().unwrap_or(0),
                    event: text("event").unwrap_or_default(),
                    grant: text("grant"),
                    from: text("from").or_else(|| text("token")),
                    to: text("to"),
                    reason: text("reason"),
                }
            })
            .collect()
    }
}

/// How the token log names a token: the first 16 hex digits of its SHA-256.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}
