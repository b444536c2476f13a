//! The callback URL the browser brings back to the app: checked against the redirect URI, then read
//! into parameters (each at most once). No panic; errors are printable and never show a token-looking
//! parameter value (an authorization code) unless the app's own redirect URI holds it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use native_oidc::fuzzing::{callback, REDIRECT_URI};
use oidc_fuzz::{assert_printable, token_looking};

fuzz_target!(|input: &str| {
    match callback(input) {
        Ok(params) => {
            let url = url::Url::parse(input.trim()).expect("an accepted callback is a URL");
            let expected = url::Url::parse(REDIRECT_URI).unwrap();
            assert!(native_oidc::is_redirect_to(&url, &expected));
            assert_eq!(
                params.len(),
                url.query_pairs().count(),
                "each parameter once"
            );
        }
        Err(error) => {
            let message = error.to_string();
            assert_printable(&message);
            if let Ok(url) = url::Url::parse(input.trim()) {
                for (name, value) in url.query_pairs() {
                    // A value that is also the parameter's name, or part of the app's own redirect
                    // URI (which the error names), may legitimately show.
                    let unique = input.matches(value.as_ref()).count() == 1
                        && !name.contains(value.as_ref())
                        && !REDIRECT_URI.contains(value.as_ref());
                    if token_looking(&value) && unique {
                        assert!(
                            !message.contains(value.as_ref()),
                            "{message:?} shows {value:?}"
                        );
                    }
                }
            }
        }
    }
});
