//! Text that came from outside (an identity provider, a callback URL, a stored profile), made safe to
//! show on a terminal or in a UI.
//!
//! A terminal acts on control characters: `ESC ] 52 ; c ; … BEL` writes the clipboard, `ESC [ 2 J`
//! clears the screen, and C1 controls (U+0080–U+009F) do the same on some terminals. Bidirectional
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069) make text read differently from what it is.
//! [`Printable`] shows a text without any of them:
//!
//! - tab, line feed and carriage return become a space (a message stays on one line);
//! - every other control character ([`char::is_control`]: C0, DEL, C1) and every bidi override or
//!   isolate becomes U+FFFD `�`, so the reader sees that something was there;
//! - everything else is shown as it is.
//!
//! [`Error`](crate::Error)'s `Display` goes through it, so no error message carries such characters.

use std::fmt::{self, Write as _};

/// The replacement for a character that must not be shown: U+FFFD REPLACEMENT CHARACTER.
pub const REPLACEMENT: char = '\u{FFFD}';

/// True for a character [`Printable`] does not show as it is: a control character (C0, DEL, C1) or
/// a bidirectional override or isolate.
pub fn is_unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Shows a text without control characters or bidi overrides (see the [module docs](self)).
#[derive(Clone, Copy, Debug)]
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_unprintable(c)) {
            f.write_str(&rest[..at])?;
            f.write_char(match c {
                '\t' | '\n' | '\r' => ' ',
                _ => REPLACEMENT,
            })?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// `text` as [`Printable`] shows it.
pub fn printable(text: &str) -> String {
    Printable(text).to_string()
}

/// `value` with every string in it, and every key, as [`Printable`] shows it: claims and a profile
/// made fit for a UI.
pub fn printable_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) => Value::String(printable(text)),
        Value::Array(items) => Value::Array(items.iter().map(printable_json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, value)| (printable(name), printable_json(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_and_key_of_a_json_value_is_made_printable() {
        let hostile = serde_json::json!({
            "name\u{202e}": ["a\u{1b}[2J", { "b": "c\u{9b}" }, 7, null, true],
        });
        assert_eq!(
            printable_json(&hostile),
            serde_json::json!({ "name\u{FFFD}": ["a\u{FFFD}[2J", { "b": "c\u{FFFD}" }, 7, null, true] })
        );
    }

    #[test]
    fn terminal_escape_sequences_lose_their_escape() {
        let clipboard = "bad\u{1b}]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u{07}request";
        assert_eq!(
            printable(clipboard),
            "bad\u{FFFD}]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u{FFFD}request"
        );
        assert_eq!(printable("\u{1b}[2Jcleared"), "\u{FFFD}[2Jcleared");
        assert!(!printable(clipboard).contains('\u{1b}'));
    }

    #[test]
    fn every_control_character_is_replaced() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = printable(&format!("a{c}b"));
            let expected = if matches!(c, '\t' | '\n' | '\r') {
                "a b".to_string()
            } else {
                format!("a{REPLACEMENT}b")
            };
            assert_eq!(shown, expected, "U+{:04X}", c as u32);
            assert!(!shown.chars().any(|c| c.is_control()));
        }
    }

    #[test]
    fn bidi_overrides_and_isolates_are_replaced() {
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            assert!(is_unprintable(c), "U+{:04X}", c as u32);
            assert_eq!(printable(&format!("x{c}y")), format!("x{REPLACEMENT}y"));
        }
        // "exe.txt" spelled backwards behind a right-to-left override.
        assert_eq!(
            printable("invoice\u{202E}txt.exe"),
            "invoice\u{FFFD}txt.exe"
        );
    }

    #[test]
    fn ordinary_text_is_kept_as_it_is() {
        for text in [
            "",
            "access_denied: The user cancelled the sign-in.",
            "Zoë Ångström — 東京 🙂 مرحبا",
            "a\u{200D}b", // zero-width joiner: a format character, not a control
            "https://idp.example.com/oauth2/default?x=1&y=%1B",
        ] {
            assert_eq!(printable(text), text);
            assert_eq!(Printable(text).to_string(), text);
        }
        assert!(!is_unprintable(' '));
        assert!(!is_unprintable('\u{FFFD}'));
    }

    #[test]
    fn line_breaks_and_tabs_become_spaces() {
        assert_eq!(
            printable("line one\r\nline two\tend\n"),
            "line one  line two end "
        );
    }
}
