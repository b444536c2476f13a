//! Several accounts in one `signin`: `demo` and `alice` of dev/idp side by side, each with its own
//! tokens and lock, against a provider that rotates refresh tokens with no grace period (a refresh
//! token used twice ends that session), and the demo API answering with the caller's subject.

use std::process::Child;

use serde_json::Value;
use testkit::IdpOptions;

use crate::{browser, demo_api, finish, refresh_grant, Env, Run};

const DEMO: &str = "demo@example.com";
const ALICE: &str = "alice@example.com";

fn strict_provider() -> Env {
    Env::new(IdpOptions {
        refresh_token_grace: Some(0),
        ..Default::default()
    })
}

/// `signin login --add` as alice, through a browser command that also writes the URL it was given
/// to `record`.
fn add_alice(env: &Env, record: &std::path::Path) -> Run {
    let browser = format!(
        "sh -c 'echo \"$1\" >> {}; exec {} --user alice --password alice \"$1\"' browser",
        record.display(),
        browser()
    );
    finish(env.login_command(&browser, &["--add"]).output().unwrap())
}

fn accounts(env: &Env) -> Vec<Value> {
    env.run(&["accounts"]).json().as_array().unwrap().clone()
}

fn default_email(env: &Env) -> String {
    let list = accounts(env);
    let defaults: Vec<&Value> = list.iter().filter(|a| a["default"] == true).collect();
    assert_eq!(defaults.len(), 1, "one default: {list:?}");
    defaults[0]["email"].as_str().unwrap().to_string()
}

/// The subject the demo API sees for `signin call` (with `--account account` when given).
fn caller(env: &Env, api: &str, account: Option<&str>) -> String {
    let whoami = format!("{api}/api/whoami");
    let mut args = vec!["call", whoami.as_str()];
    if let Some(account) = account {
        args.extend(["--account", account]);
    }
    let run = env.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body: Value = serde_json::from_str(&run.stdout).unwrap();
    body["sub"].as_str().unwrap().to_string()
}

/// The stored refresh token of the account signed in as `summary`.
fn stored_refresh_token(env: &Env, summary: &Value) -> String {
    let first: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    let session: Value = if first["subject"] == summary["subject"] {
        first
    } else {
        let id = summary["account"].as_str().unwrap();
        let slot = env
            .dir
            .path()
            .join(format!("session.account-{id}.session.json"));
        serde_json::from_slice(&std::fs::read(slot).unwrap()).unwrap()
    };
    session["refresh_token"].as_str().unwrap().to_string()
}

