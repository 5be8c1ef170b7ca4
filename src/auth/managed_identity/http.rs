//! The HTTP side shared by the three sources: a client that never uses a proxy or follows a
//! redirect, a GET with bounded retries, and reading a 200 answer into a [`ManagedToken`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::{ManagedIdentityError, ManagedToken, SourceKind};
use crate::auth::client::{ClientOptions, read_capped, snippet};
use crate::auth::response::{EntraError, MAX_LIFETIME_SECONDS};
use crate::auth::{net_failure, retry};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// IMDS answers from the host itself in milliseconds; a connection that takes longer than this
/// is not coming (off Azure, 169.254.169.254 is usually a black hole). The Azure SDKs probe it
/// with a short timeout for the same reason.
const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One answer, read up to [`crate::auth::client::MAX_BODY_BYTES`].
pub(super) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub www_authenticate: Option<String>,
    pub location: String,
    pub body: Vec<u8>,
}

pub(super) struct Client {
    http: reqwest::Client,
    kind: SourceKind,
    retries: u32,
    backoff: Duration,
    on_retry: Option<crate::auth::client::RetryObserver>,
}

impl Client {
    pub fn new(kind: SourceKind, options: &ClientOptions) -> Result<Self> {
        let connect = match kind {
            SourceKind::Imds => options.connect_timeout.min(IMDS_CONNECT_TIMEOUT),
            SourceKind::AppService | SourceKind::AzureArc => options.connect_timeout,
        };
        // No proxy: these endpoints are on the host (or its sidecar), and a proxy would see the
        // App Service header or the Arc key. No redirect: it would carry them to another host.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect)
            .timeout(options.timeout)
            .user_agent(concat!("entra-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ManagedIdentityError::EndpointUnreachable {
                kind,
                url: String::new(),
                detail: format!("the HTTP client could not be built: {e}"),
            })?;
        Ok(Self {
            http,
            kind,
            retries: options.retries.min(retry::MAX_RETRIES),
            backoff: options.backoff,
            on_retry: None,
        })
    }

