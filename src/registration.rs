//! An app registration's credentials as Microsoft Graph lists them — client secrets
//! (`passwordCredentials`) and certificates (`keyCredentials`) — and how near each is to its end
//! date. The tenant audit reads them for every app; `doctor`, the TUI and the walkthrough read
//! them for the app in use, and an AADSTS7000222 is told which secret expired.
//!
//! Graph never returns a secret's value, only its `hint`: its first three characters
//! (<https://learn.microsoft.com/graph/api/resources/passwordcredential>). That is how the secret
//! the operator holds is matched to its registration. A certificate's `customKeyIdentifier`
//! defaults to its SHA-1 thumbprint, Base64-encoded as Graph's Binary type
//! (<https://learn.microsoft.com/graph/api/resources/keycredential>).
//!
//! [`in_use`] matches the credential a request uses to this list; [`lookup`] reads it for that
//! request (as an admin app, or the daemon itself).

pub mod in_use;
pub mod lookup;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::auth::TokenClient;
use crate::graph::{self, ReadFailure};
use crate::secret::Secret;

/// The `$select` that reads an application's ids and credentials.
pub const CREDENTIALS_SELECT: &str = "id,appId,displayName,passwordCredentials,keyCredentials";

/// Days before its end date from which a credential is reported as expiring (`--warn-days`).
pub const DEFAULT_WARN_DAYS: u32 = 30;

/// An app registration's ids and credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppCredentials {
    /// The application object's id (what `az ad app` also accepts).
    pub object_id: String,
    /// The client id.
    pub app_id: String,
    pub display_name: String,
    pub secrets: Vec<CredentialEntry>,
    pub certificates: Vec<CredentialEntry>,
}

/// One secret or certificate of an app registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialEntry {
    pub key_id: String,
    pub display_name: Option<String>,
    /// A secret's first three characters (secrets only).
    pub hint: Option<String>,
    /// A certificate's SHA-1 thumbprint in upper-case hex, as the portal shows it.
    pub thumbprint: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl CredentialEntry {
    /// A secret with this hint (its first three characters; two secrets may share them).
    pub fn has_hint(&self, hint: &str) -> bool {
        self.hint.as_deref() == Some(hint)
    }

    /// A certificate with this SHA-1 thumbprint (hex, any case).
    pub fn has_thumbprint(&self, thumbprint: &str) -> bool {
        self.thumbprint
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(thumbprint))
    }
}

/// Where a credential stands against its end date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Expiry {
    /// Past its end date: Entra ID refuses it (a secret: AADSTS7000222).
    Expired {
        days_ago: i64,
    },
    /// Within the warning window.
    ExpiresSoon {
        days_left: i64,
    },
    Valid {
        days_left: i64,
    },
    /// Graph gave no end date.
    Unknown,
}

impl Expiry {
    /// Where a credential ending at `end` stands at `now`, warning `warn_days` ahead.
    pub fn of(end: Option<DateTime<Utc>>, now: DateTime<Utc>, warn_days: u32) -> Self {
        let Some(end) = end else {
            return Self::Unknown;
        };
        if end <= now {
            return Self::Expired {
                days_ago: (now - end).num_days(),
            };
        }
        let days_left = (end - now).num_days();
        if days_left < i64::from(warn_days) {
            Self::ExpiresSoon { days_left }
        } else {
            Self::Valid { days_left }
        }
    }

    /// Expired or about to: what makes the audit exit 1.
    pub fn needs_action(self) -> bool {
        matches!(self, Self::Expired { .. } | Self::ExpiresSoon { .. })
    }
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Expired { days_ago: 0 } => f.write_str("expired today"),
            Self::Expired { days_ago: 1 } => f.write_str("expired 1 day ago"),
            Self::Expired { days_ago } => write!(f, "expired {days_ago} days ago"),
            Self::ExpiresSoon { days_left: 0 } => f.write_str("expires within a day"),
            Self::ExpiresSoon { days_left: 1 } | Self::Valid { days_left: 1 } => {
                f.write_str("expires in 1 day")
            }
            Self::ExpiresSoon { days_left } | Self::Valid { days_left } => {
                write!(f, "expires in {days_left} days")
            }
            Self::Unknown => f.write_str("no end date"),
        }
    }
}

