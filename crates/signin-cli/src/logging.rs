//! Warnings and logs on standard error (RUST_LOG=info shows more; never a token), each line written
//! through `native_oidc::text::Printable`: a field that holds a provider's text (a subject, a
//! message) cannot put a control character or a bidi override on the terminal. So no colours: they
//! are escape sequences too.

use std::io::{self, Write};

use native_oidc::text::printable;

/// Starts logging to standard error, at `warn` unless RUST_LOG says otherwise.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .without_time()
        .with_target(false)
        .with_ansi(false)
        .with_writer(|| Clean(io::stderr()))
        .try_init();
}

/// Writes what it is given through `Printable`, line by line (the line breaks are kept).
struct Clean<W>(W);

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // The formatter writes each event whole, so a write never ends inside a character.
        let text = String::from_utf8_lossy(bytes);
        let lines: Vec<String> = text.split('\n').map(printable).collect();
        self.0.write_all(lines.join("\n").as_bytes())?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_without_control_characters() {
        let mut out = Clean(Vec::new());
        out.write_all(b"WARN signed in subject=eve\xe2\x80\xae\x1b[2J\r\nnext\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out.0).unwrap(),
            "WARN signed in subject=eve\u{FFFD}\u{FFFD}[2J \nnext\n"
        );
    }
}
