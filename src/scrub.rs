//! The one choke point for text that came from the network or a file on its way to a person:
//! stdout and stderr (text and JSON), the TUI, reports and logs.
//!
//! Two things happen to such text. [`scrub`] replaces every secret, client assertion, password
//! and token this run sent or received — remembered by value with [`remember`] where they are
//! used, because a hostile server can quote them in any wording — and then the secret-shaped
//! patterns (JWTs, `secret: …` in any spelling, HTML form fields). [`escape`] makes control,
//! bidi and zero-width characters visible, so a server cannot move the cursor, write the
//! clipboard (OSC 52), retitle the window, or make a forged value read like a genuine one.

use std::borrow::Cow;
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

/// A secret-shaped pattern, compiled the first time a text might hold what it matches.
struct Pattern {
    regex: &'static str,
    replacement: &'static str,
    /// What every match holds, checked before the regex is compiled or run (see [`Needed`]).
    needs: Needed,
}

/// A necessary condition for a [`Pattern`] to match, cheap to test: most text printed (a decoded
/// token, a finding) holds none, and compiling the case-insensitive Unicode patterns costs more
/// than the rest of a `decode`.
enum Needed {
    /// One of these words (any case), then an optional quote, spaces, and `:` or `=`: every
    /// `key: value` pattern names a key ending in one of them.
    KeyEndingIn(&'static [&'static str]),
    /// This text, exactly (the JWT pattern is case-sensitive).
    Literal(&'static str),
}

impl Needed {
    fn holds(&self, text: &str, folded: &str) -> bool {
        match self {
            Needed::Literal(literal) => text.contains(literal),
            Needed::KeyEndingIn(words) => words.iter().any(|word| {
                folded.match_indices(word).any(|(at, _)| {
                    let rest = &folded[at + word.len()..];
                    let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
                    rest.trim_start().starts_with([':', '='])
                })
            }),
        }
    }
}

/// `text` as the case-insensitive patterns see it, for [`Needed`]: ASCII lower-cased, and the
/// two non-ASCII letters that Unicode case folding makes equal to ASCII ones (`ſ` is `s`, the
/// Kelvin sign is `k`) written as those, so `client_ſecret=…` still counts.
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{17f}' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The words the `key: value` patterns' keys end in (the first pattern's and the third's too).
const KEY_WORDS: &[&str] = &["secret", "assertion", "password", "passwd", "token", "key"];

const PATTERNS: [Pattern; 6] = [
    // A JSON member named for a credential: its value, whatever its length.
    Pattern {
        regex: r#"(?i)("(?:client_secret|client_assertion|access_token|refresh_token|id_token|password)"\s*:\s*")[^"]*""#,
        replacement: "${1}[REDACTED]\"",
        needs: Needed::KeyEndingIn(KEY_WORDS),
    },
    // key=value and key: value in any spelling: client_secret, "client secret", Password…
    // A value of 8 characters or more: "passwd: is …" (a file named passwd) is no secret.
    Pattern {
        regex: r#"(?i)(["']?\b(?:client[_ -]?secret|secret|client[_ -]?assertion|password|passwd|pfx[_ -]?password|access[_ -]?token|refresh[_ -]?token|id[_ -]?token|api[_ -]?key)["']?\s*[:=]\s*["']?)[^\s"'&,;<>}]{8,}"#,
        replacement: "${1}[REDACTED]",
        needs: Needed::KeyEndingIn(KEY_WORDS),
    },
    Pattern {
        regex: r#"(?i)(authorization"?\s*[:=]\s*"?)(bearer|basic|pop)\s+[^\s",}]+"#,
        replacement: "${1}${2} [REDACTED]",
        needs: Needed::KeyEndingIn(&["authorization"]),
    },
    // HTML echoing a form: <input name="client_secret" value="…">.
    Pattern {
        regex: r#"(?i)(name\s*=\s*["']?(?:client_secret|client_assertion|password|access_token)["']?[^>]{0,200}?value\s*=\s*["']?)[^"'\s>]+"#,
        replacement: "${1}[REDACTED]",
        needs: Needed::KeyEndingIn(&["value"]),
    },
    Pattern {
        regex: r#"(?i)(value\s*=\s*["']?)[^"'\s>]+(["']?[^>]{0,200}?name\s*=\s*["']?(?:client_secret|client_assertion|password|access_token)\b)"#,
        replacement: "${1}[REDACTED]${2}",
        needs: Needed::KeyEndingIn(&["value"]),
    },
    Pattern {
        regex: r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        replacement: "[REDACTED JWT]",
        needs: Needed::Literal("eyJ"),
    },
];

