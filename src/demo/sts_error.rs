//! Token-endpoint errors as Entra ID words and sends them: the AADSTS code, the OAuth `error`,
//! the HTTP status (`invalid_client` → 401, everything else → 400) and a body with exactly
//! Entra ID's field set: `error`, `error_description` (`AADSTSnnnn: message`, then
//! `Trace ID`, `Correlation ID` and `Timestamp` lines joined by CRLF), `error_codes`, `timestamp`, `trace_id`,
//! `correlation_id`, `error_uri`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Declares [`Code`] and its numbers from one list: the demo answers only with a `Code`, so a
/// code it can emit is always in [`Code::ALL`], which a test checks against the AADSTS catalog.
macro_rules! codes {
    ($($(#[doc = $doc:literal])* $name:ident = $number:literal,)+) => {
        /// An AADSTS code the demo tenant answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Code {
            $($(#[doc = $doc])* $name,)+
        }

        impl Code {
            /// Every code the demo tenant can emit.
            #[cfg(test)]
            pub const ALL: &'static [Code] = &[$(Code::$name,)+];

            pub const fn number(self) -> u32 {
                match self {
                    $(Code::$name => $number,)+
                }
            }
        }
    };
}

codes! {
    /// A tenant-less authority (`/common`, `/organizations`, `/consumers`).
    NoTenant = 50059,
    /// The tenant segment is neither a GUID nor a DNS name.
    MalformedTenant = 900_023,
    TenantNotFound = 90002,
    /// A required form parameter is absent.
    MissingParameter = 900_144,
    /// A required field of the request or of the assertion is absent.
    MissingField = 90014,
    UnsupportedGrantType = 70003,
    AppNotFound = 700_016,
    ResourceNotFound = 500_011,
    ScopeWithoutDefault = 1_002_012,
    InvalidScope = 70011,
    InvalidSecret = 7_000_215,
    SecretExpired = 7_000_222,
    InvalidParameter = 90100,
    NoCredential = 7_000_218,
    ResourceParameterOnV2 = 901_002,
    UnsupportedAlgorithm = 5_002_738,
    NoKeyInHeader = 5_002_723,
    AssertionIssuerMismatch = 700_021,
    InvalidSignature = 700_027,
    AssertionAudienceMismatch = 700_023,
    AssertionOutOfTime = 700_024,
    MalformedJwt = 50027,
    /// A federated assertion, and the app has no federated credential at all.
    NoFederatedRecord = 70021,
    /// No federated credential has the assertion's issuer.
    FederatedIssuer = 700_211,
    /// No federated credential of that issuer accepts the assertion's audience.
    FederatedAudience = 700_212,
    /// No federated credential of that issuer has the assertion's subject.
    FederatedSubject = 700_213,
    /// The subject matches a credential only when case is ignored.
    FederatedSubjectCase = 7_002_138,
    IssuanceFailed = 50000,
}

/// One refusal of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StsError {
    pub code: Code,
    pub error: &'static str,
    pub message: String,
}

impl StsError {
    pub fn new(code: Code, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            error,
            message: message.into(),
        }
    }

    /// `invalid_request`.
    pub fn request(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, "invalid_request", message)
    }

    /// `invalid_client`.
    pub fn client(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, "invalid_client", message)
    }

    /// AADSTS900144: a required form parameter is absent.
    pub fn missing_parameter(name: &str) -> Self {
        Self::request(
            Code::MissingParameter,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// AADSTS90014: a required field of the request or the assertion is absent.
    pub fn missing_field(name: &str) -> Self {
        Self::request(
            Code::MissingField,
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
        let code = self.code.number();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            code, self.message
        );
        let body = json!({
            "error": self.error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{authority_host}/error?code={code}"),
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

#[cfg(test)]
mod tests {
    use super::Code;
    use crate::diagnose::Catalog;

    /// Every code the demo tenant can answer with is explained by the catalog (the demo's
    /// constructors take a [`Code`], so [`Code::ALL`] cannot miss one).
    #[test]
    fn every_code_the_demo_tenant_emits_is_in_the_catalog() {
        let catalog = Catalog::builtin();
        let missing: Vec<u32> = Code::ALL
            .iter()
            .map(|code| code.number())
            .filter(|&number| catalog.get(u64::from(number)).is_none())
            .collect();
        assert!(missing.is_empty(), "not in assets/aadsts.toml: {missing:?}");
    }

    #[test]
    fn every_code_has_its_own_number() {
        let mut numbers: Vec<u32> = Code::ALL.iter().map(|code| code.number()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), Code::ALL.len());
    }
}
