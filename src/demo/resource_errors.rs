//! How the demo's resource APIs word a refusal, per `error_style`:
//! - `graph`: Microsoft Graph's JSON (`InvalidAuthenticationToken`, `Authorization_RequestDenied`,
//!   `TooManyRequests`, each with `innerError` date/request-id/client-request-id);
//! - `azure`: Azure Resource Manager's JSON (`InvalidAuthenticationTokenAudience`, ...);
//! - `aspnet`: an ASP.NET Core API with `JwtBearer`: empty body, the reason in the header.
//!
//! A 401 for a bad token carries `WWW-Authenticate: Bearer …, error="invalid_token",
//! error_description="…"`; a request without a token gets the challenge without an error code,
//! as RFC 6750 §3.1 says and the real services do.

use std::fmt::Write as _;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::model::{ErrorStyle, Resource};

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

fn aspnet_time(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%m/%d/%Y %H:%M:%S")
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
fn describe(ctx: &ErrorCtx<'_>, why: &Rejection) -> (&'static str, String) {
    let allowed = ctx.resource.accepted_audiences.join(", ");
    match (ctx.style, why) {
        (ErrorStyle::Graph, Rejection::Missing) => (
            "InvalidAuthenticationToken",
            "Access token is empty.".to_owned(),
        ),
        (ErrorStyle::Graph, Rejection::Malformed) => (
            "InvalidAuthenticationToken",
            "IDX14100: JWT is not well formed, there are no dots (.).".to_owned(),
        ),
        (ErrorStyle::Graph, Rejection::Signature) => (
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid signature.".to_owned(),
        ),
        (ErrorStyle::Graph, Rejection::Issuer(_)) => (
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid issuer.".to_owned(),
        ),
        (ErrorStyle::Graph, Rejection::Audience(_)) => (
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.".to_owned(),
        ),
        (ErrorStyle::Graph, Rejection::Expired(_)) => (
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.".to_owned(),
        ),
        (ErrorStyle::Graph, Rejection::NotYetValid(_)) => (
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is not yet valid.".to_owned(),
        ),
        (_, Rejection::Missing) => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_owned(),
        ),
        (_, Rejection::Malformed | Rejection::Signature) => (
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_owned(),
        ),
        (_, Rejection::Issuer(iss)) => (
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer '{iss}'. It must match the tenant '{}' associated with this resource.",
                ctx.authority
            ),
        ),
        (_, Rejection::Audience(aud)) => (
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences '{allowed}'."
            ),
        ),
        (_, Rejection::Expired(exp)) => (
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                aspnet_time(*exp),
                aspnet_time(Utc::now().timestamp())
            ),
        ),
        (_, Rejection::NotYetValid(nbf)) => (
            "InvalidAuthenticationToken",
            format!(
                "The access token is not valid before '{}'.",
                aspnet_time(*nbf)
            ),
        ),
    }
}

/// The `WWW-Authenticate` challenge of a 401.
fn challenge(ctx: &ErrorCtx<'_>, why: &Rejection, message: &str) -> String {
    let description = match (ctx.style, why) {
        (ErrorStyle::Aspnet, Rejection::Signature) => "The signature is invalid".to_owned(),
        (ErrorStyle::Aspnet, Rejection::Issuer(iss)) => format!("The issuer '{iss}' is invalid"),
        (ErrorStyle::Aspnet, Rejection::Audience(aud)) => {
            format!("The audience '{aud}' is invalid")
        }
        (ErrorStyle::Aspnet, Rejection::Expired(exp)) => {
            format!("The token expired at '{}'", aspnet_time(*exp))
        }
        (ErrorStyle::Aspnet, Rejection::NotYetValid(nbf)) => {
            format!("The token is not valid before '{}'", aspnet_time(*nbf))
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
                description.replace('"', "'")
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
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match ctx.style {
        ErrorStyle::Graph => (
            StatusCode::FORBIDDEN,
            headers,
            axum::Json(json!({"error": {
                "code": "Authorization_RequestDenied",
                "message": "Insufficient privileges to complete the operation.",
                "innerError": ctx.inner_error(&request_id),
            }})),
        )
            .into_response(),
        ErrorStyle::Azure => {
            let client = if text("appid").is_empty() {
                text("azp")
            } else {
                text("appid")
            };
            (StatusCode::FORBIDDEN, headers, axum::Json(json!({"error": {
                "code": "AuthorizationFailed",
                "message": format!("The client '{client}' with object id '{}' does not have authorization to perform action 'GET' over scope '{path}' or the scope is invalid.", text("oid")),
            }}))).into_response()
        }
        ErrorStyle::Aspnet => (StatusCode::FORBIDDEN, headers).into_response(),
    }
}

/// The 429 answer with `Retry-After` in seconds.
pub(super) fn throttled(ctx: &ErrorCtx<'_>, retry_after: u64) -> Response {
    let mut headers = common_headers(ctx);
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    let request_id = header_text(&headers, "request-id");
    let body = json!({"error": {
        "code": "TooManyRequests",
        "message": "Too many requests from this application. Please try again later.",
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
    (
        StatusCode::UNAUTHORIZED,
        headers,
        axum::Json(json!({"error": {
            "code": "InvalidAuthenticationToken",
            "message": format!("The authentication context '{context}' is required for this call: the access token lacks the acrs claim. Acquire a new token with the claims challenge."),
            "innerError": ctx.inner_error(&request_id),
        }})),
    )
        .into_response()
}
