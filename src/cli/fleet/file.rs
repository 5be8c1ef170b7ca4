//! The fleet file: a TOML (`[[apps]]`), JSON (an array, or `{"apps": [...]}`) or JSON-lines
//! (`.jsonl`, one app object per line) list of app registrations to check, each with a credential
//! *reference* — the name of an environment variable that holds its secret, or a certificate path
//! — and never the secret itself. It is read one app at a time ([`scan`], see [`read`]): a fleet
//! of 100,000 apps costs the memory of one.
//!
//! Parse errors name the app and the field but never quote the file: a mistyped line could be
//! the one that holds a secret someone pasted in by mistake.

mod read;

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use self::read::ReadError;
use crate::error::{Error, Result};

/// One app of the fleet, as written in the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetApp {
    /// A label for the report; the client id when absent.
    #[serde(default)]
    pub name: Option<String>,
    pub tenant: String,
    pub client_id: String,
    /// Overrides `--authority-host` / `--cloud` for this app.
    #[serde(default)]
    pub authority_host: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// One scope, for files that have a single one.
    #[serde(default)]
    pub scope: Option<String>,
    /// The API URL to probe; without it, the resource's well-known harmless probe.
    #[serde(default)]
    pub probe: Option<String>,
    /// The name of the environment variable holding the client secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// A certificate: PEM with its key, PEM with `private_key`, or PFX. Relative paths are read
    /// from the fleet file's folder.
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    #[serde(default)]
    pub private_key: Option<PathBuf>,
    /// The name of the environment variable holding the PFX password.
    #[serde(default)]
    pub certificate_password_env: Option<String>,
    // Inline secrets are read only to be refused: `IgnoredAny` keeps no trace of the value.
    #[serde(default, alias = "client_secret", alias = "password")]
    secret: Option<IgnoredAny>,
    #[serde(default, alias = "pfx_password")]
    certificate_password: Option<IgnoredAny>,
}

impl FleetApp {
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.client_id)
    }

    /// Every scope the app asks for (`scopes` and `scope` together).
    pub fn all_scopes(&self) -> Vec<String> {
        self.scopes.iter().chain(&self.scope).cloned().collect()
    }

    /// What proves the app's identity, as shown in reports: a reference, never a value.
    pub fn credential_reference(&self) -> String {
        match (&self.secret_env, &self.certificate) {
            (Some(var), _) => format!("env:{var}"),
            (None, Some(path)) => format!("certificate:{}", path.display()),
            (None, None) => "none".into(),
        }
    }
}

/// The shapes a fleet file comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    /// A list of apps, or `{"apps": [...]}`.
    Json,
    /// One app object per line (`.jsonl`, `.ndjson`).
    JsonLines,
}

/// By extension; else by the first character: JSON opens `{` or `[` (TOML's `[[apps]]` opens
/// `[[`).
fn format_of(path: &Path) -> Result<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => return Ok(Format::Json),
        Some(e) if e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson") => {
            return Ok(Format::JsonLines);
        }
        Some(e) if e.eq_ignore_ascii_case("toml") => return Ok(Format::Toml),
        _ => {}
    }
    let mut head = [0_u8; 256];
    let mut file = File::open(path).map_err(|e| Error::file(path, e))?;
    let read = file.read(&mut head).map_err(|e| Error::file(path, e))?;
    let start = String::from_utf8_lossy(head.get(..read).unwrap_or_default());
    let start = start.trim_start();
    Ok(
        if start.starts_with('{') || (start.starts_with('[') && !start.starts_with("[[")) {
            Format::Json
        } else {
            Format::Toml
        },
    )
}

/// Reads a fleet file one app at a time, checks each, resolves its certificate paths against
/// the file's folder and hands it to `visit` with its 1-based position; returns how many apps
/// the file lists. Memory holds one app at a time, whatever the file's size.
///
/// The first error stops the read: an app with an inline secret, or no credential, or a
/// syntax error, is named by its position (and line), never quoted. An `Err` from `visit`
/// stops it too and is returned as is.
pub fn scan(path: &Path, visit: &mut dyn FnMut(usize, FleetApp) -> Result<()>) -> Result<usize> {
    let format = format_of(path)?;
    let file = File::open(path).map_err(|e| Error::file(path, e))?;
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    let mut count = 0;
    let mut failed = None;
    let mut each = |mut app: FleetApp, line: usize| -> std::result::Result<(), ReadError> {
        count += 1;
        let at = if line == 0 {
            String::new()
        } else {
            format!(", line {line}")
        };
        if let Err(reason) = check(&app) {
            failed = Some(invalid(
                path,
                format!("app #{count} ({}){at}: {reason}", app.label()),
            ));
            return Err(ReadError::Stopped);
        }
        for file in [&mut app.certificate, &mut app.private_key]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
        visit(count, app).map_err(|error| {
            failed = Some(error);
            ReadError::Stopped
        })
    };
    let read = match format {
        Format::Toml => read::toml(file, &mut each),
        Format::Json => read::json(file, &mut each),
        Format::JsonLines => read::json_lines(file, &mut each),
    };
    match read {
        Ok(()) if count == 0 => Err(invalid(path, "lists no app".into())),
        Ok(()) => Ok(count),
        Err(ReadError::Stopped) => Err(failed.unwrap_or_else(|| invalid(path, "stopped".into()))),
        Err(ReadError::Io(e)) => Err(Error::file(path, e)),
        Err(ReadError::Invalid(reason)) => Err(invalid(path, reason)),
    }
}

