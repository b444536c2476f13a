//! `demo-api`: `ISSUER=<issuer> CLIENT_IDS=<id>[,<id>…] [AUDIENCE=api://default] [SCOPE=profile]
//! [DPOP_NONCE=<nonce>] [PORT=9001] [PUBLIC_URL=http://127.0.0.1:<port>/] demo-api`. Listens on
//! 127.0.0.1; prints `API=<base url>` once it accepts requests. `PUBLIC_URL` is the URL clients call it
//! at (DPoP proofs must name it): set it when a proxy serves the API under another name or over https.

use std::sync::Arc;

use demo_api::{app, Api, PublicUrl, Verifier};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "demo_api=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Ok(issuer) = std::env::var("ISSUER") else {
        eprintln!("demo-api: set ISSUER to the identity provider's issuer URL");
        std::process::exit(2);
    };
    let client_ids: Vec<String> = std::env::var("CLIENT_IDS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    if client_ids.is_empty() {
        eprintln!("demo-api: set CLIENT_IDS to the client id(s) whose tokens this API accepts");
        std::process::exit(2);
    }
    let audience = std::env::var("AUDIENCE").unwrap_or_else(|_| "api://default".into());
    let scope = std::env::var("SCOPE").unwrap_or_else(|_| "profile".into());
    let port: u16 = match std::env::var("PORT")
        .unwrap_or_else(|_| "9001".into())
        .parse()
    {
        Ok(port) => port,
        Err(_) => {
            eprintln!("demo-api: PORT must be a port number");
            std::process::exit(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("demo-api: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let address = listener.local_addr().expect("bound address");
    let public_url = match std::env::var("PUBLIC_URL").ok().filter(|u| !u.is_empty()) {
        None => PublicUrl::for_address(address),
        Some(url) => match url.parse() {
            Ok(url) => url,
            Err(e) => {
                eprintln!("demo-api: PUBLIC_URL: {e}");
                std::process::exit(2);
            }
        },
    };
    println!("API=http://{address}/");
    let mut api = Api::new(Verifier::new(issuer, audience, client_ids))
        .with_messages_scope(scope)
        .with_public_url(public_url);
    if let Some(nonce) = std::env::var("DPOP_NONCE").ok().filter(|n| !n.is_empty()) {
        api = api.with_dpop_nonce(nonce);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app(Arc::new(api)))
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("demo-api: {e}");
        std::process::exit(1);
    }
}
