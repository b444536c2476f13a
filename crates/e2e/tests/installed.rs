//! The app as a user installs it: the release build from `make bundle`, installed with `dpkg -i` (CI's
//! throwaway machine). A release build registers no URL scheme itself: the link reaches it through the
//! `.desktop` file of its package, found by the OS URL handler.

use testkit::IdpOptions;

use crate::app::{click, step, wait_text, Stack};

const INSTALLED: &str = "/usr/bin/okta-signin-app";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the app installed from its .deb (make e2e-installed, CI only)"]
async fn the_installed_app_signs_in_through_the_os_url_handler() {
    let stack = Stack::start_app(
        "installed",
        IdpOptions::default(),
        INSTALLED.into(),
        |desktop, issuer, api| {
            // A release build needs the user's settings, and explicit consent to plain-http loopback.
            let file = desktop.path("okta.json");
            std::fs::write(
                &file,
                serde_json::json!({
                    "issuer": issuer,
                    "clientId": testkit::CLIENT_ID,
                    "apiBaseUrl": api,
                    "allowInsecureLoopback": true,
                })
                .to_string(),
            )
            .unwrap();
            vec![("OKTA_SIGNIN_CONFIG".to_string(), file.display().to_string())]
        },
    )
    .unwrap();
    let app = stack.launch().await.unwrap();
    let result = step(
        "installed: Sign in → Chromium → the package's .desktop file → the installed app",
        Some(&app),
        || async {
            let registered = stack
                .desktop
                .path("home/.local/share/applications/okta-signin-app-handler.desktop");
            (!registered.exists())
                .then_some(())
                .ok_or("a release build registered the scheme itself".to_string())?;
            click(&app, "#sign-in").await?;
            stack.handed_over("com.okta.example:/callback", 1).await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            click(&app, "#call-api").await?;
            wait_text(&app, "#api-result", "Hello from the demo API").await?;
            stack.one_app_process().await
        },
    )
    .await;
    let _ = stack.quit(app).await;
    result.unwrap();
}
