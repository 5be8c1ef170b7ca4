//! The audit's Graph reads before any app is judged: Microsoft Graph's own service principal
//! (to name its privileged roles), every service principal, every grant of a Graph application
//! permission, and credential sign-in activity — each a paged listing folded into a compact
//! index — plus the names of delegated permissions, read once per resource.

use std::collections::HashMap;

use chrono::DateTime;
use serde_json::Value;

use super::index::{Grant, GuidMap, guid};
use super::{
    AUDIT_PERMISSION, GRAPH_APP_ID, Indexes, SCOPE_CACHE, SIGN_IN_PERMISSION, Settings,
    SignInActivity, catalog,
};
use crate::auth::TokenClient;
use crate::error::{Error, Result};
use crate::graph::{self, Pages, ReadFailure};
use crate::secret::Secret;

/// A refusal becomes the error that names the missing permission and how to grant it.
pub(super) fn denied_or(failure: ReadFailure, permission: &str) -> Error {
    match failure {
        ReadFailure::Denied {
            url,
            status,
            detail,
        } => Error::GraphDenied {
            url,
            status,
            detail,
            permission: permission.to_owned(),
            how: format!(
                "grant it to the reading app (Microsoft Entra admin center → App registrations → \
                 the app → API permissions → Add a permission → Microsoft Graph → Application \
                 permissions → {permission}, then Grant admin consent), or read as an app that \
                 holds it: --admin-client-id <its id> with its secret in ENTRA_DOCTOR_ADMIN_SECRET"
            ),
        },
        ReadFailure::NotFound { what } => Error::InvalidInput {
            what: "Microsoft Graph's answer".into(),
            reason: format!("it has no {what}"),
        },
        ReadFailure::Failed(error) => error,
    }
}

/// Microsoft Graph's service principal here, and its privileged app roles (role id → catalog
/// index).
pub(super) async fn graph_roles(
    client: &TokenClient,
    token: &Secret,
    base: &str,
) -> Result<(Option<String>, GuidMap<u8>)> {
    let url = format!(
        "{base}/v1.0/servicePrincipals?$filter=appId%20eq%20{}&$select=id,appId,appRoles",
        graph::odata_literal(GRAPH_APP_ID)
    );
    let answer = graph::get(client, &url, token)
        .await
        .map_err(|e| denied_or(e, AUDIT_PERMISSION))?;
    let Some(sp) = answer
        .get("value")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    else {
        return Ok((None, GuidMap::default()));
    };
    let mut roles = GuidMap::default();
    for role in sp
        .get("appRoles")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let (Some(id), Some(value)) = (
            role.get("id").and_then(Value::as_str).and_then(guid),
            role.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        if let Some(index) = catalog::index_of(value).and_then(|i| u8::try_from(i).ok()) {
            roles.push(id, index);
        }
    }
    roles.seal();
    let id = sp
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| guid(id).is_some())
        .map(str::to_owned);
    Ok((id, roles))
}

pub(super) async fn read_service_principals(
    client: &TokenClient,
    token: &Secret,
    settings: &Settings,
    indexes: &mut Indexes,
    pages: &mut u32,
) -> Result<()> {
    let url = format!(
        "{}/v1.0/servicePrincipals?$select=id,appId&$top={}",
        settings.graph_url.trim_end_matches('/'),
        settings.page_size
    );
    let mut listing = Pages::new(client, token, &url);
    while let Some(page) = listing.next_page().await {
        for sp in page.map_err(|e| denied_or(e, AUDIT_PERMISSION))? {
            let id = sp.get("id").and_then(Value::as_str).and_then(guid);
            let app = sp.get("appId").and_then(Value::as_str).and_then(guid);
            if let (Some(id), Some(app)) = (id, app) {
                indexes.service_principals.push(app, id);
            }
        }
    }
    indexes.service_principals.seal();
    indexes.service_principals_read = true;
    *pages += listing.pages_read();
    Ok(())
}

