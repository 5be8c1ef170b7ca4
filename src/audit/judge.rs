//! One app registration judged against the indexes: its credentials' expiry and use, owners,
//! privileged grants, delegated permissions it cannot use, and a missing service principal.
//! Pure: the JSON of one app and the indexes in, an [`AppAudit`] out.

use chrono::DateTime;
use serde_json::Value;

use super::catalog::PRIVILEGED;
use super::fix;
use super::index::guid;
use super::{
    AppAudit, CredentialAudit, CredentialKind, DelegatedPermission, Indexes, Issue,
    PrivilegedGrant, Settings, Usage,
};
use crate::diagnose::Severity;
use crate::registration::{AppCredentials, CredentialEntry, Expiry};

/// Sign-in audiences of apps other tenants can sign in to
/// (<https://learn.microsoft.com/graph/api/resources/application>, `signInAudience`).
const MULTI_TENANT: &[&str] = &["AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"];

/// The app judged; `None` for an entry without an object id or client id (counted, skipped).
/// `scope_name` names a delegated permission by resource app id and scope id.
pub fn app(
    value: &Value,
    settings: &Settings,
    indexes: &Indexes,
    scope_name: &mut dyn FnMut(&str, &str) -> Option<String>,
) -> Option<AppAudit> {
    let creds = AppCredentials::from_graph(value)?;
    let app_id = creds.app_id.clone();
    let key = guid(&app_id);
    let sp = key.and_then(|k| indexes.service_principals.get(k));
    let mut audit = AppAudit {
        object_id: creds.object_id.clone(),
        app_id: app_id.clone(),
        display_name: creds.display_name.clone(),
        sign_in_audience: text(value, "signInAudience"),
        owners: value
            .get("owners")
            .and_then(Value::as_array)
            .map(|o| u32::try_from(o.len()).unwrap_or(u32::MAX)),
        service_principal_id: sp.map(|id| uuid::Uuid::from_u128(id).to_string()),
        credentials: Vec::new(),
        privileged_roles: Vec::new(),
        delegated_on_app_only: Vec::new(),
        issues: Vec::new(),
    };
    for (entry, kind) in creds
        .secrets
        .iter()
        .map(|e| (e, CredentialKind::Secret))
        .chain(
            creds
                .certificates
                .iter()
                .map(|e| (e, CredentialKind::Certificate)),
        )
    {
        let credential = credential(entry, kind, settings, indexes);
        judge_credential(&mut audit, &credential, settings);
        audit.credentials.push(credential);
    }
    if audit.owners == Some(0) {
        audit.issues.push(Issue::new(
            "audit.no-owner",
            Severity::Warning,
            "no owner: nobody is responsible for renewing its credentials".into(),
            fix::add_owner(&app_id),
        ));
    }
    if let Some(sp) = sp {
        for grant in indexes.grants.iter().filter(|g| g.principal == sp) {
            let Some(role) = PRIVILEGED.get(usize::from(grant.role)) else {
                continue;
            };
            audit.privileged_roles.push(PrivilegedGrant {
                permission: role.value.to_owned(),
                assignment_id: grant.assignment_id.clone(),
            });
            audit.issues.push(Issue::new(
                "audit.privileged-role",
                Severity::Warning,
                format!(
                    "holds {} on Microsoft Graph (application permission): it {}",
                    role.value, role.why
                ),
                fix::remove_grant(
                    &settings.graph_url,
                    &indexes.graph_sp_id,
                    &grant.assignment_id,
                ),
            ));
        }
    }
    delegated(&mut audit, value, scope_name);
    let multi_tenant = audit
        .sign_in_audience
        .as_deref()
        .is_some_and(|a| MULTI_TENANT.contains(&a));
    if multi_tenant && sp.is_none() && indexes.service_principals_read {
        audit.issues.push(Issue::new(
            "audit.multi-tenant-no-service-principal",
            Severity::Warning,
            format!(
                "multi-tenant ({}) with no service principal in this tenant: its own tenant \
                 cannot grant it permissions or see its sign-ins",
                audit.sign_in_audience.as_deref().unwrap_or_default()
            ),
            fix::service_principal(&app_id),
        ));
    }
    audit.issues.sort_by_key(|i| i.severity);
    Some(audit)
}

fn credential(
    entry: &CredentialEntry,
    kind: CredentialKind,
    settings: &Settings,
    indexes: &Indexes,
) -> CredentialAudit {
    let expiry = Expiry::of(entry.end, settings.now, settings.warn_days);
    let last_used = if indexes.sign_ins_read {
        match guid(&entry.key_id).and_then(|k| indexes.sign_ins.get(k)) {
            Some(seconds) => match DateTime::from_timestamp(seconds, 0) {
                Some(at) => Usage::Used {
                    at,
                    days_ago: (settings.now - at).num_days().max(0),
                },
                None => Usage::NoSignIn,
            },
            None => Usage::NoSignIn,
        }
    } else {
        Usage::NotReadable
    };
    CredentialAudit {
        kind,
        key_id: entry.key_id.clone(),
        display_name: entry.display_name.clone(),
        hint: entry.hint.clone(),
        thumbprint: entry.thumbprint.clone(),
        start: entry.start,
        end: entry.end,
        expiry,
        last_used,
    }
}

