//! Where `signin` keeps tokens, against real components: the OS keystore is a real Secret Service
//! (gnome-keyring on a private session bus), the fallback a real file; and what must never happen to a
//! session: a plaintext token on disk, a file readable by others, a rotated refresh token lost to a
//! crash or to a refreshed ID token that fails validation, two processes spending one refresh token.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use native_oidc::{Auth, Config, OidcClient, SessionStore};
use serde_json::Value;
use testkit::{files_containing, IdpOptions, SessionBus, SmallDisk, CLIENT_ID};

use super::{block_on, browser, finish, refresh_grant, Env, Run};

/// Runs `command` on `bus` (its HOME stays the test's).
fn on_bus(bus: &SessionBus, mut command: Command) -> Run {
    command.envs(bus.env().into_iter().filter(|(k, _)| k != "HOME"));
    finish(command.output().unwrap())
}

impl Env {
    /// Runs `signin` on `bus` (its HOME stays the test's).
    fn run_on(&self, bus: &SessionBus, args: &[&str]) -> Run {
        on_bus(bus, self.command(args))
    }

    fn login_on(&self, bus: &SessionBus, storage: &str) -> Run {
        on_bus(
            bus,
            self.login_command(&browser(), &["--token-storage", storage]),
        )
    }

    /// The keystore account of this test's session.
    fn account(&self) -> String {
        format!("{}#session", self.session().display())
    }

    /// The session in the session file.
    fn stored_file(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.session()).unwrap()).unwrap()
    }
}

/// What `secret-tool` finds for an account of `signin`'s service.
fn secret_tool(bus: &SessionBus, account: &str) -> Option<Vec<u8>> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", "signin", "username", account])
        .envs(bus.env())
        .output()
        .expect("secret-tool (Debian package libsecret-tools; make test installs it)");
    (output.status.success() && !output.stdout.is_empty()).then_some(output.stdout)
}

#[test]
fn the_keystore_holds_the_tokens_and_no_file_does() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_secret_service(bus_dir.path());

    let login = env.login_on(&bus, "keystore").json();
    assert_eq!(login["storage"], "keystore");
    assert_eq!(login["name"], "Demo User");

    // secret-tool finds the item; it holds the session (after a one-byte format mark).
    let item = secret_tool(&bus, &env.account()).expect("secret-tool finds the session");
    let session: Value = serde_json::from_slice(&item[1..]).unwrap();
    let tokens = [
        session["access_token"].as_str().unwrap().to_string(),
        session["refresh_token"].as_str().unwrap().to_string(),
        session["id_token"].as_str().unwrap().to_string(),
    ];
    for token in &tokens {
        for dir in [env.dir.path(), bus_dir.path()] {
            let found = files_containing(dir, token);
            assert!(found.is_empty(), "a token is in plaintext in {found:?}");
        }
    }

    // A new process restores the session from the keystore and uses it.
    let status = env
        .run_on(&bus, &["status", "--token-storage", "keystore"])
        .json();
    assert_eq!(status["subject"], login["subject"]);
    assert_eq!(status["storage"], "keystore");
    let userinfo = format!("{}/v1/userinfo", env.idp.issuer());
    let called = env.run_on(&bus, &["call", &userinfo, "--token-storage", "keystore"]);
    assert_eq!(called.code, 0, "{}", called.stderr);

    let logout = env.run_on(
        &bus,
        &[
            "logout",
            "--browser",
            &browser(),
            "--token-storage",
            "keystore",
        ],
    );
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(
        secret_tool(&bus, &env.account()).is_none(),
        "sign-out erases the keystore item"
    );
}

#[test]
fn without_a_secret_service_auto_uses_a_private_file_and_keystore_is_an_error() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::empty(bus_dir.path());

    let refused = env.login_on(&bus, "keystore");
    let line = refused.error_line();
    assert!(line.starts_with("error: storage: "), "{line}");
    assert!(line.contains("keyring cannot be reached"), "{line}");
    assert!(line.contains("tokenStorage"), "says what to do: {line}");
    assert!(!env.session().exists(), "never a silent plaintext file");

    let login = env.login_on(&bus, "auto");
    assert_eq!(login.json()["storage"], "file");
    assert!(
        login.stderr.contains("kept in a file only you can read"),
        "the fallback is said out loud: {}",
        login.stderr
    );
    let status = env
        .run_on(&bus, &["status", "--token-storage", "auto"])
        .json();
    assert_eq!(status["storage"], "file");
}

