//! Reading Microsoft Graph with an app-only token: one `GET` ([`get`]) and a paged list
//! ([`Pages`]), for the consent audit, the federation comparison, the tenant audit and the
//! sign-in log.
//!
//! Three rules hold for every read:
//! - the bearer token goes only to https (or the loopback demo), and an `@odata.nextLink` that
//!   leaves Graph's scheme, host and port is refused — a hostile page must not harvest it;
//! - 401/403 become [`ReadFailure::Denied`] with Graph's own words, so the caller can name the
//!   missing permission;
//! - throttling (429, and 503/504 which Graph also sends under load) is waited out as Graph asks
//!   (`Retry-After`, seconds or a date; else a doubling backoff) up to [`MAX_THROTTLE_RETRIES`]
//!   times within the command's deadline, each retry reported to the client's retry observer.
//!   Graph throttles per app and tenant, so a tenant-wide read can meet it several times.
//!   (<https://learn.microsoft.com/graph/throttling>)

use serde_json::Value;
use url::Url;

use crate::auth::TokenClient;
use crate::auth::authority::ensure_secure;
use crate::auth::client::{read_capped, snippet};
use crate::auth::retry::{self, RetryNotice};
use crate::error::Error;
use crate::secret::Secret;

/// Retries of one read that Graph throttled, at most. More than a token request gets: a
/// tenant-wide audit reads hundreds of pages and may be throttled more than once.
pub const MAX_THROTTLE_RETRIES: u32 = 5;

/// Pages one listing reads at most: 100,000 pages of 999 items is far beyond any tenant, so
/// reaching it means a server that never stops sending `@odata.nextLink`.
pub const MAX_PAGES: u32 = 100_000;

/// Why Graph could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// 401/403: the Graph token lacks the permission (or the tenant the licence) for the read.
    Denied {
        url: String,
        status: u16,
        detail: String,
    },
    /// The object read is not in the tenant.
    NotFound {
        what: String,
    },
    Failed(Error),
}

/// A Graph `GET` with the bearer token, waiting out throttling; 401/403 become
/// [`ReadFailure::Denied`] with Graph's own words.
pub async fn get(
    client: &TokenClient,
    url_text: &str,
    token: &Secret,
) -> Result<Value, ReadFailure> {
    let failed = |e: Error| ReadFailure::Failed(e);
    let url = Url::parse(url_text).map_err(|e| {
        failed(Error::InvalidInput {
            what: format!("Graph URL {url_text:?}"),
            reason: e.to_string(),
        })
    })?;
    // The bearer token goes only where a credential may go.
    ensure_secure(&url).map_err(failed)?;
    crate::scrub::remember(token);
    let deadline = client.deadline();
    let mut attempt = 0;
    loop {
        let Some(left) = deadline.remaining() else {
            return Err(failed(crate::auth::client::deadline_reached(
                url_text, &deadline, attempt,
            )));
        };
        let response = client
            .http()
            .get(url.clone())
            .bearer_auth(token.expose())
            .timeout(left)
            .send()
            .await
            .map_err(|e| failed(client.transport(url_text, &e)))?;
        attempt += 1;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response)
            .await
            .map_err(|e| failed(client.transport(url_text, &e)))?;
        if matches!(status, 429 | 503 | 504) {
            let throttled = || {
                failed(Error::GraphThrottled {
                    url: url_text.to_owned(),
                    retry_after: retry_after.clone(),
                    attempts: attempt,
                })
            };
            let wait = retry::delay(
                attempt,
                client.backoff(),
                retry_after.as_deref(),
                chrono::Utc::now(),
            );
            let Some(wait) = wait.filter(|_| attempt <= MAX_THROTTLE_RETRIES) else {
                return Err(throttled());
            };
            if deadline.passed_by(wait) {
                return Err(throttled());
            }
            let notice = RetryNotice {
                attempt,
                of: MAX_THROTTLE_RETRIES,
                wait,
                reason: format!("Microsoft Graph answered HTTP {status}"),
            };
            tracing::warn!("{notice}");
            if let Some(observer) = client.retry_observer() {
                observer(&notice);
            }
            tokio::time::sleep(wait).await;
            continue;
        }
        return answer(url_text, status, &body);
    }
}

fn answer(url: &str, status: u16, body: &[u8]) -> Result<Value, ReadFailure> {
    if status == 401 || status == 403 {
        let detail = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                let error = v.get("error")?;
                Some(format!(
                    "{}: {}",
                    text(error, "code").unwrap_or_default(),
                    text(error, "message").unwrap_or_default()
                ))
            })
            .unwrap_or_else(|| snippet(body));
        return Err(ReadFailure::Denied {
            url: url.to_owned(),
            status,
            detail,
        });
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) if status == 200 => Ok(value),
        _ => Err(ReadFailure::Failed(Error::UnexpectedResponse {
            url: url.to_owned(),
            status,
            content_type: String::new(),
            snippet: snippet(body),
        })),
    }
}