fn judge_credential(audit: &mut AppAudit, credential: &CredentialAudit, settings: &Settings) {
    let app_id = audit.app_id.clone();
    let name = credential.describe();
    let certificate = credential.kind == CredentialKind::Certificate;
    let renew = || {
        if certificate {
            fix::renew_certificate(&app_id, &credential.key_id)
        } else {
            let label = credential
                .display_name
                .clone()
                .unwrap_or_else(|| "renewed".to_owned());
            fix::renew_secret(&app_id, &credential.key_id, &format!("{label} (renewed)"))
        }
    };
    match credential.expiry {
        Expiry::Expired { .. } => {
            audit.issues.push(Issue::new(
                if certificate {
                    "audit.certificate-expired"
                } else {
                    "audit.secret-expired"
                },
                Severity::Error,
                format!("{name} {}", credential.expiry),
                renew(),
            ));
            // An expired credential is reported as expired, not as unused too.
            return;
        }
        Expiry::ExpiresSoon { .. } => audit.issues.push(Issue::new(
            if certificate {
                "audit.certificate-expiring"
            } else {
                "audit.secret-expiring"
            },
            Severity::Warning,
            format!("{name} {}", credential.expiry),
            renew(),
        )),
        Expiry::Valid { .. } | Expiry::Unknown => {}
    }
    let unused = i64::from(settings.unused_days);
    match credential.last_used {
        Usage::NoSignIn => {
            // A credential added last week may simply not be deployed yet.
            let old = credential
                .start
                .is_none_or(|start| (settings.now - start).num_days() >= unused);
            if old {
                audit.issues.push(Issue::new(
                    "audit.credential-never-used",
                    Severity::Warning,
                    format!(
                        "{name}: no sign-in recorded with it (added more than {unused} days ago)"
                    ),
                    fix::delete_credential(&app_id, &credential.key_id, certificate),
                ));
            }
        }
        Usage::Used { days_ago, .. } if days_ago >= unused => {
            audit.issues.push(Issue::new(
                "audit.credential-unused",
                Severity::Warning,
                format!("{name}: last sign-in {days_ago} days ago"),
                fix::delete_credential(&app_id, &credential.key_id, certificate),
            ));
        }
        Usage::Used { .. } | Usage::NotReadable => {}
    }
}

/// Delegated permissions on an app that cannot sign a user in: no redirect URI on web, spa or
/// publicClient, and not a fallback public client (device code / ROPC). Nothing can ever use
/// them; an admin consent to them only widens what a stolen credential could try.
fn delegated(
    audit: &mut AppAudit,
    value: &Value,
    scope_name: &mut dyn FnMut(&str, &str) -> Option<String>,
) {
    let has_redirect = ["web", "spa", "publicClient"].iter().any(|platform| {
        value
            .get(platform)
            .and_then(|p| p.get("redirectUris"))
            .and_then(Value::as_array)
            .is_some_and(|uris| !uris.is_empty())
    });
    let fallback = value
        .get("isFallbackPublicClient")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if has_redirect || fallback {
        return;
    }
    for access in list(value, "requiredResourceAccess") {
        let Some(resource) = text(access, "resourceAppId") else {
            continue;
        };
        for entry in list(access, "resourceAccess") {
            if text(entry, "type").as_deref() != Some("Scope") {
                continue;
            }
            let Some(id) = text(entry, "id") else {
                continue;
            };
            let name = scope_name(&resource, &id);
            // Graph is named; another API by its app id (the audit keeps no names of them).
            let of = if resource.eq_ignore_ascii_case(super::GRAPH_APP_ID) {
                "Microsoft Graph".to_owned()
            } else {
                format!("the API {resource}")
            };
            let fix = fix::remove_delegated(&audit.app_id, &resource, &id);
            audit.issues.push(Issue::new(
                "audit.delegated-on-app-only",
                Severity::Warning,
                format!(
                    "requests the delegated permission {} of {of} but signs no user in \
                     (no redirect URI, not a public client): only app-only tokens, which never \
                     carry it",
                    name.as_deref().unwrap_or(&id)
                ),
                vec![fix],
            ));
            audit.delegated_on_app_only.push(DelegatedPermission {
                resource_app_id: resource.clone(),
                scope_id: id,
                value: name,
            });
        }
    }
}

fn list<'a>(value: &'a Value, name: &str) -> &'a [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// `now` for tests.
#[cfg(test)]
pub(super) fn at(text: &str) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}
