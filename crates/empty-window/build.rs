//! Generates the empty window's context.
fn main() {
    tauri_build::build();
}
