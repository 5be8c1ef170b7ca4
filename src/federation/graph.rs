//! Reading an app registration's federated identity credentials from Microsoft Graph:
//! `GET {graph}/v1.0/applications(appId='{client_id}')/federatedIdentityCredentials`
//! (<https://learn.microsoft.com/graph/api/application-list-federatedidentitycredentials>).
//!
//! Flexible credentials have no `subject`, and v1.0 does not return their
//! `claimsMatchingExpression`: when one is seen, the list is read again from `beta`, which
//! does. Reading needs `Application.Read.All` (application permission) or ownership of the app.
//! The Graph plumbing (https only, bearer token scrubbed, 401/403 as Graph worded them) is
//! [`crate::consent`]'s.

use serde_json::Value;

use super::compare::FederatedCredential;
use crate::auth::TokenClient;
use crate::consent::ReadFailure;
use crate::error::Error;
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
    let base = graph_url.trim_end_matches('/');
    // The client id goes into the URL: only a GUID may (no quote, slash or query smuggled in).
    if !crate::auth::tenant::is_guid(&client_id.to_ascii_lowercase()) {
        return Err(ReadFailure::Failed(Error::InvalidInput {
            what: format!("client id {client_id:?}"),
            reason: "is not a GUID".into(),
        }));
    }
    let url = |version: &str| {
        format!("{base}/{version}/applications(appId='{client_id}')/federatedIdentityCredentials")
    };
    let credentials = list(client, &url("v1.0"), token, client_id).await?;
    if credentials
        .iter()
        .any(|c| c.subject.is_none() && c.claims_matching_expression.is_none())
    {
        return list(client, &url("beta"), token, client_id).await;
    }
    Ok(credentials)
}

async fn list(
    client: &TokenClient,
    url: &str,
    token: &Secret,
    client_id: &str,
) -> Result<Vec<FederatedCredential>, ReadFailure> {
    let body = match crate::consent::get(client, url, token).await {
        Ok(body) => body,
        Err(ReadFailure::Failed(Error::UnexpectedResponse { status: 404, .. })) => {
            return Err(ReadFailure::NotFound {
                what: format!(
                    "the app registration with appId {client_id} (is it in this tenant?)"
                ),
            });
        }
        Err(other) => return Err(other),
    };
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
