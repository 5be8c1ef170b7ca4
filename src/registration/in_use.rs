//! The credential a token request uses, matched to its app registration: which registered
//! secret or certificate it is, where it stands against its end date, and the app's others.
//!
//! Only what Graph itself shows ever leaves here: a secret is known by its `hint` (its first
//! three characters), its key id and display name, never by more of its value. A certificate's
//! own `notAfter` is known from the file without Graph; Graph adds whether it is registered at
//! all (a certificate valid locally but not registered is AADSTS700027's case).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AppCredentials, CredentialEntry, Expiry};
use crate::auth::Credential;

/// What the request presents, reduced to what may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// A client secret, by its first three characters (all Graph shows of it).
    Secret { hint: String },
    /// A certificate, by its SHA-1 thumbprint and its own end date.
    Certificate {
        thumbprint: String,
        not_after: DateTime<Utc>,
    },
    /// A federated credential: it has no end date; the external token is short-lived.
    Federated,
    /// A managed identity: Azure rotates its credential, there is nothing to renew.
    ManagedIdentity,
}

impl Presented {
    pub fn of(credential: &Credential) -> Self {
        match credential {
            Credential::Secret(secret) => Self::Secret {
                hint: secret.expose().chars().take(3).collect(),
            },
            Credential::Certificate { certificate, .. } => Self::Certificate {
                thumbprint: certificate.info.thumbprint_sha1.clone(),
                not_after: certificate.info.not_after,
            },
            Credential::Assertion { .. } => Self::Federated,
            Credential::ManagedIdentity { .. } => Self::ManagedIdentity,
        }
    }

    /// "secret", "certificate", "federated credential" or "managed identity".
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Secret { .. } => "secret",
            Self::Certificate { .. } => "certificate",
            Self::Federated => "federated credential",
            Self::ManagedIdentity => "managed identity",
        }
    }

    /// Whether an app registration lists this kind of credential with an end date.
    pub fn is_registered_kind(&self) -> bool {
        matches!(self, Self::Secret { .. } | Self::Certificate { .. })
    }
}

/// One registered credential and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    /// "secret" or "certificate".
    pub kind: &'static str,
    #[serde(flatten)]
    pub credential: CredentialEntry,
    pub expiry: Expiry,
}

/// The app registration as read for the credential in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub app_id: String,
    pub object_id: String,
    pub display_name: String,
    /// The registered credentials that match the one in use: normally one; two secrets may
    /// share their first three characters; none when it is not registered.
    pub matched: Vec<Standing>,
    /// The app's other secrets and certificates.
    pub others: Vec<Standing>,
}

/// The credential in use and, when Graph was read, its registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InUse {
    /// "secret", "certificate", "federated credential" or "managed identity".
    pub kind: &'static str,
    /// A secret's first three characters.
    pub hint: Option<String>,
    /// A certificate's SHA-1 thumbprint.
    pub thumbprint: Option<String>,
    /// A certificate's own end date (`notAfter`), read from the file.
    pub local_end: Option<DateTime<Utc>>,
    pub local_expiry: Option<Expiry>,
    /// The registration, when Graph could be read.
    pub registration: Option<Registered>,
    /// Why Graph was not read (or could not be), when it was not.
    pub unread: Option<String>,
    /// The warning window the states were judged with.
    pub warn_days: u32,
}

impl InUse {
    /// The credential in use, matched to `credentials` when Graph was read (`Ok`), or with the
    /// reason it was not (`Err`).
    pub fn matched(
        presented: &Presented,
        credentials: Result<&AppCredentials, String>,
        now: DateTime<Utc>,
        warn_days: u32,
    ) -> Self {
        let (hint, thumbprint, local_end) = match presented {
            Presented::Secret { hint } => (Some(hint.clone()), None, None),
            Presented::Certificate {
                thumbprint,
                not_after,
            } => (None, Some(thumbprint.clone()), Some(*not_after)),
            Presented::Federated | Presented::ManagedIdentity => (None, None, None),
        };
        let (registration, unread) = match credentials {
            Ok(creds) => (Some(registered(presented, creds, now, warn_days)), None),
            Err(why) => (None, Some(why)),
        };
        Self {
            kind: presented.kind(),
            hint,
            thumbprint,
            local_end,
            local_expiry: local_end.map(|end| Expiry::of(Some(end), now, warn_days)),
            registration,
            unread,
            warn_days,
        }
    }

    /// The state that counts: the registered credential's (the earliest end when a hint
    /// matches several), else the certificate's own.
    pub fn expiry(&self) -> Option<Expiry> {
        let registered = self
            .registration
            .as_ref()
            .and_then(|r| r.matched.iter().min_by_key(|s| s.credential.end))
            .map(|s| s.expiry);
        registered.or(self.local_expiry)
    }

