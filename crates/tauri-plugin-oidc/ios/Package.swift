// swift-tools-version:5.3

import PackageDescription

let package = Package(
  name: "tauri-plugin-oidc",
  platforms: [
    // prefersEphemeralWebBrowserSession and presentationContextProvider: iOS 13.
    .iOS(.v13)
  ],
  products: [
    .library(
      name: "tauri-plugin-oidc",
      type: .static,
      targets: ["tauri-plugin-oidc"])
  ],
  dependencies: [
    .package(name: "Tauri", path: "../.tauri/tauri-api")
  ],
  targets: [
    .target(
      name: "tauri-plugin-oidc",
      dependencies: [
        .byName(name: "Tauri")
      ],
      path: "Sources")
  ]
)