#[test]
fn two_accounts_are_added_switched_called_and_signed_out_apart() {
    let env = strict_provider();
    let api = demo_api(&env);
    let demo = env.login(&[]).json();
    assert_eq!(demo["email"], DEMO);

    let record = env.dir.path().join("browser-urls");
    let alice = add_alice(&env, &record).json();
    assert_eq!(alice["email"], ALICE);
    assert_ne!(alice["account"], demo["account"]);
    let url = std::fs::read_to_string(&record).unwrap();
    assert!(
        url.contains("prompt=login"),
        "an added account asks the provider for credentials again: {url}"
    );

    // Both are listed (no network needed), the one added last is the default.
    let list = accounts(&env);
    let emails: Vec<&str> = list.iter().map(|a| a["email"].as_str().unwrap()).collect();
    assert_eq!(emails, [DEMO, ALICE]);
    assert_eq!(default_email(&env), ALICE);
    for account in &list {
        for field in ["access_token", "refresh_token", "id_token"] {
            assert!(
                account.get(field).is_none(),
                "no token in the list: {account}"
            );
        }
    }

    // Each account calls the API as itself: the default, or the one named by email or id.
    let demo_sub = demo["subject"].as_str().unwrap();
    let alice_sub = alice["subject"].as_str().unwrap();
    assert_eq!(caller(&env, &api, None), alice_sub);
    assert_eq!(caller(&env, &api, Some(DEMO)), demo_sub);
    assert_eq!(
        caller(&env, &api, Some(demo["account"].as_str().unwrap())),
        demo_sub
    );
    let status = env.run(&["status", "--account", DEMO]).json();
    assert_eq!(status["subject"], demo_sub);

    // Switching changes the default; nothing else.
    env.run(&["accounts", "--switch", DEMO]).json();
    assert_eq!(default_email(&env), DEMO);
    assert_eq!(caller(&env, &api, None), demo_sub);

    // Signing in as an account that is here updates it: no second copy.
    let again = add_alice(&env, &record).json();
    assert_eq!(again["account"], alice["account"]);
    assert_eq!(accounts(&env).len(), 2);
    assert_eq!(
        default_email(&env),
        ALICE,
        "the account signed in is the default"
    );

    // An account that is not here is a config error that says how to find them.
    let unknown = env.run(&["status", "--account", "bob@example.com"]);
    assert!(
        unknown
            .error_line()
            .starts_with("error: config: no account `bob@example.com`"),
        "{}",
        unknown.stderr
    );

    // Signing alice out revokes her tokens and leaves demo's valid at the provider.
    let alice_refresh = stored_refresh_token(&env, &alice);
    let logout = env.run(&["logout", "--account", ALICE, "--browser", &browser()]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert_eq!(
        refresh_grant(&env.idp, &alice_refresh)["error"],
        "invalid_grant",
        "alice's refresh token is revoked"
    );
    let list = accounts(&env);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        default_email(&env),
        DEMO,
        "the default moves to the account left"
    );
    let refreshed = env.run(&["refresh"]).json();
    assert_eq!(refreshed["subject"], demo_sub);
    assert_eq!(caller(&env, &api, None), demo_sub);

    // Sign-out of every account: none left.
    add_alice(&env, &record).json();
    assert_eq!(accounts(&env).len(), 2);
    let logout = env.run(&["logout", "--all-accounts", "--browser", &browser()]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(accounts(&env).is_empty());
    assert_eq!(env.run(&["status"]).code, 3, "signed out");
}

#[test]
fn processes_refreshing_two_accounts_at_once_never_end_either() {
    let env = strict_provider();
    let api = demo_api(&env);
    let demo = env.login(&[]).json();
    let alice = add_alice(&env, &env.dir.path().join("urls")).json();
    for round in 0..4 {
        let children: Vec<(&str, Child)> = [DEMO, ALICE, DEMO, ALICE, DEMO, ALICE]
            .into_iter()
            .map(|account| {
                let child = env
                    .command(&["refresh", "--account", account])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                (account, child)
            })
            .collect();
        for (account, child) in children {
            let run = finish(child.wait_with_output().unwrap());
            let summary = run.json();
            assert_eq!(summary["email"], account, "round {round}: {}", run.stderr);
        }
        // Every account is still signed in, with tokens the provider and the API accept.
        assert_eq!(
            caller(&env, &api, Some(DEMO)),
            demo["subject"].as_str().unwrap()
        );
        assert_eq!(
            caller(&env, &api, Some(ALICE)),
            alice["subject"].as_str().unwrap()
        );
    }
    assert_eq!(accounts(&env).len(), 2);
}

#[test]
fn a_session_stored_before_accounts_existed_is_the_default_account() {
    let env = strict_provider();
    let demo = env.login(&[]).json();
    // What a single-account version left: the session file and nothing else.
    let list = env.dir.path().join("session.accounts.json");
    std::fs::remove_file(&list).expect("the list of accounts is beside the session");

    let accounts_now = accounts(&env);
    assert_eq!(accounts_now.len(), 1);
    assert_eq!(accounts_now[0]["email"], DEMO);
    assert_eq!(accounts_now[0]["default"], true);
    assert_eq!(accounts_now[0]["id"], demo["account"]);
    assert_eq!(env.run(&["refresh"]).json()["subject"], demo["subject"]);

    // Adding an account keeps it where it was.
    add_alice(&env, &env.dir.path().join("urls")).json();
    let stored: Value = serde_json::from_slice(&std::fs::read(env.session()).unwrap()).unwrap();
    assert_eq!(stored["subject"], demo["subject"]);
    assert_eq!(accounts(&env).len(), 2);

    // An unreadable list of accounts loses none of them.
    std::fs::write(&list, b"{not json").unwrap();
    let emails: Vec<String> = accounts(&env)
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_string())
        .collect();
    assert!(emails.contains(&DEMO.to_string()), "{emails:?}");
}