/// Reads and checks a whole fleet file into memory: for tests and small files; a fleet run
/// uses [`scan`].
#[cfg(test)]
pub fn load(path: &Path) -> Result<Vec<FleetApp>> {
    let mut apps = Vec::new();
    scan(path, &mut |_, app| {
        apps.push(app);
        Ok(())
    })?;
    Ok(apps)
}

fn check(app: &FleetApp) -> std::result::Result<(), String> {
    if app.secret.is_some() || app.certificate_password.is_some() {
        return Err(
            "holds a secret inline, which a fleet file never may (it would sit in a \
                    file, in backups and in version control): put the secret in an environment \
                    variable and name it with secret_env = \"VAR\" (or \
                    certificate_password_env for a PFX password)"
                .into(),
        );
    }
    match (&app.secret_env, &app.certificate) {
        (Some(_), Some(_)) => return Err("give secret_env or certificate, not both".into()),
        (None, None) => {
            return Err(
                "has no credential: give secret_env = \"VAR\" (the variable that holds \
                        the secret) or certificate = \"PATH\""
                    .into(),
            );
        }
        _ => {}
    }
    for (field, var) in [
        ("secret_env", &app.secret_env),
        ("certificate_password_env", &app.certificate_password_env),
    ] {
        if let Some(var) = var
            && !is_variable_name(var)
        {
            // Never echo it: the likeliest mistake is the secret itself in this field.
            return Err(format!(
                "{field} must name an environment variable (letters, digits and _, such as \
                     DAEMON_SECRET), not hold its value"
            ));
        }
    }
    if app.all_scopes().is_empty() {
        return Err("has no scope: give scopes = [\"<resource>/.default\"]".into());
    }
    Ok(())
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::InvalidInput {
        what: format!("fleet file {}", path.display()),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str, name: &str) -> Result<Vec<FleetApp>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        load(&path)
    }

    const APP: &str = r#"tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-4333-8444-555555555555"
scopes = ["https://graph.microsoft.com/.default"]"#;

    #[test]
    fn toml_and_json_read_the_same_apps() {
        let toml = parse_str(&format!("[[apps]]\n{APP}\nsecret_env = \"S1\"\n"), "f.toml").unwrap();
        let json = parse_str(
            r#"[{"tenant":"contoso.onmicrosoft.com","client_id":"11111111-2222-4333-8444-555555555555",
                "scope":"https://graph.microsoft.com/.default","certificate":"daemon.pem"}]"#,
            "f.json",
        )
        .unwrap();
        assert_eq!(toml[0].credential_reference(), "env:S1");
        assert_eq!(toml[0].all_scopes(), json[0].all_scopes());
        assert!(json[0].certificate.as_ref().unwrap().is_absolute());
    }

    #[test]
    fn an_inline_secret_is_refused_without_echoing_it() {
        for field in ["secret", "client_secret", "certificate_password"] {
            let text =
                format!("[[apps]]\n{APP}\nsecret_env = \"S\"\n{field} = \"CANARY-inline\"\n");
            let error = parse_str(&text, "f.toml").unwrap_err().to_string();
            assert!(error.contains("inline"), "{error}");
            assert!(!error.contains("CANARY"), "{error}");
        }
        let error = parse_str(
            &format!("[[apps]]\n{APP}\nsecret_env = \"CANARY~value.with.dots\"\n"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("must name an environment variable"),
            "{error}"
        );
        assert!(!error.contains("CANARY"), "{error}");
    }

    #[test]
    fn a_syntax_error_gives_a_line_not_the_text() {
        let text = format!("[[apps]]\n{APP}\nsecret_env = CANARY-unquoted\n");
        let error = parse_str(&text, "f.toml").unwrap_err().to_string();
        assert!(error.contains("line 5"), "{error}");
        assert!(!error.contains("CANARY"), "{error}");
    }

    #[test]
    fn an_app_needs_exactly_one_credential_and_a_scope() {
        let none = parse_str(&format!("[[apps]]\n{APP}\n"), "f.toml").unwrap_err();
        assert!(none.to_string().contains("no credential"));
        let both = format!("[[apps]]\n{APP}\nsecret_env = \"S\"\ncertificate = \"c.pem\"\n");
        assert!(
            parse_str(&both, "f.toml")
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        let empty = parse_str("apps = []\n", "f.toml").unwrap_err();
        assert!(empty.to_string().contains("lists no app"));
    }
}
