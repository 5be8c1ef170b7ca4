//! Reading an app registration's federated identity credentials from Microsoft Graph:
//! `GET {graph}/v1.0/applications(appId='{client_id}')/federatedIdentityCredentials`
//! (<https://learn.microsoft.com/graph/api/application-list-federatedidentitycredentials>).
//!
//! Flexible credentials have no `subject`, and v1.0 does not return their
//! `claimsMatchingExpression`: when one is seen, the list is read again from `beta`, which
//! does. Reading needs `Application.Read.All` (application permission) or ownership of the app.
//! The Graph plumbing (https only, bearer token scrubbed, 401/403 as Graph worded them,
//! throttling waited out) is [`crate::graph`]'s.

use serde_json::Value;

use super::compare::FederatedCredential;
use crate::auth::TokenClient;
use crate::graph::ReadFailure;
use crate::secret::Secret;

/// The permission the read needs (or the token's app must own the app registration).
pub const READ_PERMISSION: &str = "Application.Read.All";

/// The app's federated credentials.
pub async fn read(
    client: &TokenClient,
    graph_url: &str,
    token: &Secret,
    client_id: &str,
) -> Result<Vec<FederatedCredential>, ReadFailure> {
    let url = |version: &str| -> Result<String, ReadFailure> {
        Ok(format!(
            "{}/federatedIdentityCredentials",
            crate::graph::application_url(graph_url, version, client_id)?
        ))
    };
    let credentials = list(client, &url("v1.0")?, token, client_id).await?;
    if credentials
        .iter()
        .any(|c| c.subject.is_none() && c.claims_matching_expression.is_none())
    {
        return list(client, &url("beta")?, token, client_id).await;
    }
    Ok(credentials)
}

async fn list(
    client: &TokenClient,
    url: &str,
    token: &Secret,
    client_id: &str,
) -> Result<Vec<FederatedCredential>, ReadFailure> {
    let body = crate::graph::get_application(client, url, token, client_id).await?;
    let items = body
        .get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(items
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .collect())
}

/// Graph refused the read (401/403): what could not be compared, and the permission it needs.
pub fn denied(status: u16, detail: &str, url: &str, client_id: &str) -> crate::diagnose::Finding {
    use crate::diagnose::{Finding, Severity};
    Finding::new(
        "federation.graph-denied",
        Severity::Warning,
        format!("The app's federated credentials could not be read: Graph needs {READ_PERMISSION}"),
    )
    .cause(format!(
        "Microsoft Graph answered {status}: the Graph token carries neither {READ_PERMISSION} nor Directory.Read.All (application permissions), and its app does not own app {client_id}. The token's issuer, subject and audience were checked on their own, but not compared with the credentials."
    ))
    .evidence(format!("GET {url}: {detail}"))
    .fix(format!(
        "Read them with a second app that holds {READ_PERMISSION}: entra-doctor federation --admin-client-id <its id> (its secret in ENTRA_DOCTOR_ADMIN_SECRET)"
    ))
    .fix(format!(
        "az: az ad app federated-credential list --id {client_id} --query \"[].{{name:name, issuer:issuer, subject:subject, audiences:audiences}}\" -o table"
    ))
    .fix(format!("Portal: {}", super::portal_path(client_id)))
    .doc("https://learn.microsoft.com/graph/api/application-list-federatedidentitycredentials")
}

/// The credentials were not read at all (no Graph token); `why` says what failed.
pub fn not_compared(why: &str, client_id: &str) -> crate::diagnose::Finding {
    use crate::diagnose::{Finding, Severity};
    Finding::new(
        "federation.not-compared",
        Severity::Warning,
        "The token was not compared with the app's federated credentials",
    )
    .cause(format!(
        "{why} Reading the credentials needs a Microsoft Graph token with {READ_PERMISSION} (or one of an owner of the app); a federated app whose exchange fails cannot get one itself."
    ))
    .fix(format!(
        "Pass --admin-client-id with an app that holds {READ_PERMISSION} (its secret in ENTRA_DOCTOR_ADMIN_SECRET, or --admin-certificate)"
    ))
    .fix(format!(
        "az: az ad app federated-credential list --id {client_id} --query \"[].{{name:name, issuer:issuer, subject:subject, audiences:audiences}}\" -o table"
    ))
    .fix(format!("Portal: {}", super::portal_path(client_id)))
    .doc(super::DOCS_CREATE)
}
