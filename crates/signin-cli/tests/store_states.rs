//! `signin login` and `signin logout` work whatever state the store is in: a session file or a file
//! of sign-ins in progress that is garbage, truncated, of another shape, unreadable, a symlink loop or
//! a folder. `login` sets the broken entry aside (never deletes it) and signs in; `logout` erases what
//! can be erased and says what it could not. The same over a keystore item that is not a session
//! (a real Secret Service on a private bus).

use std::path::{Path, PathBuf};

use serde_json::Value;
use testkit::{files_containing, IdpOptions, SessionBus};

use super::{Env, Run};

/// One way an entry can be broken: its name and what it does to the entry's path (given the bytes
/// of a real session, so a broken copy holds tokens as a damaged one would).
type Breakage = (&'static str, fn(&Path, &[u8]));

fn breakages() -> Vec<Breakage> {
    vec![
        ("garbage", |path, session| {
            let mut bytes = b"\xff\x00garbage".to_vec();
            bytes.extend_from_slice(session);
            std::fs::write(path, bytes).unwrap();
        }),
        ("truncated", |path, session| {
            std::fs::write(path, &session[..session.len() * 2 / 3]).unwrap();
        }),
        ("another shape", |path, session| {
            let mut bytes = b"[".to_vec();
            bytes.extend_from_slice(session);
            bytes.push(b']');
            std::fs::write(path, bytes).unwrap();
        }),
        ("unreadable", |path, session| {
            // Also garbage, so the case means something when the tests run as root (who reads it).
            std::fs::write(path, &session[..session.len() / 2]).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
            }
        }),
        #[cfg(unix)]
        ("a symlink loop", |path, _| {
            std::os::unix::fs::symlink(path.file_name().unwrap(), path).unwrap();
        }),
        ("a folder", |path, _| {
            std::fs::create_dir(path).unwrap();
            std::fs::write(path.join("inside"), "kept").unwrap();
        }),
    ]
}

impl Env {
    /// The file of the sign-ins in progress.
    fn pending(&self) -> PathBuf {
        self.dir.path().join("session.pending.json")
    }

    /// Empties the test's folder.
    fn reset(&self) {
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }

    /// A valid session's bytes, from a real login (then removed).
    fn session_bytes(&self) -> Vec<u8> {
        self.reset();
        self.login(&[]).json();
        let bytes = std::fs::read(self.session()).unwrap();
        self.reset();
        bytes
    }
}

