//! Azure Arc-enabled servers: the local agent (himds) at `IDENTITY_ENDPOINT` answers the first
//! `GET …?api-version=2020-06-01&resource=…` (with `Metadata: true`) with 401 and
//! `WWW-Authenticate: Basic realm=<path of a .key file>`; whoever can read that file proves
//! they are on the machine with the rights to ask, by sending `Authorization: Basic <contents>`
//! on a second request. Arc serves the machine's system-assigned identity only.
//!
//! The realm is a path chosen by whatever answered on that port, so it is an attack surface:
//! it is read only when it is a regular file (not a link) named `*.key`, directly inside the
//! agent's token directory (`/var/opt/azcmagent/tokens/` on Linux,
//! `%ProgramData%\AzureConnectedMachineAgent\Tokens\` on Windows), of at most 4096 bytes, as
//! azure-identity and MSAL check it — otherwise any file the operator can read could be sent.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use super::http::Client;
use super::{ManagedIdentityError, ManagedIdentityRequest, ManagedToken, Variables, with_query};
use crate::auth::retry;
use crate::error::Result;
use crate::secret::Secret;

pub const API_VERSION: &str = "2020-06-01";
/// The largest key file read.
pub const MAX_KEY_BYTES: u64 = 4096;
const LINUX_DIR: &str = "/var/opt/azcmagent/tokens";

/// The only directory an Arc key file may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArcKeys {
    dir: Option<PathBuf>,
}

impl ArcKeys {
    /// The agent's token directory on this platform; none where Arc does not run.
    pub fn platform(vars: &dyn Variables) -> Self {
        let dir = if cfg!(target_os = "linux") {
            Some(PathBuf::from(LINUX_DIR))
        } else if cfg!(windows) {
            vars.var("ProgramData")
                .or_else(|| vars.var("PROGRAMDATA"))
                .map(|data| {
                    Path::new(data)
                        .join("AzureConnectedMachineAgent")
                        .join("Tokens")
                })
        } else {
            None
        };
        Self { dir }
    }

    /// Another directory (tests, the demo).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    /// The key file a `WWW-Authenticate` challenge names, once it passed every check.
    pub fn key_file(&self, challenge: Option<&str>) -> Result<PathBuf, String> {
        let challenge = challenge
            .map(str::trim)
            .ok_or("the 401 carries no WWW-Authenticate header")?;
        let shown = crate::scrub::printable_line(challenge);
        let (scheme, realm) = challenge
            .split_once('=')
            .ok_or_else(|| format!("WWW-Authenticate {shown:?} is not `Basic realm=<path>`"))?;
        if !scheme.trim().eq_ignore_ascii_case("basic realm") {
            return Err(format!(
                "WWW-Authenticate {shown:?} is not `Basic realm=<path>`"
            ));
        }
        let realm = realm.trim().trim_matches('"');
        let path = Path::new(realm);
        let shown = crate::scrub::printable_line(realm);
        let Some(dir) = &self.dir else {
            return Err("Azure Arc runs on Linux and Windows only; this platform has no agent token directory".into());
        };
        let plain = path.components().all(|c| {
            matches!(
                c,
                Component::Normal(_) | Component::RootDir | Component::Prefix(_)
            )
        });
        if !path.is_absolute() || !plain || path.parent() != Some(dir.as_path()) {
            return Err(format!(
                "the challenge names {shown:?}, which is not a file directly inside {}; \
                 only the Arc agent's own token directory is trusted",
                dir.display()
            ));
        }
        if path.extension().and_then(|e| e.to_str()) != Some("key") {
            return Err(format!(
                "the challenge names {shown:?}, which does not end in .key"
            ));
        }
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| format!("cannot read {shown}: {}", access_hint(&e)))?;
        if !meta.file_type().is_file() {
            return Err(format!(
                "{shown} is not a regular file (a link or a directory)"
            ));
        }
        if meta.len() > MAX_KEY_BYTES {
            return Err(format!(
                "{shown} holds {} bytes, more than the {MAX_KEY_BYTES} a key file has",
                meta.len()
            ));
        }
        Ok(path.to_path_buf())
    }
}

