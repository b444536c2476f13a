//! The session shared by several `Auth`s (as by several processes: each store takes the OS file lock
//! through its own file handle, exactly as another process would) against the real `dev/idp`: nothing
//! another writer saved is overwritten with older tokens, a refused answer ends the session with its
//! tokens revoked, another user's session is never touched, and sign-out leaves no copy behind.

use std::{sync::Arc, time::Duration};

use native_oidc::{FileVault, SessionStore, Vault};
use testkit::{Idp, IdpOptions, SmallDisk};

use crate::support::{auth, sign_in, stored, Fixture};

#[tokio::test]
async fn a_late_profile_save_keeps_the_refresh_token_another_process_rotated() {
    // Userinfo answers after 1.5 s; rotated refresh tokens are refused at once.
    let f = Fixture::new(IdpOptions {
        userinfo_delay_ms: Some(1500),
        refresh_token_grace: Some(0),
        ..Default::default()
    });
    let (callback, mut pending) =
        crate::support::browser_callback(&f.auth, &testkit::LoginAction::demo()).await;
    f.auth
        .finish_sign_in(callback.as_str(), &mut pending)
        .await
        .unwrap();
    let login = Arc::new(f.auth);
    let profile = tokio::spawn({
        let login = login.clone();
        async move { login.load_profile().await }
    });

    // Meanwhile another process refreshes: the refresh token the login holds in memory is spent.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = auth(&f.idp, &f.path);
    other.restore().await.unwrap().expect("the stored session");
    other.refresh().await.unwrap();

    let summary = profile.await.unwrap().expect("the profile loads");
    assert!(summary.profile.is_some());
    let stored = SessionStore::file(&f.path).load().await.unwrap().unwrap();
    assert!(stored.summary().profile.is_some(), "the profile is stored");

    let next = auth(&f.idp, &f.path);
    next.restore().await.unwrap().unwrap();
    next.refresh()
        .await
        .expect("the stored refresh token is the rotated one, not the spent one");
    login
        .refresh()
        .await
        .expect("the login's process follows the store too");
}

#[tokio::test]
async fn a_refresh_answered_with_another_token_type_ends_the_session_and_revokes_its_tokens() {
    let mut f = Fixture::new(IdpOptions {
        refresh_token_type: Some("Bearer"),
        refresh_token_grace: Some(0),
        ..Default::default()
    });
    f.auth = native_oidc::Auth::new(
        native_oidc::OidcClient::new(crate::support::config(&f.idp).with_dpop(true)).unwrap(),
        SessionStore::file(&f.path),
    );
    sign_in(&f.auth).await;
    let before = f.stored().await;
    assert_eq!(before.token_type(), native_oidc::TokenType::DPoP);
    let revoked_before = f.idp.revocations().await;

    let error = f.auth.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "protocol", "{error}");
    assert!(
        error.to_string().to_lowercase().contains("`bearer`"),
        "{error}"
    );
    assert_eq!(
        f.idp.grants("refresh_token").await,
        1,
        "the provider answered"
    );
    assert!(f.auth.session().await.is_none(), "the session has ended");
    assert!(
        SessionStore::file(&f.path).load().await.unwrap().is_none(),
        "and is erased from the store"
    );
    assert_eq!(
        f.idp.revocations().await - revoked_before,
        2,
        "the answer's refresh and access tokens are revoked"
    );
    // The provider's grant is gone: the spent token does not come back either.
    let old = f
        .idp
        .refresh_grant(before.refresh_token().unwrap().secret())
        .await;
    assert_eq!(old["error"], "invalid_grant", "{old}");
}

#[tokio::test]
async fn a_refreshed_id_token_that_fails_validation_is_an_error_and_ends_the_session() {
    let f = Fixture::signed_in(IdpOptions {
        invalid_refreshed_id_token: true,
        refresh_token_grace: Some(0),
        ..Default::default()
    })
    .await;
    let revoked_before = f.idp.revocations().await;

    let error = f.auth.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "invalid_id_token", "{error}");
    assert!(f.auth.session().await.is_none());
    assert!(SessionStore::file(&f.path).load().await.unwrap().is_none());
    assert_eq!(f.idp.revocations().await - revoked_before, 2);
    assert!(
        f.auth.access_token().await.is_err(),
        "no token of that answer is handed out"
    );
}

