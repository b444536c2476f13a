//! How the sign-in and sign-out pages are opened: the settings every platform's [`SignInPage`] is made
//! with, and this platform's page (`desktop.rs`: the system browser; `mobile.rs`: an authentication
//! session).

use std::sync::Arc;

use url::Url;

#[cfg(desktop)]
pub(crate) use crate::desktop::SignInPage;
#[cfg(mobile)]
pub(crate) use crate::mobile::SignInPage;

/// Opens a URL in place of the system browser (tests record it instead).
pub type Launcher = Arc<dyn Fn(&Url) -> std::result::Result<(), String> + Send + Sync>;

/// How the sign-in page is opened (the launcher on desktop, the session's settings on mobile).
pub(crate) struct PageSettings {
    #[cfg_attr(mobile, allow(dead_code))]
    pub(crate) launcher: Option<Launcher>,
    #[cfg_attr(desktop, allow(dead_code))]
    pub(crate) callback_scheme: String,
    #[cfg_attr(desktop, allow(dead_code))]
    pub(crate) prefers_ephemeral_session: bool,
}
