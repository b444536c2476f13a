//! Native SSO between two `signin` apps of one vendor (each its own client id and session, one SSO
//! group) against dev/idp: the first signs in through the browser, the second with no browser; a
//! sign-out of all apps ends the second at its next refresh; what the provider refuses (a revoked or
//! expired device secret, an ID token of another user, a wrong `ds_hash`) falls back to the browser or
//! stores nothing.

use std::path::PathBuf;

use testkit::{IdpOptions, CLIENT_ID};

use crate::{browser, finish, Env, Run};

const GROUP: &str = "com.okta.example.shared";
const SECOND_APP: &str = "0oa1localsecond0002";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The vendor's two apps in one test folder (one data folder, so one share of the group).
struct Apps {
    env: Env,
}

impl Apps {
    fn new(options: IdpOptions) -> Self {
        Self {
            env: Env::new(options),
        }
    }

    fn session(&self, app: &str) -> PathBuf {
        self.env.dir.path().join(format!("{app}.json"))
    }

    /// `signin login` as `app`, with `browser` as its browser command.
    fn login(&self, app: &str, browser: &str) -> Run {
        self.login_with(app, browser, &[])
    }

    /// [`Apps::login`] with more flags.
    fn login_with(&self, app: &str, browser: &str, extra: &[&str]) -> Run {
        let issuer = self.env.idp.issuer().to_string();
        let client = if app == "first" {
            CLIENT_ID
        } else {
            SECOND_APP
        };
        let mut args = vec![
            "login",
            "--issuer",
            &issuer,
            "--client-id",
            client,
            "--sso-group",
            GROUP,
            "--browser",
            browser,
        ];
        args.extend_from_slice(extra);
        finish(
            self.env
                .command_at(&self.session(app), &args)
                .output()
                .unwrap(),
        )
    }

    fn run(&self, app: &str, args: &[&str]) -> Run {
        finish(
            self.env
                .command_at(&self.session(app), args)
                .output()
                .unwrap(),
        )
    }

    /// `signin logout --all-apps` as `app`.
    fn logout_of_all_apps(&self, app: &str) -> Run {
        let args = ["logout", "--all-apps", "--sso-group", GROUP];
        self.run(app, &[&args[..], &["--browser", "true"]].concat())
    }

    /// `signin logout` (of this app only) as `app`.
    fn logout(&self, app: &str) -> Run {
        self.run(app, &["logout", "--sso-group", GROUP, "--browser", "true"])
    }

    /// The first app signs in through the browser while the share cannot be written (a folder
    /// stands where its file goes): its sign-in is kept unshared, with its session.
    fn first_signs_in_unshared(&self) -> serde_json::Value {
        std::fs::create_dir_all(self.share()).unwrap();
        self.login("first", &browser()).json()
    }

    /// Makes the share writable again.
    fn unblock_share(&self) {
        std::fs::remove_dir(self.share()).unwrap();
    }

    /// How many live device secrets the provider revoked.
    fn device_secrets_revoked(&self) -> u64 {
        crate::block_on(self.env.idp.device_secrets_revoked())
    }

    /// The share's file (`--token-storage file`).
    fn share(&self) -> PathBuf {
        self.env
            .dir
            .path()
            .join(".local/share/native-sso")
            .join(format!("{GROUP}.sign-in.json"))
    }