/// The key's contents, read up to the limit (the file may grow after it was checked).
fn read_key(path: &Path) -> Result<Secret, String> {
    let shown = crate::scrub::printable_line(&path.display().to_string());
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read {shown}: {}", access_hint(&e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_KEY_BYTES {
        return Err(format!(
            "{shown} grew past {MAX_KEY_BYTES} bytes while it was read"
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| format!("{shown} is not text"))?;
    let key = text.trim_end_matches(['\r', '\n']);
    if key.is_empty() || key.chars().any(char::is_control) {
        return Err(format!("{shown} is empty or holds control characters"));
    }
    Ok(Secret::new(key))
}

fn access_hint(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::PermissionDenied {
        "permission denied: run as root (Administrator on Windows) or as a member of the \
         himds group (Hybrid agent extension applications on Windows)"
            .into()
    } else {
        error.to_string()
    }
}

pub(super) async fn acquire(
    client: &Client,
    endpoint: &Url,
    keys: &ArcKeys,
    request: &ManagedIdentityRequest,
    now: DateTime<Utc>,
) -> Result<ManagedToken> {
    if request.identity.is_user_assigned() {
        return Err(ManagedIdentityError::ArcSystemOnly {
            identity: request.identity.clone(),
        }
        .into());
    }
    let url = with_query(
        endpoint,
        &[
            ("api-version", API_VERSION),
            ("resource", request.resource.as_str()),
        ],
    );
    let shown = super::http::endpoint_of(&url);
    let challenge_error = |reason: String| ManagedIdentityError::ArcChallenge {
        url: shown.clone(),
        reason,
    };
    let (first, attempts) = client.get(&url, &[("Metadata", "true")], |_| false).await?;
    match first.status {
        200 => return client.token(&url, &first, now),
        401 => {}
        _ => return Err(client.other(&url, &first, attempts)),
    }
    let path = keys
        .key_file(first.www_authenticate.as_deref())
        .map_err(challenge_error)?;
    let key = read_key(&path).map_err(challenge_error)?;
    crate::scrub::remember(&key);
    let authorization = Secret::new(format!("Basic {}", key.expose()));
    crate::scrub::remember(&authorization);
    let (second, attempts) = client
        .get(
            &url,
            &[
                ("Metadata", "true"),
                ("Authorization", authorization.expose()),
            ],
            retry::is_retryable_status,
        )
        .await?;
    match second.status {
        200 => client.token(&url, &second, now),
        401 => Err(challenge_error(format!(
            "the agent refused the key from {} (keys are single-use and short-lived: run again)",
            crate::scrub::printable_line(&path.display().to_string())
        ))
        .into()),
        _ => Err(client.other(&url, &second, attempts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_small_key_file_in_the_agent_directory_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ArcKeys::in_dir(dir.path());
        let good = dir.path().join("a1b2.key");
        std::fs::write(&good, "k3y\n").unwrap();
        let challenge = format!("Basic realm={}", good.display());
        assert_eq!(keys.key_file(Some(&challenge)), Ok(good.clone()));
        assert_eq!(read_key(&good).unwrap().expose(), "k3y");

        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'a'; 4097]).unwrap();
        let txt = dir.path().join("a.txt");
        std::fs::write(&txt, "x").unwrap();
        let outside = tempfile::tempdir().unwrap();
        let elsewhere = outside.path().join("x.key");
        std::fs::write(&elsewhere, "x").unwrap();
        let nested = dir.path().join("sub");
        std::fs::create_dir(&nested).unwrap();
        let traversal = format!("{}/sub/../a1b2.key", dir.path().display());
        let cases = [
            None,
            Some("Bearer realm=x".to_owned()),
            Some(format!("Basic realm={}", big.display())),
            Some(format!("Basic realm={}", txt.display())),
            Some(format!("Basic realm={}", elsewhere.display())),
            Some(format!("Basic realm={traversal}")),
            Some("Basic realm=a1b2.key".to_owned()),
            Some("Basic realm=/etc/shadow".to_owned()),
            Some(format!(
                "Basic realm={}",
                dir.path().join("missing.key").display()
            )),
        ];
        for case in cases {
            assert!(keys.key_file(case.as_deref()).is_err(), "{case:?}");
        }
        #[cfg(unix)]
        {
            let link = dir.path().join("link.key");
            std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
            let error = keys
                .key_file(Some(&format!("Basic realm={}", link.display())))
                .unwrap_err();
            assert!(error.contains("not a regular file"), "{error}");
        }
    }
}
