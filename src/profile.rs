//! Profiles: what the operator typed into the TUI, saved for next time — never the secret.
//!
//! One TOML file in the user's config directory (`directories`), written atomically with mode
//! 0600 ([`crate::files::write_private`]). A file that cannot be read is set aside with a
//! warning, like the token cache. It has no format version: every field has a default and
//! unknown keys are ignored, so a profile from another version still loads.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub tenant: String,
    pub client_id: String,
    /// An authority host URL, or empty for the public cloud.
    pub authority_host: String,
    /// "secret", "certificate", "assertion" or "managed-identity".
    pub credential_kind: String,
    pub certificate: String,
    /// A federated token file (the assertion credential).
    pub assertion_file: String,
    /// The managed identity, as `--managed-identity` takes it (`system`, `client-id=…`).
    pub managed_identity: String,
    pub scopes: Vec<String>,
    pub probe_url: String,
    /// The client id of an app that may read app registrations (the consent audit's admin).
    pub admin_client_id: String,
}

impl Profile {
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "entra-doctor")
            .map(|d| d.config_dir().join("profile.toml"))
    }

    /// Reads a profile file's text; the error says why it is not one.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        toml::from_str(text).map_err(|e| e.message().to_owned())
    }

    /// Loads the profile; `Ok(None)` when there is none, and a warning when one was set aside.
    pub fn load(path: &Path) -> Result<(Option<Self>, Option<String>)> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, None)),
            Err(e) => return Err(Error::file(path, e)),
        };
        match Self::parse(&text) {
            Ok(profile) => Ok((Some(profile), None)),
            Err(reason) => {
                let backup = crate::files::set_aside(path).map_err(|io| Error::file(path, io))?;
                Ok((
                    None,
                    Some(format!(
                        "the profile {} could not be read ({}); it was moved to {}",
                        path.display(),
                        reason,
                        backup.display()
                    )),
                ))
            }
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string(self).map_err(|e| Error::InvalidInput {
            what: "the profile".into(),
            reason: e.to_string(),
        })?;
        crate::files::write_private(path, text.as_bytes()).map_err(|e| Error::file(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_sets_aside_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/profile.toml");
        let profile = Profile {
            tenant: "contoso.com".into(),
            scopes: vec!["api://x/.default".into()],
            ..Profile::default()
        };
        profile.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path().join("cfg")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
        assert_eq!(Profile::load(&path).unwrap(), (Some(profile), None));
        std::fs::write(&path, "tenant = [").unwrap();
        let (loaded, warning) = Profile::load(&path).unwrap();
        assert!(loaded.is_none());
        assert!(warning.unwrap().contains("moved to"));
    }
}
