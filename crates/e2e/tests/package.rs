//! The installable Linux package (`make bundle`): what it installs, and the `.desktop` file through
//! which the OS hands `com.okta.example:` links to the installed app.

use std::{path::PathBuf, process::Command};

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "needs the .deb of `make bundle` (E2E_DEB); run by make bundle-check"]
fn the_deb_installs_an_app_that_handles_the_url_scheme() {
    let deb = PathBuf::from(std::env::var("E2E_DEB").expect("E2E_DEB names the package"));
    let deb = deb.to_str().unwrap();

    let fields = run("dpkg-deb", &["--field", deb, "Package", "Depends"]);
    assert!(fields.contains("Package: okta-sign-in-example"), "{fields}");
    assert!(fields.contains("libwebkit2gtk-4.1"), "{fields}");

    let contents = run("dpkg-deb", &["--contents", deb]);
    assert!(
        contents
            .lines()
            .any(|line| line.ends_with("usr/bin/okta-signin-app")),
        "{contents}"
    );
    let desktop_entry = contents
        .lines()
        .find_map(|line| {
            let at = line.find("usr/share/applications/")?;
            line[at..]
                .ends_with(".desktop")
                .then(|| line[at..].to_string())
        })
        .unwrap_or_else(|| panic!("no .desktop file in {contents}"));

    let root = tempfile::tempdir().unwrap();
    run(
        "dpkg-deb",
        &["--extract", deb, root.path().to_str().unwrap()],
    );
    let file = root.path().join(&desktop_entry);
    run("desktop-file-validate", &[file.to_str().unwrap()]);
    let entry = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = entry.lines().collect();
    assert!(
        lines.contains(&"MimeType=x-scheme-handler/com.okta.example"),
        "{entry}"
    );
    let exec = lines
        .iter()
        .find_map(|l| l.strip_prefix("Exec="))
        .unwrap_or_else(|| panic!("no Exec= in {entry}"));
    assert!(
        exec.starts_with("okta-signin-app") || exec.starts_with("/usr/bin/okta-signin-app"),
        "{exec}"
    );
    assert!(
        exec.ends_with(" %u"),
        "the link must reach the app as its argument: {exec}"
    );
}
