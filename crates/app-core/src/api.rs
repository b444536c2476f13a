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
    /// origin or path is refused.
    pub fn resolve(&self, path: &str) -> Option<Url> {
        if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
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
        ] {
            assert!(api.resolve(path).is_none(), "{path}");
        }
    }
}
