//! The one choke point for text that came from the network or a file on its way to a person:
//! stdout and stderr (text and JSON), the TUI, reports and logs.
//!
//! Two things happen to such text. [`scrub`] replaces every secret, client assertion, password
//! and token this run sent or received — remembered by value with [`remember`] where they are
//! used, because a hostile server can quote them in any wording — and then the secret-shaped
//! patterns (JWTs, `secret: …` in any spelling, HTML form fields). [`escape`] makes control,
//! bidi and zero-width characters visible, so a server cannot move the cursor, write the
//! clipboard (OSC 52), retitle the window, or make a forged value read like a genuine one.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use regex::Regex;

use crate::Secret;

/// What a scrubbed value is replaced with.
pub const MARKER: &str = "[REDACTED]";

/// Values shorter than this are not remembered: scrubbing them would eat ordinary words, and no
/// credential Entra ID issues is that short.
const MIN_REMEMBERED_CHARS: usize = 8;

/// A run remembers at most this many values, oldest forgotten first: a fleet of thousands of
/// apps must not grow without bound (tokens are caught by their JWT shape besides).
const MAX_REMEMBERED: usize = 2048;

fn remembered() -> &'static Mutex<VecDeque<String>> {
    static KNOWN: OnceLock<Mutex<VecDeque<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(VecDeque::new()))
}

/// Remembers a secret this run uses (sends, receives or decrypts with), so that any text quoting
/// it — in its plain, form-encoded or JSON-escaped spelling — is scrubbed of it.
pub fn remember(secret: &Secret) {
    remember_value(secret.expose());
}

fn remember_value(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_REMEMBERED_CHARS {
        return;
    }
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let Ok(mut known) = remembered().lock() else {
        return;
    };
    for spelling in [value.to_owned(), form, json] {
        if !known.contains(&spelling) {
            if known.len() == MAX_REMEMBERED {
                known.pop_front();
            }
            known.push_back(spelling);
        }
    }
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // A JSON member named for a credential: its value, whatever its length.
            (
                r#"(?i)("(?:client_secret|client_assertion|access_token|refresh_token|id_token|password)"\s*:\s*")[^"]*""#,
                "${1}[REDACTED]\"",
            ),
            // key=value and key: value in any spelling: client_secret, "client secret", Password…
            // A value of 8 characters or more: "passwd: is …" (a file named passwd) is no secret.
            (
                r#"(?i)(["']?\b(?:client[_ -]?secret|secret|client[_ -]?assertion|password|passwd|pfx[_ -]?password|access[_ -]?token|refresh[_ -]?token|id[_ -]?token|api[_ -]?key)["']?\s*[:=]\s*["']?)[^\s"'&,;<>}]{8,}"#,
                "${1}[REDACTED]",
            ),
            (
                r#"(?i)(authorization"?\s*[:=]\s*"?)(bearer|basic|pop)\s+[^\s",}]+"#,
                "${1}${2} [REDACTED]",
            ),
            // HTML echoing a form: <input name="client_secret" value="…">.
            (
                r#"(?i)(name\s*=\s*["']?(?:client_secret|client_assertion|password|access_token)["']?[^>]{0,200}?value\s*=\s*["']?)[^"'\s>]+"#,
                "${1}[REDACTED]",
            ),
            (
                r#"(?i)(value\s*=\s*["']?)[^"'\s>]+(["']?[^>]{0,200}?name\s*=\s*["']?(?:client_secret|client_assertion|password|access_token)\b)"#,
                "${1}[REDACTED]${2}",
            ),
            (
                r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
                "[REDACTED JWT]",
            ),
        ]
        .into_iter()
        .map(|(pattern, replacement)| (Regex::new(pattern).expect("a constant pattern"), replacement))
        .collect()
    })
}

/// `text` without any remembered secret and without secret-shaped values.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_owned();
    if let Ok(known) = remembered().lock() {
        // Longest first, so a value is not half-replaced by a shorter one inside it.
        let mut values: Vec<&String> = known.iter().filter(|v| out.contains(v.as_str())).collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for value in values {
            out = out.replace(value.as_str(), MARKER);
        }
    }
    patterns().iter().fold(out, |text, (pattern, replacement)| {
        pattern.replace_all(&text, *replacement).into_owned()
    })
}

/// Characters a terminal acts on or a reader cannot see: C0 and C1 controls, DEL, bidi
/// overrides and isolates, zero-width characters and line separators.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// How escaped characters are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `\u{1b}`, `\t`: for text; line breaks are kept when `keep_newlines`.
    Text { keep_newlines: bool },
    /// `\u001b`: inside serialised JSON, where it stays valid JSON.
    Json,
}