    /// The registered credential in use, when exactly one matches.
    pub fn entry(&self) -> Option<&Standing> {
        match self.registration.as_ref()?.matched.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The app's other credentials that still work (not expired), of any kind.
    pub fn valid_others(&self) -> Vec<&Standing> {
        self.registration
            .as_ref()
            .map(|r| {
                r.others
                    .iter()
                    .filter(|s| !matches!(s.expiry, Expiry::Expired { .. }))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn registered(
    presented: &Presented,
    creds: &AppCredentials,
    now: DateTime<Utc>,
    warn_days: u32,
) -> Registered {
    let standing = |kind: &'static str, entry: &CredentialEntry| Standing {
        kind,
        credential: entry.clone(),
        expiry: Expiry::of(entry.end, now, warn_days),
    };
    let is_match = |kind: &str, entry: &CredentialEntry| match presented {
        Presented::Secret { hint } => kind == "secret" && entry.has_hint(hint),
        Presented::Certificate { thumbprint, .. } => {
            kind == "certificate" && entry.has_thumbprint(thumbprint)
        }
        Presented::Federated | Presented::ManagedIdentity => false,
    };
    let mut matched = Vec::new();
    let mut others = Vec::new();
    let all = creds
        .secrets
        .iter()
        .map(|e| ("secret", e))
        .chain(creds.certificates.iter().map(|e| ("certificate", e)));
    for (kind, entry) in all {
        if is_match(kind, entry) {
            matched.push(standing(kind, entry));
        } else {
            others.push(standing(kind, entry));
        }
    }
    Registered {
        app_id: creds.app_id.clone(),
        object_id: creds.object_id.clone(),
        display_name: creds.display_name.clone(),
        matched,
        others,
    }
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

    /// The demo's expired-secret app, as its Graph route lists it.
    fn expired_secret_app() -> AppCredentials {
        AppCredentials::from_graph(&json!({
            "id": "obj", "appId": "89651b37-2886-47fc-946d-d19aaf0db309", "displayName": "daemon",
            "passwordCredentials": [
                {"keyId": "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07", "hint": "AU7", "displayName": "orders-sync 2024",
                 "endDateTime": "2025-06-30T00:00:00Z"},
                {"keyId": "c4e8a2f6-1b3d-4a5c-8e7f-9d0b2c4e6a81", "hint": "Rt2", "displayName": "orders-sync 2025",
                 "endDateTime": "2027-09-30T00:00:00Z"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_secret_is_matched_by_its_hint_and_the_others_listed() {
        let now = at("2026-01-05T00:00:00Z");
        let presented = Presented::Secret { hint: "AU7".into() };
        let app = expired_secret_app();
        let in_use = InUse::matched(&presented, Ok(&app), now, 30);
        let entry = in_use.entry().unwrap();
        assert_eq!(
            entry.credential.display_name.as_deref(),
            Some("orders-sync 2024")
        );
        assert_eq!(entry.expiry, Expiry::Expired { days_ago: 189 });
        assert_eq!(in_use.expiry(), Some(Expiry::Expired { days_ago: 189 }));
        let valid = in_use.valid_others();
        assert_eq!(valid.len(), 1);
        assert_eq!(valid[0].credential.hint.as_deref(), Some("Rt2"));
    }

    #[test]
    fn without_graph_a_secret_has_no_expiry_and_a_certificate_its_own() {
        let now = at("2026-01-05T00:00:00Z");
        let secret = InUse::matched(
            &Presented::Secret { hint: "AU7".into() },
            Err("no admin app".into()),
            now,
            30,
        );
        assert_eq!(secret.expiry(), None);
        assert_eq!(secret.unread.as_deref(), Some("no admin app"));
        let cert = InUse::matched(
            &Presented::Certificate {
                thumbprint: "AB".into(),
                not_after: at("2026-01-20T00:00:00Z"),
            },
            Err("no admin app".into()),
            now,
            30,
        );
        assert_eq!(cert.expiry(), Some(Expiry::ExpiresSoon { days_left: 15 }));
    }

    #[test]
    fn a_certificate_not_registered_matches_nothing() {
        let now = at("2026-01-05T00:00:00Z");
        let in_use = InUse::matched(
            &Presented::Certificate {
                thumbprint: "AB".into(),
                not_after: at("2027-01-20T00:00:00Z"),
            },
            Ok(&expired_secret_app()),
            now,
            30,
        );
        let registration = in_use.registration.as_ref().unwrap();
        assert!(registration.matched.is_empty());
        assert_eq!(registration.others.len(), 2);
        // Its own date still counts.
        assert!(matches!(in_use.expiry(), Some(Expiry::Valid { .. })));
    }
}
