//! Tokens handed to a command: `-` reads standard input, `@FILE` reads a file, anything else is
//! the token itself. A token in the arguments is visible to every user of the machine (`ps`)
//! and stays in shell history, so every command but `decode` (made for pasting) warns about it.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::token::strip_wrapping;

/// Larger than any real token (Entra ID's are a few KB, tens with many groups): more is not a
/// token, and reading it all would only eat memory.
pub const MAX_TOKEN_BYTES: u64 = 1024 * 1024;

/// Where a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File,
    Argument,
}

/// True when `value` says "read standard input".
pub fn is_stdin(value: Option<&str>) -> bool {
    value == Some("-")
}

/// The token `value` stands for, unwrapped (`Bearer `, quotes, a token response's JSON), and
/// where it came from.
pub fn read(value: &str) -> Result<(String, Source)> {
    if value == "-" {
        let text = read_capped(&mut std::io::stdin().lock(), "standard input")?;
        return Ok((strip_wrapping(&text), Source::Stdin));
    }
    if let Some(path) = value.strip_prefix('@') {
        let path = Path::new(path);
        let mut file = std::fs::File::open(path).map_err(|e| Error::file(path, e))?;
        let text = read_capped(&mut file, &path.display().to_string())?;
        return Ok((strip_wrapping(&text), Source::File));
    }
    Ok((strip_wrapping(value), Source::Argument))
}

/// The warning for a token given as a plain argument of `option`; `None` for `-` and `@FILE`.
pub fn warning(value: &str, option: &str) -> Option<String> {
    (value != "-" && !value.starts_with('@')).then(|| {
        format!(
            "warning: a token given as a plain argument ({option} TOKEN) is visible to other \
             users in ps and stays in your shell history; use {option} - (standard input) or \
             {option} @FILE"
        )
    })
}

/// [`read`], plus the [`warning`] for a token given as a plain argument of `option`.
pub fn read_warning(value: &str, option: &str) -> Result<(String, Option<String>)> {
    let (token, _) = read(value)?;
    Ok((token, warning(value, option)))
}

/// The error for two options that both want standard input.
pub fn stdin_taken(first: &str, second: &str) -> Error {
    Error::InvalidInput {
        what: format!("{first} and {second}"),
        reason: format!(
            "cannot both read standard input; give the token in a file instead ({second} @FILE)"
        ),
    }
}

fn read_capped(reader: &mut dyn Read, what: &str) -> Result<String> {
    let bytes = super::read_input(
        reader,
        MAX_TOKEN_BYTES,
        what,
        "entra-doctor reads for a token",
    )?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidInput {
        what: what.to_owned(),
        reason: "is not UTF-8 text; a JWT is ASCII".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_and_unwraps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        std::fs::write(&path, "Bearer a.b.c\n").unwrap();
        let (token, warning) = read_warning(&format!("@{}", path.display()), "--token").unwrap();
        assert_eq!((token.as_str(), warning), ("a.b.c", None));
        let (token, warning) = read_warning("a.b.c", "--token").unwrap();
        assert_eq!(token, "a.b.c");
        assert!(warning.unwrap().contains("--token -"));
        let missing = read(&format!("@{}", dir.path().join("nope").display())).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }

    #[test]
    fn too_much_or_binary_input_is_a_clear_error() {
        let mut big = std::io::repeat(b'a');
        let error = read_capped(&mut big, "standard input").unwrap_err();
        assert!(error.to_string().contains("larger than 1 MiB"), "{error}");
        let error = read_capped(&mut &[0xff, 0xfe][..], "standard input").unwrap_err();
        assert!(error.to_string().contains("UTF-8"), "{error}");
    }
}
