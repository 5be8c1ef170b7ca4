//! The demo's managed identity endpoints: an IMDS (`GET /metadata/identity/oauth2/token`, point
//! `AZURE_POD_IDENTITY_AUTHORITY_HOST` at the demo) and an App Service identity endpoint
//! (`GET /msi/token`, with `IDENTITY_ENDPOINT` and the `IDENTITY_HEADER` the demo makes at
//! start). Both issue demo-tenant tokens for the managed identities the host has assigned
//! (`identity_host.assigned` in the tenant file) and refuse the others in the services' words:
//! IMDS's 400 `{"error":"invalid_request","error_description":"Identity not found"}` (seen in
//! <https://github.com/Azure/aad-pod-identity/issues/778>), App Service's 400
//! `{"statusCode":400,"message":"Unable to load the proper Managed Identity.",…}` (seen in
//! <https://github.com/Azure/azure-sdk-for-net/issues/43691>).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::server::{AppState, Live};
use super::token::{self, ClientAuth};

/// The header App Service checks, as `IDENTITY_HEADER` names its value.
pub const APP_SERVICE_HEADER: &str = "X-IDENTITY-HEADER";

/// IMDS: `Metadata: true`, then `client_id` / `object_id` / `msi_res_id` or none.
pub(super) async fn imds(
    State(live): State<Arc<Live>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = live.now();
    let metadata = headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !metadata {
        // The FAQ of the IMDS docs quotes this refusal ("400 Bad Request, Required metadata
        // header not specified"); the body has IMDS's error shape (issue 778 above).
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    if let Some(retry_after) = over_limit(&state) {
        // IMDS's throttling body, as seen in
        // https://github.com/hashicorp/terraform-provider-azurerm/issues/20901.
        let mut answer = imds_error(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request",
            "Temporarily throttled, too many requests",
        );
        answer.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(retry_after),
        );
        return answer;
    }
    let id = ["client_id", "object_id", "msi_res_id"]
        .iter()
        .find_map(|name| query.get(*name).map(String::as_str));
    let Some(identity) = state.model.identity_for(id) else {
        return imds_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        );
    };
    let resource = query.get("resource").map_or("", String::as_str);
    match issue(&state, identity, resource) {
        Ok(issued) => axum::Json(json!({
            "access_token": issued.access_token,
            "client_id": identity.client_id,
            "expires_in": (issued.expires_on - issued.now).to_string(),
            "expires_on": issued.expires_on.to_string(),
            "ext_expires_in": (issued.expires_on - issued.now).to_string(),
            "not_before": issued.not_before.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }))
        .into_response(),
        // IMDS passes Entra ID's refusal on in its own error shape.
        Err(description) => imds_error(StatusCode::BAD_REQUEST, "invalid_resource", &description),
    }
}

/// App Service: the `X-IDENTITY-HEADER`, then `client_id` / `principal_id` / `mi_res_id`.
pub(super) async fn app_service(
    State(live): State<Arc<Live>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let state = live.now();
    let presented = headers
        .get(APP_SERVICE_HEADER)
        .map(axum::http::HeaderValue::as_bytes)
        .unwrap_or_default();
    if !constant_time_eq(presented, state.identity_header.expose().as_bytes()) {
        // A refused header gets a bare 401, as App Service answered in
        // https://github.com/Azure/azure-sdk-for-js/issues/11595.
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = ["client_id", "principal_id", "object_id", "mi_res_id"]
        .iter()
        .find_map(|name| query.get(*name).map(String::as_str));
    let not_loaded = || {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "statusCode": 400,
                "message": "Unable to load the proper Managed Identity.",
                "correlationId": uuid::Uuid::new_v4().to_string(),
            })),
        )
            .into_response()
    };
    let Some(identity) = state.model.identity_for(id) else {
        return not_loaded();
    };
    let resource = query.get("resource").map_or("", String::as_str);
    match issue(&state, identity, resource) {
        Ok(issued) => axum::Json(json!({
            "access_token": issued.access_token,
            "expires_on": issued.expires_on.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": identity.client_id,
        }))
        .into_response(),
        Err(_) => not_loaded(),
    }
}

struct Issued {
    access_token: String,
    not_before: i64,
    expires_on: i64,
    now: i64,
}

/// A token for `identity` and `resource`, or Entra ID's AADSTS500011 description.
fn issue(
    state: &AppState,
    identity: &super::identity_model::ManagedIdentity,
    resource: &str,
) -> Result<Issued, String> {
    let model = &state.model;
    let target = model.find_resource(resource).ok_or_else(|| {
        format!(
            "AADSTS500011: The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
            model.tenant.display_name
        )
    })?;
    let app = identity.as_application();
    let now = chrono::Utc::now().timestamp();
    let grant = token::Grant {
        model,
        app: &app,
        resource: target,
        requested: resource,
        // A managed identity's tokens say `appidacr` 2: the platform proved it with a
        // certificate of its own.
        auth: ClientAuth::Certificate,
        now,
        acrs: Vec::new(),
    };
    let issued = token::mint(&state.keys, &grant).map_err(|e| e.message)?;
    Ok(Issued {
        access_token: issued.access_token,
        not_before: issued.not_before,
        expires_on: issued.expires_on,
        now,
    })
}

/// `Some(seconds to wait)` when this request exceeds the host's IMDS rate limit.
fn over_limit(state: &AppState) -> Option<u64> {
    let limit = state.model.identity_host.as_ref()?.rate_limit?;
    let now = chrono::Utc::now().timestamp();
    let window = i64::try_from(limit.window_seconds).unwrap_or(i64::MAX);
    let mut windows = state
        .throttle
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = windows
        .entry((IMDS_THROTTLE_KEY.to_owned(), String::new()))
        .or_insert((now, 0));
    if now - entry.0 >= window {
        *entry = (now, 0);
    }
    entry.1 += 1;
    (entry.1 > limit.requests)
        .then(|| u64::try_from((window - (now - entry.0)).max(1)).unwrap_or(1))
}

/// The rate-limit window of the host's IMDS (one per host, whoever asks).
const IMDS_THROTTLE_KEY: &str = "imds";

fn imds_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
