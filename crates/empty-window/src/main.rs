//! An empty Tauri 2 window: the app's window without the app, to compare footprints (`make bench`).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("the empty window failed");
}
