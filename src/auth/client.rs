//! The token client: one form-encoded POST to the token endpoint, read into a typed answer.
//!
//! Redirects are never followed (a 3xx on a credential POST is a misconfigured host or a proxy,
//! and following it would hand the credential to whoever answered), bodies are read up to a cap,
//! and every failure names what happened and what to try.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::debug;
use url::Url;

use super::authority::{assertion_clock, ensure_secure};
use super::deadline::{Deadline, TimeLimit};
use super::retry::{self, RetryNotice};

use super::managed_identity::{self, ManagedIdentityRequest};
use super::net_failure::{self, Limits, Target};
use super::response::SigningCertificate;
use super::{Authority, Credential, EntraError, ScopeSet, TokenResponse};
use crate::error::{Error, Result};
use crate::transport::Transport;

/// Largest body read from the token endpoint or discovery; a real one is a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const SNIPPET_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The limit of each connection (`--connect-timeout`).
    pub connect_timeout: Duration,
    /// The budget of a command's network work, retries included (`--timeout`).
    pub timeout: Duration,
    /// The command's deadline, shared by every request made with (a clone of) these options;
    /// `None` gives each operation its own of `timeout` (see [`super::deadline`]).
    pub deadline: Option<Deadline>,
    /// Retries after the first attempt (at most [`retry::MAX_RETRIES`]).
    pub retries: u32,
    /// The first back-off; it doubles. Tests set it to zero.
    pub backoff: Duration,
    /// Extra CAs and proxies.
    pub transport: Transport,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            deadline: None,
            retries: retry::MAX_RETRIES,
            backoff: Duration::from_secs(1),
            transport: Transport::default(),
        }
    }
}

/// Called before each retry, so the CLI and the TUI can show it.
pub type RetryObserver = std::sync::Arc<dyn Fn(&RetryNotice) + Send + Sync>;

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

/// The client id a managed identity request holds when the operator did not name the
/// identity by its client id: the id is the identity's, and only its token says it (`appid`).
/// Never printed as an id: [`TokenRequest::known_client_id`] is `None` then.
pub const UNKNOWN_CLIENT_ID: &str = "managed-identity-client-id-from-token";

impl TokenRequest {
    /// Where the token is asked: the token endpoint, or a managed identity's endpoint.
    pub fn token_endpoint(&self) -> String {
        if let Credential::ManagedIdentity { source, .. } = &self.credential {
            return source.endpoint().to_string();
        }
        self.token_endpoint
            .as_ref()
            .map_or_else(|| self.authority.token_endpoint(), ToString::to_string)
    }

    pub fn is_managed_identity(&self) -> bool {
        matches!(self.credential, Credential::ManagedIdentity { .. })
    }

    /// The tenant the token must come from, as the operator named it; `None` for a managed
    /// identity (its tenant is the token's `tid`, whatever `--tenant` said: a token is never
    /// checked against a tenant the operator guessed).
    pub fn known_tenant(&self) -> Option<&super::Tenant> {
        (!self.is_managed_identity()).then_some(&self.authority.tenant)
    }

    /// The app's client id; for a managed identity only the client id it was named by
    /// (`client-id=GUID`), else `None` (the token's `appid` says it).
    pub fn known_client_id(&self) -> Option<&str> {
        match &self.credential {
            Credential::ManagedIdentity {
                identity: super::IdentitySelector::ClientId(id),
                ..
            } => Some(id),
            Credential::ManagedIdentity { .. } => None,
            _ => Some(&self.client_id),
        }
    }
}

#[derive(Clone)]
pub struct TokenClient {
    http: reqwest::Client,
    options: ClientOptions,
    on_retry: Option<RetryObserver>,
}

impl std::fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl TokenClient {
    pub fn new(options: ClientOptions) -> Result<Self> {
        let http = http_client(&options)?;
        Ok(Self {
            http,
            options,
            on_retry: None,
        })
    }

    /// Tells `observer` about every retry before it happens.
    #[must_use]
    pub fn on_retry(mut self, observer: RetryObserver) -> Self {
        self.on_retry = Some(observer);
        self
    }