#[test]
fn a_plaintext_session_file_moves_into_the_keystore() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_secret_service(bus_dir.path());
    // A session as the current version stores it: plaintext in the session file.
    let before = env.login(&[]).json();
    assert_eq!(before["storage"], "file");
    let refresh_token = env.stored_file()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    let after = env
        .run_on(&bus, &["status", "--token-storage", "auto"])
        .json();
    assert_eq!(after["storage"], "keystore");
    assert_eq!(after["subject"], before["subject"], "still signed in");
    assert!(!env.session().exists(), "the plaintext copy is erased");
    assert!(files_containing(env.dir.path(), &refresh_token).is_empty());
    assert!(secret_tool(&bus, &env.account()).is_some());
    let token = env.run_on(&bus, &["token", "--token-storage", "keystore"]);
    assert_eq!(token.code, 0, "{}", token.stderr);
}

#[test]
fn every_account_left_in_the_file_moves_into_the_keystore() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_secret_service(bus_dir.path());
    // Two accounts kept in the file (as `auto` does while no keystore answers).
    env.login(&[]).json();
    let alice_browser = crate::alice_browser();
    let alice = finish(
        env.login_command(&alice_browser, &["--add"])
            .output()
            .unwrap(),
    )
    .json();
    let slot = env.dir.path().join(format!(
        "session.account-{}.session.json",
        alice["account"].as_str().unwrap()
    ));
    let alice_refresh = serde_json::from_slice::<Value>(&std::fs::read(&slot).unwrap()).unwrap()
        ["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    let listed = env
        .run_on(&bus, &["accounts", "--token-storage", "auto"])
        .json();
    let emails: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["demo@example.com", "alice@example.com"]);
    assert!(!slot.exists(), "alice's plaintext copy is erased");
    assert!(!env.dir.path().join("session.accounts.json").exists());
    assert!(files_containing(env.dir.path(), &alice_refresh).is_empty());
    let status = env.run_on(
        &bus,
        &[
            "status",
            "--token-storage",
            "keystore",
            "--account",
            "alice@example.com",
        ],
    );
    assert_eq!(status.json()["subject"], alice["subject"]);
}

#[test]
fn an_account_signed_in_to_the_file_while_the_keystore_holds_another_keeps_both() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_secret_service(bus_dir.path());
    // demo in the keystore; then alice in the file (as `auto` does while the keystore is away).
    let demo = env.login_on(&bus, "keystore").json();
    assert_eq!(demo["storage"], "keystore");
    let alice_browser = crate::alice_browser();
    let alice = finish(
        env.login_command(&alice_browser, &["--token-storage", "file"])
            .output()
            .unwrap(),
    )
    .json();
    assert_eq!(alice["storage"], "file");

    let listed = env
        .run_on(&bus, &["accounts", "--token-storage", "auto"])
        .json();
    let mut subjects: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    subjects.sort();
    let mut expected = [
        demo["subject"].as_str().unwrap(),
        alice["subject"].as_str().unwrap(),
    ];
    expected.sort();
    assert_eq!(subjects, expected, "neither account is lost: {listed}");
    assert!(!env.session().exists(), "the plaintext copy is erased");
    for summary in [&demo, &alice] {
        let account = summary["account"].as_str().unwrap();
        let refreshed = env.run_on(
            &bus,
            &[
                "refresh",
                "--token-storage",
                "keystore",
                "--account",
                account,
            ],
        );
        assert_eq!(refreshed.json()["subject"], summary["subject"]);
    }
}

