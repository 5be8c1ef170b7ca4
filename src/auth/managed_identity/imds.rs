//! The Instance Metadata Service of an Azure VM or scale set: `GET
//! http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`
//! with `Metadata: true`, a user-assigned identity named by `client_id`, `object_id` or
//! `msi_res_id` (the parameters MSAL sends). IMDS answers 400 `Identity not found` when the
//! identity is not assigned, and asks for retries with 404, 410, 429 and 5xx, as its docs'
//! retry guidance says and azure-identity's IMDS pipeline does.

use chrono::{DateTime, Utc};
use url::Url;

use super::http::{Answer, Client};
use super::{IdentitySelector, ManagedIdentityRequest, ManagedToken, with_query};
use crate::error::Result;

pub const API_VERSION: &str = "2018-02-01";

/// The query parameter that names a user-assigned identity, and its value.
pub fn identity_parameter(identity: &IdentitySelector) -> Option<(&'static str, &str)> {
    match identity {
        IdentitySelector::SystemAssigned => None,
        IdentitySelector::ClientId(id) => Some(("client_id", id)),
        IdentitySelector::ObjectId(id) => Some(("object_id", id)),
        IdentitySelector::ResourceId(id) => Some(("msi_res_id", id)),
    }
}

fn is_retryable(status: u16) -> bool {
    matches!(status, 404 | 410 | 429) || (500..600).contains(&status)
}

pub(super) async fn acquire(
    client: &Client,
    endpoint: &Url,
    request: &ManagedIdentityRequest,
    now: DateTime<Utc>,
) -> Result<ManagedToken> {
    let mut pairs = vec![
        ("api-version", API_VERSION),
        ("resource", request.resource.as_str()),
    ];
    pairs.extend(identity_parameter(&request.identity));
    let url = with_query(endpoint, &pairs);
    let (answer, attempts) = client
        .get(&url, &[("Metadata", "true")], is_retryable)
        .await?;
    if answer.status == 200 {
        return client.token(&url, &answer, now);
    }
    if let Some(said) = identity_not_found(&answer) {
        return Err(super::refused(
            client.kind(),
            &url,
            &request.identity,
            answer.status,
            said,
        ));
    }
    Err(client.other(&url, &answer, attempts))
}

/// IMDS's `{"error":"invalid_request","error_description":"Identity not found"}`.
fn identity_not_found(answer: &Answer) -> Option<String> {
    super::http::said_in_400(answer, "error_description", "identity not found")
}
