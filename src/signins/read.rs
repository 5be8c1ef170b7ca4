//! Paging through `auditLogs/signIns` with [`crate::graph::Pages`] (next links kept on Graph's
//! origin, throttling waited out as `Retry-After` says), stopping at the entries asked for or
//! [`MAX_PAGES`].

use super::{Query, SignIn};
use crate::auth::TokenClient;
use crate::graph::{Pages, ReadFailure};
use crate::secret::Secret;

/// Entries asked for per page: a real sign-in entry is a few kilobytes, so a page stays well
/// under the client's body cap (Graph's own default and maximum is 1,000).
pub const PAGE_SIZE: u32 = 50;
/// Pages read at most, whatever the server keeps linking to (`MAX_TOP` / `PAGE_SIZE` needs 20).
pub const MAX_PAGES: u32 = 40;

/// The sign-ins `query` selects, newest first as Graph lists them, at most `query.top`; and how
/// many entries were unreadable (skipped, not fatal).
pub async fn read(
    client: &TokenClient,
    graph_url: &str,
    token: &Secret,
    query: &Query,
) -> Result<(Vec<SignIn>, usize), ReadFailure> {
    query.validate().map_err(ReadFailure::Failed)?;
    let top = usize::try_from(query.top).unwrap_or(usize::MAX);
    let mut pages = Pages::new(client, token, &query.url(graph_url));
    let mut entries = Vec::new();
    let mut skipped = 0;
    while entries.len() < top && pages.pages_read() < MAX_PAGES {
        let Some(page) = pages.next_page().await else {
            break;
        };
        for value in page? {
            match serde_json::from_value::<SignIn>(value) {
                Ok(entry) if entries.len() < top => entries.push(entry),
                Ok(_) => {}
                Err(_) => skipped += 1,
            }
        }
    }
    Ok((entries, skipped))
}
