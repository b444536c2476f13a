//! The Device Authorization Grant through the engine's API, against dev/idp: polling ends when the
//! code expires, counted from when the provider handed it out, not from when the app starts polling.

use std::time::{Duration, Instant};

use native_oidc::{DeviceAuthorization, Error};
use testkit::IdpOptions;

use crate::support::Fixture;

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A provider whose device codes ask for polls `interval` s apart and live `expires_in` s, and a
/// code from it.
async fn code(interval: u64, expires_in: u64) -> (Fixture, DeviceAuthorization) {
    let fixture = Fixture::new(IdpOptions {
        device_interval: Some(interval),
        device_expires_in: Some(expires_in),
        ..Default::default()
    });
    let device = fixture.auth.client().begin_device_sign_in().await.unwrap();
    (fixture, device)
}

/// How polling for `device` ends, when it does not end signed in.
async fn polling_fails(fixture: &Fixture, device: &DeviceAuthorization) -> Error {
    fixture
        .auth
        .client()
        .complete_device_sign_in(device)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn polling_that_starts_after_the_code_expired_ends_at_once_without_a_poll() {
    let (fixture, device) = code(1, 2).await;
    // The app showed the code, and nobody came before it expired.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let started = Instant::now();
    let error = polling_fails(&fixture, &device).await;
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
    let (mut fixture, device) = code(1, 3).await;
    fixture.idp.stop();
    let error = polling_fails(&fixture, &device).await;
    assert_eq!(error.kind().as_str(), "network", "{error}");
    let said = error.to_string();
    assert!(
        said.contains("the code expired while the last poll failed")
            && said.contains("connection failed"),
        "{said}"
    );
}

/// A provider that asks for no wait between polls (`interval: 0`), then fails every poll with 503:
/// the polls back off (2, 4, 8 s) instead of coming every second until the code expires.
#[tokio::test]
async fn failed_polls_back_off_even_when_the_provider_asks_for_no_wait() {
    let (mut fixture, device) = code(0, 8).await;
    assert_eq!(device.interval, Duration::ZERO);
    let port = fixture.idp.port();
    fixture.idp.stop();
    // In its place, a server that answers every request 503, counting them.
    let polls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let app = axum::Router::new().fallback({
        let polls = polls.clone();
        move || async move {
            polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let error = polling_fails(&fixture, &device).await;
    assert_eq!(error.kind().as_str(), "network", "{error}");
    assert!(error.to_string().contains("503"), "{error}");
    let polls = polls.load(std::sync::atomic::Ordering::SeqCst);
    // At 0, 2 and 6 s, and perhaps as the code expires: not every second.
    assert!((2..=4).contains(&polls), "{polls} polls in 8 s");
}
