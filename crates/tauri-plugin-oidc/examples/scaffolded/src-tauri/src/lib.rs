// Learn more about Tauri commands at https://tauri.app/develop/calling-rust/
#[tauri::command]
fn greet(name: &str) -> String {
    format!("Hello, {}! You've been greeted from Rust!", name)
}

/// The settings not given by the environment (`OIDC_ISSUER`, `OIDC_CLIENT_ID`, `API_BASE_URL`) or the
/// user's `okta.json` (the README's `Builder::from_config_file`).
const DEFAULTS: &str = r#"{
  "redirectUri": "com.okta.example:/callback",
  "logoutRedirectUri": "com.okta.example:/logout",
  "scopes": "openid profile email offline_access"
}"#;

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default();
    #[cfg(desktop)] // Linux and Windows start a second process for a link: it hands the link over
    let builder = builder.plugin(tauri_plugin_single_instance::init(|_, _, _| {}));
    builder
        .plugin(tauri_plugin_oidc::deep_link())
        .plugin(tauri_plugin_oidc::opener())
        .plugin(tauri_plugin_oidc::Builder::from_config_file(DEFAULTS).build())
        .invoke_handler(tauri::generate_handler![greet])
        .run(tauri::generate_context!())
        .expect("error while running tauri application");
}
