// The sign-in page in an ASWebAuthenticationSession, for tauri-plugin-oidc.
//
// Nothing here is a protocol step: Rust builds the authorization URL and checks the callback (state,
// issuer, code exchange, ID token). This file only shows the page and hands back the URL the session
// ended on (the callback scheme, com.okta.example), or says the user closed it.
//
// Not built or run in this project's CI (no Xcode there): see the crate's README.

import AuthenticationServices
import Tauri
import UIKit

struct StartAuthSessionArgs: Decodable {
  let url: String
  let callbackScheme: String
  let prefersEphemeralSession: Bool
}

class OidcPlugin: Plugin, ASWebAuthenticationPresentationContextProviding {
  private var session: ASWebAuthenticationSession?
  private var pending: Invoke?

  @objc public func startAuthSession(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(StartAuthSessionArgs.self)
    guard let url = URL(string: args.url) else {
      invoke.reject("the sign-in page's URL is not valid", code: "bad_url")
      return
    }
    DispatchQueue.main.async {
      // A newer page replaces the one still open: Rust ignores the old one's end.
      if let previous = self.take() {
        previous.reject("a newer sign-in page replaced this one", code: "superseded")
      }
      self.session?.cancel()
      let session = ASWebAuthenticationSession(url: url, callbackURLScheme: args.callbackScheme) {
        [weak self] callback, error in
        // The completion of a session that was replaced has nobody to answer.
        guard let self = self, self.pending === invoke else { return }
        _ = self.take()
        if let callback = callback {
          invoke.resolve(["url": callback.absoluteString])
        } else if let error = error as? ASWebAuthenticationSessionError,
          error.code == .canceledLogin
        {
          invoke.reject("the sign-in page was closed", code: "cancelled")
        } else {
          invoke.reject(
            error?.localizedDescription ?? "the authentication session failed", code: "failed")
        }
      }
      session.presentationContextProvider = self
      session.prefersEphemeralWebBrowserSession = args.prefersEphemeralSession
      self.session = session
      self.pending = invoke
      if !session.start() {
        _ = self.take()
        invoke.reject("the authentication session could not start", code: "failed")
      }
    }
  }

  private func take() -> Invoke? {
    let invoke = pending
    pending = nil
    return invoke
  }

  func presentationAnchor(for session: ASWebAuthenticationSession) -> ASPresentationAnchor {
    return manager.viewController?.view.window ?? ASPresentationAnchor()
  }
}

@_cdecl("init_plugin_oidc")
func initPlugin() -> Plugin {
  return OidcPlugin()
}
