//! The token endpoints (`/{tenant}/oauth2/v2.0/token` with `scope=`, `/{tenant}/oauth2/token`
//! with `resource=`). A request is checked in a plausible order (no public source fixes Entra
//! ID's own) and the first failure is the answer: tenant segment (900023, 90002, 50059), grant
//! type (900144, 70003), client (700016), credential (7000218, 7000215, 7000222, the
//! assertion checks in `assertion`, or a federated assertion's in `federated`), scope (90014, 901002, 1002012, 70011), resource (500011);
//! then a token is minted for the resource.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::assertion::{self, Expected};
use super::model::{Application, TenantModel};
use super::server::{AppState, Live};
use super::signin_log::Attempt;
use super::sts_error::{Code, StsError, sts_headers};
use super::token::{self, ClientAuth, EXPIRES_IN};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which token endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    V1,
    V2,
}

pub(super) async fn token_v2(
    State(live): State<Arc<Live>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(&live.now(), &tenant, Endpoint::V2, &headers, &body)
}

pub(super) async fn token_v1(
    State(live): State<Arc<Live>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(&live.now(), &tenant, Endpoint::V1, &headers, &body)
}

/// The `client-request-id` the client sent (Entra ID echoes it as the correlation id), or a
/// fresh one.
pub(super) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .to_string()
}

fn token(
    state: &AppState,
    tenant: &str,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let correlation = correlation_id(headers);
    let mut attempt = Attempt::default();
    let result = issue(state, tenant, endpoint, headers, body, &mut attempt);
    let error = result
        .as_ref()
        .err()
        .map(|e| (e.code.number(), e.message.as_str()));
    state
        .signins
        .record(attempt, &correlation, error, chrono::Utc::now());
    match result {
        Ok(answer) => {
            let trace = uuid::Uuid::new_v4().to_string();
            (sts_headers(&trace, &correlation), axum::Json(answer)).into_response()
        }
        Err(error) => error.into_http(&state.authority_host, &correlation),
    }
}

/// Resolves the `{tenant}` path segment: the tenant's id or verified domain.
pub(super) fn check_tenant(model: &TenantModel, segment: &str) -> Result<(), StsError> {
    let lower = segment.to_ascii_lowercase();
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return Err(StsError::request(
            Code::NoTenant,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        ));
    }
    let is_guid = uuid::Uuid::parse_str(segment).is_ok() && segment.len() == 36;
    if !is_guid && !is_dns_name(segment) {
        return Err(StsError::request(
            Code::MalformedTenant,
            format!(
                "Specified tenant identifier '{segment}' is neither a valid DNS name, nor a valid external domain."
            ),
        ));
    }
    if lower == model.tenant.id.to_ascii_lowercase()
        || lower == model.tenant.domain.to_ascii_lowercase()
    {
        Ok(())
    } else {
        Err(StsError::new(
            Code::TenantNotFound,
            "invalid_tenant",
            format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ))
    }
}

fn is_dns_name(s: &str) -> bool {
    s.contains('.')
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

fn issue(
    state: &AppState,
    tenant: &str,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: &[u8],
    attempt: &mut Attempt,
) -> Result<Value, StsError> {
    let model = &state.model;
    check_tenant(model, tenant)?;
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    let basic = basic_credentials(headers);
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());

    match param("grant_type") {
        None => return Err(StsError::missing_parameter("grant_type")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(StsError::new(
                Code::UnsupportedGrantType,
                "unsupported_grant_type",
                format!("The app requested an unsupported grant type '{other}'."),
            ));
        }
    }

    let assertion = param("client_assertion");
    let client_id = param("client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .or_else(|| assertion.and_then(assertion::unverified_issuer))
        .ok_or_else(|| StsError::missing_parameter("client_id"))?;
    let app = model.application_by_client_id(&client_id).ok_or_else(|| {
        StsError::new(
            Code::AppNotFound,
            "unauthorized_client",
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                model.tenant.display_name
            ),
        )
    })?;
    attempt.app = Some((
        app.client_id.clone(),
        app.display_name.clone(),
        app.service_principal_id.clone(),
    ));
    attempt.credential = super::signin_log::credential_of(app, &form, basic.as_ref());
    // The log names the resource asked for even when the request fails before it is checked.
    attempt.resource = requested_resource(endpoint, &form)
        .ok()
        .and_then(|r| model.find_resource(&r))
        .map(|r| (r.display_name.clone(), r.service_principal_id.clone()));

    let now = chrono::Utc::now().timestamp();
    let auth = authenticate(state, tenant, app, &form, basic, now)?;
    let requested = requested_resource(endpoint, &form)?;
    let resource = model.find_resource(&requested).ok_or_else(|| {
        StsError::new(
            Code::ResourceNotFound,
            "invalid_resource",
            format!(
                "The resource principal named {requested} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                model.tenant.display_name
            ),
        )
    })?;

    let grant = token::Grant {
        model,
        app,
        resource,
        requested: &requested,
        auth,
        now,
        acrs: param("claims")
            .and_then(token::requested_acrs)
            .unwrap_or_default(),
    };
    let issued = token::mint(&state.keys, &grant)?;
    Ok(match endpoint {
        Endpoint::V2 => json!({
            "token_type": "Bearer",
            "expires_in": EXPIRES_IN,
            "ext_expires_in": EXPIRES_IN,
            "access_token": issued.access_token,
        }),
        // The v1 endpoint sends its numbers as strings.
        Endpoint::V1 => json!({
            "token_type": "Bearer",
            "expires_in": EXPIRES_IN.to_string(),
            "ext_expires_in": EXPIRES_IN.to_string(),
            "expires_on": issued.expires_on.to_string(),
            "not_before": issued.not_before.to_string(),
            "resource": requested,
            "access_token": issued.access_token,
        }),
    })
}