/// Hidden characters made visible (see [`is_hidden`]).
pub fn escape(text: &str, style: Style) -> String {
    if !text.chars().any(is_hidden) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match style {
            Style::Text {
                keep_newlines: true,
            } if c == '\n' => out.push(c),
            // Raw whitespace in serialised JSON is between tokens, never inside a string.
            Style::Json if matches!(c, '\n' | '\r' | '\t') => out.push(c),
            _ if !is_hidden(c) => out.push(c),
            Style::Text { .. } if c.is_control() => out.extend(c.escape_default()),
            Style::Text { .. } => out.extend(c.escape_unicode()),
            // JSON text: serialisers escape C0 already; what is left is escaped the JSON way.
            Style::Json => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out
}

/// Text printed as lines: line breaks kept, every other hidden character escaped.
pub const LINES: Style = Style::Text {
    keep_newlines: true,
};

/// The choke point: scrubbed of secrets, hidden characters made visible.
pub fn printable(text: &str, style: Style) -> String {
    escape(&scrub(text), style)
}

/// [`printable`] on one line: a line break from outside shows as `\n`, so a hostile value can
/// neither move the cursor nor start a line of its own.
pub fn printable_line(text: &str) -> String {
    printable(
        text,
        Style::Text {
            keep_newlines: false,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_secret_is_scrubbed_in_every_spelling() {
        let secret = Secret::new("Zx8~Q_canary+secret&\"value\"");
        remember(&secret);
        for echoed in [
            "Invalid client secret provided: Zx8~Q_canary+secret&\"value\"",
            "client_secret=Zx8%7EQ_canary%2Bsecret%26%22value%22&grant_type=x",
            r#"{"echo":"Zx8~Q_canary+secret&\"value\""}"#,
            "<p>you sent Zx8~Q_canary+secret&\"value\"</p>",
        ] {
            let clean = scrub(echoed);
            assert!(!clean.contains("canary"), "{echoed} → {clean}");
            assert!(clean.contains(MARKER), "{clean}");
        }
        // Short values are never remembered: they would eat ordinary words.
        remember(&Secret::new("abc"));
        assert_eq!(scrub("abc def"), "abc def");
    }

    #[test]
    fn secret_shaped_values_are_scrubbed_in_any_spelling() {
        for (text, leaked) in [
            ("secret: CANARY-1 was wrong", "CANARY-1"),
            ("client_secret : CANARY-2", "CANARY-2"),
            ("\"Client Secret\" = 'CANARY-3'", "CANARY-3"),
            ("Password=CANARY-4;", "CANARY-4"),
            (
                "<input type=hidden name=\"client_secret\" value=\"CANARY-5\">",
                "CANARY-5",
            ),
            ("<input value='CANARY-6' name='password'>", "CANARY-6"),
            ("Authorization: Bearer CANARY-7", "CANARY-7"),
            (
                "token eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln end",
                "eyJhbGciOiJSUzI1NiJ9",
            ),
        ] {
            let clean = scrub(text);
            assert!(!clean.contains(leaked), "{text} → {clean}");
        }
        for innocent in [
            "token request endpoint=http://x client_id=abc",
            "token cache /tmp/passwd: is not an entra-doctor token cache",
        ] {
            assert_eq!(scrub(innocent), innocent);
        }
    }

    #[test]
    fn every_hidden_kind_is_escaped_in_text_and_json() {
        let hostile =
            "a\u{1b}]52;c;aGk=\u{7}b\u{9b}2Jc\u{7f}d\u{202e}e\u{200b}f\u{2066}g\u{feff}h\ri\nj";
        let text = escape(
            hostile,
            Style::Text {
                keep_newlines: true,
            },
        );
        assert!(!text.chars().any(|c| is_hidden(c) && c != '\n'), "{text:?}");
        assert!(text.contains("\\u{1b}]52") && text.contains("\\u{202e}") && text.contains("\\r"));
        assert!(text.contains('\n'));
        let line = escape(
            hostile,
            Style::Text {
                keep_newlines: false,
            },
        );
        assert!(!line.contains('\n'));
        let json = escape(&serde_json::to_string(hostile).unwrap(), Style::Json);
        assert!(!json.chars().any(is_hidden), "{json}");
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hostile, "JSON escaping keeps the value");
    }
}