    /// What the share holds, as JSON.
    fn shared(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.share()).unwrap()).unwrap()
    }

    fn exchanges(&self) -> u64 {
        crate::block_on(self.env.idp.grants(TOKEN_EXCHANGE))
    }

    /// Token exchanges the provider saw, answered or refused.
    fn exchange_requests(&self) -> u64 {
        let stats = crate::block_on(self.env.idp.stats());
        stats["grants"]
            .as_object()
            .map(|grants| {
                grants
                    .iter()
                    .filter(|(grant, _)| grant.starts_with(TOKEN_EXCHANGE))
                    .filter_map(|(_, n)| n.as_u64())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// `run` tried Native SSO, was refused with `error` (an OAuth or engine error kind), and signed in
/// through the browser.
fn assert_fell_back_to_the_browser(run: &Run, error: &str) {
    assert_eq!(run.json()["signed_in_with"], "browser");
    assert!(
        run.stderr
            .contains(&format!("Native SSO did not sign you in ({error}: ")),
        "{}",
        run.stderr
    );
}

/// A browser command that fails the test if it is ever run.
const NO_BROWSER: &str = "sh -c 'echo \"the browser was opened: $0\" >&2; exit 9'";

#[test]
fn the_second_app_signs_in_with_no_browser_and_sign_out_of_all_apps_ends_it() {
    let apps = Apps::new(IdpOptions::default());
    let first = apps.login("first", &browser());
    let summary = first.json();
    assert_eq!(summary["signed_in_with"], "browser");
    assert!(
        first.stderr.contains("No sign-in of the SSO group"),
        "{}",
        first.stderr
    );
    assert!(apps.share().exists(), "the sign-in is left for the group");
    let shared = std::fs::read_to_string(apps.share()).unwrap();
    assert!(!shared.is_empty());

    let second = apps.login("second", NO_BROWSER);
    let other = second.json();
    assert_eq!(other["signed_in_with"], "native_sso", "{}", second.stderr);
    assert!(
        second.stderr.contains("Signed in with Native SSO"),
        "{}",
        second.stderr
    );
    assert_eq!(other["subject"], summary["subject"]);
    assert_eq!(
        other["claims"]["aud"],
        serde_json::json!([SECOND_APP]),
        "its own tokens, for its own client id"
    );
    assert_eq!(other["email"], "demo@example.com", "the profile is loaded");
    assert_eq!(apps.exchanges(), 1);
    // Its session is its own: it refreshes, and calls userinfo with its own tokens.
    assert_eq!(apps.run("second", &["refresh"]).code, 0);

    // The first app signs out of all apps: the second is signed out at its next refresh.
    let out = apps.logout_of_all_apps("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(apps.device_secrets_revoked(), 1);
    assert!(
        out.stderr.contains("their shared sign-in is revoked"),
        "{}",
        out.stderr
    );
    assert!(!apps.share().exists(), "nothing left to sign in with");
    let refresh = apps.run("second", &["refresh"]);
    assert_eq!(refresh.code, 1);
    assert!(
        refresh.error_line().starts_with("error: session_expired"),
        "{}",
        refresh.stderr
    );
    assert_eq!(apps.run("second", &["status"]).code, 3);
    // And a new sign-in of the second app has nothing to exchange: the browser.
    let again = apps.login("second", &browser());
    assert_eq!(again.json()["signed_in_with"], "browser");
}

#[test]
fn a_revoked_device_secret_falls_back_to_the_browser_whose_sign_in_comes_first() {
    let apps = Apps::new(IdpOptions::default());
    apps.login("first", &browser()).json();
    let shared = apps.shared();
    // Revoked at the provider (as an admin, or another device, would).
    let secret = shared["items"][0]["device_secret"]
        .as_str()
        .expect("the device secret in the share")
        .to_string();
    crate::block_on(async {
        let status = reqwest::Client::new()
            .post(format!("{}/v1/revoke", apps.env.idp.issuer()))
            .form(&[
                ("token", secret.as_str()),
                ("token_type_hint", "device_secret"),
                ("client_id", CLIENT_ID),
            ])
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success());
    });
    let second = apps.login("second", &browser());
    assert_fell_back_to_the_browser(&second, "invalid_grant");
    // The browser sign-in left its own device secret in place of the revoked one.
    let now = apps.shared();
    // The browser sign-in left its own device secret, before the revoked one.
    assert_ne!(
        now["items"][0]["device_secret"],
        shared["items"][0]["device_secret"]
    );
}

#[test]
fn a_device_secret_rotated_at_a_refresh_replaces_the_shared_one() {
    let apps = Apps::new(IdpOptions {
        device_secret_rotation: true,
        ..Default::default()
    });
    apps.login("first", &browser()).json();
    let before = apps.shared();
    let refresh = apps.run("first", &["refresh", "--sso-group", GROUP]);
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    let after = apps.shared();
    assert_eq!(
        after["items"].as_array().map(Vec::len),
        Some(1),
        "in place of the old one"
    );
    assert_ne!(
        after["items"][0]["device_secret"],
        before["items"][0]["device_secret"]
    );
    assert_ne!(
        after["items"][0]["id_token"],
        before["items"][0]["id_token"]
    );

    // The new pair signs the second app in; the old one is refused by the provider.
    let second = apps.login("second", NO_BROWSER);
    assert_eq!(
        second.json()["signed_in_with"],
        "native_sso",
        "{}",
        second.stderr
    );
    std::fs::write(apps.share(), serde_json::to_vec(&before).unwrap()).unwrap();
    let third = apps.login("third", &browser());
    assert_fell_back_to_the_browser(&third, "invalid_grant");

    // Sign-out of all apps revokes the rotated secret: the second app is signed out too.
    std::fs::write(apps.share(), serde_json::to_vec(&after).unwrap()).unwrap();
    assert_eq!(apps.logout_of_all_apps("first").code, 0);
    let refresh = apps.run("second", &["refresh"]);
    assert!(
        refresh.error_line().starts_with("error: session_expired"),
        "{}",
        refresh.stderr
    );
}

#[test]
fn a_refused_refresh_revokes_the_device_secret_it_rotated() {
    // The refreshed ID token names the rotated secret but is for another issuer: refused.
    let apps = Apps::new(IdpOptions {
        device_secret_rotation: true,
        refreshed_id_token_for_another_issuer: true,
        ..Default::default()
    });
    apps.login("first", &browser()).json();
    let idp = &apps.env.idp;
    let before = crate::block_on(idp.revocations());
    let refresh = apps.run("first", &["refresh", "--sso-group", GROUP]);
    assert!(
        refresh
            .error_line()
            .starts_with("error: invalid_id_token: "),
        "{}",
        refresh.stderr
    );
    // Its refresh token, its access token and the new device secret: a live one (the old one, spent
    // by the rotation, is one the provider no longer knows, and would not count).
    assert_eq!(crate::block_on(idp.revocations()), before + 3);
    assert_eq!(crate::block_on(idp.device_secrets_revoked()), 1);
    // The share still holds the old (now spent) pair: the second app goes to the browser.
    let second = apps.login("second", &browser());
    assert_eq!(second.json()["signed_in_with"], "browser");
}

#[test]
fn an_expired_device_secret_falls_back_to_the_browser() {
    let apps = Apps::new(IdpOptions {
        device_secret_ttl: Some(2),
        ..Default::default()
    });
    apps.login("first", &browser()).json();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let second = apps.login("second", &browser());
    assert_fell_back_to_the_browser(&second, "invalid_grant");
}

#[test]
fn an_id_token_of_another_user_in_the_share_is_refused_before_it_is_sent() {
    let apps = Apps::new(IdpOptions::default());
    // alice signs in with the first app; her ID token goes into the share with demo's secret.
    let alice = crate::alice_browser();
    apps.login("first", &alice).json();
    let alices = apps.shared();
    // (Without the share, the first app's next sign-in would be alice's again, with Native SSO.)
    std::fs::remove_file(apps.share()).unwrap();
    std::fs::remove_file(apps.session("first")).unwrap();
    apps.login("first", &browser()).json();
    let mut mixed = apps.shared();
    assert_ne!(mixed["items"][0]["subject"], alices["items"][0]["subject"]);
    mixed["items"][0]["id_token"] = alices["items"][0]["id_token"].clone();
    std::fs::write(apps.share(), serde_json::to_vec(&mixed).unwrap()).unwrap();

    let second = apps.login("second", &browser());
    assert_fell_back_to_the_browser(&second, "invalid_id_token");
    assert!(second.stderr.contains("another user"), "{}", second.stderr);

    // The share naming alice, with her ID token and demo's secret: the ID token does not name the
    // secret.
    mixed["items"][0]["subject"] = alices["items"][0]["subject"].clone();
    std::fs::write(apps.share(), serde_json::to_vec(&mixed).unwrap()).unwrap();
    let third = apps.login("third", &browser());
    assert_fell_back_to_the_browser(&third, "invalid_id_token");
    assert!(third.stderr.contains("ds_hash"), "{}", third.stderr);
    // Neither was sent: the provider saw no exchange at all.
    assert_eq!(apps.exchange_requests(), 0);
}

#[test]
fn a_wrong_ds_hash_refuses_the_sign_in_and_shares_nothing() {
    let apps = Apps::new(IdpOptions {
        wrong_ds_hash: true,
        ..Default::default()
    });
    let run = apps.login("first", &browser());
    assert_eq!(run.code, 1);
    let last = run.last_line();
    assert!(
        last.starts_with("error: invalid_id_token: "),
        "{}",
        run.stderr
    );
    assert!(last.contains("ds_hash"), "{last}");
    // The refused answer's tokens are revoked (its refresh token, its access token and its device
    // secret).
    assert_eq!(crate::block_on(apps.env.idp.revocations()), 3);
    assert_eq!(apps.device_secrets_revoked(), 1);
    assert!(!apps.share().exists());
    assert!(!apps.session("first").exists());
}

#[test]
fn with_eddsa_id_tokens_ds_hash_is_the_sha_512_half_and_checked() {
    let options = IdpOptions {
        id_token_alg: Some("EdDSA"),
        ..Default::default()
    };
    let apps = Apps::new(options.clone());
    apps.login("first", &browser()).json();
    let shared = apps.shared();
    let id_token = shared["items"][0]["id_token"].as_str().unwrap();
    let header = id_token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let second = apps.login("second", NO_BROWSER);
    assert_eq!(
        second.json()["signed_in_with"],
        "native_sso",
        "{}",
        second.stderr
    );

    // A ds_hash of another secret is refused with EdDSA too.
    let apps = Apps::new(IdpOptions {
        wrong_ds_hash: true,
        ..options
    });
    let run = apps.login("first", &browser());
    assert_eq!(run.code, 1);
    let last = run.last_line();
    assert!(
        last.starts_with("error: invalid_id_token: ") && last.contains("ds_hash"),
        "{}",
        run.stderr
    );
}

#[test]
fn with_dpop_the_exchanged_tokens_are_bound_to_the_second_app_s_key() {
    let apps = Apps::new(IdpOptions {
        dpop: Some("required"),
        ..Default::default()
    });
    apps.login_with("first", &browser(), &["--dpop"]).json();
    let second = apps.login_with("second", NO_BROWSER, &["--dpop"]);
    let summary = second.json();
    assert_eq!(summary["signed_in_with"], "native_sso", "{}", second.stderr);
    assert_eq!(summary["token_type"], "DPoP");
    assert_eq!(apps.run("second", &["refresh"]).code, 0);
}

#[test]
fn login_with_device_signs_in_with_native_sso_first() {
    let apps = Apps::new(IdpOptions::default());
    let first = apps.login("first", &browser()).json();
    let issuer = apps.env.idp.issuer().to_string();
    let args = ["login", "--device", "--issuer", &issuer];
    let second = apps.run(
        "second",
        &[
            &args[..],
            &["--client-id", SECOND_APP, "--sso-group", GROUP],
        ]
        .concat(),
    );
    let summary = second.json();
    assert_eq!(summary["signed_in_with"], "native_sso", "{}", second.stderr);
    assert_eq!(summary["subject"], first["subject"]);
    assert_eq!(apps.exchanges(), 1);
    let stats = crate::block_on(apps.env.idp.stats());
    assert!(
        stats["requests"]
            .as_object()
            .unwrap()
            .keys()
            .all(|route| !route.contains("/device/authorize")),
        "no device code was asked for: {stats}"
    );
    assert!(
        !second.stderr.contains("enter the code"),
        "{}",
        second.stderr
    );
}

#[test]
fn a_sign_in_that_asks_for_something_goes_to_the_browser() {
    let apps = Apps::new(IdpOptions::default());
    apps.login("first", &browser()).json();
    let second = apps.login_with("second", &browser(), &["--prompt", "login"]);
    assert_eq!(second.json()["signed_in_with"], "browser");
    assert!(
        second.stderr.contains("asks the provider for something"),
        "{}",
        second.stderr
    );
    assert_eq!(apps.exchanges(), 0);
}

#[test]
fn an_exchange_answered_for_another_user_is_refused_and_revoked() {
    // The provider answers the second app's exchange with alice's tokens for demo's sign-in.
    let apps = Apps::new(IdpOptions {
        exchange_subject: Some("00u1alice000000000002"),
        ..Default::default()
    });
    apps.login("first", &browser()).json();
    let revoked_before = crate::block_on(apps.env.idp.revocations());
    let second = apps.login("second", &browser());
    assert_fell_back_to_the_browser(&second, "invalid_id_token");
    // alice's tokens were revoked, and nothing of them was stored: the browser signed in demo.
    assert_eq!(
        crate::block_on(apps.env.idp.revocations()),
        revoked_before + 2
    );
    assert_eq!(
        apps.run("second", &["status"]).json()["subject"],
        "00u1demo0000000000001"
    );
}

#[test]
fn logout_all_apps_without_a_group_signs_out_here_and_says_what_is_missing() {
    let apps = Apps::new(IdpOptions::default());
    let issuer = apps.env.idp.issuer().to_string();
    let login = ["login", "--issuer", &issuer, "--client-id", CLIENT_ID];
    apps.run("first", &[&login[..], &["--browser", &browser()]].concat())
        .json();
    let run = apps.run("first", &["logout", "--all-apps", "--browser", "true"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = run.last_line();
    assert!(
        last.starts_with("error: config: --all-apps needs the SSO group"),
        "{}",
        run.stderr
    );
    // This app is signed out all the same.
    assert!(
        run.stderr
            .contains("Signed out: the stored session is erased."),
        "{}",
        run.stderr
    );
    assert_eq!(apps.run("first", &["status"]).code, 3);
}

#[test]
fn logout_all_apps_takes_the_group_the_sign_in_was_made_in() {
    let apps = Apps::new(IdpOptions::default());
    apps.login("first", &browser()).json();
    assert_eq!(
        apps.login("second", NO_BROWSER).json()["signed_in_with"],
        "native_sso"
    );
    // A new sign-in uses a group only when told: the browser.
    let issuer = apps.env.idp.issuer().to_string();
    let login = ["login", "--issuer", &issuer, "--client-id", SECOND_APP];
    let again = apps.run("second", &[&login[..], &["--browser", &browser()]].concat());
    assert_eq!(
        again.json()["signed_in_with"],
        "browser",
        "{}",
        again.stderr
    );
    assert_eq!(apps.exchanges(), 1);

    let out = apps.run("first", &["logout", "--all-apps", "--browser", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(apps.device_secrets_revoked(), 1);
    assert!(!apps.share().exists());
}

#[test]
fn sign_out_of_all_apps_revokes_every_shared_sign_in_not_only_the_newest() {
    let apps = Apps::new(IdpOptions::default());
    // The first app signs in (secret 1); the second with it (Native SSO); a third app of the
    // group signs in through the browser on its own (secret 2, now the newest).
    apps.login("first", &browser()).json();
    assert_eq!(
        apps.login("second", NO_BROWSER).json()["signed_in_with"],
        "native_sso"
    );
    let third = apps.login_with("third", &browser(), &["--prompt", "login"]);
    assert_eq!(third.json()["signed_in_with"], "browser");
    let shared = apps.shared();
    assert_eq!(shared["items"].as_array().map(Vec::len), Some(2));

    let out = apps.logout_of_all_apps("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(apps.device_secrets_revoked(), 2);
    // The second app signed in with secret 1, the third with secret 2: both are signed out.
    for app in ["second", "third"] {
        let refresh = apps.run(app, &["refresh"]);
        assert!(
            refresh.error_line().starts_with("error: session_expired"),
            "{app}: {}",
            refresh.stderr
        );
    }
    assert!(!apps.share().exists());
}

#[test]
fn a_sign_in_the_share_cannot_take_is_kept_and_shared_at_the_next_refresh() {
    let apps = Apps::new(IdpOptions::default());
    assert_eq!(apps.first_signs_in_unshared()["signed_in_with"], "browser");
    assert!(apps.share().is_dir(), "nothing shared");

    apps.unblock_share();
    // (The sign-in's group is stored with it: no --sso-group needed.)
    let refresh = apps.run("first", &["refresh"]);
    assert_eq!(refresh.code, 0, "{}", refresh.stderr);
    assert!(apps.share().is_file(), "shared at the refresh");
    let second = apps.login("second", NO_BROWSER);
    assert_eq!(
        second.json()["signed_in_with"],
        "native_sso",
        "{}",
        second.stderr
    );

    // Shared, it is the group's: this app's own sign-out leaves it (the second app stays signed in).
    let out = apps.logout("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(apps.device_secrets_revoked(), 0);
    assert_eq!(apps.run("second", &["refresh"]).code, 0);
}

#[test]
fn a_kept_sign_in_the_share_took_after_all_is_not_revoked_at_sign_out() {
    let apps = Apps::new(IdpOptions::default());
    apps.first_signs_in_unshared();
    let kept = std::fs::read(apps.session("first")).unwrap();
    apps.unblock_share();
    assert_eq!(apps.run("first", &["refresh"]).code, 0);
    // As if that refresh's session write had failed once the share had taken the sign-in.
    std::fs::write(apps.session("first"), kept).unwrap();
    assert_eq!(
        apps.login("second", NO_BROWSER).json()["signed_in_with"],
        "native_sso"
    );
    let out = apps.logout("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The group's now: left for the second app.
    assert_eq!(apps.device_secrets_revoked(), 0);
    assert_eq!(apps.run("second", &["refresh"]).code, 0);
}

#[test]
fn a_new_sign_in_shares_what_the_session_it_replaces_kept_unshared() {
    let apps = Apps::new(IdpOptions::default());
    apps.first_signs_in_unshared();
    apps.unblock_share();
    // Signed in again before any refresh: the first sign-in's secret is not dropped with it.
    assert_eq!(
        apps.login("first", &browser()).json()["signed_in_with"],
        "browser"
    );
    assert_eq!(apps.shared()["items"].as_array().map(Vec::len), Some(2));
    let out = apps.logout_of_all_apps("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(apps.device_secrets_revoked(), 2);
}

#[test]
fn a_new_sign_in_that_cannot_share_either_revokes_what_the_session_it_replaces_kept_unshared() {
    let apps = Apps::new(IdpOptions::default());
    apps.first_signs_in_unshared();
    // Signed in again, the share still blocked: the new session keeps its own sign-in unshared,
    // and the replaced one's, held by no app any more, is not left live at the provider.
    let again = apps.login("first", &browser());
    assert_eq!(
        again.json()["signed_in_with"],
        "browser",
        "{}",
        again.stderr
    );
    assert_eq!(apps.device_secrets_revoked(), 1);
    assert_eq!(
        apps.run("first", &["refresh"]).code,
        0,
        "the new one is whole"
    );
    let out = apps.logout("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        apps.device_secrets_revoked(),
        2,
        "and the new one at sign-out"
    );
}

#[test]
fn a_sign_in_never_shared_has_its_device_secret_revoked_at_sign_out() {
    let apps = Apps::new(IdpOptions::default());
    apps.first_signs_in_unshared();
    let out = apps.logout("first");
    assert_eq!(out.code, 0, "{}", out.stderr);
    // No other app holds it: nothing is left live at the provider.
    assert_eq!(apps.device_secrets_revoked(), 1);
}

/// A provider that keeps its state in `data` (at `port`, when given): stopped and started again, it
/// knows its keys and tokens.
fn kept_in(data: &std::path::Path, port: Option<u16>) -> IdpOptions {
    IdpOptions {
        data_dir: Some(data.into()),
        port,
        ..Default::default()
    }
}

impl Apps {
    /// Stops the provider; its port, to start it again at the same address.
    fn stop_idp(&mut self) -> u16 {
        let port = self.env.idp.port();
        self.env.idp.stop();
        port
    }

    /// Starts the provider again (stopped by [`Apps::stop_idp`]), with its state in `data`.
    fn start_idp(&mut self, data: &std::path::Path, port: u16) {
        let mut options = kept_in(data, Some(port));
        options.par = Some("off"); // as Env::new has it
        self.env.idp = testkit::Idp::start_with(options);
    }
}

#[test]
fn a_shared_id_token_signed_with_a_key_no_longer_published_is_left_to_the_provider() {
    let data = tempfile::tempdir().unwrap();
    let mut apps = Apps::new(kept_in(data.path(), None));
    apps.login("first", &browser()).json();
    // The provider's signing keys change: the shared ID token's is no longer published.
    let port = apps.stop_idp();
    std::fs::remove_file(data.path().join("keys.json")).unwrap();
    apps.start_idp(data.path(), port);
    let second = apps.login("second", &browser());
    // The app cannot check its signature: it is sent, and the provider refuses it.
    assert_fell_back_to_the_browser(&second, "invalid_grant");
    assert_eq!(apps.exchange_requests(), 1);
}

#[test]
fn a_sign_out_of_all_apps_the_provider_missed_is_revoked_at_the_next_sign_in() {
    let data = tempfile::tempdir().unwrap();
    let mut apps = Apps::new(kept_in(data.path(), None));
    apps.login("first", &browser()).json();
    assert_eq!(
        apps.login("second", NO_BROWSER).json()["signed_in_with"],
        "native_sso"
    );

    // Signed out of all apps while the provider cannot be reached: a failure, said as one.
    let port = apps.stop_idp();
    let out = apps.logout_of_all_apps("first");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("it is not revoked"), "{}", out.stderr);
    let last = out.last_line();
    assert!(last.starts_with("error: network: "), "{}", out.stderr);
    // No app signs in with it again; it is kept to be revoked.
    let shared = apps.shared();
    assert_eq!(shared["items"], serde_json::json!([]));
    assert_eq!(shared["retired"].as_array().map(Vec::len), Some(1));
    assert_eq!(shared["retired"][0]["asked"], true);

    // The provider is back: the second app is still signed in (nothing was revoked)…
    apps.start_idp(data.path(), port);
    assert_eq!(apps.run("second", &["refresh"]).code, 0);
    // …until an app of the group signs in (through the browser: nothing is shared to sign in
    // with), which revokes what the sign-out could not.
    let third = apps.login("third", &browser());
    assert_eq!(third.json()["signed_in_with"], "browser");
    assert_eq!(apps.device_secrets_revoked(), 1);
    let refresh = apps.run("second", &["refresh"]);
    assert!(
        refresh.error_line().starts_with("error: session_expired"),
        "{}",
        refresh.stderr
    );
    let shared = apps.shared();
    assert_eq!(shared["retired"], serde_json::Value::Null, "{shared}");
    assert_eq!(shared["items"].as_array().map(Vec::len), Some(1));
}