fn scope_error(error: &super::scope::ScopeError, scope: &str) -> StsError {
    match error {
        super::scope::ScopeError::MissingDefault => StsError::new(
            Code::ScopeWithoutDefault,
            "invalid_scope",
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ),
        super::scope::ScopeError::Invalid => StsError::new(
            Code::InvalidScope,
            "invalid_scope",
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        ),
    }
}

/// A secret is accepted when it equals the value of a registered secret that has not expired.
fn check_secret(app: &Application, presented: &str, now: i64) -> Result<(), StsError> {
    let matching: Vec<_> = app
        .secrets
        .iter()
        .filter(|s| constant_time_eq(s.value.expose().as_bytes(), presented.as_bytes()))
        .collect();
    if matching.iter().any(|s| s.expires.timestamp() > now) {
        return Ok(());
    }
    if matching.is_empty() {
        return Err(StsError::client(
            Code::InvalidSecret,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ));
    }
    Err(StsError::client(
        Code::SecretExpired,
        format!(
            "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
            app.client_id
        ),
    ))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: each part form-urlencoded).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// The URLs a client assertion's `aud` may name: this tenant's token endpoints, by id, by domain
/// and by the segment the request used.
fn token_endpoints(host: &str, model: &TenantModel, segment: &str) -> Vec<String> {
    [
        model.tenant.id.as_str(),
        model.tenant.domain.as_str(),
        segment,
    ]
    .iter()
    .flat_map(|t| {
        [
            format!("{host}/{t}/oauth2/v2.0/token"),
            format!("{host}/{t}/oauth2/token"),
        ]
    })
    .collect()
}

/// Client authentication: a secret (form or HTTP Basic) or a client assertion.
fn authenticate(
    state: &AppState,
    tenant: &str,
    app: &Application,
    form: &HashMap<String, String>,
    basic: Option<(String, String)>,
    now: i64,
) -> Result<ClientAuth, StsError> {
    let model = &state.model;
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let assertion = param("client_assertion");
    let secret = param("client_secret")
        .map(str::to_owned)
        .or(basic.map(|(_, s)| s));
    match (assertion, secret) {
        (Some(assertion), _) => {
            match param("client_assertion_type") {
                None => return Err(StsError::missing_parameter("client_assertion_type")),
                Some(JWT_BEARER) => {}
                Some(_) => {
                    return Err(StsError::request(
                        Code::InvalidParameter,
                        "client_assertion_type parameter is empty or not valid.",
                    ));
                }
            }
            if assertion::unverified_issuer(assertion)
                .is_some_and(|iss| super::federated::is_federated(&iss, &app.client_id))
            {
                super::federated::verify(state, app, assertion, now)?;
                return Ok(ClientAuth::Certificate);
            }
            let audiences = token_endpoints(&state.authority_host, model, tenant);
            let expected = Expected {
                client_id: &app.client_id,
                audiences: &audiences,
                registered: state.keys.registered(&app.client_id),
                now,
            };
            assertion::verify(assertion, &expected)?;
            Ok(ClientAuth::Certificate)
        }
        (None, Some(secret)) => {
            check_secret(app, &secret, now)?;
            Ok(ClientAuth::Secret)
        }
        (None, None) => Err(StsError::client(
            Code::NoCredential,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
    }
}

/// The resource the request names: from `scope` (v2) or `resource` (v1).
fn requested_resource(
    endpoint: Endpoint,
    form: &HashMap<String, String>,
) -> Result<String, StsError> {
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    Ok(match endpoint {
        Endpoint::V2 => {
            if param("resource").is_some() {
                return Err(StsError::request(
                    Code::ResourceParameterOnV2,
                    "The 'resource' request parameter is not supported.",
                ));
            }
            let scope = param("scope").ok_or_else(|| StsError::missing_field("scope"))?;
            super::scope::resource_from_scope(scope).map_err(|e| scope_error(&e, scope))?
        }
        Endpoint::V1 => param("resource")
            .ok_or_else(|| StsError::missing_parameter("resource"))?
            .to_owned(),
    })
}
