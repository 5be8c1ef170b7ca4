//! A credential value that cannot be printed by accident.
//!
//! [`Secret`] wraps [`secrecy::SecretString`]: its `Debug` is redacted, it has no `Display` and no
//! `Serialize`, and its memory is zeroised on drop. The one way to read it, [`Secret::expose`], is
//! easy to grep for, so every place a secret leaves the type can be reviewed. [`redact`] scrubs
//! secret-shaped values out of free text (log lines, a server's error body quoted in a message).

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use secrecy::{ExposeSecret, SecretString};

/// A client secret, certificate password, client assertion or access token.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The secret value itself. Call only where the value must leave the process (a form
    /// field, an `Authorization` header, `token --raw`).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// Length in characters, for messages such as "the secret has 40 characters".
    pub fn char_len(&self) -> usize {
        self.expose().chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

/// Secret-shaped values in free text (a log line, a server's error body) and what replaces them.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("CANARY-do-not-print-0123456789");
        let shown = format!("{secret:?} {:?}", Some(&secret));
        assert!(!shown.contains("CANARY"), "{shown}");
        assert_eq!(secret.expose(), "CANARY-do-not-print-0123456789");
    }
}
