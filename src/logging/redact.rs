//! Log redaction: the last line of defence. Nothing in entra-doctor logs a secret on purpose,
//! but dependencies log at trace level what they like; every log line passes through
//! [`redact`] before it is written, so a client secret, an assertion, a bearer token or any
//! JWT-shaped string never reaches a log file or the screen.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

pub use crate::secret::redact;

/// A writer that redacts what passes through it (tracing writes one event per call).
pub struct Redacting<W>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        // The choke point: scrubbed, and a hostile value cannot write escape codes into a log.
        let line = crate::scrub::printable(&text, crate::scrub::LINES);
        self.0.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Wraps a [`MakeWriter`] so every writer it makes redacts.
pub struct RedactingMakeWriter<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = Redacting<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        Redacting(self.0.make_writer())
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn secrets_never_survive() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl";
        for (line, secret) in [
            (
                "body: grant_type=client_credentials&client_secret=CANARY-1&scope=x",
                "CANARY-1",
            ),
            ("client_assertion=abc.def.ghi&x=1", "abc.def.ghi"),
            (
                r#"{"access_token":"CANARY-2","token_type":"Bearer"}"#,
                "CANARY-2",
            ),
            (
                r#"headers: {"authorization": "Bearer CANARY-3"}"#,
                "CANARY-3",
            ),
            ("Authorization: Basic Q0FOQVJZLTQ=", "Q0FOQVJZLTQ="),
            (&format!("token {jwt} end"), jwt),
        ] {
            let clean = redact(line);
            assert!(!clean.contains(secret), "{line} → {clean}");
            assert!(clean.contains("REDACTED"), "{clean}");
        }
        assert_eq!(
            redact("token request endpoint=http://x client_id=abc"),
            "token request endpoint=http://x client_id=abc"
        );
    }
}
