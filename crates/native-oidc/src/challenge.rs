//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1; RFC 6750 §3 for Bearer, RFC 9449 §7.1 for DPoP):
//! the one parser of what a server says when it refuses a token. A response may carry several
//! headers, a header several challenges; a challenge's parameters are `name=token` or
//! `name="quoted string"`, separated by commas.

/// One challenge: its scheme (`Bearer`, `DPoP`, …) and parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Challenge {
    scheme: String,
    /// Names lower-cased (they are case-insensitive); values as sent, quotes and escapes removed.
    params: Vec<(String, String)>,
}

impl Challenge {
    /// True when this is a challenge of `scheme` (case-insensitive).
    pub(crate) fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The value of parameter `name`, if present.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `error` code, if any.
    pub(crate) fn error(&self) -> Option<&str> {
        self.param("error")
    }
}

/// True when a response's challenges include one of the token's scheme (`Bearer`, `DPoP`) saying the
/// token is invalid (`error="invalid_token"`, or no error code at all: RFC 6750 §3).
pub(crate) fn asks_for_a_new_token(headers: &http::HeaderMap, scheme: &str) -> bool {
    challenges(headers)
        .iter()
        .any(|c| c.is(scheme) && c.error().is_none_or(|code| code == "invalid_token"))
}

/// Every challenge of every `WWW-Authenticate` header of a response (headers that are not text are
/// skipped).
pub(crate) fn challenges(headers: &http::HeaderMap) -> Vec<Challenge> {
    headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(parse)
        .collect()
}

/// The challenges of one header value. Anything that is not a challenge is skipped; this never fails.
/// A scheme is a whole word (between separators: the start, a space or a comma); where something
/// malformed is skipped, so is the rest of its word.
pub(crate) fn parse(value: &str) -> Vec<Challenge> {
    let mut found = Vec::new();
    let mut rest = value;
    loop {
        rest = skip_separators(rest);
        if rest.is_empty() {
            return found;
        }
        let (scheme, after) = split_token(rest);
        if scheme.is_empty() {
            // Not a challenge: a quoted string is skipped whole (its words are not schemes).
            rest = match rest.strip_prefix('"') {
                Some(_) => to_boundary(parse_value(rest).1),
                None => to_boundary(rest),
            };
            continue;
        }
        if let Some(value) = after.trim_start().strip_prefix('=') {
            // A parameter with no scheme before it: skipped with its value.
            rest = to_boundary(parse_value(value.trim_start()).1);
            continue;
        }
        if !at_boundary(after) {
            // `DPoP(…` is not a scheme.
            rest = to_boundary(after);
            continue;
        }
        let mut challenge = Challenge {
            scheme: scheme.to_string(),
            params: Vec::new(),
        };
        rest = after;
        // Parameters until something that is not `name =` (the next challenge's scheme, or junk).
        loop {
            let next = skip_separators(rest);
            let (name, after_name) = split_token(next);
            let value = after_name.trim_start().strip_prefix('=');
            let (false, Some(value)) = (name.is_empty(), value) else {
                rest = next;
                break;
            };
            let (value, after_value) = parse_value(value.trim_start());
            challenge.params.push((name.to_ascii_lowercase(), value));
            rest = to_boundary(after_value);
        }
        found.push(challenge);
    }
}

/// True at the end of a word: the end of the text, a space or a comma.
fn at_boundary(text: &str) -> bool {
    text.is_empty() || text.starts_with(|c: char| c == ',' || c.is_ascii_whitespace())
}

/// `text` from the end of the word it starts in.
fn to_boundary(text: &str) -> &str {
    let end = text
        .find(|c: char| c == ',' || c.is_ascii_whitespace())
        .unwrap_or(text.len());
    &text[end..]
}

fn skip_separators(text: &str) -> &str {
    text.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace())
}

/// RFC 9110 `tchar`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The token at the start of `text`, and what follows it.
fn split_token(text: &str) -> (&str, &str) {
    let end = text.find(|c: char| !is_token_char(c)).unwrap_or(text.len());
    text.split_at(end)
}

/// A parameter's value at the start of `text` (a token, or a quoted string with `\` escapes; an
/// unterminated one runs to the end), and what follows it.
fn parse_value(text: &str) -> (String, &str) {
    let Some(quoted) = text.strip_prefix('"') else {
        let (token, rest) = split_token(text);
        return (token.to_string(), rest);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return (value, &quoted[index + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c => value.push(c),
        }
    }
    (value, "")
}

#[cfg(test)]
mod tests {
    use http::{header::WWW_AUTHENTICATE, HeaderMap, HeaderValue};

    use super::*;

    fn challenge(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(WWW_AUTHENTICATE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_an_invalid_token_challenge_asks_for_a_new_token() {
        for yes in [
            r#"Bearer error="invalid_token""#,
            r#"Bearer realm="api", error="invalid_token", error_description="expired""#,
            r#"bearer error=invalid_token"#,
            "Bearer",
            r#"Bearer realm="api""#,
        ] {
            assert!(asks_for_a_new_token(&challenge(yes), "Bearer"), "{yes}");
        }
        for no in [
            r#"Bearer error="insufficient_scope", scope="admin""#,
            r#"Bearer error="invalid_request""#,
            r#"Basic realm="api""#,
            r#"DPoP error="invalid_token""#,
        ] {
            assert!(!asks_for_a_new_token(&challenge(no), "Bearer"), "{no}");
        }
        assert!(
            !asks_for_a_new_token(&HeaderMap::new(), "Bearer"),
            "no challenge"
        );
        let dpop = challenge(r#"DPoP error="invalid_token", algs="ES256""#);
        assert!(asks_for_a_new_token(&dpop, "DPoP"));
        assert!(!asks_for_a_new_token(&dpop, "Bearer"));
    }

    #[test]
    fn several_challenges_with_quoted_commas_and_escapes() {
        let found = parse(
            r#"Bearer realm="api", error="invalid_token", error_description="expired, \"old\"", DPoP algs="ES256 PS256", error=use_dpop_nonce"#,
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].is("bearer"));
        assert_eq!(found[0].error(), Some("invalid_token"));
        assert_eq!(
            found[0].param("ERROR_DESCRIPTION"),
            Some(r#"expired, "old""#)
        );
        assert!(found[1].is("DPoP"));
        assert_eq!(found[1].param("algs"), Some("ES256 PS256"));
        assert_eq!(found[1].error(), Some("use_dpop_nonce"));
    }

    #[test]
    fn a_bare_scheme_and_junk_are_not_errors() {
        let found = parse("Bearer, , \u{1}=\"x");
        assert!(found[0].is("Bearer"), "{found:?}");
        assert!(found.iter().all(|c| c.error().is_none()), "{found:?}");
        assert!(parse("").is_empty());
        assert!(parse(" ,, ").is_empty());
        // Words in a quoted string, or a parameter with no scheme, are not challenges (fuzzer-found).
        assert!(
            parse(r#"Dbearerror="use_dpop_nonce", error_description="nonce in DPoP proof""#)
                .is_empty()
        );
        assert_eq!(parse(r#"Bearer error=x"y DPoP" Basic"#).len(), 2);
        assert!(parse(r#"DPoP(algs="ES256", error="invalid_token""#).is_empty());
        let found = parse(r#")Bearer x, a="q"DPoP y"#);
        assert!(
            found.iter().all(|c| !c.is("Bearer") && !c.is("DPoP")),
            "{found:?}"
        );
        assert_eq!(
            parse("DPoP error=\"use_dpop_nonce")[0].error(),
            Some("use_dpop_nonce")
        );
    }
}
