//! Values put into the commands the tool prints for the operator to paste (`az …`, `export …`):
//! quoted for a POSIX shell, so a value that came from the network — a display name, a token's
//! claim — is one word and runs nothing.

/// `'…'`, each `'` inside closed, escaped and reopened.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A value as one word: as it is when it is a plain id (letters, digits, `-`, `.`, `_`), else
/// [`quote`]d.
pub fn word(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        text.to_owned()
    } else {
        quote(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_unless_plain() {
        assert_eq!(
            word("9999d1be-e182-4efa-8b0d-029e5af3dbcf"),
            "9999d1be-e182-4efa-8b0d-029e5af3dbcf"
        );
        assert_eq!(word("a b"), "'a b'");
        assert_eq!(word("x'; rm -rf ~; '"), "'x'\\''; rm -rf ~; '\\'''");
        assert_eq!(word("$(id)"), "'$(id)'");
        assert_eq!(word(""), "''");
        assert_eq!(quote("plain"), "'plain'");
    }
}