#[cfg(unix)]
#[test]
fn the_session_file_is_never_readable_by_others_even_with_umask_0() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new(IdpOptions::default());
    let folder = env.dir.path().join("signin");
    let session = folder.join("session.json");
    let command = format!(
        "umask 000; exec '{}' login --issuer '{}' --client-id '{CLIENT_ID}' --browser '{}' --token-storage file --session '{}'",
        env!("CARGO_BIN_EXE_signin"),
        env.idp.issuer(),
        browser(),
        session.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &command])
        .env("DBUS_SESSION_BUS_ADDRESS", "disabled:")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Look at every file in the folder as soon as it exists, until the login ends.
    let mut seen = std::collections::BTreeMap::new();
    loop {
        if let Ok(entries) = std::fs::read_dir(&folder) {
            for entry in entries.flatten() {
                if let Ok(meta) = entry.metadata() {
                    let mode = meta.permissions().mode() & 0o777;
                    seen.entry(entry.file_name()).or_insert(mode);
                    assert_eq!(mode & 0o077, 0, "{:?} was {mode:o}", entry.file_name());
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(
        std::fs::metadata(&session).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(!seen.is_empty());
}

/// A number in `0..bound` that differs from run to run.
fn random(state: &mut u64, bound: u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % bound
}

#[test]
fn a_refresh_killed_at_any_moment_loses_nothing() {
    // Okta's grace period: a refresh token the provider rotated just before the kill is accepted once
    // more, so a process killed before it saved the new one does not end the session.
    let env = Env::new(IdpOptions::default());
    env.login(&[]).json();
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut killed_after_rotation = 0;
    for round in 0..50 {
        let grants = block_on(env.idp.grants("refresh_token"));
        let mut child = env
            .command(&["refresh"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A refresh takes some 30-40 ms here: kill it anywhere in its life.
        std::thread::sleep(Duration::from_micros(random(&mut state, 45_000)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if block_on(env.idp.grants("refresh_token")) > grants {
            killed_after_rotation += 1;
        }
        let run = env.run(&["refresh"]);
        assert_eq!(
            run.code, 0,
            "round {round}: a new process could not refresh after the kill: {}",
            run.stderr
        );
    }
    assert_eq!(env.run(&["status"]).json()["has_refresh_token"], true);
    eprintln!("{killed_after_rotation} of 50 kills came after the provider had rotated the token");
    assert!(
        killed_after_rotation > 0,
        "no kill came after a rotation: the test did not reach the dangerous window"
    );
}

#[test]
fn a_refreshed_id_token_that_fails_validation_is_an_error_and_ends_the_session() {
    // OIDC Core §12.2: an RP must reject a refreshed ID token that fails validation.
    let env = Env::new(IdpOptions {
        invalid_refreshed_id_token: true,
        refresh_token_grace: Some(0),
        ..Default::default()
    });
    env.login(&[]).json();
    let before = env.stored_file();

    let run = env.run(&["refresh"]);
    assert_ne!(run.code, 0, "a refused answer is an error: {}", run.stdout);
    assert!(
        run.error_line().starts_with("error: invalid_id_token: "),
        "{}",
        run.stderr
    );
    assert_eq!(env.run(&["status"]).code, 3, "the session has ended");
    assert!(!env.session().exists(), "and is erased");
    let old = refresh_grant(&env.idp, before["refresh_token"].as_str().unwrap());
    assert_eq!(old["error"], "invalid_grant", "its grant is revoked: {old}");
}

#[test]
fn a_keyring_that_answers_but_cannot_store_is_never_chosen() {
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_locked_secret_service(bus_dir.path());

    // `auto`: the probe finds that nothing can be stored, so the file is used and sign-in works.
    let login = env.login_on(&bus, "auto");
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert_eq!(login.json()["storage"], "file");

    // `keystore`: an error a person can act on, not the Secret Service's own words.
    let refused = env.run_on(&bus, &["status", "--token-storage", "keystore"]);
    let line = refused.error_line();
    assert!(line.contains("keyring is locked"), "{line}");
    assert!(line.contains("unlock it"), "{line}");
    assert!(!line.contains("SS error"), "{line}");
}

#[test]
fn readers_never_set_aside_a_chunked_session_a_writer_is_replacing() {
    // Every session is split into 400-byte items (as on Windows, 2,560 bytes), so a reader can see a
    // chunk set half-replaced by a refresh in another process.
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let bus = SessionBus::with_secret_service(bus_dir.path());
    let chunked = |mut command: Command| {
        command
            .env("SIGNIN_TEST_KEYSTORE_CHUNK_BYTES", "400")
            .envs(bus.env().into_iter().filter(|(k, _)| k != "HOME"));
        finish(command.output().unwrap())
    };
    let keystore = ["--token-storage", "keystore"];
    let login = chunked(env.login_command(&browser(), &keystore));
    assert_eq!(login.code, 0, "{}", login.stderr);

    // Four refreshes in one process while another reads the session over and over until they end.
    let writing = std::sync::atomic::AtomicBool::new(true);
    let reads = std::thread::scope(|scope| {
        scope.spawn(|| {
            for _ in 0..4 {
                let run = chunked(env.command(&["refresh", keystore[0], keystore[1]]));
                assert_eq!(run.code, 0, "refresh: {}", run.stderr);
            }
            writing.store(false, std::sync::atomic::Ordering::SeqCst);
        });
        let mut reads = 0;
        while writing.load(std::sync::atomic::Ordering::SeqCst) || reads < 3 {
            let run = chunked(env.command(&["status", keystore[0], keystore[1]]));
            assert_eq!(run.code, 0, "a reader failed: {}", run.stderr);
            reads += 1;
        }
        reads
    });
    eprintln!("{reads} reads during 4 refreshes");
    let corrupt = format!("{}#session.corrupt", env.session().display());
    assert!(
        secret_tool(&bus, &corrupt).is_none(),
        "nothing was set aside"
    );
}

#[test]
fn processes_racing_on_an_expired_session_refresh_once() {
    let env = Env::new(IdpOptions {
        access_token_ttl: Some(2),
        refresh_token_grace: Some(0),
        ..Default::default()
    });
    env.login(&[]).json();
    std::thread::sleep(Duration::from_millis(2100));
    let before = block_on(env.idp.grants("refresh_token"));

    let spawn = || {
        env.command(&["token"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let in_process = block_on(async {
        let config = Config::new(env.idp.issuer(), CLIENT_ID, "http://127.0.0.1/callback").unwrap();
        let auth = Auth::new(
            OidcClient::new(config).unwrap(),
            SessionStore::file(env.session()),
        );
        auth.restore().await.unwrap().expect("the stored session");
        auth.access_token().await.map(|t| t.secret().clone())
    })
    .expect("the in-process caller gets a token");
    let started = Instant::now();
    let tokens: Vec<String> = [first, second]
        .into_iter()
        .map(|child| {
            let run = finish(child.wait_with_output().unwrap());
            assert_eq!(run.code, 0, "{}", run.stderr);
            run.stdout.trim().to_string()
        })
        .collect();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        block_on(env.idp.grants("refresh_token")) - before,
        1,
        "exactly one refresh request reached the provider"
    );
    assert_eq!(tokens[0], in_process);
    assert_eq!(tokens[1], in_process);
    assert_eq!(env.run(&["status"]).json()["has_refresh_token"], true);
}

#[test]
fn a_refresh_is_not_sent_while_the_store_cannot_keep_its_answer() {
    // Rotation with no grace period: a refresh whose answer could not be saved would end the session.
    let env = Env::new(IdpOptions {
        refresh_token_grace: Some(0),
        ..Default::default()
    });
    // The session folder on a small disk of its own, filled to the last byte: a real full disk.
    let disk = match SmallDisk::mount(env.dir.path(), 1024) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("skipped: no real full disk on this machine ({why})");
            return;
        }
    };
    env.login(&[]).json();
    let before = env.stored_file();
    let refreshes = block_on(env.idp.grants("refresh_token"));

    disk.fill();
    let run = env.run(&["refresh"]);
    let line = run.error_line();
    assert!(line.starts_with("error: storage: "), "{line}");
    assert!(line.contains("No space left on device"), "{line}");
    assert_eq!(
        block_on(env.idp.grants("refresh_token")),
        refreshes,
        "nothing is sent while the answer could not be kept"
    );
    assert_eq!(env.stored_file(), before, "the session is as it was");

    disk.free();
    let refreshed = env.run(&["refresh"]);
    assert_eq!(refreshed.code, 0, "{}", refreshed.stderr);
    assert_ne!(
        env.stored_file()["refresh_token"],
        before["refresh_token"],
        "the refresh token was not spent: it rotates now"
    );
}

#[test]
fn a_sign_in_outlives_a_restart_of_the_secret_service() {
    // A long-lived process (the app; here `signin login`, waiting on the browser) keeps its connection
    // to the Secret Service: after the service restarts, that connection is dead and must be made anew.
    let env = Env::new(IdpOptions::default());
    let bus_dir = tempfile::tempdir().unwrap();
    let mut bus = SessionBus::with_secret_service(bus_dir.path());
    let opened = env.dir.path().join("browser-opened");
    let go = env.dir.path().join("browser-go");
    // The browser: says it was opened, then waits until the test lets it sign in.
    let waiting_browser = env.dir.path().join("waiting-browser");
    std::fs::write(
        &waiting_browser,
        format!(
            "#!/bin/sh\ntouch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.05; done\nexec '{}' \"$@\"\n",
            opened.display(),
            go.display(),
            browser()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &waiting_browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    let mut login = env.login_command(
        &waiting_browser.display().to_string(),
        &["--token-storage", "keystore"],
    );
    login.envs(bus.env().into_iter().filter(|(k, _)| k != "HOME"));
    let child = login
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !opened.exists() {
        assert!(Instant::now() < deadline, "the browser was never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
    // `signin` has used the keystore (its pending sign-in is stored there): restart the service.
    bus.stop_secret_service();
    bus.start_secret_service();
    std::fs::write(&go, b"").unwrap();

    let run = finish(child.wait_with_output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["storage"], "keystore");
    assert!(
        secret_tool(&bus, &env.account()).is_some(),
        "the session is in the restarted Secret Service"
    );
}

/// The provider has rotated the refresh token and the keyring goes away before its answer arrives
/// (gnome-keyring stopped for 12 s): `signin`, which would take the only copy of the new refresh token
/// with it when it exits, keeps trying to save it until the keyring is back (an app keeps it in
/// memory instead). With no grace period, giving up would end the session.
#[test]
fn a_refreshs_answer_waits_for_the_keyring_to_come_back() {
    let env = Env::new(IdpOptions {
        refresh_token_grace: Some(0),
        refresh_delay_ms: Some(1500),
        ..Default::default()
    });
    let bus_dir = tempfile::tempdir().unwrap();
    let mut bus = SessionBus::with_secret_service(bus_dir.path());
    let login = env.login_on(&bus, "keystore");
    assert_eq!(login.code, 0, "{}", login.stderr);
    let before = secret_tool(&bus, &env.account()).expect("the session is in the keystore");
    let refreshes = block_on(env.idp.grants("refresh_token"));

    let mut refresh = env.command(&["refresh", "--token-storage", "keystore"]);
    refresh.envs(bus.env().into_iter().filter(|(k, _)| k != "HOME"));
    let child = refresh
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The provider has rotated the token; its answer comes 1.5 s later, to a keyring that is gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    while block_on(env.idp.grants("refresh_token")) == refreshes {
        assert!(
            Instant::now() < deadline,
            "the refresh never reached the provider"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    bus.stop_secret_service();
    std::thread::sleep(Duration::from_secs(12));
    bus.start_secret_service();

    let run = finish(child.wait_with_output().unwrap());
    assert_eq!(
        run.code, 0,
        "the answer was saved once the keyring came back: {}",
        run.stderr
    );
    let after = secret_tool(&bus, &env.account()).expect("the session is in the keystore");
    assert_ne!(after, before, "the rotated tokens are stored");
    let again = env.run_on(&bus, &["refresh", "--token-storage", "keystore"]);
    assert_eq!(
        again.code, 0,
        "the saved refresh token works: {}",
        again.stderr
    );
}
