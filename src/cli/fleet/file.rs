//! The fleet file: a TOML (`[[apps]]`) or JSON (an array, or `{"apps": [...]}`) list of app
//! registrations to check, each with a credential *reference* — the name of an environment
//! variable that holds its secret, or a certificate path — and never the secret itself.
//!
//! Parse errors name the app and the field but never quote the file: a mistyped line could be
//! the one that holds a secret someone pasted in by mistake.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    apps: Vec<FleetApp>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonDocument {
    List(Vec<FleetApp>),
    Object(Document),
}

/// Reads and checks a fleet file; certificate paths come back resolved against its folder.
pub fn load(path: &Path) -> Result<Vec<FleetApp>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    let mut apps = parse(&text, path)?;
    if apps.is_empty() {
        return Err(invalid(path, "lists no app".into()));
    }
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    for (index, app) in apps.iter_mut().enumerate() {
        check(app).map_err(|reason| {
            invalid(
                path,
                format!("app #{} ({}): {reason}", index + 1, app.label()),
            )
        })?;
        for file in [&mut app.certificate, &mut app.private_key]
            .into_iter()
            .flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
    }
    Ok(apps)
}

fn parse(text: &str, path: &Path) -> Result<Vec<FleetApp>> {
    // By extension; else by content: JSON opens `{` or `[` (TOML's `[[apps]]` opens `[[`).
    let start = text.trim_start();
    let is_json = match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("json") => true,
        Some(e) if e.eq_ignore_ascii_case("toml") => false,
        _ => start.starts_with('{') || (start.starts_with('[') && !start.starts_with("[[")),
    };
    if is_json {
        // serde_json's messages give a line and column, never the text around them.
        return match serde_json::from_str::<JsonDocument>(text) {
            Ok(JsonDocument::List(apps) | JsonDocument::Object(Document { apps })) => Ok(apps),
            Err(e) if e.is_data() => Err(invalid(
                path,
                "is JSON but not a list of apps (or {\"apps\": [...]}) with the fields tenant, \
                 client_id, secret_env or certificate, scopes, probe"
                    .into(),
            )),
            Err(e) => Err(invalid(path, format!("is not valid JSON ({e})"))),
        };
    }
    toml::from_str::<Document>(text)
        .map(|d| d.apps)
        .map_err(|e| {
            // toml's Display quotes the offending line; give the message and the line number only.
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map_or(0, |before| before.matches('\n').count() + 1);
            invalid(path, format!("line {line}: {}", e.message().trim()))
        })
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