#[tokio::test]
async fn a_refreshed_id_token_of_another_issuer_is_an_error_and_ends_the_session() {
    // OpenID RP test oidcc-client-test-refresh-token-invalid-issuer: validly signed, wrong `iss`.
    let f = Fixture::signed_in(IdpOptions {
        refreshed_id_token_for_another_issuer: true,
        refresh_token_grace: Some(0),
        ..Default::default()
    })
    .await;
    let before = f.stored().await;

    let error = f.auth.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "invalid_id_token", "{error}");
    assert!(error.to_string().contains("iss"), "{error}");
    assert!(SessionStore::file(&f.path).load().await.unwrap().is_none());
    let old = f
        .idp
        .refresh_grant(before.refresh_token().unwrap().secret())
        .await;
    assert_eq!(old["error"], "invalid_grant", "the grant is revoked: {old}");
}

#[tokio::test]
async fn a_refresh_never_overwrites_or_erases_another_users_session() {
    // (Their session is a copy of this one's with another subject, so revoking "their" refresh token
    // revokes this process's grant: its refresh, if it were sent, would end the session.)
    let f = Fixture::signed_in(IdpOptions {
        refresh_token_grace: Some(0),
        ..Default::default()
    })
    .await;
    // Another process signs in as someone else (here: a session of another subject) in the same store.
    let mut theirs = serde_json::to_value(f.stored().await).unwrap();
    theirs["subject"] = "someone-else".into();
    let theirs = serde_json::to_vec(&theirs).unwrap();
    FileVault::new(&f.path).write("session", &theirs).unwrap();
    // The provider has ended this process's grant: its refresh would be `invalid_grant`.
    f.idp
        .revoke(
            serde_json::from_slice::<serde_json::Value>(&theirs).unwrap()["refresh_token"]
                .as_str()
                .unwrap(),
        )
        .await;

    let error = f.auth.refresh().await.unwrap_err();
    assert_eq!(error.kind(), "not_signed_in", "{error}");
    assert_eq!(f.idp.grants("refresh_token").await, 0, "nothing was spent");
    assert_eq!(
        std::fs::read(&f.path).unwrap(),
        theirs,
        "their session is untouched"
    );
}

#[tokio::test]
async fn sign_out_leaves_no_copy_set_aside_or_half_written() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    let dir = f.path.parent().unwrap().to_path_buf();
    let secret = f.stored().await.refresh_token().unwrap().secret().clone();
    // A copy set aside earlier, and temporary files of writers killed between create and rename.
    std::fs::copy(&f.path, dir.join("session.corrupt")).unwrap();
    std::fs::copy(&f.path, dir.join(".session.json.tmp-4242-0-1")).unwrap();
    std::fs::copy(&f.path, dir.join(".session.pending.json.tmp-4242-1-1")).unwrap();
    std::fs::copy(&f.path, dir.join("session.pending.corrupt")).unwrap();

    f.auth.sign_out().await.unwrap();
    let left = testkit::files_containing(&dir, &secret);
    assert!(
        left.is_empty(),
        "files still holding the refresh token: {left:?}"
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.ends_with(".lock")),
        "only the lock file is left: {names:?}"
    );
}

#[tokio::test]
async fn moving_a_store_keeps_the_newer_session_and_reads_it_back_before_erasing() {
    let idp = Idp::start();
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.json"), dir.path().join("new.json"));
    // The destination holds an older session; the source a newer sign-in.
    sign_in(&auth(&idp, &old)).await;
    sign_in(&auth(&idp, &new)).await;
    let newer = std::fs::read(&new).unwrap();
    let destination = SessionStore::file(&old);
    assert!(destination
        .adopt(Arc::new(FileVault::new(&new)))
        .await
        .unwrap());
    assert_eq!(
        std::fs::read(&old).unwrap(),
        newer,
        "the newer session wins"
    );
    assert!(!new.exists(), "the moved copy is erased");

    // The other way round, the destination's newer session stays and the older copy is erased.
    sign_in(&auth(&idp, &new)).await;
    let newest = SessionStore::file(&old);
    sign_in(&auth(&idp, &old)).await;
    let kept = std::fs::read(&old).unwrap();
    assert!(!newest.adopt(Arc::new(FileVault::new(&new))).await.unwrap());
    assert_eq!(std::fs::read(&old).unwrap(), kept);
    assert!(!new.exists());

    // A source that cannot be parsed is set aside where it is, never erased, and nothing moves.
    std::fs::write(&new, b"{ not json").unwrap();
    assert!(newest.adopt(Arc::new(FileVault::new(&new))).await.is_err());
    assert_eq!(std::fs::read(&old).unwrap(), kept);
    assert_eq!(
        std::fs::read(dir.path().join("new.corrupt")).unwrap(),
        b"{ not json"
    );
}

