//! `entra-doctor cache list|clear`: the persisted cache (the in-memory one ends with each run).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::json;

use super::args::{CacheAction, CacheArgs};
use super::render::clean;
use super::{OutputFormat, Report};
use crate::cache::TokenCache;
use crate::error::{Error, Result};
use crate::token::relative_to_expiry;

pub(super) fn cache_path(explicit: Option<&PathBuf>) -> Result<PathBuf> {
    explicit
        .cloned()
        .or_else(TokenCache::default_path)
        .ok_or_else(|| Error::Cache {
            path: PathBuf::new(),
            reason: "no user cache directory is known on this system; pass --cache-file PATH"
                .into(),
        })
}

pub fn run(
    args: &CacheArgs,
    format: OutputFormat,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut Report,
) -> Result<()> {
    let path = cache_path(args.cache_file.as_ref())?;
    let (mut cache, warnings) = TokenCache::open(&path)?;
    report
        .stderr
        .extend(warnings.iter().map(|w| format!("warning: {w}")));
    match args.action {
        CacheAction::Clear => {
            let dropped = cache.clear()?;
            report.stdout = match format {
                OutputFormat::Json => format!("{}\n", json!({"cleared": dropped, "file": path})),
                OutputFormat::Text => format!(
                    "Removed {dropped} cached token(s) from {}\n",
                    path.display()
                ),
            };
        }
        CacheAction::List => {
            report.stdout = match format {
                OutputFormat::Json => {
                    let entries: Vec<_> = cache
                        .entries()
                        .map(|e| {
                            json!({
                                "resource": e.resource, "client_id": e.key.client_id,
                                "tenant": e.key.tenant, "authority_host": e.key.authority_host,
                                "scopes": e.key.scopes, "acquired_at": e.acquired_at,
                                "expires_on": e.expires_on, "refresh_on": e.refresh_on,
                                "time_left_seconds": e.time_left(now).num_seconds(),
                                "usable": e.stale_reason(now).is_none(), "source": e.source,
                            })
                        })
                        .collect();
                    format!("{}\n", json!({"file": path, "entries": entries}))
                }
                OutputFormat::Text => list_text(&cache, &path, now),
            };
        }
    }
    Ok(())
}

fn list_text(
    cache: &TokenCache,
    path: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    if cache.is_empty() {
        return format!(
            "The token cache {} is empty.\nTokens are kept in memory only, unless `entra-doctor token --persist-cache` saves them here.\n",
            path.display()
        );
    }
    let mut out = format!("{} cached token(s) in {}\n", cache.len(), path.display());
    for entry in cache.entries() {
        // The same words as `token` and `decode` use for an expiry.
        let state = match entry.stale_reason(now) {
            None => relative_to_expiry(entry.expires_on, now),
            Some(miss) => format!(
                "{}; {}",
                relative_to_expiry(entry.expires_on, now),
                miss.describe()
            ),
        };
        let _ = write!(
            out,
            "\n  resource   {}\n  client id  {}\n  tenant     {} ({})\n  expires    {} ({state})\n  source     {}\n",
            // The file is the user's own, but it is still outside input: no control sequences.
            clean(&entry.resource),
            clean(&entry.key.client_id),
            clean(&entry.key.tenant),
            clean(&entry.key.authority_host),
            entry.expires_on.format("%Y-%m-%d %H:%M:%S UTC"),
            clean(&entry.source),
        );
    }
    out
}
