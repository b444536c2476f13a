//! Generates the permissions of the plugin's commands, and the global API script (`window.__TAURI__.oidc`,
//! for apps with `withGlobalTauri`) from `guest-js/index.js`, the one source of the JavaScript API.

const COMMANDS: &[&str] = &[
    "get_state",
    "subscribe",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "fetch_api",
    "reopen_store",
];

fn main() {
    let module = std::fs::read_to_string("guest-js/index.js").expect("guest-js/index.js");
    println!("cargo:rerun-if-changed=guest-js/index.js");
    // The ES module as a script: its exports become `window.__TAURI__.oidc`.
    let body = module.replace("export function ", "function ");
    let names: Vec<&str> = module
        .lines()
        .filter_map(|line| line.strip_prefix("export function "))
        .filter_map(|rest| rest.split('(').next())
        .collect();
    let script = format!(
        "(function () {{\n{body}\nwindow.__TAURI__ = window.__TAURI__ || {{}};\nwindow.__TAURI__.oidc = {{ {} }};\n}})();\n",
        names.join(", ")
    );
    let out =
        std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("api-iife.js");
    std::fs::write(&out, script).expect("api-iife.js");
    tauri_plugin::Builder::new(COMMANDS)
        .global_api_script_path(out)
        .android_path("android")
        .ios_path("ios")
        .build();
}