#[tokio::test]
async fn a_copy_set_aside_is_never_replaced_by_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("session.json");
    let store = SessionStore::file(&path);
    for garbage in [&b"{ first"[..], &b"{ second"[..]] {
        std::fs::write(&path, garbage).unwrap();
        assert_eq!(store.load().await.unwrap_err().kind(), "storage");
    }
    assert_eq!(
        std::fs::read(dir.path().join("session.corrupt")).unwrap(),
        b"{ first"
    );
    assert_eq!(
        std::fs::read(dir.path().join("session.corrupt.1")).unwrap(),
        b"{ second"
    );
}

#[tokio::test]
async fn a_lock_file_no_process_can_lock_is_set_aside_not_a_dead_end() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    let dir = f.path.parent().unwrap().to_path_buf();
    std::fs::remove_file(dir.join("session.json.lock")).unwrap();
    std::fs::create_dir(dir.join("session.json.lock")).unwrap();
    std::fs::copy(&f.path, dir.join("session.corrupt")).unwrap();
    let secret = f.stored().await.refresh_token().unwrap().secret().clone();

    f.auth
        .refresh()
        .await
        .expect("the refresh takes a new lock");
    assert!(dir.join("session.json.lock.corrupt").is_dir(), "kept aside");
    let signed_out = f.auth.sign_out().await.unwrap();
    assert!(
        signed_out.erase_error.is_none(),
        "{:?}",
        signed_out.erase_error
    );
    let left = testkit::files_containing(&dir, &secret);
    assert!(
        left.is_empty(),
        "files still holding the refresh token: {left:?}"
    );
}

#[tokio::test]
async fn a_restore_keeps_the_tokens_an_earlier_save_could_not_keep() {
    // No grace period: once the provider has rotated the refresh token, only the new one works.
    let idp = Idp::start_with(IdpOptions {
        refresh_token_grace: Some(0),
        refresh_delay_ms: Some(1500),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    // The session file on a small disk of its own, filled to the last byte: a real full disk.
    let disk = match SmallDisk::mount(&dir.path().join("disk"), 1024) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("skipped: no real full disk on this machine ({why})");
            return;
        }
    };
    let path = disk.dir().join("session.json");
    let app = auth(&idp, &path);
    sign_in(&app).await;
    let before = stored(&path);

    // The disk fills while the provider answers the refresh (it has rotated the token already): the
    // answer cannot be saved, and only memory holds the new refresh token.
    let (refreshed, ()) = tokio::join!(app.refresh(), async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        disk.fill();
    });
    let error = refreshed.expect_err("the answer could not be saved");
    assert_eq!(error.kind().as_str(), "storage", "{error}");

    // A restore (the app starting over) must not trade the tokens in memory for the spent ones stored.
    let still_full = app.restore().await;
    assert!(still_full.is_err(), "the newer session cannot be saved yet");
    disk.free();
    // Meanwhile a later version (another process) added a field to the stored copy.
    let mut spent = stored(&path);
    spent["bound_v9"] = "kept".into();
    std::fs::write(&path, serde_json::to_vec(&spent).unwrap()).unwrap();
    let restored = app.restore().await.unwrap().expect("still signed in");
    assert_eq!(restored.subject, before["subject"].as_str().unwrap());
    assert_ne!(
        stored(&path)["refresh_token"],
        before["refresh_token"],
        "the rotated refresh token is saved now"
    );
    assert_eq!(
        stored(&path)["bound_v9"],
        "kept",
        "with the later version's field"
    );
    app.refresh()
        .await
        .expect("the rotated refresh token works: the session was not lost");
}

