//! Generates the example's context (configuration, capabilities).
fn main() {
    tauri_build::build()
}
