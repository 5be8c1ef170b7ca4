//! App Service, Functions and Container Apps: `GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&
//! resource=…` with the `X-IDENTITY-HEADER` the platform puts in `IDENTITY_HEADER` (it rotates,
//! and exists to stop server-side request forgery), a user-assigned identity named by
//! `client_id`, `principal_id` or `mi_res_id` (the App Service REST reference). It answers 400
//! `Unable to load the proper Managed Identity.` when the identity is not assigned, and refuses
//! a wrong header. The header goes to `IDENTITY_ENDPOINT`'s URL and nowhere else: no redirect
//! is followed and no other URL is asked.

use chrono::{DateTime, Utc};
use url::Url;

use super::http::{Answer, Client};
use super::{
    IdentitySelector, ManagedIdentityError, ManagedIdentityRequest, ManagedToken, with_query,
};
use crate::auth::retry;
use crate::error::Result;
use crate::secret::Secret;

pub const API_VERSION: &str = "2019-08-01";
pub const HEADER: &str = "X-IDENTITY-HEADER";

/// The query parameter that names a user-assigned identity, and its value.
pub fn identity_parameter(identity: &IdentitySelector) -> Option<(&'static str, &str)> {
    match identity {
        IdentitySelector::SystemAssigned => None,
        IdentitySelector::ClientId(id) => Some(("client_id", id)),
        IdentitySelector::ObjectId(id) => Some(("principal_id", id)),
        IdentitySelector::ResourceId(id) => Some(("mi_res_id", id)),
    }
}

pub(super) async fn acquire(
    client: &Client,
    endpoint: &Url,
    header: &Secret,
    request: &ManagedIdentityRequest,
    now: DateTime<Utc>,
) -> Result<ManagedToken> {
    // Should the endpoint echo it, it is scrubbed from whatever the run prints.
    crate::scrub::remember(header);
    let mut pairs = vec![
        ("api-version", API_VERSION),
        ("resource", request.resource.as_str()),
    ];
    pairs.extend(identity_parameter(&request.identity));
    let url = with_query(endpoint, &pairs);
    let (answer, attempts) = client
        .get(
            &url,
            &[(HEADER, header.expose())],
            retry::is_retryable_status,
        )
        .await?;
    match answer.status {
        200 => client.token(&url, &answer, now),
        401 | 403 => Err(ManagedIdentityError::AppServiceHeader {
            url: super::http::endpoint_of(&url),
            status: answer.status,
        }
        .into()),
        _ => match identity_not_loaded(&answer) {
            Some(said) => Err(super::refused(
                client.kind(),
                &url,
                &request.identity,
                answer.status,
                said,
            )),
            None => Err(client.other(&url, &answer, attempts)),
        },
    }
}

/// App Service's `{"statusCode":400,"message":"Unable to load the proper Managed Identity.",…}`.
fn identity_not_loaded(answer: &Answer) -> Option<String> {
    super::http::said_in_400(answer, "message", "managed identity")
}
