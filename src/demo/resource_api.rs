//! The resource APIs of the demo tenant (`/graph/...`, `/sql/...`, `/api/...`, as the tenant
//! model's routes say). Each checks the bearer token as its real counterpart does: signature
//! against the tenant's key, issuer (v1 or v2 of this tenant), `aud` as an exact string among the
//! API's accepted audiences, lifetime (five minutes of skew); then who may call: the route's app
//! role (403), or, on a database that admits apps through database users (Azure SQL), a user
//! for the calling app (else SQL's login failure); then the route's rate limit (429 with
//! `Retry-After`). Answers are worded in the API's `error_style` (see `resource_errors`), with
//! the words from `assets/demo/refusals.toml`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};

use super::model::{Resource, Route, TokenVersion};
use super::refusals::Refusals;
use super::resource_errors::{Rejection, forbidden, login_failed, throttled, unauthorized};
use super::server::{AppState, Live};
use super::token::issuer;

/// Skew an API tolerates on `exp`/`nbf` (ASP.NET Core's default).
const CLOCK_SKEW: i64 = 300;

pub(super) async fn handle(
    State(live): State<Arc<Live>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let state = live.now();
    // Graph's one write: adding a federated credential to an application.
    let is_write = method == Method::POST
        && super::graph_directory::federated_post_target(uri.path()).is_some();
    let is_log = super::signin_log::serves(uri.path());
    let listing = super::graph_listing::serves(uri.path(), uri.query(), &state.model);
    let directory = graph_route(&state, uri.path(), is_write, is_log || listing);
    let found = match &directory {
        Some((graph, route)) => Some((*graph, route)),
        None => find_route(&state, uri.path()),
    };
    let Some((resource, route)) = found else {
        let refused = &Refusals::builtin().demo.not_found;
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {
                "code": refused.code(),
                "message": refused.render(&[("path", uri.path())]),
            }})),
        )
            .into_response();
    };
    if method != Method::GET && !is_write {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let ctx = Ctx {
        state: &state,
        resource,
        headers: &headers,
    };
    let claims = match validate(&ctx, &headers) {
        Ok(claims) => claims,
        Err(rejection) => return unauthorized(&ctx.error_ctx(), &rejection),
    };
    if let Some(context) = &route.auth_context {
        let has = claims
            .get("acrs")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(context)));
        if !has {
            return super::resource_errors::claims_challenge(&ctx.error_ctx(), context);
        }
    }
    let caller = claims
        .get("appid")
        .or_else(|| claims.get("azp"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    // A database reads no roles: the app's own user in it decides (`CREATE USER … FROM
    // EXTERNAL PROVIDER`), and without one SQL refuses the login itself.
    if resource.database_users.is_some() && !resource.has_database_user(caller) {
        return login_failed(&ctx.error_ctx());
    }
    let roles: Vec<&str> = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !route.any_role.is_empty() && !route.any_role.iter().any(|r| roles.contains(&r.as_str())) {
        return forbidden(&ctx.error_ctx(), &claims, uri.path());
    }
    if let Some(retry_after) = over_limit(&state, route, caller) {
        return throttled(&ctx.error_ctx(), retry_after);
    }
    let token_id = claims.get("uti").and_then(Value::as_str).unwrap_or(caller);
    if let Some(wait) =
        super::graph_listing::throttle_once(&state, uri.path(), uri.query(), token_id)
    {
        return throttled(&ctx.error_ctx(), wait);
    }
    if is_write {
        return add_federated_credential(&live, &ctx, uri.path(), &body);
    }
    if is_log {
        return sign_in_log(&ctx, &roles, &uri);
    }
    let body: Value = if directory.is_some() {
        match directory_answer(&state, &uri, listing) {
            Some(body) => body,
            None => return StatusCode::NOT_FOUND.into_response(),
        }
    } else {
        serde_json::from_str(&route.body).unwrap_or(Value::Null)
    };
    let mut out = super::resource_errors::common_headers(&ctx.error_ctx());
    out.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    (StatusCode::OK, out, axum::Json(body)).into_response()
}

/// A Graph directory read: a paged listing of the audit, or one of the consent audit's reads.
fn directory_answer(state: &AppState, uri: &Uri, listing: bool) -> Option<Value> {
    if listing {
        super::graph_listing::page(
            &state.model,
            &state.listings,
            &state.authority_host,
            uri.path(),
            uri.query(),
        )
    } else {
        super::graph_directory::answer(&state.model, &state.authority_host, uri.path(), uri.query())
    }
}

/// `POST …/federatedIdentityCredentials`: applied to the running tenant as an admin would.
fn add_federated_credential(live: &Arc<Live>, ctx: &Ctx<'_>, path: &str, body: &[u8]) -> Response {
    let refuse = |reason: &str| {
        let refusal = &Refusals::builtin().demo.bad_federated_credential;
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {
                "code": refusal.code(),
                "message": refusal.render(&[("reason", reason)]),
            }})),
        )
            .into_response()
    };
    let Some(client_id) = super::graph_directory::federated_post_target(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if ctx
        .state
        .model
        .application_by_client_id(client_id)
        .is_none()
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (name, issuer, subject, audiences) =
        match super::graph_directory::federated_credential_body(body) {
            Ok(parts) => parts,
            Err(reason) => return refuse(&reason),
        };
    let change = super::changes::TenantChange::AddFederatedCredential {
        client_id: client_id.to_owned(),
        name: name.clone(),
        issuer: issuer.clone(),
        subject: subject.clone(),
        audiences: audiences.clone(),
    };
    match super::server::DemoControl::of(live).apply(&change) {
        Ok(_) => (
            StatusCode::CREATED,
            axum::Json(json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/federatedIdentityCredentials/$entity",
                "id": uuid::Uuid::new_v4().to_string(),
                "name": name, "issuer": issuer, "subject": subject,
                "description": null, "audiences": audiences,
            })),
        )
            .into_response(),
        Err(e) => refuse(&e.to_string()),
    }
}

