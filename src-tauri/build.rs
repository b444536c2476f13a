//! Generates the app's context (configuration, capabilities, the permissions of its commands).
fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(&[
                "auth_state",
                "subscribe",
                "sign_in",
                "cancel_sign_in",
                "sign_out",
                "call_api",
            ])),
    )
    .expect("tauri build script failed");
}
