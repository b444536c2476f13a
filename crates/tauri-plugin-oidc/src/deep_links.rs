//! Deep links from the OS (tauri-plugin-deep-link), and the callbacks of authentication sessions on
//! mobile, queued as [`Incoming`] and handed to the controller one at a time and in order, once
//! start-up has restored the session (`state.rs` starts it): the launch URL (`get_current`, for a cold
//! start through a link) and links opened while the app runs (`on_open_url`; on Linux and Windows,
//! single-instance forwards a second process's link to it). Which URL is which is tauri-plugin-oidc-core's
//! `links.rs`.

use tauri::{AppHandle, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_plugin_oidc_core::{Controller, Platform};
use tokio::sync::mpsc;

/// What reaches the controller: a URL to handle, or the end of an authentication session without one.
#[derive(Debug, PartialEq)]
pub(crate) enum Incoming {
    /// A URL the OS or an authentication session handed over.
    Url(String),
    /// The user closed the sign-in page's authentication session (mobile).
    #[cfg_attr(desktop, allow(dead_code))]
    Cancelled,
    /// The sign-in page's authentication session could not be shown (mobile): no browser, …
    #[cfg_attr(desktop, allow(dead_code))]
    Failed(String),
}

/// How an authentication session ended without a callback: the `code` and message the Swift or
/// Kotlin side rejected with.
#[derive(Debug)]
pub(crate) struct SessionError {
    /// `cancelled` (the user closed it), `superseded` (a newer page replaced it), or another failure.
    pub(crate) code: Option<String>,
    pub(crate) message: String,
}

/// What the end of the authentication session that showed `opened` means (mobile). Its callback URL
/// is handled like any deep link (same checks: state, issuer, …). Without one: closing a sign-in page
/// cancels that sign-in; a session that a newer one replaced, or a sign-out page (the app is already
/// signed out), changes nothing.
#[cfg_attr(desktop, allow(dead_code))]
pub(crate) fn session_ended(
    opened: &url::Url,
    ended: Result<String, SessionError>,
) -> Option<Incoming> {
    let error = match ended {
        Ok(callback) => return Some(Incoming::Url(callback)),
        Err(error) => error,
    };
    let sign_in_page = opened
        .query_pairs()
        .any(|(name, value)| name == "response_type" && value == "code");
    match error.code.as_deref() {
        _ if !sign_in_page => None,
        Some("superseded") => None,
        Some("cancelled") => Some(Incoming::Cancelled),
        _ => Some(Incoming::Failed(error.message)),
    }
}

/// Where links are queued.
pub(crate) type LinkSender = mpsc::UnboundedSender<Incoming>;

/// A queue for links.
pub(crate) fn queue() -> (LinkSender, mpsc::UnboundedReceiver<Incoming>) {
    mpsc::unbounded_channel()
}

/// Wires every source of deep links to the queue: the launch URL, then each link opened while the app
/// runs. A debug build registers the URL scheme for itself (Linux, Windows: `registration.rs`).
pub(crate) fn listen<R: Runtime>(app: &AppHandle<R>, sender: LinkSender) {
    #[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
    crate::registration::register_development_build(app);
    for url in app
        .deep_link()
        .get_current()
        .ok()
        .flatten()
        .unwrap_or_default()
    {
        let _ = sender.send(Incoming::Url(url.to_string()));
    }
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            let _ = sender.send(Incoming::Url(url.to_string()));
        }
    });
}

/// Hands the queued links to `controller`, one at a time and in order, until the queue closes.
pub(crate) async fn deliver<P: Platform>(
    controller: &Controller<P>,
    mut links: mpsc::UnboundedReceiver<Incoming>,
) {
    while let Some(link) = links.recv().await {
        match link {
            Incoming::Url(url) => {
                controller.handle_url(&url).await;
            }
            Incoming::Cancelled => {
                controller.cancel_sign_in().await;
            }
            Incoming::Failed(reason) => {
                controller.sign_in_page_failed(&reason).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(code: &str) -> Result<String, SessionError> {
        Err(SessionError {
            code: Some(code.into()),
            message: format!("{code}!"),
        })
    }

    const SIGN_IN: &str =
        "https://id.example.com/oauth2/default/v1/authorize?response_type=code&client_id=x&state=s";
    const SIGN_OUT: &str =
        "https://id.example.com/oauth2/default/v1/logout?id_token_hint=x&post_logout_redirect_uri=y";

    #[test]
    fn a_callback_is_handled_like_a_deep_link_whatever_page_was_opened() {
        for page in [SIGN_IN, SIGN_OUT] {
            let callback = "com.okta.example:/callback?code=c&state=s".to_string();
            assert_eq!(
                session_ended(&page.parse().unwrap(), Ok(callback.clone())),
                Some(Incoming::Url(callback))
            );
        }
    }

    #[test]
    fn closing_the_sign_in_page_cancels_and_a_failure_is_reported() {
        let page = SIGN_IN.parse().unwrap();
        assert_eq!(
            session_ended(&page, closed("cancelled")),
            Some(Incoming::Cancelled)
        );
        assert_eq!(
            session_ended(&page, closed("no_browser")),
            Some(Incoming::Failed("no_browser!".into()))
        );
        assert_eq!(
            session_ended(
                &page,
                Err(SessionError {
                    code: None,
                    message: "the webview is unreachable".into()
                })
            ),
            Some(Incoming::Failed("the webview is unreachable".into()))
        );
    }

    #[test]
    fn a_replaced_session_or_a_closed_sign_out_page_changes_nothing() {
        assert_eq!(
            session_ended(&SIGN_IN.parse().unwrap(), closed("superseded")),
            None
        );
        for code in ["cancelled", "no_browser", "superseded"] {
            assert_eq!(
                session_ended(&SIGN_OUT.parse().unwrap(), closed(code)),
                None
            );
        }
    }
}