/// Graph, and the route a directory or sign-in-log path is checked against.
fn graph_route<'a>(
    state: &'a AppState,
    path: &str,
    is_write: bool,
    is_log_or_listing: bool,
) -> Option<(&'a Resource, Route)> {
    let is_log = super::signin_log::serves(path);
    if !is_log_or_listing && !super::graph_directory::serves(path) {
        return None;
    }
    let graph = state
        .model
        .resources
        .iter()
        .find(|r| r.error_style == super::model::ErrorStyle::Graph)?;
    let route = if is_write {
        super::graph_directory::write_route(path)
    } else if is_log {
        super::signin_log::route(path)
    } else {
        super::graph_directory::route(path)
    };
    Some((graph, route))
}

/// `GET …/auditLogs/signIns`: the demo's sign-in log, as Graph lists it.
fn sign_in_log(ctx: &Ctx<'_>, roles: &[&str], uri: &Uri) -> Response {
    let error_ctx = ctx.error_ctx();
    let answer = super::signin_log::answer(
        &ctx.state.signins,
        &ctx.state.authority_host,
        uri.path(),
        uri.query(),
        roles,
        error_ctx.client_request_id.as_deref(),
    );
    let mut out = super::resource_errors::common_headers(&error_ctx);
    out.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    match answer {
        super::signin_log::Answer::Page(body) => {
            (StatusCode::OK, out, axum::Json(body)).into_response()
        }
        super::signin_log::Answer::Forbidden(body) => {
            (StatusCode::FORBIDDEN, out, axum::Json(body)).into_response()
        }
        super::signin_log::Answer::Throttled(wait) => throttled(&error_ctx, wait),
    }
}

struct Ctx<'a> {
    state: &'a AppState,
    resource: &'a Resource,
    headers: &'a HeaderMap,
}

impl Ctx<'_> {
    fn error_ctx(&self) -> super::resource_errors::ErrorCtx<'_> {
        super::resource_errors::ErrorCtx {
            style: self.resource.error_style,
            authority: format!(
                "{}/{}",
                self.state.authority_host, self.state.model.tenant.id
            ),
            tenant_issuer: issuer(TokenVersion::V1, &self.state.model.tenant.id),
            resource: self.resource,
            client_request_id: self
                .headers
                .get("client-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }
}

fn find_route<'a>(state: &'a AppState, path: &str) -> Option<(&'a Resource, &'a Route)> {
    state.model.resources.iter().find_map(|r| {
        r.routes
            .iter()
            .find(|route| route.path == path)
            .map(|route| (r, route))
    })
}

fn validate(
    ctx: &Ctx<'_>,
    headers: &HeaderMap,
) -> Result<serde_json::Map<String, Value>, Rejection> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(Rejection::Missing)?;
    // Graph tokens are signed over their hashed header nonce.
    let signed = super::token::graph_signed_form(token);
    let token = signed.as_str();
    let header = jsonwebtoken::decode_header(token).map_err(|_| Rejection::Malformed)?;
    let kid_ok = header.kid.as_deref() == Some(ctx.state.keys.kid().as_str());
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
        token,
        &ctx.state.keys.verifying_key(),
        &validation,
    );
    let claims = match data {
        Ok(data) if kid_ok => data.claims,
        Ok(_) => return Err(Rejection::Signature),
        Err(e) => {
            return Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature
                | jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => Rejection::Signature,
                _ => Rejection::Malformed,
            });
        }
    };
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let tid = &ctx.state.model.tenant.id;
    let iss = text("iss");
    if iss != issuer(TokenVersion::V1, tid) && iss != issuer(TokenVersion::V2, tid) {
        return Err(Rejection::Issuer(iss));
    }
    let aud = text("aud");
    if !ctx.resource.accepted_audiences.contains(&aud) {
        return Err(Rejection::Audience(aud));
    }
    let now = chrono::Utc::now().timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    // Saturating: a caller may send a token with any number, up to i64::MAX.
    if now > exp.saturating_add(CLOCK_SKEW) {
        return Err(Rejection::Expired(exp));
    }
    let nbf = claims.get("nbf").and_then(Value::as_i64).unwrap_or(0);
    if now + CLOCK_SKEW < nbf {
        return Err(Rejection::NotYetValid(nbf));
    }
    Ok(claims)
}

/// `Some(seconds to wait)` when this call exceeds the route's rate limit for this caller.
fn over_limit(state: &AppState, route: &Route, caller: &str) -> Option<u64> {
    let limit = route.rate_limit?;
    let now = chrono::Utc::now().timestamp();
    let window = i64::try_from(limit.window_seconds).unwrap_or(i64::MAX);
    let mut windows = state
        .throttle
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = windows
        .entry((route.path.clone(), caller.to_ascii_lowercase()))
        .or_insert((now, 0));
    if now - entry.0 >= window {
        *entry = (now, 0);
    }
    entry.1 += 1;
    if entry.1 > limit.requests {
        let left = window - (now - entry.0);
        Some(u64::try_from(left.max(1)).unwrap_or(1))
    } else {
        None
    }
}