#[test]
fn two_accounts_signing_in_at_once_each_get_their_own_place() {
    let env = strict_provider();
    for round in 0..3 {
        // Nothing stored: both sign-ins would take the first slot.
        let alice_browser = crate::alice_browser();
        let demo = env
            .login_command(&browser(), &[])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let alice = env
            .login_command(&alice_browser, &["--add"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let demo = finish(demo.wait_with_output().unwrap()).json();
        let alice = finish(alice.wait_with_output().unwrap()).json();
        let mut emails: Vec<String> = accounts(&env)
            .iter()
            .map(|a| a["email"].as_str().unwrap().to_string())
            .collect();
        emails.sort();
        assert_eq!(emails, [ALICE, DEMO], "round {round}");
        for summary in [&demo, &alice] {
            let refresh = env.run(&["refresh", "--account", summary["email"].as_str().unwrap()]);
            assert_eq!(
                refresh.json()["subject"],
                summary["subject"],
                "round {round}"
            );
        }
        let logout = env.run(&["logout", "--all-accounts", "--browser", "true"]);
        assert_eq!(logout.code, 0, "{}", logout.stderr);
        assert!(accounts(&env).is_empty());
    }
}

#[test]
fn sign_out_of_every_account_erases_a_session_it_cannot_read() {
    let env = strict_provider();
    let demo = env.login(&[]).json();
    let alice = add_alice(&env, &env.dir.path().join("urls")).json();
    let slot = env.dir.path().join(format!(
        "session.account-{}.session.json",
        alice["account"].as_str().unwrap()
    ));
    let bytes = std::fs::read(&slot).unwrap();
    std::fs::write(&slot, &bytes[..bytes.len() / 2]).unwrap();
    // Listed no more (it cannot be read), and left for whoever uses it to report.
    let listed = accounts(&env);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(slot.exists());

    let demo_refresh = stored_refresh_token(&env, &demo);
    let logout = env.run(&["logout", "--all-accounts", "--browser", "true"]);
    assert_eq!(logout.code, 0, "{}", logout.stderr);
    assert!(
        logout.stderr.contains("Erased 1 unreadable session"),
        "{}",
        logout.stderr
    );
    assert!(!slot.exists(), "the unreadable session is erased");
    let left: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("session") && !name.contains(".lock"))
        .collect();
    assert!(
        left.is_empty(),
        "nothing of either session is left: {left:?}"
    );
    assert_eq!(
        refresh_grant(&env.idp, &demo_refresh)["error"],
        "invalid_grant",
        "demo's tokens are revoked"
    );
}

#[test]
fn an_unreadable_list_of_accounts_is_set_aside_and_a_new_one_started() {
    let env = strict_provider();
    let record = env.dir.path().join("browser-urls");
    env.login(&[]).json();
    let alice = add_alice(&env, &record);
    assert_eq!(alice.code, 0, "{}", alice.stderr);
    let list = env.dir.path().join("session.accounts.json");
    assert!(list.is_file(), "the list of the accounts beside the first");
    std::fs::write(&list, b"{ not a list").unwrap();

    // Adding alice again finds her slot, lists her in a new list, and keeps the damaged one aside.
    let again = add_alice(&env, &record);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let mut emails: Vec<String> = accounts(&env)
        .iter()
        .map(|account| account["email"].as_str().unwrap().to_string())
        .collect();
    emails.sort();
    assert_eq!(emails, [ALICE, DEMO]);
    assert_eq!(
        std::fs::read(list.with_extension("corrupt")).unwrap(),
        b"{ not a list",
        "kept for inspection"
    );

    // The same of alice's own place: what is there is not a session; the sign-in takes the place.
    let id = again.json()["account"].as_str().unwrap().to_string();
    let slot = env
        .dir
        .path()
        .join(format!("session.account-{id}.session.json"));
    std::fs::write(&slot, b"not a session").unwrap();
    let third = add_alice(&env, &record);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(third.json()["account"], id.as_str());
    assert_eq!(accounts(&env).len(), 2);
    assert_eq!(
        std::fs::read(slot.with_extension("corrupt")).unwrap(),
        b"not a session"
    );
}
