//! The Device Authorization Grant through the engine's API, against dev/idp: polling ends when the
//! code expires, counted from when the provider handed it out, not from when the app starts polling.

use std::time::{Duration, Instant};

use testkit::IdpOptions;

use crate::support::Fixture;

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[tokio::test]
async fn polling_that_starts_after_the_code_expired_ends_at_once_without_a_poll() {
    let fixture = Fixture::new(IdpOptions {
        device_interval: Some(1),
        device_expires_in: Some(2),
        ..Default::default()
    });
    let client = fixture.auth.client();
    let device = client.begin_device_sign_in().await.unwrap();
    // The app showed the code, and nobody came before it expired.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let started = Instant::now();
    let error = client.complete_device_sign_in(&device).await.unwrap_err();
    assert_eq!(error.kind().as_str(), "expired_token", "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let grants = &fixture.idp.stats().await["grants"];
    assert!(
        !grants
            .as_object()
            .unwrap()
            .keys()
            .any(|grant| grant.starts_with(DEVICE_CODE_GRANT)),
        "polled an expired code: {grants}"
    );
}

#[tokio::test]
async fn a_code_that_expires_while_the_provider_is_down_says_so() {
    let mut fixture = Fixture::new(IdpOptions {
        device_interval: Some(1),
        device_expires_in: Some(3),
        ..Default::default()
    });
    let device = fixture.auth.client().begin_device_sign_in().await.unwrap();
    fixture.idp.stop();
    let error = fixture
        .auth
        .client()
        .complete_device_sign_in(&device)
        .await
        .unwrap_err();
    assert_eq!(error.kind().as_str(), "network", "{error}");
    let said = error.to_string();
    assert!(
        said.contains("the code expired while the last poll failed")
            && said.contains("connection failed"),
        "{said}"
    );
}
