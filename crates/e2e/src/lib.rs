//! Helpers of the end-to-end suite: a small W3C WebDriver client (for tauri-driver and chromedriver),
//! child processes that are killed by PID when dropped, and waiting with a timeout.

use std::{
    future::Future,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

/// A WebDriver session.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    /// Creates a session at `server` with these capabilities.
    pub async fn start(server: &str, capabilities: Value) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        let response: Value = http
            .post(format!("{server}/session"))
            .json(&json!({ "capabilities": { "alwaysMatch": capabilities } }))
            .send()
            .await
            .map_err(|e| format!("WebDriver at {server}: {e:?}"))?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let id = response["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session from {server}: {response}"))?;
        Ok(Self {
            http,
            base: format!("{server}/session/{id}"),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .map_err(|e| format!("WebDriver {path}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("WebDriver {path}: {e}"))?;
        let value = response["value"].clone();
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            return Err(format!(
                "WebDriver {path}: {error}: {}",
                value["message"].as_str().unwrap_or("")
            ));
        }
        Ok(value)
    }

    /// POST to a session endpoint.
    pub async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// GET a session endpoint.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Navigates to `url`.
    pub async fn goto(&self, url: &str) -> Result<(), String> {
        self.post("/url", json!({ "url": url })).await.map(|_| ())
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Result<Option<String>, String> {
        match self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await
        {
            Ok(value) => Ok(value[ELEMENT].as_str().map(str::to_string)),
            Err(e) if e.contains("no such element") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The visible text of the first element matching `css` ("" when there is none).
    pub async fn text(&self, css: &str) -> Result<String, String> {
        match self.find(css).await? {
            Some(id) => Ok(self
                .get(&format!("/element/{id}/text"))
                .await?
                .as_str()
                .unwrap_or_default()
                .to_string()),
            None => Ok(String::new()),
        }
    }

    /// An attribute of the first element matching `css`.
    pub async fn attribute(&self, css: &str, name: &str) -> Result<Option<String>, String> {
        match self.find(css).await? {
            Some(id) => Ok(self
                .get(&format!("/element/{id}/attribute/{name}"))
                .await?
                .as_str()
                .map(str::to_string)),
            None => Ok(None),
        }
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) -> Result<(), String> {
        let id = self
            .find(css)
            .await?
            .ok_or_else(|| format!("no element {css} to click"))?;
        self.post(&format!("/element/{id}/click"), json!({}))
            .await
            .map(|_| ())
    }

    /// Types into the first element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), String> {
        let id = self
            .find(css)
            .await?
            .ok_or_else(|| format!("no element {css} to type into"))?;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))
            .await
            .map(|_| ())
    }

    /// Empties the first input matching `css`.
    pub async fn clear(&self, css: &str) -> Result<(), String> {
        let id = self
            .find(css)
            .await?
            .ok_or_else(|| format!("no element {css} to clear"))?;
        self.post(&format!("/element/{id}/clear"), json!({}))
            .await
            .map(|_| ())
    }

    /// Saves a PNG screenshot (after a moment, so the page shown is painted, not only in the DOM).
    pub async fn screenshot(&self, path: &Path) -> Result<(), String> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let data = self.get("/screenshot").await?;
        let png = STANDARD
            .decode(data.as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, png).map_err(|e| e.to_string())
    }

    /// Ends the session (tauri-driver closes the app).
    pub async fn end(self) -> Result<(), String> {
        self.call(reqwest::Method::DELETE, "", None)
            .await
            .map(|_| ())
    }
}

/// Waits until `check` returns `Some`, polling every 100 ms, for at most `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = Instant::now() + timeout;
    let mut last_error = String::new();
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => last_error = e,
        }
        if Instant::now() > deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}{}",
                if last_error.is_empty() {
                    String::new()
                } else {
                    format!(" (last error: {last_error})")
                }
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A child process that is killed (by PID) when dropped.
pub struct Process {
    name: String,
    child: Child,
}

impl Process {
    /// Spawns `command` with stdin closed; output goes where the command says.
    pub fn spawn(name: &str, command: &mut Command) -> Result<Self, String> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Self {
            name: name.to_string(),
            child,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("{} exited: {status}", self.name)),
            _ => Ok(()),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Processes whose entry in `/proc` satisfies `keep`.
fn pids_where(keep: impl Fn(u32) -> bool) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| keep(*pid))
        .collect()
}

/// Processes whose executable is `exe` (the app, however it was started).
pub fn pids_of(exe: &Path) -> Vec<u32> {
    pids_where(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|path| path == exe))
}

/// Processes whose environment has `name=value`: everything a test run started, and everything those
/// started in turn (the app, the browser, xdg-open), but nothing else (a developer's own `make run`).
pub fn pids_with_env(name: &str, value: &str) -> Vec<u32> {
    let wanted = format!("{name}={value}");
    pids_where(|pid| {
        std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
            environ
                .split(|b| *b == 0)
                .any(|entry| entry == wanted.as_bytes())
        })
    })
}

/// Kills processes by PID (SIGKILL) and waits until they are gone (at most 5 s).
pub fn kill_pids(pids: &[u32]) {
    for pid in pids {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids
        .iter()
        .any(|pid| Path::new(&format!("/proc/{pid}")).exists())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}