/// The set-aside copy beside `path` (`session.corrupt`, `session.pending.corrupt`).
fn aside(path: &Path) -> PathBuf {
    path.with_extension("corrupt")
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

fn context(case: &str, run: &Run) -> String {
    format!(
        "{case}: code {} stdout {} stderr {}",
        run.code, run.stdout, run.stderr
    )
}

#[test]
fn login_works_whatever_the_stored_session_is() {
    let env = Env::new(IdpOptions::default());
    let session = env.session_bytes();
    for (case, break_it) in breakages() {
        env.reset();
        break_it(&env.session(), &session);
        let login = env.login(&[]);
        assert_eq!(login.code, 0, "{}", context(case, &login));
        assert_eq!(login.json()["name"], "Demo User", "{case}");
        assert!(
            login.stderr.contains("warning: storage: "),
            "{case}: the broken session is reported: {}",
            login.stderr
        );
        // The broken entry is kept aside, whole, and the new session is usable.
        assert!(exists(&aside(&env.session())), "{case}: nothing set aside");
        if case == "a folder" {
            assert_eq!(
                std::fs::read_to_string(aside(&env.session()).join("inside")).unwrap(),
                "kept"
            );
        }
        let status = env.run(&["status"]);
        assert_eq!(
            status.json()["name"],
            "Demo User",
            "{}",
            context(case, &status)
        );
    }
}

#[test]
fn login_works_whatever_the_stored_sign_ins_in_progress_are() {
    let env = Env::new(IdpOptions::default());
    let session = env.session_bytes();
    for (case, break_it) in breakages() {
        env.reset();
        break_it(&env.pending(), &session);
        let login = env.login(&[]);
        assert_eq!(login.code, 0, "{}", context(case, &login));
        assert_eq!(env.run(&["status"]).json()["name"], "Demo User", "{case}");
        // What login does not need, it leaves as it is: nothing of it is deleted.
        assert!(
            exists(&env.pending()) || exists(&aside(&env.pending())),
            "{case}: the pending entry was deleted"
        );
    }
}

#[test]
fn logout_erases_what_it_can_whatever_the_stored_session_is() {
    let env = Env::new(IdpOptions::default());
    for (case, break_it) in breakages() {
        env.reset();
        env.login(&[]).json();
        let bytes = std::fs::read(env.session()).unwrap();
        let stored: Value = serde_json::from_slice(&bytes).unwrap();
        let refresh_token = stored["refresh_token"].as_str().unwrap().to_string();
        std::fs::remove_file(env.session()).unwrap();
        break_it(&env.session(), &bytes);

        let logout = env.run(&["logout", "--browser", "true"]);
        if case == "a folder" {
            // Not a session: it is not deleted, and logout says it could not sign out.
            assert_eq!(logout.code, 1, "{}", context(case, &logout));
            let line = logout.last_line();
            assert!(
                line.starts_with("error: storage: not signed out on this device: "),
                "{}",
                context(case, &logout)
            );
            assert!(
                line.contains(&env.session().display().to_string()),
                "{line}"
            );
            assert!(
                env.session().join("inside").exists()
                    || aside(&env.session()).join("inside").exists(),
                "the folder was deleted"
            );
            continue;
        }
        assert_eq!(logout.code, 0, "{}", context(case, &logout));
        assert!(
            logout.stderr.contains("could not be revoked"),
            "{}",
            context(case, &logout)
        );
        assert!(
            !exists(&env.session()),
            "{case}: the session is still there"
        );
        let left = files_containing(env.dir.path(), &refresh_token);
        assert!(left.is_empty(), "{case}: a token is still in {left:?}");
        // And the next login starts clean.
        let status = env.run(&["status"]);
        assert_eq!(status.code, 3, "{}", context(case, &status));
    }
}

#[test]
fn logout_works_whatever_the_stored_sign_ins_in_progress_are() {
    let env = Env::new(IdpOptions::default());
    for (case, break_it) in breakages() {
        env.reset();
        env.login(&[]).json();
        let bytes = std::fs::read(env.session()).unwrap();
        let stored: Value = serde_json::from_slice(&bytes).unwrap();
        let refresh_token = stored["refresh_token"].as_str().unwrap().to_string();
        break_it(&env.pending(), &bytes);

        let logout = env.run(&["logout", "--browser", "true"]);
        assert_eq!(logout.code, 0, "{}", context(case, &logout));
        assert!(
            logout
                .stderr
                .contains("Signed out: the stored session is erased."),
            "{}",
            context(case, &logout)
        );
        assert!(!env.session().exists(), "{case}");
        assert_eq!(
            super::refresh_grant(&env.idp, &refresh_token)["error"],
            "invalid_grant",
            "{case}: the tokens are revoked"
        );
    }
}

#[test]
fn a_logout_that_cannot_erase_everything_revokes_and_fails_saying_what_remains() {
    let env = Env::new(IdpOptions::default());
    env.login(&[]).json();
    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    let refresh_token = stored["refresh_token"].as_str().unwrap().to_string();
    // Where a set-aside copy would be, something sign-out cannot remove.
    std::fs::create_dir(aside(&env.session())).unwrap();
    std::fs::write(aside(&env.session()).join("inside"), "kept").unwrap();

    let logout = env.run(&["logout", "--browser", "true"]);
    assert_eq!(logout.code, 1, "{}", logout.stderr);
    let line = logout.last_line();
    assert!(
        line.starts_with("error: storage: not signed out on this device: "),
        "{line}"
    );
    assert!(
        line.contains("session.corrupt"),
        "says what remains: {line}"
    );
    assert!(line.contains("its tokens are revoked"), "{line}");
    assert!(line.contains("run `signin logout` again"), "{line}");
    assert_eq!(
        super::refresh_grant(&env.idp, &refresh_token)["error"],
        "invalid_grant",
        "the tokens are revoked all the same"
    );
    assert!(aside(&env.session()).join("inside").exists());
}

#[test]
fn logout_without_a_session_erases_a_set_aside_copy_and_says_not_signed_in() {
    let env = Env::new(IdpOptions::default());
    env.login(&[]).json();
    let bytes = std::fs::read(env.session()).unwrap();
    let stored: Value = serde_json::from_slice(&bytes).unwrap();
    let refresh_token = stored["refresh_token"].as_str().unwrap().to_string();
    // A damaged session that an earlier command set aside: it still holds the tokens.
    std::fs::write(env.session(), &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(env.run(&["status"]).code, 1);
    assert!(aside(&env.session()).exists());
    assert!(!env.session().exists());

    let logout = env.run(&["logout", "--browser", "true"]);
    assert!(
        logout.error_line().starts_with("error: not_signed_in: "),
        "{}",
        logout.stderr
    );
    let left = files_containing(env.dir.path(), &refresh_token);
    assert!(left.is_empty(), "a token is still in {left:?}");
}

/// Runs `signin args…` with the Secret Service on `bus` (HOME stays the test's).
fn run_on(bus: &SessionBus, mut command: std::process::Command) -> Run {
    command.envs(bus.env().into_iter().filter(|(k, _)| k != "HOME"));
    super::finish(command.output().unwrap())
}

/// `secret-tool` with `args` on `bus`, `input` on its standard input; its standard output.
fn secret_tool(bus: &SessionBus, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("secret-tool")
        .args(args)
        .envs(bus.env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("secret-tool (Debian package libsecret-tools; make test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn login_and_logout_work_over_a_keystore_item_that_is_not_a_session() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_secret_service(bus_dir.path());
    let account = format!("{}#session", env.session().display());
    let keystore = ["--token-storage", "keystore"];
    let login = || run_on(&bus, env.login_command(&super::browser(), &keystore));
    let damage = |text: &str| {
        secret_tool(
            &bus,
            &["clear", "service", "signin", "username", &account],
            "",
        );
        secret_tool(
            &bus,
            &[
                "store", "--label", "damaged", "service", "signin", "username", &account,
            ],
            text,
        );
    };
    let items = || secret_tool(&bus, &["search", "--all", "service", "signin"], "");

    login().json();
    damage("{\"issuer\": \"half a session");
    let again = login();
    assert_eq!(again.json()["storage"], "keystore", "{}", again.stderr);
    assert!(
        again.stderr.contains("warning: storage: "),
        "{}",
        again.stderr
    );
    let listed = items();
    assert!(
        listed.contains(&format!("{account}.corrupt")),
        "the damaged item is kept aside: {listed}"
    );

    // Sign-out with a damaged item: erased, with the copy set aside, and said so.
    damage("not a session either");
    let logout = run_on(
        &bus,
        env.command(&["logout", "--browser", "true", "--token-storage", "keystore"]),
    );
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(
        logout.stderr.contains("could not be revoked"),
        "{}",
        logout.stderr
    );
    let listed = items();
    assert!(
        !listed.contains(&account),
        "no item of the session is left: {listed}"
    );
}
