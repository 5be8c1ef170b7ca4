//! Token-endpoint errors as Entra ID words and sends them: the AADSTS code, the OAuth `error`,
//! the HTTP status (`invalid_client` → 401, everything else → 400) and a body with exactly
//! Entra ID's field set: `error`, `error_description` (`AADSTSnnnn: message`, then
//! `Trace ID`, `Correlation ID` and `Timestamp` lines joined by CRLF), `error_codes`, `timestamp`, `trace_id`,
//! `correlation_id`, `error_uri`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One refusal of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StsError {
    pub code: u32,
    pub error: &'static str,
    pub message: String,
}

impl StsError {
    pub fn new(code: u32, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            error,
            message: message.into(),
        }
    }

    /// `invalid_request`.
    pub fn request(code: u32, message: impl Into<String>) -> Self {
        Self::new(code, "invalid_request", message)
    }

    /// `invalid_client`.
    pub fn client(code: u32, message: impl Into<String>) -> Self {
        Self::new(code, "invalid_client", message)
    }

    /// AADSTS900144: a required form parameter is absent.
    pub fn missing_parameter(name: &str) -> Self {
        Self::request(
            900_144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// AADSTS90014: a required field of the request or the assertion is absent.
    pub fn missing_field(name: &str) -> Self {
        Self::request(
            90014,
            format!(
                "The required field '{name}' is missing from the credential. Ensure that you have all the necessary parameters for the login request."
            ),
        )
    }

    pub fn status(&self) -> StatusCode {
        if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        }
    }

    /// The HTTP answer. `correlation_id` echoes the client's `client-request-id` as Entra does.
    pub fn into_http(self, authority_host: &str, correlation_id: &str) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            self.code, self.message
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{authority_host}/error?code={}", self.code),
        });
        let headers = sts_headers(&trace_id, correlation_id);
        (self.status(), headers, axum::Json(body)).into_response()
    }
}

/// Headers Entra ID puts on every token-endpoint answer.
pub(super) fn sts_headers(trace_id: &str, correlation_id: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(trace_id) {
        headers.insert("x-ms-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(correlation_id) {
        headers.insert("client-request-id", v);
    }
    headers
}
