//! The app a Tauri developer starts from: what `create-tauri-app` 4.7.4 makes (Vite + TypeScript,
//! `crates/tauri-plugin-oidc/examples/scaffolded`) with only the plugin README's steps applied, built
//! by `make scaffolded-e2e` (its page by Vite, with the npm package from `npm pack`). It signs in
//! through Chromium and the OS URL handler against dev/idp and calls the demo API, as the app of this
//! repository does.

use testkit::IdpOptions;

use crate::{
    app::{click, step, wait_text, Stack},
    support::target_debug,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the scaffolded app built (make scaffolded-e2e), a display and a browser"]
async fn a_freshly_scaffolded_app_signs_in_with_the_readme_steps() {
    let stack = Stack::start_app(
        "scaffolded",
        IdpOptions::default(),
        target_debug().join("okta-scaffold"),
        |_, _, _| Vec::new(), // issuer, client id and API from the environment (OIDC_*, API_BASE_URL)
    )
    .unwrap();
    let app = stack.launch().await.unwrap();
    let result = step(
        "scaffolded: Sign in → Chromium → the OS URL handler → the scaffolded app",
        Some(&app),
        || async {
            click(&app, "#sign-in").await?;
            stack.handed_over("com.okta.example:/callback", 1).await?;
            wait_text(&app, "#profile-name", "Demo User").await?;
            // The link reached the running app through single-instance: no second app is left.
            stack.one_app_process().await?;
            click(&app, "#call-api").await?;
            wait_text(&app, "#api-result", "Hello from the demo API").await
        },
    )
    .await;
    let quit = stack.quit(app).await;
    result.unwrap();
    quit.unwrap();
}
