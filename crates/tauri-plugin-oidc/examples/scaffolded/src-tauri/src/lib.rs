// Learn more about Tauri commands at https://tauri.app/develop/calling-rust/
#[tauri::command]
fn greet(name: &str) -> String {
    format!("Hello, {}! You've been greeted from Rust!", name)
}

/// A setting the README writes in place (`{yourOktaDomain}`, `{yourClientId}`, the API): here from the
/// environment, where the tests put their local identity provider and demo API.
fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    // The plugin README's steps ("Add it to your app").
    let config = tauri_plugin_oidc::Config::new(
        &setting("OIDC_ISSUER"),
        &setting("OIDC_CLIENT_ID"),
        "com.okta.example:/callback",
    )
    .expect("the sign-in settings");
    let api = setting("API_BASE_URL")
        .parse()
        .expect("API_BASE_URL is a URL");
    let builder = tauri::Builder::default();
    #[cfg(desktop)] // Linux and Windows start a second process for a link: it hands the link over
    let builder = builder.plugin(tauri_plugin_single_instance::init(|_, _, _| {}));
    builder
        .plugin(tauri_plugin_oidc::deep_link())
        .plugin(tauri_plugin_oidc::opener()) // in place of the template's tauri_plugin_opener::init()
        .plugin(
            tauri_plugin_oidc::Builder::new(config)
                .api_base_url(api)
                .build(),
        )
        .invoke_handler(tauri::generate_handler![greet])
        .run(tauri::generate_context!())
        .expect("error while running tauri application");
}
