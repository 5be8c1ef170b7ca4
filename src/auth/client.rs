//! The token client: one form-encoded POST to the token endpoint, read into a typed answer.
//!
//! Redirects are never followed (a 3xx on a credential POST is a misconfigured host or a proxy,
//! and following it would hand the credential to whoever answered), bodies are read up to a cap,
//! and every failure names what happened and what to try.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::debug;
use url::Url;

use super::authority::ensure_secure;
use super::{Authority, Credential, EntraError, ScopeSet, TokenResponse};
use crate::error::{Error, Result};

/// Largest body read from the token endpoint or discovery; a real one is a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const SNIPPET_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Everything one client credentials request needs.
#[derive(Debug)]
pub struct TokenRequest {
    pub authority: Authority,
    /// Replaces `{host}/{tenant}/oauth2/v2.0/token` for non-standard servers.
    pub token_endpoint: Option<Url>,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub credential: Credential,
    /// A claims challenge (JSON) to send with the request.
    pub claims: Option<String>,
}

impl TokenRequest {
    pub fn token_endpoint(&self) -> String {
        self.token_endpoint
            .as_ref()
            .map_or_else(|| self.authority.token_endpoint(), ToString::to_string)
    }
}

#[derive(Debug, Clone)]
pub struct TokenClient {
    http: reqwest::Client,
    options: ClientOptions,
}

impl TokenClient {
    pub fn new(options: ClientOptions) -> Result<Self> {
        let http = http_client(options.connect_timeout, options.timeout)?;
        Ok(Self { http, options })
    }

    /// A client over an existing [`http_client`], so many requests share its connections (fleet
    /// mode); `options` must be the timeouts it was built with, for the error messages.
    pub fn with_http(http: reqwest::Client, options: ClientOptions) -> Self {
        Self { http, options }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends the client credentials request. `now` stamps the client assertion.
    pub async fn acquire(
        &self,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse> {
        let endpoint = request.token_endpoint();
        let url = Url::parse(&endpoint).map_err(|e| Error::InvalidAuthority {
            value: endpoint.clone(),
            reason: e.to_string(),
        })?;
        ensure_secure(&url)?;
        let credential_fields =
            request
                .credential
                .form_fields(&request.client_id, &endpoint, now)?;
        let scope = request.scopes.to_request_value();
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &request.client_id),
            ("scope", &scope),
        ];
        form.extend(
            credential_fields
                .iter()
                .map(|(name, value)| (*name, value.expose())),
        );
        if let Some(claims) = &request.claims {
            form.push(("claims", claims));
        }
        debug!(
            endpoint = %endpoint,
            client_id = %request.client_id,
            scope = %scope,
            credential = request.credential.kind(),
            "token request"
        );
        let response = self
            .http
            .post(url)
            .form(&form)
            .send()
            .await
            .map_err(|e| self.transport(&endpoint, &e))?;
        let status = response.status().as_u16();
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        if response.status().is_redirection() {
            let location = header(&response, reqwest::header::LOCATION);
            return Err(Error::Redirected {
                url: endpoint,
                status,
                location,
            });
        }
        let body = read_capped(response)
            .await
            .map_err(|e| self.transport(&endpoint, &e))?;
        debug!(status, content_type = %content_type, bytes = body.len(), "token response");
        parse_token_body(&endpoint, status, &content_type, &body)
    }

    /// Maps a transport failure to an error that says what to try.
    pub(crate) fn transport(&self, url: &str, error: &reqwest::Error) -> Error {
        let detail = error_chain(error);
        if error.is_timeout() {
            let connecting = error.is_connect();
            return Error::Timeout {
                url: url.to_owned(),
                phase: if connecting {
                    "connecting"
                } else {
                    "the request"
                },
                seconds: if connecting {
                    self.options.connect_timeout.as_secs()
                } else {
                    self.options.timeout.as_secs()
                },
                hint: if connecting {
                    "check the host name, a proxy or firewall, or raise --connect-timeout"
                } else {
                    "the server accepted the connection but did not answer in time; retry, or \
                     raise --timeout"
                },
            };
        }
        Error::Network {
            url: url.to_owned(),
            detail,
        }
    }
}

/// The HTTP client every request of the tool uses: the given timeouts, and no redirects, since
/// a credential or a token must never follow one to another host.
pub fn http_client(connect_timeout: Duration, timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("entra-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Network {
            url: String::new(),
            detail: e.to_string(),
        })
}

/// Reads the whole token endpoint answer into a token or a typed error.
pub fn parse_token_body(
    url: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<TokenResponse> {
    let unexpected = || Error::UnexpectedResponse {
        url: url.to_owned(),
        status,
        content_type: if content_type.is_empty() {
            "no content type".into()
        } else {
            content_type.to_owned()
        },
        snippet: snippet(body),
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Err(unexpected());
    };
    if value.get("error").is_some_and(serde_json::Value::is_string) {
        let mut error: EntraError = serde_json::from_value(value).map_err(|_| unexpected())?;
        error.status = status;
        return Err(Error::Entra(Box::new(error)));
    }
    if (200..300).contains(&status) && value.get("access_token").is_some() {
        return serde_json::from_value(value).map_err(|_| unexpected());
    }
    Err(unexpected())
}

pub(crate) async fn read_capped(
    mut response: reqwest::Response,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_BODY_BYTES {
            break;
        }
    }
    Ok(body)
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The first characters of a body, control characters escaped, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .take(SNIPPET_CHARS)
        .flat_map(|c| {
            if c.is_control() && c != ' ' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    if out.trim().is_empty() {
        "(empty body)".into()
    } else {
        out
    }
}

/// reqwest's error and its causes on one line ("connection refused", "dns error: …").
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = vec![];
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    parts.join(": ")
}
