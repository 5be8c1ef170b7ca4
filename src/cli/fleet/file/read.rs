//! Reading a fleet file one app at a time, so a file of 100,000 apps never sits in memory whole:
//! TOML `[[apps]]` tables are cut apart at their headers and parsed one by one; a JSON document
//! (a list, or `{"apps": [...]}`) is walked element by element with serde's `SeqAccess`; JSON
//! lines (`.jsonl`, `.ndjson`) are read a line at a time.
//!
//! Every reader hands each app, in file order, to a `visit` callback with the line it starts on;
//! errors say where (app number, line) and what (serde's message for TOML and for a missing or
//! unknown field, else a description), never the text around it.

use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::FleetApp;

/// A reason the file could not be read, with where it happened: the caller adds the file's name.
#[derive(Debug)]
pub(super) enum ReadError {
    /// The file's own fault: the text says which app, which line, what is wrong.
    Invalid(String),
    /// Reading the file failed.
    Io(std::io::Error),
    /// The callback stopped the read; its own error is kept by the caller.
    Stopped,
}

/// Called for every app, in file order: the app and the 1-based line its entry starts on (0 when
/// unknown). An `Err` stops the read.
pub(super) type Visit<'a> = &'a mut dyn FnMut(FleetApp, usize) -> Result<(), ReadError>;

/// `[[apps]]` alone on its line (spaces and a trailing comment allowed), or a quoted `"apps"`.
fn is_apps_header(line: &str) -> bool {
    let line = line.split('#').next().unwrap_or_default();
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    compact == "[[apps]]" || compact == "[[\"apps\"]]" || compact == "[['apps']]"
}

/// The part before the first `[[apps]]`: nothing, or (a small file) `apps = [{…}]` inline.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Preamble {
    #[serde(default)]
    apps: Vec<FleetApp>,
}

/// TOML: the text between one `[[apps]]` header and the next is one app's table, parsed alone.
///
/// A line reading `[[apps]]` inside a multi-line string would be taken for a header; the piece it
/// cuts then fails to parse with a clear error rather than being misread.
pub(super) fn toml(reader: impl Read, visit: Visit<'_>) -> Result<(), ReadError> {
    let mut reader = BufReader::new(reader);
    let mut chunk = String::new();
    // The line of the current chunk's header; 0 for the preamble.
    let mut chunk_line = 0;
    let mut number = 0;
    let mut line_no = 0;
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(ReadError::Io)?;
        let at_end = read == 0;
        if at_end || is_apps_header(&line) {
            toml_chunk(&chunk, chunk_line, &mut number, visit)?;
            if at_end {
                return Ok(());
            }
            chunk.clear();
            line_no += 1;
            chunk_line = line_no;
            continue;
        }
        line_no += 1;
        chunk.push_str(&line);
    }
}

fn toml_chunk(
    text: &str,
    header_line: usize,
    number: &mut usize,
    visit: Visit<'_>,
) -> Result<(), ReadError> {
    // toml's Display quotes the offending line; give the message and the line number only.
    let error = |e: &toml::de::Error, app: usize| {
        let within = e
            .span()
            .and_then(|span| text.get(..span.start))
            .map_or(0, |before| before.matches('\n').count() + 1);
        let line = header_line + within;
        let message = e.message().trim();
        ReadError::Invalid(if app == 0 {
            format!("line {line}: {message}")
        } else {
            format!("app #{app}, line {line}: {message}")
        })
    };
    if header_line == 0 {
        let preamble: Preamble = toml::from_str(text).map_err(|e| error(&e, 0))?;
        for app in preamble.apps {
            *number += 1;
            visit(app, 0)?;
        }
        return Ok(());
    }
    *number += 1;
    let app: FleetApp = toml::from_str(text).map_err(|e| error(&e, *number))?;
    visit(app, header_line)
}

/// JSON lines: one app object per line; blank lines are skipped.
pub(super) fn json_lines(reader: impl Read, visit: Visit<'_>) -> Result<(), ReadError> {
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    let mut number = 0;
    let mut line_no = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(ReadError::Io)? == 0 {
            return Ok(());
        }
        line_no += 1;
        if line.trim().is_empty() {
            continue;
        }
        number += 1;
        let app: FleetApp = serde_json::from_str(&line)
            .map_err(|e| ReadError::Invalid(json_error(&e, Some(number), line_no)))?;
        visit(app, line_no)?;
    }
}

/// A JSON document: a list of apps or `{"apps": [...]}`, walked one element at a time.
pub(super) fn json(reader: impl Read, visit: Visit<'_>) -> Result<(), ReadError> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(reader));
    let mut walk = Walk {
        visit,
        number: 0,
        stopped: None,
    };
    let walked = (&mut de).deserialize_any(Document(&mut walk));
    if let Some(stop) = walk.stopped.take() {
        return Err(stop);
    }
    let at = walk.number;
    walked
        .and_then(|()| de.end())
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Io => ReadError::Io(e.into()),
            _ => ReadError::Invalid(json_error(&e, (at > 0).then_some(at), e.line())),
        })
}

/// serde_json's message for a missing or unknown field names the field; its other data messages
/// can quote a value (`invalid type: string "…"`), so they become a description instead.
fn json_error(e: &serde_json::Error, app: Option<usize>, line: usize) -> String {
    let message = e.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    let what = if e.is_data() {
        if message.starts_with("missing field") || message.starts_with("unknown field") {
            message
                .split(", expected")
                .next()
                .unwrap_or_default()
                .to_owned()
        } else {
            "is not an app: give an object with the fields tenant, client_id, secret_env or \
             certificate, scopes, probe (a list of them, or {\"apps\": [...]})"
                .to_owned()
        }
    } else {
        format!("is not valid JSON ({message})")
    };
    match app {
        Some(app) => format!("app #{app}, line {line}: {what}"),
        None => format!("line {line}: {what}"),
    }
}

