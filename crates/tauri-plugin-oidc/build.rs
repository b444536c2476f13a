//! Generates the permissions of the plugin's commands, and hands Tauri the global API script
//! (`window.__TAURI__.oidc`, for apps with `withGlobalTauri`): `api-iife.js`, which the plugin's
//! JavaScript build (`npm run build`: rollup, from `guest-js/index.ts`) makes and the repository keeps,
//! so this build never needs Node.

const COMMANDS: &[&str] = &[
    "get_state",
    "subscribe",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "fetch_api",
    "reopen_store",
    "accounts",
    "switch_account",
];

fn main() {
    // Tauri reads the script when the app's context is generated; a new build of it reruns this.
    println!("cargo:rerun-if-changed=api-iife.js");
    tauri_plugin::Builder::new(COMMANDS)
        .global_api_script_path("./api-iife.js")
        .android_path("android")
        .ios_path("ios")
        .build();
}
