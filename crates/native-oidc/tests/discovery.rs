//! Discovery: every endpoint the provider names is checked like the issuer before anything is sent to
//! it (served here by a small discovery server on loopback, real HTTP).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use axum::{routing::get, Json, Router};
use native_oidc::{HttpClient, IssuerUrl, Provider};
use serde_json::{json, Value};

/// A discovery server whose document has `endpoint` set to `value`; counts key set fetches.
async fn provider_with(endpoint: &str, value: &str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let mut document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/keys"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    document[endpoint] = Value::from(value);
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .route(
            "/keys",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { Json(json!({ "keys": [] })) }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (issuer, fetches)
}

#[tokio::test]
async fn endpoints_must_be_https_or_loopback_before_anything_is_sent() {
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "end_session_endpoint",
    ] {
        for bad in [
            "http://evil.example.com/steal",
            "ftp://127.0.0.1/steal",
            "file:///etc/passwd",
        ] {
            let (issuer, fetches) = provider_with(endpoint, bad).await;
            let error = Provider::discover(
                &IssuerUrl::new(issuer).unwrap(),
                &HttpClient::new().unwrap(),
            )
            .await
            .expect_err(&format!("{endpoint} = {bad}"));
            assert_eq!(error.kind(), "config", "{endpoint} = {bad}: {error}");
            assert!(error.to_string().contains(endpoint), "{error}");
            assert_eq!(
                fetches.load(Ordering::SeqCst),
                0,
                "no request after a bad {endpoint}"
            );
        }
        // https anywhere, and plain http on loopback, are fine.
        for good in [
            "https://idp.example.com/x",
            "http://127.0.0.1:9/x",
            "http://[::1]:9/x",
        ] {
            if endpoint == "jwks_uri" {
                continue; // discovery fetches the keys there
            }
            let (issuer, _) = provider_with(endpoint, good).await;
            Provider::discover(
                &IssuerUrl::new(issuer).unwrap(),
                &HttpClient::new().unwrap(),
            )
            .await
            .unwrap_or_else(|e| panic!("{endpoint} = {good}: {e}"));
        }
    }
}

#[tokio::test]
async fn an_answer_larger_than_a_mebibyte_is_refused_without_being_read_whole() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let padding = "x".repeat(native_oidc::http::MAX_PROVIDER_BODY);
    let document = |issuer: String| json!({ "issuer": issuer, "padding": padding }).to_string();
    let sized = document(format!("{base}/sized"));
    let streamed = document(format!("{base}/streamed"));
    let app = Router::new()
        // With a Content-Length: refused before the body is read.
        .route(
            "/sized/.well-known/openid-configuration",
            get(move || async move { sized }),
        )
        // Chunked, no length announced: refused once the limit is passed.
        .route(
            "/streamed/.well-known/openid-configuration",
            get(move || async move {
                let chunks: Vec<Result<String, std::io::Error>> = streamed
                    .into_bytes()
                    .chunks(64 * 1024)
                    .map(|c| Ok(String::from_utf8(c.to_vec()).unwrap()))
                    .collect();
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in ["sized", "streamed"] {
        let error = Provider::discover(
            &IssuerUrl::new(format!("{base}/{path}")).unwrap(),
            &HttpClient::new().unwrap(),
        )
        .await
        .expect_err(path);
        assert_eq!(error.kind(), "protocol", "{path}: {error}");
        assert!(
            error.to_string().contains("larger than 1024 KiB"),
            "{path}: {error}"
        );
    }
}
