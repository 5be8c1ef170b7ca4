//! How the demo's resource APIs word a refusal, per `error_style`:
//! - `graph`: Microsoft Graph's JSON (`InvalidAuthenticationToken`, `Authorization_RequestDenied`,
//!   `TooManyRequests`, each with `innerError` date/request-id/client-request-id);
//! - `azure`: Azure Resource Manager's JSON (`InvalidAuthenticationTokenAudience`, ...);
//! - `aspnet`: an ASP.NET Core API with `JwtBearer`: empty body, the reason in the header.
//!
//! - `sql` (any style, on a database that admits apps through database users): SQL's login
//!   failure, error 18456, as an HTTP 401.
//!
//! A 401 for a bad token carries `WWW-Authenticate: Bearer …, error="invalid_token",
//! error_description="…"`; a request without a token gets the challenge without an error code,
//! as RFC 6750 §3.1 says and the real services do. The words themselves are data
//! (`assets/demo/refusals.toml`, see `refusals`), each beside its public source.

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::model::{ErrorStyle, Resource};
use super::refusals::{Refusal, Refusals};

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Rejection {
    Missing,
    Malformed,
    Signature,
    Issuer(String),
    Audience(String),
    Expired(i64),
    NotYetValid(i64),
}

pub(super) struct ErrorCtx<'a> {
    pub style: ErrorStyle,
    /// `{host}/{tenant id}`: where a client gets a token for this API.
    pub authority: String,
    /// The tenant's v1 issuer, as ARM names "the tenant associated with this subscription".
    pub tenant_issuer: String,
    pub resource: &'a Resource,
    pub client_request_id: Option<String>,
}

impl ErrorCtx<'_> {
    fn inner_error(&self, request_id: &str) -> Value {
        json!({
            "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
            "request-id": request_id,
            "client-request-id": self.client_request_id.clone().unwrap_or_else(|| request_id.to_owned()),
        })
    }
}

/// `request-id`/`client-request-id` headers as Graph sends them.
pub(super) fn common_headers(ctx: &ErrorCtx<'_>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let request_id = uuid::Uuid::new_v4().to_string();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("request-id", v);
    }
    let client = ctx.client_request_id.clone().unwrap_or(request_id);
    if let Ok(v) = HeaderValue::from_str(&client) {
        headers.insert("client-request-id", v);
    }
    headers
}

/// A time as ASP.NET Core prints it (`DateTime` in the invariant culture).
fn aspnet_time(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%m/%d/%Y %H:%M:%S")
        .to_string()
}

/// A time as ARM prints it (US English: `6/15/2026 8:22:51 AM`).
fn arm_time(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%-m/%-d/%Y %-I:%M:%S %p")
        .to_string()
}

/// The 401 answer.
pub(super) fn unauthorized(ctx: &ErrorCtx<'_>, why: &Rejection) -> Response {
    let (code, message) = describe(ctx, why);
    let mut headers = common_headers(ctx);
    if let Ok(v) = HeaderValue::from_str(&challenge(ctx, why, &message)) {
        headers.insert(header::WWW_AUTHENTICATE, v);
    }
    let request_id = header_text(&headers, "request-id");
    match ctx.style {
        ErrorStyle::Aspnet => (StatusCode::UNAUTHORIZED, headers).into_response(),
        ErrorStyle::Graph => (
            StatusCode::UNAUTHORIZED,
            headers,
            axum::Json(json!({"error": {
                "code": code, "message": message, "innerError": ctx.inner_error(&request_id),
            }})),
        )
            .into_response(),
        ErrorStyle::Azure => (
            StatusCode::UNAUTHORIZED,
            headers,
            axum::Json(json!({"error": {
                "code": code, "message": message,
            }})),
        )
            .into_response(),
    }
}

