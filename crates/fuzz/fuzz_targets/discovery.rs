//! The provider's discovery document (`/.well-known/openid-configuration`), read and checked as the
//! engine does for its issuer. No panic; errors are printable; a document that passes names the
//! issuer asked for, exactly, and every endpoint it names is https or http on loopback (codes, tokens
//! and the user's browser go there), both read from the raw JSON here, not from what the engine kept.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::discovery;
use oidc_fuzz::{assert_printable, ISSUER};
use url::{Host, Url};

/// Every endpoint a discovery document may name that the engine sends something to.
const ENDPOINTS: &[&str] = &[
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "revocation_endpoint",
    "end_session_endpoint",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
];

/// https, or http on a loopback address or `localhost`.
fn https_or_loopback(url: &Url) -> bool {
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    };
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

fuzz_target!(|body: &[u8]| {
    match discovery(body, ISSUER) {
        Ok(()) => {
            let json: serde_json::Value = serde_json::from_slice(body).expect("accepted, so JSON");
            assert_eq!(json["issuer"], ISSUER);
            for name in ENDPOINTS {
                if let Some(text) = json[name].as_str() {
                    let url = Url::parse(text).expect("accepted, so a URL");
                    assert!(https_or_loopback(&url), "{name}: {url}");
                }
            }
        }
        Err(error) => assert_printable(&error.to_string()),
    }
});