/// The sign-ins in progress are written under the store's lock, like the session: a chunked keystore
/// value is a read-modify-write of its generations, and a migration or a sign-out by another process
/// changes the same entry. A save waits for whoever holds the lock.
#[tokio::test]
async fn saving_the_sign_ins_in_progress_waits_for_the_lock() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    let request = f
        .auth
        .begin_sign_in(native_oidc::SignInOptions::default())
        .await
        .unwrap();
    let state = request.pending.state().to_string();
    let mut pending = native_oidc::PendingAuthorizations::new();
    pending.insert(request.pending);
    let other = SessionStore::file(&f.path);
    let held = other.lock().await.unwrap();

    let store = f.auth.store().clone();
    let save = tokio::spawn(async move { store.save_pending(&pending).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !save.is_finished(),
        "saved while another process held the lock"
    );
    assert!(f.auth.store().load_pending().await.unwrap().is_empty());

    drop(held);
    save.await.unwrap().unwrap();
    assert!(f
        .auth
        .store()
        .load_pending()
        .await
        .unwrap()
        .contains(&state));
}

/// A session as a later version stored it: a refresh (on a fresh read under the lock) writes back
/// the fields this version does not know.
#[tokio::test]
async fn a_refresh_keeps_what_a_later_version_stored_with_the_session() {
    let f = Fixture::signed_in(IdpOptions::default()).await;
    let app = auth(&f.idp, &f.path);
    app.restore().await.unwrap().expect("the session loads");
    // A later version (another process) adds a field after this one loaded the session.
    let mut json = stored(&f.path);
    json["bound_v9"] = serde_json::json!({ "key": "kept-as-it-was", "at": [1, 2.5] });
    std::fs::write(&f.path, serde_json::to_vec(&json).unwrap()).unwrap();

    app.refresh().await.unwrap();
    let after = stored(&f.path);
    assert_ne!(after["access_token"], json["access_token"], "refreshed");
    assert_eq!(after["bound_v9"], json["bound_v9"]);
}

/// Sessions (and sign-ins in progress) as earlier versions stored them (the fuzzer's seeds, with plain strings for the
/// issuer, client id, subject, redirect URI and scopes) load through a file store, and are stored
/// again exactly as they were: the protocol types inside `Session` change nothing on disk.
#[tokio::test]
async fn a_session_stored_by_an_earlier_version_loads_and_is_saved_unchanged() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/session");
    let mut seen = 0;
    for seed in std::fs::read_dir(&seeds).unwrap() {
        let seed = seed.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        std::fs::copy(&seed, &path).unwrap();
        let store = SessionStore::file(&path);
        let session = store
            .load()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", seed.display()))
            .unwrap();
        let lock = store.lock().await.unwrap();
        store.save(&session, &lock).await.unwrap();
        let json = |path: &std::path::Path| {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(path).unwrap()).unwrap()
        };
        let (before, after) = (json(&seed), json(&path));
        for field in [
            "issuer",
            "client_id",
            "subject",
            "post_logout_redirect_uri",
            "scopes",
        ] {
            assert_eq!(after[field], before[field], "{}: {field}", seed.display());
        }
        seen += 1;
    }
    assert!(seen >= 3, "the seeds are in {}", seeds.display());

    // The sign-ins in progress, the same way.
    let seeds = seeds.with_file_name("pending");
    for name in ["one.json", "two-dpop.json"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.json");
        let pending_file = dir.path().join("session.pending.json");
        std::fs::copy(seeds.join(name), &pending_file).unwrap();
        let store = SessionStore::file(&path);
        // (Their sign-ins have expired, so they are written back as they are read, not saved.)
        let pending = store.load_pending().await.unwrap();
        let seed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(seeds.join(name)).unwrap()).unwrap();
        let state = seed["items"][0]["state"].as_str().unwrap();
        assert!(pending.contains(state), "{name}");
        let again = serde_json::to_value(&pending).unwrap();
        for field in ["issuer", "client_id", "redirect_uri", "scopes"] {
            assert_eq!(
                again["items"][0][field], seed["items"][0][field],
                "{name}: {field}"
            );
        }
    }
}
