//! Paging through `auditLogs/signIns`: each page's `@odata.nextLink` is followed only to the
//! scheme, host and port of the Graph base (a link elsewhere would hand it the bearer token),
//! a 429 waits as `Retry-After` says (up to [`crate::auth::retry::MAX_WAIT`]; longer is given
//! up, not slept), and the read stops at the entries asked for or [`MAX_PAGES`].

use serde_json::Value;
use url::Url;

use super::{Query, SignIn};
use crate::auth::TokenClient;
use crate::auth::authority::ensure_secure;
use crate::auth::client::{read_capped, snippet};
use crate::consent::ReadFailure;
use crate::error::Error;
use crate::secret::Secret;

/// Entries asked for per page: a real sign-in entry is a few kilobytes, so a page stays well
/// under the client's body cap (Graph's own default and maximum is 1,000).
pub const PAGE_SIZE: u32 = 50;
/// Pages read at most, whatever the server keeps linking to.
pub const MAX_PAGES: usize = 40;
/// 429 answers waited out per lookup before giving up.
const MAX_THROTTLED: u32 = 3;

/// The sign-ins `query` selects, newest first as Graph lists them, at most `query.top`; and how
/// many entries were unreadable (skipped, not fatal).
pub async fn read(
    client: &TokenClient,
    graph_url: &str,
    token: &Secret,
    query: &Query,
) -> Result<(Vec<SignIn>, usize), ReadFailure> {
    let failed = ReadFailure::Failed;
    query.validate().map_err(failed)?;
    let base = Url::parse(graph_url).map_err(|e| {
        failed(Error::InvalidInput {
            what: format!("Graph URL {graph_url:?}"),
            reason: e.to_string(),
        })
    })?;
    let top = usize::try_from(query.top).unwrap_or(usize::MAX);
    let mut next = Some(query.url(graph_url));
    let mut entries = Vec::new();
    let mut skipped = 0;
    let mut pages = 0;
    let mut throttled = 0;
    while let Some(url) = next.take() {
        if entries.len() >= top || pages >= MAX_PAGES {
            break;
        }
        let page = match get(client, &url, token).await? {
            Page::Body(page) => page,
            Page::Throttled(retry_after) => {
                throttled += 1;
                let wait = retry_after.as_deref().and_then(|value| {
                    crate::auth::retry::delay(
                        1,
                        std::time::Duration::ZERO,
                        Some(value),
                        chrono::Utc::now(),
                    )
                });
                let left = client.deadline().remaining();
                match (wait, left) {
                    (Some(wait), Some(left)) if throttled <= MAX_THROTTLED && wait < left => {
                        tracing::info!(?wait, "Graph throttled the sign-in read; waiting");
                        tokio::time::sleep(wait).await;
                        next = Some(url);
                        continue;
                    }
                    _ => {
                        return Err(failed(Error::Throttled { url, retry_after }));
                    }
                }
            }
        };
        pages += 1;
        for value in page
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match serde_json::from_value::<SignIn>(value.clone()) {
                Ok(entry) if entries.len() < top => entries.push(entry),
                Ok(_) => {}
                Err(_) => skipped += 1,
            }
        }
        next = match page.get("@odata.nextLink").and_then(Value::as_str) {
            Some(link) => Some(same_origin(&base, link).map_err(failed)?),
            None => None,
        };
    }
    Ok((entries, skipped))
}

/// A next link, only when it stays where the Graph base is.
fn same_origin(base: &Url, link: &str) -> Result<String, Error> {
    let refuse = |reason: &str| Error::InvalidInput {
        what: format!("Graph's @odata.nextLink {}", snippet(link.as_bytes())),
        reason: reason.into(),
    };
    let url = Url::parse(link).map_err(|e| refuse(&e.to_string()))?;
    if url.origin() != base.origin() {
        return Err(refuse(&format!(
            "leaves {} (the bearer token is sent to Graph's host only)",
            base.origin().ascii_serialization()
        )));
    }
    Ok(url.into())
}

enum Page {
    Body(Value),
    /// 429, with its `Retry-After`.
    Throttled(Option<String>),
}

/// One page: 401/403 become [`ReadFailure::Denied`] with Graph's code and message.
async fn get(client: &TokenClient, url_text: &str, token: &Secret) -> Result<Page, ReadFailure> {
    let failed = ReadFailure::Failed;
    let url = Url::parse(url_text).map_err(|e| {
        failed(Error::InvalidInput {
            what: format!("Graph URL {url_text:?}"),
            reason: e.to_string(),
        })
    })?;
    ensure_secure(&url).map_err(failed)?;
    crate::scrub::remember(token);
    let deadline = client.deadline();
    let Some(left) = deadline.remaining() else {
        return Err(failed(crate::auth::client::deadline_reached(
            url_text, &deadline, 0,
        )));
    };
    let response = client
        .http()
        .get(url)
        .bearer_auth(token.expose())
        .timeout(left)
        .send()
        .await
        .map_err(|e| failed(client.transport(url_text, &e)))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = read_capped(response)
        .await
        .map_err(|e| failed(client.transport(url_text, &e)))?;
    if status == 429 {
        return Ok(Page::Throttled(retry_after));
    }
    if status == 401 || status == 403 {
        let detail = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                let error = v.get("error")?;
                let text = |name: &str| {
                    error
                        .get(name)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                Some(format!("{}: {}", text("code"), text("message")))
            })
            .unwrap_or_else(|| snippet(&body));
        return Err(ReadFailure::Denied {
            url: url_text.to_owned(),
            status,
            detail,
        });
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value) if status == 200 => Ok(Page::Body(value)),
        _ => Err(failed(Error::UnexpectedResponse {
            url: url_text.to_owned(),
            status,
            content_type: String::new(),
            snippet: snippet(&body),
        })),
    }
}