/// The error code and message of a 401 body, in the API's words.
fn describe(ctx: &ErrorCtx<'_>, why: &Rejection) -> (String, String) {
    let words = Refusals::builtin();
    let said = |refusal: &Refusal, values: &[(&str, &str)]| {
        (refusal.code().to_owned(), refusal.render(values))
    };
    let (graph, azure) = (&words.graph, &words.azure);
    match (ctx.style, why) {
        (ErrorStyle::Graph, Rejection::Missing) => said(&graph.missing, &[]),
        (ErrorStyle::Graph, Rejection::Malformed) => said(&graph.malformed, &[]),
        (ErrorStyle::Graph, Rejection::Signature) => said(&graph.signature, &[]),
        (ErrorStyle::Graph, Rejection::Issuer(_)) => said(&graph.issuer, &[]),
        (ErrorStyle::Graph, Rejection::Audience(_)) => said(&graph.audience, &[]),
        (ErrorStyle::Graph, Rejection::Expired(_)) => said(&graph.expired, &[]),
        (ErrorStyle::Graph, Rejection::NotYetValid(_)) => said(&graph.not_yet_valid, &[]),
        (_, Rejection::Missing) => said(&azure.missing, &[]),
        (_, Rejection::Malformed | Rejection::Signature) => said(&azure.invalid, &[]),
        (_, Rejection::Issuer(iss)) => said(
            &azure.issuer,
            &[
                ("iss", iss),
                ("tenant", &ctx.tenant_issuer),
                ("authority", &ctx.authority),
            ],
        ),
        (_, Rejection::Audience(aud)) => {
            let allowed = ctx
                .resource
                .accepted_audiences
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(",");
            said(&azure.audience, &[("aud", aud), ("allowed", &allowed)])
        }
        (_, Rejection::Expired(exp)) => said(
            &azure.expired,
            &[
                ("exp", &arm_time(*exp)),
                ("now", &arm_time(Utc::now().timestamp())),
            ],
        ),
        (_, Rejection::NotYetValid(nbf)) => said(&azure.not_yet_valid, &[("nbf", &arm_time(*nbf))]),
    }
}

/// The `WWW-Authenticate` challenge of a 401.
fn challenge(ctx: &ErrorCtx<'_>, why: &Rejection, message: &str) -> String {
    let aspnet = &Refusals::builtin().aspnet;
    let description = match (ctx.style, why) {
        (ErrorStyle::Aspnet, Rejection::Signature) => aspnet.signature.render(&[]),
        (ErrorStyle::Aspnet, Rejection::Issuer(iss)) => aspnet.issuer.render(&[("iss", iss)]),
        (ErrorStyle::Aspnet, Rejection::Audience(aud)) => aspnet.audience.render(&[("aud", aud)]),
        (ErrorStyle::Aspnet, Rejection::Expired(exp)) => {
            aspnet.expired.render(&[("exp", &aspnet_time(*exp))])
        }
        (ErrorStyle::Aspnet, Rejection::NotYetValid(nbf)) => {
            aspnet.not_yet_valid.render(&[("nbf", &aspnet_time(*nbf))])
        }
        _ => message.to_owned(),
    };
    let mut challenge = match ctx.style {
        ErrorStyle::Graph => format!(
            "Bearer realm=\"\", authorization_uri=\"{}/oauth2/authorize\", client_id=\"{}\"",
            ctx.authority, ctx.resource.app_id
        ),
        ErrorStyle::Azure => format!("Bearer authorization_uri=\"{}\"", ctx.authority),
        ErrorStyle::Aspnet => "Bearer".to_owned(),
    };
    if *why != Rejection::Missing {
        let sep = if ctx.style == ErrorStyle::Aspnet {
            " "
        } else {
            ", "
        };
        let _ = write!(challenge, "{sep}error=\"invalid_token\"");
        if !(ctx.style == ErrorStyle::Aspnet && *why == Rejection::Malformed) {
            let _ = write!(
                challenge,
                ", error_description=\"{}\"",
                description.replace('"', "'").replace(['\r', '\n'], " ")
            );
        }
    }
    challenge
}

