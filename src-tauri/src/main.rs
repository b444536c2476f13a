//! The desktop entry point: runs the app (see the library's `run`).
// Prevents an additional console window on Windows in release.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    okta_signin_app_lib::run();
}
