//! A debug build registers the redirect URI's scheme for itself (Linux, Windows), so `tauri dev` and
//! `cargo run` receive their links without being installed; an installed app is registered by its
//! package, which a development build run later must not take over (a release build never registers).
//!
//! On Linux tauri-plugin-deep-link's `register_all` writes `<exe>-handler.desktop` in
//! `~/.local/share/applications`, named after the product, as the installed package's own `.desktop`
//! file is: with both on a machine, a chooser ("Open With…", from the desktop portal) would list two
//! identical entries. The development build's entry is named "`<product>` (development build)"; the
//! plugin writes only the name once the file is created, so an entry written by an earlier version is
//! renamed too.

use tauri::{AppHandle, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

/// Registers the app's URL schemes for this (development) build, under a name of its own.
pub(crate) fn register_development_build<R: Runtime>(app: &AppHandle<R>) {
    if let Err(error) = app.deep_link().register_all() {
        tracing::warn!(%error, "could not register the URL scheme");
    }
    #[cfg(target_os = "linux")]
    if let Err(error) = linux::name_handler(app) {
        tracing::warn!(%error, "could not name the URL scheme's handler");
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::{fs, io, path::PathBuf};

    use tauri::{AppHandle, Manager, Runtime};

    /// What a development build's handler is called after the product's name.
    const DEVELOPMENT: &str = " (development build)";

    /// The `.desktop` file `register_all` writes for this executable.
    fn handler_file<R: Runtime>(app: &AppHandle<R>) -> io::Result<PathBuf> {
        let exe = tauri::utils::platform::current_exe()?;
        let name = exe.file_name().unwrap_or_default().to_string_lossy();
        let dir = app.path().data_dir().map_err(io::Error::other)?;
        Ok(dir
            .join("applications")
            .join(format!("{name}-handler.desktop")))
    }

    /// Names the handler "`<product>` (development build)" (nothing to do without a product name, or a
    /// file).
    pub(super) fn name_handler<R: Runtime>(app: &AppHandle<R>) -> io::Result<()> {
        let Some(product) = app.config().product_name.as_deref() else {
            return Ok(());
        };
        let file = handler_file(app)?;
        let text = match fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let name: String = format!("{product}{DEVELOPMENT}")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let Some(renamed) = super::with_name(&text, &name) else {
            return Ok(());
        };
        let tmp = file.with_extension("desktop.tmp");
        fs::write(&tmp, renamed)?;
        fs::rename(&tmp, &file)
    }
}

/// `entry` (a desktop entry file) with the `Name` key of its `[Desktop Entry]` group set to `name`
/// (added when missing); none when it is already.
#[cfg(any(target_os = "linux", test))]
fn with_name(entry: &str, name: &str) -> Option<String> {
    let wanted = format!("Name={name}");
    let mut group = "";
    let mut found = false;
    let mut lines: Vec<String> = Vec::new();
    for line in entry.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if group == "[Desktop Entry]" && !found {
                lines.push(wanted.clone());
                found = true;
            }
            group = trimmed;
        } else if group == "[Desktop Entry]" && is_key(trimmed, "Name") {
            if trimmed == wanted {
                return None;
            }
            found = true;
            lines.push(wanted.clone());
            continue;
        }
        lines.push(line.to_string());
    }
    if group == "[Desktop Entry]" && !found {
        lines.push(wanted);
    } else if !found {
        return None; // not a desktop entry: leave it alone
    }
    Some(lines.join("\n") + "\n")
}

/// True when `line` sets `key` itself (`Name=…`, `Name = …`), not a localised `Name[de]=…`.
#[cfg(any(target_os = "linux", test))]
fn is_key(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tauri-plugin-deep-link's template, as written for the product "Okta Sign-In Example".
    const WRITTEN: &str = "[Desktop Entry]\nType=Application\nName=Okta Sign-In Example\n\
        Exec=\"/work/target/debug/okta-signin-app\" %u\nTerminal=false\n\
        MimeType=x-scheme-handler/com.okta.example\nNoDisplay=true\n";

    #[test]
    fn the_name_is_replaced_and_nothing_else() {
        let renamed = with_name(WRITTEN, "Okta Sign-In Example (development build)").unwrap();
        assert_eq!(
            renamed,
            WRITTEN.replace(
                "Name=Okta Sign-In Example\n",
                "Name=Okta Sign-In Example (development build)\n"
            )
        );
        assert_eq!(
            with_name(&renamed, "Okta Sign-In Example (development build)"),
            None,
            "already named: the file is not rewritten"
        );
    }

    #[test]
    fn localised_names_and_other_groups_are_left_alone() {
        let entry =
            "[Desktop Entry]\nName[de]=Beispiel\nExec=x %u\n\n[Desktop Action new]\nName=New\n";
        assert_eq!(
            with_name(entry, "Dev").unwrap(),
            "[Desktop Entry]\nName[de]=Beispiel\nExec=x %u\n\nName=Dev\n[Desktop Action new]\nName=New\n"
        );
        assert_eq!(with_name("not a desktop entry\n", "Dev"), None);
    }
}