    /// A client over an existing [`http_client`], so many requests share its connections (fleet
    /// mode); `options` must be the timeouts it was built with, for the error messages.
    pub fn with_http(http: reqwest::Client, options: ClientOptions) -> Self {
        Self {
            http,
            options,
            on_retry: None,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Who hears of retries: Graph reads over this client report theirs there too.
    pub(crate) fn retry_observer(&self) -> Option<&RetryObserver> {
        self.on_retry.as_ref()
    }

    /// How long the first retry waits when the server names no `Retry-After`.
    pub(crate) fn backoff(&self) -> Duration {
        self.options.backoff
    }

    /// The deadline an operation starting now runs under: the command's, or one of its own.
    pub fn deadline(&self) -> Deadline {
        self.options
            .deadline
            .unwrap_or_else(|| Deadline::after(self.options.timeout))
    }

    /// Sends the client credentials request, retrying what is worth retrying (see
    /// [`retry`]). `now` stamps the client assertion; each attempt signs a fresh one. A refusal
    /// of a certificate credential names the certificate's thumbprints.
    pub async fn acquire(
        &self,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse> {
        // A managed identity sends no credential to Entra ID: its endpoint is asked instead.
        if let Credential::ManagedIdentity {
            identity,
            source,
            arc_keys,
        } = &request.credential
        {
            let asked = ManagedIdentityRequest::new(identity.clone(), &request.scopes);
            // Under the command's one deadline (`--timeout`), retries included, as Entra's.
            let deadline = self.deadline();
            let endpoint = request.token_endpoint();
            let Some(left) = deadline.remaining() else {
                return Err(deadline_reached(&endpoint, &deadline, 0));
            };
            // Boxed: its future would otherwise grow every future that awaits `acquire`.
            let asking = Box::pin(managed_identity::acquire_observed(
                source,
                &asked,
                &self.options,
                arc_keys,
                now,
                self.on_retry.clone(),
            ));
            return match tokio::time::timeout(left, asking).await {
                Ok(token) => Ok(token?.into_response(now)),
                Err(_) => Err(deadline_reached(&endpoint, &deadline, 1)),
            };
        }
        self.send(request, now).await.map_err(|error| match error {
            Error::Entra(mut entra) => {
                if let Credential::Certificate { certificate, .. } = &request.credential {
                    let info = &certificate.info;
                    entra.signed_with = Some(SigningCertificate {
                        subject: info.subject.clone(),
                        thumbprint_sha1: info.thumbprint_sha1.clone(),
                        thumbprint_sha256: info.thumbprint_sha256.clone(),
                    });
                }
                Error::Entra(entra)
            }
            other => other,
        })
    }

    async fn send(&self, request: &TokenRequest, now: DateTime<Utc>) -> Result<TokenResponse> {
        let endpoint = request.token_endpoint();
        let url = Url::parse(&endpoint).map_err(|e| Error::InvalidAuthority {
            value: endpoint.clone(),
            reason: e.to_string(),
        })?;
        ensure_secure(&url)?;
        let now = assertion_clock(&url, now, Utc::now());
        let retries = self.options.retries.min(retry::MAX_RETRIES);
        let deadline = self.deadline();
        let started = Utc::now();
        let mut attempt = 0;
        loop {
            let Some(left) = deadline.remaining() else {
                return Err(deadline_reached(&endpoint, &deadline, attempt));
            };
            // A retried assertion is stamped with the time it is really sent.
            let stamp = if attempt == 0 {
                now
            } else {
                now + (Utc::now() - started)
            };
            let outcome = self.attempt(request, &url, &endpoint, stamp, left).await;
            attempt += 1;
            let (reason, retry_after) = match &outcome {
                Attempt::Answered {
                    status,
                    retry_after,
                    ..
                } if retry::is_retryable_status(*status) => {
                    (format!("HTTP {status}"), retry_after.clone())
                }
                // As MSAL does: a timeout may pass, a refused connection or an unknown host won't.
                Attempt::Failed(error @ Error::Timeout { .. }) => (short(error), None),
                Attempt::Answered { .. } | Attempt::Failed(_) => {
                    return outcome.finish(&endpoint, attempt);
                }
            };
            let wait = retry::delay(
                attempt,
                self.options.backoff,
                retry_after.as_deref(),
                Utc::now(),
            );
            let Some(wait) = wait.filter(|_| attempt <= retries) else {
                return outcome.finish(&endpoint, attempt);
            };
            if deadline.passed_by(wait) {
                // Waiting would end past the deadline, and an attempt after it could not run.
                tracing::warn!(
                    "{reason}; not retrying: the command's deadline (--timeout {} s) would pass \
                     before the retry",
                    deadline.budget().as_secs()
                );
                return outcome.finish(&endpoint, attempt);
            }
            let notice = RetryNotice {
                attempt,
                of: retries,
                wait,
                reason,
            };
            tracing::warn!("{notice}");
            if let Some(observer) = &self.on_retry {
                observer(&notice);
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        request: &TokenRequest,
        url: &Url,
        endpoint: &str,
        now: DateTime<Utc>,
        left: Duration,
    ) -> Attempt {
        let credential_fields =
            match request
                .credential
                .form_fields(&request.client_id, endpoint, now)
            {
                Ok(fields) => fields,
                Err(error) => return Attempt::Failed(error),
            };
        let scope = request.scopes.to_request_value();
        let mut form: Vec<(&str, &str)> = vec![
            ("grant_type", "client_credentials"),
            ("client_id", &request.client_id),
            ("scope", &scope),
        ];
        form.extend(request.credential.assertion_type());
        form.extend(credential_fields.iter().map(|(name, value)| {
            crate::scrub::remember(value);
            (*name, value.expose())
        }));
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
        let sent = self.http.post(url.clone()).form(&form).timeout(left).send();
        let response = match sent.await {
            Ok(response) => response,
            Err(e) => return Attempt::Failed(self.transport(endpoint, &e)),
        };
        let status = response.status().as_u16();
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        let retry_after =
            Some(header(&response, reqwest::header::RETRY_AFTER)).filter(|v| !v.is_empty());
        if response.status().is_redirection() {
            let location = header(&response, reqwest::header::LOCATION);
            return Attempt::Failed(Error::Redirected {
                url: endpoint.to_owned(),
                status,
                location,
            });
        }
        match read_capped(response).await {
            Ok(body) => {
                debug!(status, content_type = %content_type, bytes = body.len(), "token response");
                Attempt::Answered {
                    status,
                    content_type,
                    retry_after,
                    body,
                }
            }
            Err(e) => Attempt::Failed(self.transport(endpoint, &e)),
        }
    }

    /// The limits requests of this client run under, for the messages.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            connect: self.options.connect_timeout,
            total: self
                .options
                .deadline
                .map_or(self.options.timeout, |d| d.budget()),
        }
    }

    /// Maps a transport failure to an error that says what happened and what to try.
    pub(crate) fn transport(&self, url: &str, error: &reqwest::Error) -> Error {
        if let Some(untrusted) = self.options.transport.untrusted(url, error) {
            return untrusted;
        }
        net_failure::error(url, error, self.limits(), Target::Authority)
    }
}

/// One attempt's outcome: an answer to parse, or a failure before there was one.
enum Attempt {
    Answered {
        status: u16,
        content_type: String,
        retry_after: Option<String>,
        body: Vec<u8>,
    },
    Failed(Error),
}

impl Attempt {
    /// The answer or the error of the last of `attempts` attempts; a timeout of the command's
    /// deadline says how many attempts it allowed.
    fn finish(self, endpoint: &str, attempts: u32) -> Result<TokenResponse> {
        match self {
            Attempt::Answered {
                status,
                content_type,
                retry_after,
                body,
            } => match parse_token_body(endpoint, status, &content_type, &body) {
                // Not Entra's own error body: a bare 429 from Entra ID or a gateway.
                Err(Error::UnexpectedResponse { .. }) if status == 429 => Err(Error::Throttled {
                    url: endpoint.to_owned(),
                    retry_after,
                }),
                other => other,
            },
            Attempt::Failed(Error::Timeout {
                url,
                phase,
                limit: TimeLimit::Deadline { budget, .. },
                hint,
            }) => Err(Error::Timeout {
                url,
                phase,
                limit: TimeLimit::Deadline { budget, attempts },
                hint,
            }),
            Attempt::Failed(error) => Err(error),
        }
    }
}

/// The error for a request the command's deadline left no time to send (again).
pub(crate) fn deadline_reached(url: &str, deadline: &Deadline, attempts: u32) -> Error {
    Error::Timeout {
        url: url.to_owned(),
        phase: "the request",
        limit: TimeLimit::Deadline {
            budget: deadline.budget(),
            attempts,
        },
        hint: "the earlier requests or attempts used the whole time; retry, or raise --timeout",
    }
}

/// A failure in a few words, for a retry notice.
fn short(error: &Error) -> String {
    match error {
        Error::Timeout { phase, .. } => format!("{phase} timed out"),
        other => other.to_string(),
    }
}

/// The HTTP client every request of the tool uses: the given timeouts, roots and proxies (see
/// [`Transport`]), no redirects (a credential or a token must never follow one to another
/// host), and a resolver that answers reserved names itself.
pub fn http_client(options: &ClientOptions) -> Result<reqwest::Client> {
    options
        .transport
        .client_builder()?
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(net_failure::SpecialUseResolver))
        .user_agent(concat!("entra-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Network {
            url: String::new(),
            fault: net_failure::NetworkFault::Other,
            detail: net_failure::error_chain(&e),
            hint: "the HTTP client could not be built".into(),
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
        if let Some((field, reason)) = super::response::implausible_lifetime(&value) {
            let raw = value
                .get(field)
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(Error::ImplausibleLifetime {
                from: url.to_owned(),
                field,
                value: snippet(raw.as_bytes()),
                reason: reason.to_owned(),
            });
        }
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
    // A body quoted in a message may echo a token or a secret (a misbehaving proxy, an error
    // page that dumps the request): scrub it before it reaches the screen.
    let text = crate::secret::redact(&String::from_utf8_lossy(body));
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