impl AppCredentials {
    /// An application object from Graph (`$select`ed with [`CREDENTIALS_SELECT`] or more).
    /// Entries Graph sends without a key id are skipped; a missing list is an empty one.
    pub fn from_graph(app: &Value) -> Option<Self> {
        Some(Self {
            object_id: text(app, "id")?,
            app_id: text(app, "appId")?,
            display_name: text(app, "displayName").unwrap_or_default(),
            secrets: entries(app, "passwordCredentials", false),
            certificates: entries(app, "keyCredentials", true),
        })
    }
}

/// Reads one app registration's credentials by client id.
pub async fn read(
    client: &TokenClient,
    graph_url: &str,
    token: &Secret,
    client_id: &str,
) -> Result<AppCredentials, ReadFailure> {
    let url = format!(
        "{}?$select={CREDENTIALS_SELECT}",
        graph::application_url(graph_url, "v1.0", client_id)?
    );
    let app = graph::get_application(client, &url, token, client_id).await?;
    AppCredentials::from_graph(&app).ok_or_else(|| graph::application_not_found(client_id))
}

fn entries(app: &Value, list: &str, certificates: bool) -> Vec<CredentialEntry> {
    let Some(items) = app.get(list).and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            Some(CredentialEntry {
                key_id: text(item, "keyId")?,
                display_name: text(item, "displayName").filter(|n| !n.is_empty()),
                hint: if certificates {
                    None
                } else {
                    text(item, "hint")
                },
                thumbprint: if certificates {
                    text(item, "customKeyIdentifier").and_then(|k| thumbprint(&k))
                } else {
                    None
                },
                start: date(item, "startDateTime"),
                end: date(item, "endDateTime"),
            })
        })
        .collect()
}

/// A `customKeyIdentifier` as a thumbprint: Base64 of 20 bytes, or (as some tools write it)
/// the 40 hex characters themselves.
fn thumbprint(key: &str) -> Option<String> {
    if key.len() == 40 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(key.to_ascii_uppercase());
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(key).ok()?;
    (bytes.len() == 20).then(|| crate::auth::certificate::upper_hex(&bytes))
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn date(value: &Value, name: &str) -> Option<DateTime<Utc>> {
    let text = value.get(name)?.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn expiry_states_and_words() {
        let now = at("2026-12-01T00:00:00Z");
        let cases = [
            ("2026-11-01T00:00:00Z", "expired 30 days ago", true),
            ("2026-11-30T12:00:00Z", "expired today", true),
            ("2026-12-01T12:00:00Z", "expires within a day", true),
            ("2026-12-20T00:00:00Z", "expires in 19 days", true),
            ("2026-12-31T00:00:00Z", "expires in 30 days", false),
            ("2099-12-31T00:00:00Z", "expires in 26693 days", false),
        ];
        for (end, words, action) in cases {
            let expiry = Expiry::of(Some(at(end)), now, DEFAULT_WARN_DAYS);
            assert_eq!(expiry.to_string(), words, "{end}");
            assert_eq!(expiry.needs_action(), action, "{end}");
        }
        assert_eq!(Expiry::of(None, now, 30), Expiry::Unknown);
    }

    #[test]
    fn graph_application_with_both_kinds() {
        // The shape of learn.microsoft.com/graph/api/resources/passwordcredential and
        // keycredential; values made up for the test.
        let app = json!({
            "id": "obj", "appId": "app", "displayName": "daemon",
            "passwordCredentials": [
                {"keyId": "k1", "hint": "AU7", "displayName": "old", "endDateTime": "2025-06-30T00:00:00Z",
                 "startDateTime": "2024-06-30T00:00:00Z", "secretText": null, "customKeyIdentifier": null},
                {"hint": "no key id: skipped"}
            ],
            "keyCredentials": [
                {"keyId": "k2", "customKeyIdentifier": "Uu2bUDikee4uIZBxXMI4NZ1Pj3M=", "type": "AsymmetricX509Cert",
                 "usage": "Verify", "endDateTime": "2027-01-01T00:00:00Z"}
            ]
        });
        let creds = AppCredentials::from_graph(&app).unwrap();
        assert_eq!(creds.secrets.len(), 1);
        assert!(creds.secrets[0].has_hint("AU7"));
        assert!(!creds.secrets[0].has_hint("XYZ"));
        assert_eq!(
            creds.certificates[0].thumbprint.as_deref(),
            Some("52ED9B5038A479EE2E2190715CC238359D4F8F73")
        );
        assert!(creds.certificates[0].has_thumbprint("52ed9b5038a479ee2e2190715cc238359d4f8f73"));
    }
}