/// `{graph}/{version}/applications(appId='…')`: Graph's address of one app registration by its
/// client id. The id goes into the path, so only a GUID may (no quote, slash or query smuggled
/// in).
pub fn application_url(
    graph_url: &str,
    version: &str,
    client_id: &str,
) -> Result<String, ReadFailure> {
    if !crate::auth::tenant::is_guid(&client_id.to_ascii_lowercase()) {
        return Err(ReadFailure::Failed(Error::InvalidInput {
            what: format!("client id {client_id:?}"),
            reason: "is not a GUID".into(),
        }));
    }
    Ok(format!(
        "{}/{version}/applications(appId='{client_id}')",
        graph_url.trim_end_matches('/')
    ))
}

/// The app registration with this client id is not in the tenant.
pub fn application_not_found(client_id: &str) -> ReadFailure {
    ReadFailure::NotFound {
        what: format!("the app registration with appId {client_id} (is it in this tenant?)"),
    }
}

/// A [`get`] under one app registration's address: Graph's 404 says it is not in the tenant.
pub async fn get_application(
    client: &TokenClient,
    url: &str,
    token: &Secret,
    client_id: &str,
) -> Result<Value, ReadFailure> {
    match get(client, url, token).await {
        Err(ReadFailure::Failed(Error::UnexpectedResponse { status: 404, .. })) => {
            Err(application_not_found(client_id))
        }
        other => other,
    }
}

/// A Graph listing read one page at a time, following `@odata.nextLink`, so a caller holds one
/// page (at most `$top` items) whatever the size of the tenant.
pub struct Pages<'a> {
    client: &'a TokenClient,
    token: &'a Secret,
    origin: Option<url::Origin>,
    next: Option<String>,
    /// A bad next link, reported on the call after its page was handed out.
    refused: Option<ReadFailure>,
    read: u32,
}

impl<'a> Pages<'a> {
    /// A listing starting at `first_url` (with its `$select`, `$filter` and `$top`).
    pub fn new(client: &'a TokenClient, token: &'a Secret, first_url: &str) -> Self {
        Self {
            client,
            token,
            origin: Url::parse(first_url).ok().map(|u| u.origin()),
            next: Some(first_url.to_owned()),
            refused: None,
            read: 0,
        }
    }

    /// How many pages were read so far.
    pub fn pages_read(&self) -> u32 {
        self.read
    }

    /// The next page's items; `None` after the last page. A page whose next link cannot be
    /// followed is still handed out; the refusal comes on the call after it.
    pub async fn next_page(&mut self) -> Option<Result<Vec<Value>, ReadFailure>> {
        if let Some(refused) = self.refused.take() {
            return Some(Err(refused));
        }
        let url = self.next.take()?;
        Some(self.read_page(&url).await)
    }

    async fn read_page(&mut self, url: &str) -> Result<Vec<Value>, ReadFailure> {
        if self.read >= MAX_PAGES {
            return Err(ReadFailure::Failed(Error::InvalidInput {
                what: "Microsoft Graph's paging".into(),
                reason: format!(
                    "it sent a next page after {MAX_PAGES} pages; stopped, as a listing this \
                     long means a server that never ends it"
                ),
            }));
        }
        let mut page = get(self.client, url, self.token).await?;
        self.read += 1;
        if let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) {
            match self.checked_next(url, next) {
                Ok(next) => self.next = Some(next),
                Err(refused) => self.refused = Some(refused),
            }
        }
        Ok(match page.get_mut("value").map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        })
    }

    /// A next link is followed only on Graph's own origin, and never back to the same page.
    fn checked_next(&self, current: &str, next: &str) -> Result<String, ReadFailure> {
        let refuse = |reason: String| {
            ReadFailure::Failed(Error::InvalidInput {
                what: "Microsoft Graph's @odata.nextLink".into(),
                reason,
            })
        };
        let parsed = Url::parse(next)
            .map_err(|e| refuse(format!("it is not a URL ({e}); the listing stops here")))?;
        if Some(parsed.origin()) != self.origin {
            return Err(refuse(format!(
                "it points to {}, not to the Graph host the listing started on; the token is \
                 sent nowhere else, so the listing stops here",
                crate::scrub::printable(
                    parsed.host_str().unwrap_or("an unnamed host"),
                    crate::scrub::LINES
                )
            )));
        }
        if next == current {
            return Err(refuse(
                "it names the page just read, which would loop forever; the listing stops here"
                    .into(),
            ));
        }
        Ok(parsed.into())
    }
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// Quotes a value for an OData `$filter` string literal (a `'` is doubled), so an id or a name
/// taken from input cannot end the literal and add a clause.
pub fn odata_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_literals_double_quotes() {
        assert_eq!(odata_literal("o'brien"), "'o''brien'");
        assert_eq!(odata_literal("plain"), "'plain'");
    }
}
