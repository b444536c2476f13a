//! Opening a URL: the system browser, or `--browser CMD` run as `CMD <url>`.

use std::process::Stdio;

use native_oidc::{Error, Result};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A browser that was started; for a command, its standard output can carry the callback.
pub struct Opened {
    child: Option<Child>,
}

/// Opens `url` in the system browser, or runs `command` with the URL as its last argument.
/// `shown` is what to tell the user (an end-session URL carries an ID token: show less of it).
pub fn open(url: &str, shown: &str, command: Option<&str>) -> Result<Opened> {
    let Some(command) = command else {
        eprintln!("Opening the browser on {shown}");
        open::that_detached(url).map_err(|e| {
            Error::Config(format!(
                "cannot open the system browser ({e}); pass --browser CMD"
            ))
        })?;
        return Ok(Opened { child: None });
    };
    let mut words = shell_words::split(command)
        .map_err(|e| Error::Config(format!("cannot parse --browser `{command}`: {e}")))?;
    if words.is_empty() {
        return Err(Error::Config("--browser is empty".into()));
    }
    let program = words.remove(0);
    let child = Command::new(&program)
        .args(words)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Config(format!("cannot run the browser command `{program}`: {e}")))?;
    Ok(Opened { child: Some(child) })
}

impl Opened {
    /// Reads the browser command's output until a line starts with `prefix` (the redirect URI).
    /// `None` when there is no command or it ended without such a line.
    pub async fn callback_from_output(&mut self, prefix: &str) -> Result<Option<String>> {
        let Some(stdout) = self.child.as_mut().and_then(|c| c.stdout.take()) else {
            return Ok(None);
        };
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await.map_err(|e| {
            Error::Protocol(format!("cannot read the browser command's output: {e}"))
        })? {
            let line = line.trim();
            if line.starts_with(prefix) {
                return Ok(Some(line.to_string()));
            }
        }
        Ok(None)
    }

    /// Waits for the browser command to end (nothing to wait for with the system browser).
    pub async fn finish(mut self) -> Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(stdout) = child.stdout.take() {
                // Drain what it prints so it never blocks on a full pipe.
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(_)) = lines.next_line().await {}
            }
            let status = child
                .wait()
                .await
                .map_err(|e| Error::Config(format!("the browser command failed: {e}")))?;
            if !status.success() {
                eprintln!("warning: the browser command exited with {status}");
            }
        }
        Ok(())
    }
}
