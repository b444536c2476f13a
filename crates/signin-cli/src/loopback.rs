//! The loopback redirect of RFC 8252 §7.3: listen on 127.0.0.1 only, hand each callback to the caller,
//! tell the browser what the caller answers, stop listening when dropped.
//!
//! Only a `GET` of the redirect URI's exact path whose query names `state` once and no parameter
//! twice is a callback. Anything else (another method, `HEAD` included; another path; a query without
//! `state` or with a repeated parameter) is answered 4xx here and never reaches the caller, so it
//! cannot end or complete the sign-in (or sign-out) that waits for its real callback.

use std::net::SocketAddr;

use axum::{
    extract::State,
    http::{header, Method, StatusCode, Uri},
    response::{Html, IntoResponse, Response},
    Router,
};
use native_oidc::{Error, Result};
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
};
use url::Url;

/// What the browser is shown for a request.
pub type Answer = (StatusCode, Html<String>);

/// A callback URL and where to send the page the browser should show.
pub type Callback = (String, oneshot::Sender<Answer>);

/// A listener on 127.0.0.1 for the redirect URI's path.
pub struct Loopback {
    redirect_uri: Url,
    callbacks: mpsc::Receiver<Callback>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Loopback {
    /// Binds 127.0.0.1 on the URI's port (a free port when it has none) and returns the listener with the
    /// exact redirect URI to register for this sign-in.
    pub async fn bind(redirect_uri: &str) -> Result<Self> {
        let mut url = Url::parse(redirect_uri).map_err(|e| {
            Error::Config(format!(
                "the redirect URI `{redirect_uri}` is not a URL: {e}"
            ))
        })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], url.port().unwrap_or(0)));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Config(format!("cannot listen on {addr}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::Config(e.to_string()))?
            .port();
        url.set_host(Some("127.0.0.1"))
            .map_err(|e| Error::Config(e.to_string()))?;
        url.set_port(Some(port))
            .map_err(|_| Error::Config("bad redirect port".into()))?;

        let (sender, callbacks) = mpsc::channel::<Callback>(4);
        let (shutdown, stop) = oneshot::channel::<()>();
        // One handler for every request: it compares the path itself, so nothing in the redirect
        // URI's path is read as a route pattern (`{param}`, `{*rest}`).
        let app = Router::new()
            .fallback(receive)
            .with_state((sender, url.clone()));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await;
        });
        Ok(Self {
            redirect_uri: url,
            callbacks,
            shutdown: Some(shutdown),
        })
    }

    /// The exact redirect URI (with the port) to send in this sign-in.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits for the browser to arrive at the redirect URI.
    pub async fn next(&mut self) -> Option<Callback> {
        self.callbacks.recv().await
    }
}

async fn receive(
    State((sender, base)): State<(mpsc::Sender<Callback>, Url)>,
    method: Method,
    uri: Uri,
) -> Response {
    if uri.path() != base.path() {
        return (
            StatusCode::NOT_FOUND,
            Html(page_html(
                "Not found",
                "The terminal only takes the browser's return at its redirect URI.",
            )),
        )
            .into_response();
    }
    if method != Method::GET {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET")],
            Html(page_html(
                "Not a callback",
                "The terminal only takes the browser's return here.",
            )),
        )
            .into_response();
    }
    let mut full = base;
    full.set_query(uri.query());
    if let Err(why) = check_query(&full) {
        return (
            StatusCode::BAD_REQUEST,
            Html(page_html("Not a callback", &why)),
        )
            .into_response();
    }
    let (answer, page) = oneshot::channel();
    if sender.send((full.to_string(), answer)).await.is_err() {
        return (
            StatusCode::GONE,
            Html(page_html(
                "This is already finished",
                "You can close this tab.",
            )),
        )
            .into_response();
    }
    page.await
        .unwrap_or_else(|_| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(page_html(
                    "Something went wrong",
                    "Go back to the terminal.",
                )),
            )
        })
        .into_response()
}

/// A callback's query names `state` and no parameter twice (RFC 6749 §3.1: "Request and response
/// parameters MUST NOT be included more than once"); the reason it does not, for the browser.
fn check_query(url: &Url) -> std::result::Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (name, _) in url.query_pairs() {
        if !seen.insert(name.clone()) {
            return Err(format!(
                "This request repeats the parameter `{name}`: it is not the sign-in's callback."
            ));
        }
    }
    if !seen.contains("state") {
        return Err("This request has no `state`: it is not the sign-in's callback.".into());
    }
    Ok(())
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The small page the browser shows after the callback (the text without control characters: it may
/// carry the provider's words).
pub fn page_html(title: &str, text: &str) -> String {
    let escape = |s: &str| {
        native_oidc::text::printable(s)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;text-align:center;margin-top:20vh}}</style>\
         </head><body><h1>{t}</h1><p>{x}</p></body></html>",
        t = escape(title),
        x = escape(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_names_state_once_and_no_parameter_twice() {
        let check = |query: &str| {
            check_query(&Url::parse(&format!("http://127.0.0.1/cb?{query}")).unwrap())
        };
        assert!(check("code=c&state=s&iss=i").is_ok());
        assert!(check("error=access_denied&state=s").is_ok());
        for refused in [
            "",
            "code=c",
            "code=c&state=s&state=s",
            "code=c&state=s&state=t",
            "code=c&code=d&state=s",
            "code=c&st%61te=s&state=s",
            "state=s&iss=a&iss=a",
        ] {
            assert!(check(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_page_escapes_html_and_shows_no_control_characters() {
        let page = page_html("<b>", "a\u{1b}[2J & \"b\"\u{202e}");
        assert!(page.contains("&lt;b&gt;"), "{page}");
        assert!(
            page.contains("a\u{FFFD}[2J &amp; &quot;b&quot;\u{FFFD}"),
            "{page}"
        );
        assert!(!page.chars().any(native_oidc::text::is_unprintable));
    }
}