/// The 403 answer: a valid token without the role the route needs.
pub(super) fn forbidden(
    ctx: &ErrorCtx<'_>,
    claims: &serde_json::Map<String, Value>,
    path: &str,
) -> Response {
    let headers = common_headers(ctx);
    let request_id = header_text(&headers, "request-id");
    let words = Refusals::builtin();
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match ctx.style {
        ErrorStyle::Graph => {
            let refused = &words.graph.forbidden;
            (
                StatusCode::FORBIDDEN,
                headers,
                axum::Json(json!({"error": {
                    "code": refused.code(),
                    "message": refused.render(&[]),
                    "innerError": ctx.inner_error(&request_id),
                }})),
            )
                .into_response()
        }
        ErrorStyle::Azure => {
            let client = if text("appid").is_empty() {
                text("azp")
            } else {
                text("appid")
            };
            let refused = &words.azure.forbidden;
            let message = refused.render(&[
                ("client", &client),
                ("oid", &text("oid")),
                // The demo's routes are plain paths, not ARM operations: the HTTP verb and
                // path stand in for the action and the scope.
                ("action", "GET"),
                ("scope", path),
            ]);
            (
                StatusCode::FORBIDDEN,
                headers,
                axum::Json(json!({"error": {"code": refused.code(), "message": message}})),
            )
                .into_response()
        }
        ErrorStyle::Aspnet => (StatusCode::FORBIDDEN, headers).into_response(),
    }
}

/// SQL's refusal of an app without a user in the database: the login fails (error 18456). Real
/// SQL says it over TDS; the demo answers 401 with SQL's number and words, and no challenge (no
/// other token would help).
pub(super) fn login_failed(ctx: &ErrorCtx<'_>) -> Response {
    let refused = &Refusals::builtin().sql.login_failed;
    let headers = common_headers(ctx);
    (
        StatusCode::UNAUTHORIZED,
        headers,
        axum::Json(json!({"error": {"code": refused.code(), "message": refused.render(&[])}})),
    )
        .into_response()
}

/// The 429 answer with `Retry-After` in seconds.
pub(super) fn throttled(ctx: &ErrorCtx<'_>, retry_after: u64) -> Response {
    let mut headers = common_headers(ctx);
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    let request_id = header_text(&headers, "request-id");
    let refused = &Refusals::builtin().graph.throttled;
    let body = json!({"error": {
        "code": refused.code(),
        "message": refused.render(&[]),
        "innerError": ctx.inner_error(&request_id),
    }});
    (StatusCode::TOO_MANY_REQUESTS, headers, axum::Json(body)).into_response()
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// 401 with a claims challenge: the call needs authentication context `context` (`acrs`), which
/// the token lacks. Graph words it this way for Conditional Access authentication contexts.
pub(super) fn claims_challenge(ctx: &ErrorCtx<'_>, context: &str) -> Response {
    use base64::Engine as _;
    let claims =
        json!({"access_token": {"acrs": {"essential": true, "value": context}}}).to_string();
    let mut headers = common_headers(ctx);
    let challenge = format!(
        r#"Bearer realm="", authorization_uri="{}/oauth2/authorize", client_id="{}", error="insufficient_claims", claims="{}""#,
        ctx.authority,
        ctx.resource.app_id,
        base64::engine::general_purpose::STANDARD.encode(claims)
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        headers.insert(header::WWW_AUTHENTICATE, v);
    }
    let request_id = header_text(&headers, "request-id");
    let refused = &Refusals::builtin().graph.claims_challenge;
    (
        StatusCode::UNAUTHORIZED,
        headers,
        axum::Json(json!({"error": {
            "code": refused.code(),
            "message": refused.render(&[("context", context)]),
            "innerError": ctx.inner_error(&request_id),
        }})),
    )
        .into_response()
}
