//! Footprint: the release binaries of the app and of an empty Tauri window (`crates/empty-window`), built
//! with the same profile beside this bench, and the memory of each window once started and idle: the
//! resident and proportional set sizes of its whole process tree (WebKit's web and network processes
//! included).

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::json;
use testkit::{Idp, CLIENT_ID};

use crate::report;

/// How long a window is left alone after start-up before its memory is read.
const SETTLE: Duration = Duration::from_secs(6);

fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .join(name)
}

/// Children of `pid`, recursively (from each process's parent in `/proc/<pid>/stat`).
fn tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The command name may hold spaces: the parent is the second field after ')'.
            let parent = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((child, parent))
        })
        .collect();
    let mut all = vec![pid];
    let mut index = 0;
    while index < all.len() {
        let parent = all[index];
        all.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        index += 1;
    }
    all
}

/// A field of `/proc/<pid>/<file>` in kB (`VmRSS:` of status, `Pss:` of smaps_rollup).
fn kilobytes(pid: u32, file: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Starts `binary` with `env`, lets it settle, and reads its tree's memory (kB): (RSS, PSS, processes).
fn idle_memory(binary: &Path, env: &[(String, String)]) -> Option<(u64, u64, usize)> {
    let mut child = Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::thread::sleep(SETTLE);
    let pids = tree(child.id());
    let rss = pids.iter().map(|p| kilobytes(*p, "status", "VmRSS:")).sum();
    let pss = pids
        .iter()
        .map(|p| kilobytes(*p, "smaps_rollup", "Pss:"))
        .sum();
    for pid in pids.iter().rev() {
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    let _ = child.wait();
    Some((rss, pss, pids.len()))
}

fn megabytes(bytes: u64) -> f64 {
    (bytes as f64 / 1_000_000.0 * 10.0).round() / 10.0
}

/// `app / empty`, to two decimals.
fn ratio(app: u64, empty: u64) -> f64 {
    (app as f64 / empty.max(1) as f64 * 100.0).round() / 100.0
}

/// Sizes and idle memory of the app and of the empty window.
pub async fn report_footprint(idp: &Idp) {
    let (app, empty) = (sibling("okta-signin-app"), sibling("empty-window"));
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).ok();
    let (Some(app_size), Some(empty_size)) = (size(&app), size(&empty)) else {
        report(
            "footprint",
            json!({ "skipped": "build the release binaries first (make bench does)" }),
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("okta.json");
    std::fs::write(
        &config,
        json!({
            "issuer": idp.issuer(), "clientId": CLIENT_ID, "apiBaseUrl": "http://127.0.0.1:9/",
            "allowInsecureLoopback": true, "tokenStorage": "file",
        })
        .to_string(),
    )
    .unwrap();
    let home = dir.path().display().to_string();
    let env: Vec<(String, String)> = [
        ("HOME", home.clone()),
        ("XDG_DATA_HOME", format!("{home}/data")),
        ("XDG_CONFIG_HOME", format!("{home}/config")),
        ("XDG_CACHE_HOME", format!("{home}/cache")),
        ("OKTA_SIGNIN_CONFIG", config.display().to_string()),
        ("DBUS_SESSION_BUS_ADDRESS", "disabled:".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let display = std::env::var("DISPLAY").is_ok();
    let memory = |binary: &Path| display.then(|| idle_memory(binary, &env)).flatten();
    let (app_memory, empty_memory) = (memory(&app), memory(&empty));
    let mut figure = json!({
        "app_binary_mb": megabytes(app_size),
        "empty_window_binary_mb": megabytes(empty_size),
        "binary_ratio": ratio(app_size, empty_size),
    });
    match (app_memory, empty_memory) {
        (Some((app_rss, app_pss, app_n)), Some((empty_rss, empty_pss, empty_n))) => {
            figure["app_idle_rss_mb"] = json!(megabytes(app_rss * 1000));
            figure["empty_window_idle_rss_mb"] = json!(megabytes(empty_rss * 1000));
            figure["app_idle_pss_mb"] = json!(megabytes(app_pss * 1000));
            figure["empty_window_idle_pss_mb"] = json!(megabytes(empty_pss * 1000));
            figure["idle_rss_ratio"] = json!(ratio(app_rss, empty_rss));
            figure["idle_pss_ratio"] = json!(ratio(app_pss, empty_pss));
            figure["processes"] = json!([app_n, empty_n]);
        }
        _ => figure["memory"] = json!("not measured: no X display (make bench runs under Xvfb)"),
    }
    report("footprint", figure);
}
