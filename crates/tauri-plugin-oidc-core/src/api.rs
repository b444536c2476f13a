//! API calls for the UI: the UI names a path, Rust resolves it under `apiBaseUrl` and nowhere else,
//! attaches the token, and returns the status and body.

use serde::Serialize;
use serde_json::Value;
use url::Url;

/// The one place bearer tokens may go.
#[derive(Clone, Debug)]
pub struct ApiTarget {
    base: Url,
}

/// What the UI gets back from an API call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// The JSON body (a string when the body is not JSON).
    pub body: Value,
}

impl ApiTarget {
    /// Requests go under `base` (which ends with `/`).
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Resolves an absolute path (`/api/messages`) under the base; anything that would leave the base's
    /// origin or path is refused, and so is anything an API server could read as another path: an
    /// encoded slash, backslash or dot (`%2f`, `%5c`, `%2e`), and control characters, raw or encoded.
    pub fn resolve(&self, path: &str) -> Option<Url> {
        if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
            return None;
        }
        if path.chars().any(char::is_control) {
            return None;
        }
        let lower = path.to_ascii_lowercase();
        let encoded_control = lower.match_indices('%').any(|(at, _)| {
            lower
                .get(at + 1..at + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .is_some_and(|byte| byte < 0x20 || byte == 0x7f)
        });
        if encoded_control || ["%2f", "%5c", "%2e"].iter().any(|e| lower.contains(e)) {
            return None;
        }
        let url = self.base.join(&path[1..]).ok()?;
        (url.origin() == self.base.origin() && url.path().starts_with(self.base.path()))
            .then_some(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_configured_api() {
        let api = ApiTarget::new(Url::parse("http://127.0.0.1:9001/v1/").unwrap());
        assert_eq!(
            api.resolve("/api/messages").unwrap().as_str(),
            "http://127.0.0.1:9001/v1/api/messages"
        );
        for path in [
            "https://evil.example.com/steal",
            "//evil.example.com/steal",
            "api/messages",
            "/../other",
            "/\\evil.example.com",
            "/api%2f..%2fadmin",
            "/api%2F..%2Fadmin",
            "/api%5cadmin",
            "/%2e%2e/admin",
            "/api/%2E%2E/x",
            "/api/messages\n",
            "/api/\u{7f}",
            "/api/%0d%0aX-Injected: 1",
            "/api/%00",
            "/api/%7F",
        ] {
            assert!(api.resolve(path).is_none(), "{path}");
        }
    }
}
