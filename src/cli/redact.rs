//! Log redaction: the last line of defence. Nothing in entra-doctor logs a secret on purpose,
//! but dependencies log at trace level what they like; every log line passes through
//! [`redact`] before it is written, so a client secret, an assertion, a bearer token or any
//! JWT-shaped string never reaches a log file or the screen.

use std::io::{self, Write};
use std::sync::OnceLock;

use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // form fields and query parameters
            (r"(?i)\b(client_secret|client_assertion|access_token|refresh_token|password)=[^&\s\x22']+", "$1=[REDACTED]"),
            // JSON fields
            (r#"(?i)"(client_secret|client_assertion|access_token|refresh_token|password)"\s*:\s*"[^"]*""#, r#""$1":"[REDACTED]""#),
            // Authorization headers, however they are printed
            (r#"(?i)(authorization"?\s*[:=]\s*"?)(bearer|basic|pop)\s+[^\s",}]+"#, "$1$2 [REDACTED]"),
            // anything shaped like a JWT
            (r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", "[REDACTED JWT]"),
        ]
        .into_iter()
        .filter_map(|(pattern, replacement)| Regex::new(pattern).ok().map(|r| (r, replacement)))
        .collect()
    })
}

/// The text with every secret-shaped value replaced.
pub fn redact(text: &str) -> String {
    patterns()
        .iter()
        .fold(text.to_owned(), |text, (pattern, replacement)| {
            pattern.replace_all(&text, *replacement).into_owned()
        })
}

/// A writer that redacts what passes through it (tracing writes one event per call).
pub struct Redacting<W>(W);

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
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