struct Walk<'v> {
    visit: Visit<'v>,
    /// The number of the app being read (1-based), for errors.
    number: usize,
    /// Why the callback stopped the walk (serde only carries its own error type).
    stopped: Option<ReadError>,
}

struct Document<'w, 'v>(&'w mut Walk<'v>);
struct Apps<'w, 'v>(&'w mut Walk<'v>);

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of apps or {\"apps\": [...]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Apps(self.0).visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key != "apps" {
                return Err(de::Error::unknown_field(&key, &["apps"]));
            }
            if seen {
                return Err(de::Error::duplicate_field("apps"));
            }
            seen = true;
            map.next_value_seed(Apps(&mut *self.0))?;
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("apps"))
        }
    }
}

impl<'de> DeserializeSeed<'de> for Apps<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Apps<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of apps")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.0.number += 1;
            let Some(app) = seq.next_element::<FleetApp>()? else {
                self.0.number -= 1;
                return Ok(());
            };
            if let Err(stop) = (self.0.visit)(app, 0) {
                self.0.stopped = Some(stop);
                return Err(de::Error::custom("stopped"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(read: fn(&[u8], Visit<'_>) -> Result<(), ReadError>, text: &str) -> Vec<String> {
        let mut seen = Vec::new();
        read(text.as_bytes(), &mut |app, line| {
            seen.push(format!("{}@{line}", app.label()));
            Ok(())
        })
        .unwrap();
        seen
    }

    fn toml_of(text: &[u8], visit: Visit<'_>) -> Result<(), ReadError> {
        toml(text, visit)
    }

    fn json_of(text: &[u8], visit: Visit<'_>) -> Result<(), ReadError> {
        json(text, visit)
    }

    fn lines_of(text: &[u8], visit: Visit<'_>) -> Result<(), ReadError> {
        json_lines(text, visit)
    }

    const A: &str = r#""tenant":"t","client_id":"c","secret_env":"S","scope":"x/.default""#;

    #[test]
    fn toml_tables_are_read_one_at_a_time_with_their_lines() {
        let text = "# fleet\n[[apps]]\nname = \"a\"\ntenant = \"t\"\nclient_id = \"c\"\n\n \
                    [[ apps ]] # second\nname = \"b\"\ntenant = \"t\"\nclient_id = \"c\"\n";
        assert_eq!(names(toml_of, text), ["a@2", "b@7"]);
        assert_eq!(
            names(toml_of, "apps = [{tenant = \"t\", client_id = \"c\"}]\n"),
            ["c@0"]
        );
    }

    #[test]
    fn json_documents_and_lines_are_walked_one_app_at_a_time() {
        let list = format!("[{{{A},\"name\":\"a\"}}, {{{A}}}]");
        assert_eq!(names(json_of, &list), ["a@0", "c@0"]);
        let object = format!("{{\"apps\": [{{{A}}}]}}");
        assert_eq!(names(json_of, &object), ["c@0"]);
        let lines = format!("{{{A},\"name\":\"a\"}}\n\n{{{A}}}\n");
        assert_eq!(names(lines_of, &lines), ["a@1", "c@3"]);
    }

    fn error(read: fn(&[u8], Visit<'_>) -> Result<(), ReadError>, text: &str) -> String {
        match read(text.as_bytes(), &mut |_, _| Ok(())) {
            Err(ReadError::Invalid(reason)) => reason,
            other => panic!("not an invalid file: {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_app_and_field_never_the_value() {
        let typo = format!("[{{{A}}}, {{{A},\"secert_env\":\"CANARY\"}}]");
        assert_eq!(
            error(json_of, &typo),
            "app #2, line 1: unknown field `secert_env`"
        );
        let wrong_type = format!("[{{{A}}}, {{{A},\"name\":[\"CANARY\"]}}]");
        let reason = error(json_of, &wrong_type);
        assert!(
            reason.starts_with("app #2, line 1: is not an app"),
            "{reason}"
        );
        assert!(!reason.contains("CANARY"), "{reason}");
        let missing = "{\"tenant\":\"t\"}\n";
        assert!(error(lines_of, missing).contains("app #1, line 1: missing field"));
        let toml_typo = "[[apps]]\ntenant = \"t\"\nclient_id = \"c\"\n[[apps]]\ntenant = 5\n";
        let reason = error(toml_of, toml_typo);
        assert!(reason.starts_with("app #2, line 5:"), "{reason}");
        let syntax = "[[apps]]\ntenant = \"t\"\nsecret_env = CANARY-unquoted\n";
        let reason = error(toml_of, syntax);
        assert!(reason.starts_with("app #1, line 3:"), "{reason}");
        assert!(!reason.contains("CANARY"), "{reason}");
        let broken = format!("[{{{A}}},");
        assert!(error(json_of, &broken).contains("is not valid JSON"));
    }

    #[test]
    fn a_stop_from_the_callback_ends_the_walk() {
        let list = format!("[{{{A}}}, {{{A}}}, {{{A}}}]");
        let mut seen = 0;
        let stopped = json(list.as_bytes(), &mut |_, _| {
            seen += 1;
            if seen == 2 {
                Err(ReadError::Stopped)
            } else {
                Ok(())
            }
        });
        assert!(matches!(stopped, Err(ReadError::Stopped)));
        assert_eq!(seen, 2);
    }
}