/// [`PATTERNS`]' regexes, each compiled on first use.
fn compiled(index: usize) -> &'static Regex {
    static COMPILED: [OnceLock<Regex>; PATTERNS.len()] =
        [const { OnceLock::new() }; PATTERNS.len()];
    COMPILED[index].get_or_init(|| Regex::new(PATTERNS[index].regex).expect("a constant pattern"))
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
    // Every pattern but the JWT's needs a `:` or `=`; most values printed (a claim, a date)
    // have neither, and need no folded copy at all.
    if !out.contains([':', '=']) && !out.contains("eyJ") {
        return out;
    }
    let mut folded = fold(&out);
    for (index, pattern) in PATTERNS.iter().enumerate() {
        if !pattern.needs.holds(&out, &folded) {
            continue;
        }
        if let Cow::Owned(replaced) = compiled(index).replace_all(&out, pattern.replacement) {
            // The next pattern sees the text this one left, as it always has.
            out = replaced;
            folded = fold(&out);
        }
    }
    out
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

    /// Every pattern, always: what [`scrub`] did before it skipped the ones that cannot match.
    fn scrub_with_every_pattern(text: &str) -> String {
        PATTERNS
            .iter()
            .enumerate()
            .fold(text.to_owned(), |text, (index, pattern)| {
                compiled(index)
                    .replace_all(&text, pattern.replacement)
                    .into_owned()
            })
    }

    #[test]
    fn fold_knows_every_letter_the_case_insensitive_patterns_equate_with_ascii() {
        // The regex crate's Unicode case folding, asked for each character: those it treats as
        // an ASCII letter are exactly the ASCII letters, `ſ` and the Kelvin sign.
        let letters = Regex::new("(?i)^[a-z]$").unwrap();
        let mut equated: Vec<char> = (0..=0x10_ffff)
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii() && letters.is_match(&c.to_string()))
            .collect();
        equated.sort_unstable();
        assert_eq!(equated, ['\u{17f}', '\u{212a}']);
        assert_eq!(fold("Client_\u{17f}ecret \u{212a}EY"), "client_secret key");
    }

    #[test]
    fn skipped_patterns_are_only_those_that_cannot_match() {
        for text in [
            "client_\u{17f}ecret = CANARY-long-value",
            "api\u{212a}ey: CANARY-long-value",
            "\"access_token\"  :  \"CANARY\"",
            "authorization\u{2003}: Bearer CANARY",
            "Graph token; only Graph can validate it",
            "value =CANARY name=password",
        ] {
            assert_eq!(scrub(text), scrub_with_every_pattern(text), "{text}");
        }
    }

    /// Pieces of text near and far from what the patterns match.
    fn pieces() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(
            proptest::sample::select(vec![
                "client",
                "_",
                " ",
                "-",
                "secret",
                "SECRET",
                "\u{17f}ecret",
                "assertion",
                "password",
                "passwd",
                "pfx",
                "access",
                "refresh",
                "id",
                "token",
                "api",
                "key",
                "\u{212a}ey",
                "authorization",
                "Bearer ",
                "basic",
                "name",
                "value",
                "VALUE",
                "=",
                ":",
                "\"",
                "'",
                "\u{a0}",
                "\n",
                "\t",
                "<input ",
                ">",
                "eyJ",
                "eyJhbGciOi",
                ".",
                "abcd",
                "CANARY-value-1",
                ";",
                "&",
                "}",
                "é",
                "ß",
            ]),
            0..12,
        )
        .prop_map(|pieces| pieces.concat())
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2048))]
        #[test]
        fn scrub_is_the_same_as_with_every_pattern(
            before in pieces(),
            key in proptest::prop_oneof![
                pieces(),
                proptest::sample::select(vec![
                    "client_secret", "Client Secret", "client-SECRET", "secret", "assertion",
                    "client_assertion", "password", "passwd", "pfx_password", "access_token",
                    "refresh token", "id-token", "api_key", "API KEY", "api\u{212a}ey",
                    "client_\u{17f}ecret", "authorization", "Authorization", "name", "value",
                    "VALUE", "name=\"password\" value",
                ]).prop_map(str::to_owned),
            ],
            quote in proptest::sample::select(vec!["", "\"", "'"]),
            space in proptest::sample::select(vec!["", " ", "\u{2003}"]),
            separator in proptest::sample::select(vec![":", "=", " ", ""]),
            after in pieces(),
        ) {
            let text = format!("{before}{key}{quote}{space}{separator}{space}{quote}{after}");
            proptest::prop_assert_eq!(scrub(&text), scrub_with_every_pattern(&text));
        }
    }

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
