//! The consent audit: what the app registration requests, what an admin granted, and what the
//! current token carries, read from Microsoft Graph.
//!
//! Three reads: the application's `requiredResourceAccess`, the resource service principal's
//! `appRoles` (and delegated `oauth2PermissionScopes`, to name the classic mistake), and the
//! client service principal's `appRoleAssignments` (admin consent, with its date). Reading needs
//! `Application.Read.All` (or `Directory.Read.All`) as an application permission.

mod run;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::auth::TokenClient;
use crate::secret::Secret;
use crate::token::DecodedToken;

pub use crate::graph::ReadFailure;
use crate::graph::get;
pub use run::{AdminApp, Audit, AuditRequest, default_graph_url, graph_scope, graph_token, run};

/// The application permission the audit itself needs.
pub const AUDIT_PERMISSION: &str = "Application.Read.All";

/// What Graph says about one client and one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Directory {
    pub client_id: String,
    pub resource_app_id: String,
    pub resource_name: String,
    /// `(id, value)` of the resource's application permissions.
    pub app_roles: Vec<(String, String)>,
    /// `(id, value)` of the resource's delegated permissions.
    pub scopes: Vec<(String, String)>,
    /// Ids requested as application permissions (`type: Role`) for the resource.
    pub requested_roles: Vec<String>,
    /// Ids requested as delegated permissions (`type: Scope`) for the resource.
    pub requested_scopes: Vec<String>,
    /// Admin-consented app role ids on the resource, with their date.
    pub granted: Vec<(String, Option<DateTime<Utc>>)>,
}

/// One permission, as the audit reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(clippy::struct_excessive_bools)] // each flag is one column of the audit, not a state
pub struct PermissionRow {
    pub permission: String,
    pub requested_as_application: bool,
    /// Requested as delegated and not as application: the classic mistake.
    pub delegated_only: bool,
    pub admin_consent: bool,
    pub consented_on: Option<DateTime<Utc>>,
    /// `None` without a token to compare with.
    pub in_token: Option<bool>,
    /// Consent was granted after the token was issued, and the token lacks the role.
    pub token_stale: bool,
}

/// Reads the directory for `client_id` and the resource with app id `resource_app_id`.
pub async fn read(
    client: &TokenClient,
    graph_url: &str,
    token: &Secret,
    client_id: &str,
    resource_app_id: &str,
) -> Result<Directory, ReadFailure> {
    let base = graph_url.trim_end_matches('/');
    let filter = |id: &str| format!("?$filter=appId%20eq%20'{id}'");
    let apps = get(
        client,
        &format!("{base}/v1.0/applications{}", filter(client_id)),
        token,
    )
    .await?;
    let app = first(&apps).ok_or_else(|| ReadFailure::NotFound {
        what: format!("the app registration with appId {client_id} (is it in this tenant?)"),
    })?;
    let sps = get(
        client,
        &format!("{base}/v1.0/servicePrincipals{}", filter(resource_app_id)),
        token,
    )
    .await?;
    let resource = first(&sps).ok_or_else(|| ReadFailure::NotFound {
        what: format!("the service principal of resource {resource_app_id}"),
    })?;
    let own = get(
        client,
        &format!("{base}/v1.0/servicePrincipals{}", filter(client_id)),
        token,
    )
    .await?;
    let own_id = first(&own).and_then(|sp| text(sp, "id")).ok_or_else(|| ReadFailure::NotFound {
        what: format!(
            "the service principal of {client_id}: the app has none in this tenant, so nothing can be consented \
             (az ad sp create --id {client_id})"
        ),
    })?;
    let assignments = get(
        client,
        &format!("{base}/v1.0/servicePrincipals/{own_id}/appRoleAssignments"),
        token,
    )
    .await?;
    let resource_sp_id = text(resource, "id").unwrap_or_default();
    let pairs = |name: &str| -> Vec<(String, String)> {
        list(resource, name)
            .iter()
            .filter_map(|r| Some((text(r, "id")?, text(r, "value")?)))
            .collect()
    };
    let mut requested_roles = Vec::new();
    let mut requested_scopes = Vec::new();
    for access in list(app, "requiredResourceAccess") {
        if !text(access, "resourceAppId").is_some_and(|id| id.eq_ignore_ascii_case(resource_app_id))
        {
            continue;
        }
        for entry in list(access, "resourceAccess") {
            let (Some(id), Some(kind)) = (text(entry, "id"), text(entry, "type")) else {
                continue;
            };
            if kind == "Role" {
                requested_roles.push(id);
            } else {
                requested_scopes.push(id);
            }
        }
    }
    let granted = list(&assignments, "value")
        .iter()
        .filter(|a| {
            text(a, "resourceId").is_some_and(|id| id.eq_ignore_ascii_case(&resource_sp_id))
        })
        .filter_map(|a| {
            let created = text(a, "createdDateTime")
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc));
            Some((text(a, "appRoleId")?, created))
        })
        .collect();
    Ok(Directory {
        client_id: client_id.to_owned(),
        resource_app_id: resource_app_id.to_owned(),
        resource_name: text(resource, "displayName").unwrap_or_else(|| resource_app_id.to_owned()),
        app_roles: pairs("appRoles"),
        scopes: pairs("oauth2PermissionScopes"),
        requested_roles,
        requested_scopes,
        granted,
    })
}

/// One row per permission requested (either way) or granted, in the resource's role order.
pub fn audit(directory: &Directory, token: Option<&DecodedToken>) -> Vec<PermissionRow> {
    let token_roles: Option<Vec<String>> =
        token.map(|t| t.claims.roles.clone().unwrap_or_default());
    let issued = token
        .and_then(|t| t.claims.iat)
        .and_then(|s| DateTime::from_timestamp(s, 0));
    let scope_value = |id: &String| {
        directory
            .scopes
            .iter()
            .find(|(sid, _)| sid.eq_ignore_ascii_case(id))
            .map(|(_, v)| v.clone())
    };
    let delegated: Vec<String> = directory
        .requested_scopes
        .iter()
        .filter_map(scope_value)
        .collect();
    let mut rows: Vec<PermissionRow> = Vec::new();
    for (id, value) in &directory.app_roles {
        let requested = directory
            .requested_roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case(id));
        let grant = directory
            .granted
            .iter()
            .find(|(g, _)| g.eq_ignore_ascii_case(id));
        let delegated_only = !requested && delegated.contains(value);
        if !requested && grant.is_none() && !delegated_only {
            continue;
        }
        let in_token = token_roles.as_ref().map(|roles| roles.contains(value));
        let consented_on = grant.and_then(|(_, on)| *on);
        rows.push(PermissionRow {
            permission: value.clone(),
            requested_as_application: requested,
            delegated_only,
            admin_consent: grant.is_some(),
            consented_on,
            in_token,
            token_stale: in_token == Some(false)
                && matches!((consented_on, issued), (Some(on), Some(iat)) if on > iat),
        });
    }
    // Delegated permissions with no application permission of that name at all.
    for value in delegated {
        if !rows.iter().any(|r| r.permission == value) {
            rows.push(PermissionRow {
                permission: value,
                requested_as_application: false,
                delegated_only: true,
                admin_consent: false,
                consented_on: None,
                in_token: None,
                token_stale: false,
            });
        }
    }
    rows
}

fn list<'a>(value: &'a Value, name: &str) -> &'a [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn first(value: &Value) -> Option<&Value> {
    list(value, "value").first()
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_owned)
}
