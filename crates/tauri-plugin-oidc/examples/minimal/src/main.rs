//! The smallest app that signs in with `tauri-plugin-oidc`: a button, then the profile. Against the
//! local identity provider of `make run` unless `OIDC_ISSUER` and `OIDC_CLIENT_ID` say otherwise.

fn main() {
    let env = |name, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    let config = tauri_plugin_oidc::Config::new(
        &env("OIDC_ISSUER", "http://127.0.0.1:9000/oauth2/default"),
        &env("OIDC_CLIENT_ID", "0oa1localnative0001"),
        "com.okta.example:/callback",
    )
    .expect("the issuer and the redirect URI are URLs");

    let builder = tauri::Builder::default();
    // Linux and Windows start a second process for a link: it hands the link to this one.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|_, _, _| {}));
    builder
        .plugin(tauri_plugin_oidc::deep_link())
        .plugin(tauri_plugin_oidc::opener())
        .plugin(tauri_plugin_oidc::Builder::new(config).build())
        .run(tauri::generate_context!())
        .expect("the app failed");
}