    /// Tells `on_retry` about every retry before it happens (the CLI's `note:` line, the TUI's
    /// status bar).
    #[must_use]
    pub fn observed(mut self, on_retry: Option<crate::auth::client::RetryObserver>) -> Self {
        self.on_retry = on_retry;
        self
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// GETs `url` with `headers`, retrying (at most [`retry::MAX_RETRIES`] times, waiting what
    /// `Retry-After` says up to [`retry::MAX_WAIT`]) while `retryable(status)`. Returns the last
    /// answer and how many attempts were made.
    pub async fn get(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        retryable: fn(u16) -> bool,
    ) -> Result<(Answer, u32)> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = self.once(url, headers).await?;
            if !retryable(answer.status) || attempt > self.retries {
                return Ok((answer, attempt));
            }
            let Some(wait) = retry::delay(
                attempt,
                self.backoff,
                answer.retry_after.as_deref(),
                Utc::now(),
            ) else {
                // Longer than the tool waits by itself: the operator decides.
                return Ok((answer, attempt));
            };
            tracing::warn!(
                status = answer.status,
                ?wait,
                "managed identity endpoint: retrying"
            );
            if let Some(observer) = &self.on_retry {
                observer(&retry::RetryNotice {
                    attempt,
                    of: self.retries,
                    wait,
                    reason: format!("{} answered HTTP {}", self.kind, answer.status),
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    async fn once(&self, url: &Url, headers: &[(&str, &str)]) -> Result<Answer> {
        let mut request = self.http.get(url.clone());
        for (name, value) in headers {
            // The App Service header and the Arc key are secrets: marked so, the HTTP stack
            // never indexes (HPACK) or shows them.
            let Ok(mut value) = reqwest::header::HeaderValue::from_str(value) else {
                return Err(ManagedIdentityError::BadEndpoint {
                    variable: "a header",
                    value: (*name).to_owned(),
                    reason: "its value holds characters no HTTP header can carry".into(),
                }
                .into());
            };
            value.set_sensitive(!name.eq_ignore_ascii_case("metadata"));
            request = request.header(*name, value);
        }
        let shown = endpoint_of(url);
        tracing::debug!(endpoint = %shown, source = self.kind.id(), "managed identity request");
        let response = request
            .send()
            .await
            .map_err(|e| self.transport(&shown, &e))?;
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
        let retry_after = header(reqwest::header::RETRY_AFTER).filter(|v| !v.is_empty());
        let www_authenticate = header(reqwest::header::WWW_AUTHENTICATE);
        let location = header(reqwest::header::LOCATION).unwrap_or_default();
        let body = read_capped(response)
            .await
            .map_err(|e| self.transport(&shown, &e))?;
        Ok(Answer {
            status,
            content_type,
            retry_after,
            www_authenticate,
            location,
            body,
        })
    }

    fn transport(&self, url: &str, error: &reqwest::Error) -> Error {
        let detail = net_failure::error_chain(error);
        // reqwest marks a connect timeout as a connect error too.
        let never_connected = error.is_connect();
        match self.kind {
            SourceKind::Imds if never_connected => ManagedIdentityError::NotOnAzure {
                url: url.to_owned(),
                detail,
            },
            kind => ManagedIdentityError::EndpointUnreachable {
                kind,
                url: url.to_owned(),
                detail,
            },
        }
        .into()
    }

    /// The error for an answer that is neither a token nor a failure this source explains: a
    /// redirect, Entra ID's own refusal passed on, or an unexpected body.
    pub fn other(&self, url: &Url, answer: &Answer, attempts: u32) -> Error {
        let url = endpoint_of(url);
        if (300..400).contains(&answer.status) {
            return ManagedIdentityError::Redirected {
                kind: self.kind,
                url,
                status: answer.status,
                location: answer.location.clone(),
            }
            .into();
        }
        if answer.status == 429 {
            return ManagedIdentityError::Throttled {
                kind: self.kind,
                url,
                retry_after: answer.retry_after.clone(),
                attempts,
            }
            .into();
        }
        if let Some(entra) = entra_error(answer) {
            return Error::Entra(Box::new(entra));
        }
        ManagedIdentityError::Unexpected {
            kind: self.kind,
            url,
            status: answer.status,
            content_type: if answer.content_type.is_empty() {
                "no content type".into()
            } else {
                answer.content_type.clone()
            },
            snippet: snippet(&answer.body),
        }
        .into()
    }

    /// A 200 answer read as a token: `access_token`, and `expires_on` (unix seconds, a number
    /// or digits in a string) or `expires_in`. A lifetime no token has is refused.
    pub fn token(&self, url: &Url, answer: &Answer, now: DateTime<Utc>) -> Result<ManagedToken> {
        let unexpected = || self.other(url, answer, 1);
        let Ok(serde_json::Value::Object(body)) = serde_json::from_slice(&answer.body) else {
            return Err(unexpected());
        };
        let Some(token) = body.get("access_token").and_then(|v| v.as_str()) else {
            return Err(unexpected());
        };
        let token = Secret::new(token);
        crate::scrub::remember(&token);
        let seconds = |name: &str| -> Option<i64> {
            match body.get(name)? {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        };
        let limit = i64::try_from(MAX_LIFETIME_SECONDS).unwrap_or(i64::MAX);
        let expires_on = match (seconds("expires_on"), seconds("expires_in")) {
            (Some(on), _) if (on - now.timestamp()).abs() <= limit => {
                DateTime::from_timestamp(on, 0)
            }
            (None, Some(inn)) if (0..=limit).contains(&inn) => {
                Some(now + chrono::TimeDelta::seconds(inn))
            }
            _ => None,
        };
        let Some(expires_on) = expires_on else {
            return Err(ManagedIdentityError::Unexpected {
                kind: self.kind,
                url: endpoint_of(url),
                status: answer.status,
                content_type: answer.content_type.clone(),
                snippet: "a token whose expires_on / expires_in is missing or not a plausible \
                          time (the token was not used)"
                    .into(),
            }
            .into());
        };
        let text = |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(ManagedToken {
            token,
            expires_on,
            resource: text("resource"),
            client_id: text("client_id"),
            source: self.kind,
            endpoint: endpoint_of(url),
        })
    }
}

/// A URL as shown in messages: no query (it names the identity and resource, which the
/// evidence lists apart) and no user info.
pub(super) fn endpoint_of(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Entra ID's refusal as IMDS passes it on (`{"error":"invalid_resource","error_description":
/// "AADSTS500011: …"}`): only when it names an AADSTS code, so IMDS's own errors stay its own.
fn entra_error(answer: &Answer) -> Option<EntraError> {
    let mut error: EntraError = serde_json::from_slice(&answer.body).ok()?;
    error.status = answer.status;
    error.code().map(|_| error)
}

/// A 400's JSON `field`, printable, when it holds `phrase` (any case): how the endpoints say an
/// identity is not there.
pub(super) fn said_in_400(answer: &Answer, field: &str, phrase: &str) -> Option<String> {
    if answer.status != 400 {
        return None;
    }
    let body: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
    let said = body.get(field)?.as_str()?;
    said.to_ascii_lowercase()
        .contains(phrase)
        .then(|| crate::scrub::printable_line(said))
}