pub(super) async fn read_grants(
    client: &TokenClient,
    token: &Secret,
    settings: &Settings,
    graph_sp: &str,
    roles: &GuidMap<u8>,
    indexes: &mut Indexes,
    pages: &mut u32,
) -> Result<()> {
    let url = format!(
        "{}/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo?$top={}",
        settings.graph_url.trim_end_matches('/'),
        settings.page_size
    );
    let mut listing = Pages::new(client, token, &url);
    while let Some(page) = listing.next_page().await {
        for assignment in page.map_err(|e| denied_or(e, AUDIT_PERMISSION))? {
            let text = |name: &str| assignment.get(name).and_then(Value::as_str);
            let (Some(principal), Some(role), Some(id)) = (
                text("principalId").and_then(guid),
                text("appRoleId").and_then(guid).and_then(|r| roles.get(r)),
                text("id"),
            ) else {
                continue;
            };
            indexes.grants.push(Grant {
                principal,
                role,
                assignment_id: id.chars().take(128).collect(),
            });
        }
    }
    *pages += listing.pages_read();
    Ok(())
}

/// Credential sign-in activity; a refusal (no `AuditLog.Read.All`, no licence) is not an error.
pub(super) async fn read_sign_ins(
    client: &TokenClient,
    token: &Secret,
    base: &str,
    indexes: &mut Indexes,
    pages: &mut u32,
) -> Result<SignInActivity> {
    let url = format!("{base}/beta/reports/appCredentialSignInActivities");
    let mut listing = Pages::new(client, token, &url);
    while let Some(page) = listing.next_page().await {
        let items = match page {
            Ok(items) => items,
            Err(ReadFailure::Denied { status, detail, .. }) => {
                *pages += listing.pages_read();
                indexes.sign_ins = GuidMap::default();
                return Ok(SignInActivity::Skipped {
                    reason: format!(
                        "Microsoft Graph answered {status} to the credential sign-in activity \
                         report ({detail}): it needs {SIGN_IN_PERMISSION} (application) and a \
                         Microsoft Entra ID P1 or P2 licence; the unused-credential checks were \
                         skipped"
                    ),
                });
            }
            Err(other) => return Err(denied_or(other, SIGN_IN_PERMISSION)),
        };
        for activity in items {
            let key = activity.get("keyId").and_then(Value::as_str).and_then(guid);
            let last = activity
                .get("signInActivity")
                .and_then(|s| s.get("lastSignInDateTime"))
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp());
            if let (Some(key), Some(last)) = (key, last) {
                indexes.sign_ins.push(key, last);
            }
        }
    }
    indexes.sign_ins.seal();
    indexes.sign_ins_read = true;
    *pages += listing.pages_read();
    Ok(SignInActivity::Read {
        credentials: indexes.sign_ins.len(),
    })
}

/// Delegated permission names per resource, read once per resource, at most [`SCOPE_CACHE`]
/// resources kept.
#[derive(Default)]
pub(super) struct ScopeNames {
    by_resource: HashMap<String, Vec<(u128, String)>>,
}

impl ScopeNames {
    pub(super) fn tried(&self, resource: &str) -> bool {
        self.by_resource
            .contains_key(&resource.to_ascii_lowercase())
    }

    pub(super) fn get(&self, resource: &str, id: &str) -> Option<String> {
        let id = guid(id)?;
        self.by_resource
            .get(&resource.to_ascii_lowercase())?
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, v)| v.clone())
    }

    pub(super) async fn load(
        &mut self,
        client: &TokenClient,
        token: &Secret,
        base: &str,
        resource: &str,
    ) {
        let key = resource.to_ascii_lowercase();
        if self.by_resource.contains_key(&key) {
            return;
        }
        if self.by_resource.len() >= SCOPE_CACHE {
            self.by_resource.clear();
        }
        let mut names = Vec::new();
        // Only a GUID goes into the filter; anything else is not looked up.
        if guid(resource).is_some() {
            let url = format!(
                "{base}/v1.0/servicePrincipals?$filter=appId%20eq%20{}&$select=id,appId,oauth2PermissionScopes",
                graph::odata_literal(&key)
            );
            if let Ok(answer) = graph::get(client, &url, token).await {
                let scopes = answer
                    .get("value")
                    .and_then(Value::as_array)
                    .and_then(|v| v.first())
                    .and_then(|sp| sp.get("oauth2PermissionScopes"))
                    .and_then(Value::as_array);
                for scope in scopes.map_or(&[][..], Vec::as_slice) {
                    if let (Some(id), Some(value)) = (
                        scope.get("id").and_then(Value::as_str).and_then(guid),
                        scope.get("value").and_then(Value::as_str),
                    ) {
                        names.push((id, value.chars().take(200).collect()));
                    }
                }
            }
        }
        self.by_resource.insert(key, names);
    }
}
