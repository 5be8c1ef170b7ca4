//! A credential value that cannot be printed by accident.
//!
//! [`Secret`] wraps [`secrecy::SecretString`]: its `Debug` is redacted, it has no `Display` and no
//! `Serialize`, and its memory is zeroised on drop. The one way to read it, [`Secret::expose`], is
//! easy to grep for, so every place a secret leaves the type can be reviewed. [`redact`] scrubs
//! secret-shaped values out of free text (log lines, a server's error body quoted in a message).

use std::fmt;

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

/// Scrubs `text` of every secret this run used and every secret-shaped value: see
/// [`crate::scrub`], where the one list of patterns lives.
pub fn redact(text: &str) -> String {
    crate::scrub::scrub(text)
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
