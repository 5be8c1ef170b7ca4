//! Calling the target API with a token and capturing what came back.
//!
//! The token goes only to https URLs or loopback http (the same rule as credentials), redirects
//! are reported, not followed (a token must not follow a redirect to another host), and the body
//! is read up to [`MAX_BODY_BYTES`] with a note when it was cut.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use crate::auth::authority::ensure_secure;
use crate::auth::net_failure::{self, Limits, Target};
use crate::auth::{ClientOptions, Deadline};
use crate::diagnose::api::ApiAnswer;
use crate::diagnose::www_authenticate::{self, Challenge};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::transport::Transport;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What to send.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    pub url: Url,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub token: Option<Secret>,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub reason: String,
    pub elapsed_ms: u64,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub body_bytes: usize,
    pub truncated: bool,
    pub challenges: Vec<Challenge>,
    pub server_date: Option<DateTime<Utc>>,
}

impl ProbeReport {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body, pretty-printed when it is JSON.
    pub fn pretty_body(&self) -> String {
        serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| self.body.clone())
    }

    pub fn answer(&self) -> ApiAnswer {
        ApiAnswer {
            method: self.method.clone(),
            url: Some(self.url.clone()),
            status: Some(self.status),
            headers: self.headers.clone(),
            body: self.body.clone(),
        }
    }
}

/// The API call to make when none was given, for a token `request` asks for: the well-known
/// resource's harmless probe; but when the authority is on this machine (the demo tenant), the
/// demo's own route for the resource, never the internet (a demo token has no business there).
/// `None` when neither is known: the caller asks for a URL.
pub fn default_url(request: &crate::auth::TokenRequest) -> Option<Url> {
    default_url_of(
        &request.authority.host,
        &request.client_id,
        request.scopes.resource(),
    )
}

/// [`default_url`] from its parts: the authority host, the client id and the resource.
pub fn default_url_of(
    host: &crate::auth::AuthorityHost,
    client_id: &str,
    resource: &str,
) -> Option<Url> {
    if host.is_loopback() {
        return crate::demo::local_urls::probe_url(host, client_id, resource);
    }
    crate::diagnose::Resources::builtin()
        .by_identifier(resource)
        .and_then(|r| r.probe.as_deref())
        .and_then(|url| Url::parse(url).ok())
}

/// Sends probes: no redirects, the given timeouts, roots and proxies.
#[derive(Debug, Clone)]
pub struct Prober {
    http: reqwest::Client,
    limits: Limits,
    /// The command's deadline; without one each probe gets `limits.total`.
    deadline: Option<Deadline>,
    transport: Transport,
}

impl Prober {
    pub fn new(options: &ClientOptions) -> Result<Self> {
        let http = crate::auth::client::http_client(options)?;
        Ok(Self::with_http(http, options))
    }

    /// A prober over an existing [`crate::auth::client::http_client`] built with `options`, so
    /// many probes share its connections (fleet mode).
    pub fn with_http(http: reqwest::Client, options: &ClientOptions) -> Self {
        Self {
            http,
            limits: Limits {
                connect: options.connect_timeout,
                total: options.deadline.map_or(options.timeout, |d| d.budget()),
            },
            deadline: options.deadline,
            transport: options.transport.clone(),
        }
    }

    pub async fn send(&self, request: &ProbeRequest) -> Result<ProbeReport> {
        send(self, request).await
    }
}

async fn send(prober: &Prober, request: &ProbeRequest) -> Result<ProbeReport> {
    let Prober {
        http,
        limits,
        deadline,
        transport: trust,
    } = prober;
    let limits = *limits;
    let deadline = deadline.unwrap_or_else(|| Deadline::after(limits.total));
    if request.token.is_some() {
        ensure_secure(&request.url)?;
    }
    let method = reqwest::Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Error::InvalidInput {
            what: format!("method {:?}", request.method),
            reason: "is not an HTTP method".into(),
        })?;
    let mut builder = http.request(method.clone(), request.url.clone());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(token) = &request.token {
        crate::scrub::remember(token);
        builder = builder.bearer_auth(token.expose());
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let url = request.url.to_string();
    let Some(left) = deadline.remaining() else {
        return Err(crate::auth::client::deadline_reached(&url, &deadline, 0));
    };
    builder = builder.timeout(left);
    let started = Instant::now();
    let fail = |e: &reqwest::Error| {
        trust
            .untrusted(&url, e)
            .unwrap_or_else(|| net_failure::error(&url, e, limits, Target::Api))
    };
    let mut response = builder.send().await.map_err(|e| fail(&e))?;
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(&e))? {
        total += chunk.len();
        let room = MAX_BODY_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if total > MAX_BODY_BYTES {
            break;
        }
    }
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let challenges = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .flat_map(|(_, v)| www_authenticate::parse(v))
        .collect();
    let server_date = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| DateTime::parse_from_rfc2822(v).ok())
        .map(|d| d.with_timezone(&Utc));
    Ok(ProbeReport {
        method: method.to_string(),
        url,
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or_default().to_owned(),
        elapsed_ms,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        body_bytes: total,
        truncated: total > MAX_BODY_BYTES,
        challenges,
        server_date,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Authority, AuthorityHost, Credential, ScopeSet, Tenant, TokenRequest};

    fn graph_request(host: &str) -> TokenRequest {
        TokenRequest {
            authority: Authority::new(
                AuthorityHost::parse(host).unwrap(),
                Tenant::parse("4fd3b6a2-9c1e-4f7b-8a5d-2e6c0b9d7a31").unwrap(),
            ),
            token_endpoint: None,
            client_id: "b31380ba-12b8-4a66-855e-70dadb7b3b7b".into(),
            scopes: ScopeSet::parse(&["https://graph.microsoft.com/.default"]).unwrap(),
            credential: Credential::Secret(Secret::new("x")),
            claims: None,
        }
    }

    #[test]
    fn the_default_probe_stays_on_the_machine_for_a_local_authority() {
        assert_eq!(
            default_url(&graph_request("https://login.microsoftonline.com"))
                .unwrap()
                .as_str(),
            "https://graph.microsoft.com/v1.0/organization"
        );
        assert_eq!(
            default_url(&graph_request("http://127.0.0.1:8400"))
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8400/graph/v1.0/users"
        );
    }
}
