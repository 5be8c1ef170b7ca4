//! The lookup from start to end, for the CLI's `signins` and the TUI: a Graph token (an admin
//! app's, or the daemon's own), the paged read, and the findings.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Query, SignIn};
use crate::auth::client::RetryObserver;
use crate::consent::AdminApp;
use crate::diagnose::{Finding, preflight};
use crate::environment::Environment;
use crate::error::Result;
use crate::graph::ReadFailure;
use crate::setup::{self, Spec};

/// What to look up, and as whom.
#[derive(Debug, Clone)]
pub struct LookupRequest {
    /// The tenant, and the app whose credential reads Graph when no admin app is given.
    pub daemon: Spec,
    pub admin: Option<AdminApp>,
    /// Microsoft Graph's base URL; the authority's cloud's Graph when `None`.
    pub graph_url: Option<String>,
    pub query: Query,
}

/// What the lookup found.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup {
    pub graph_url: String,
    /// The client id that read the log.
    pub reader: String,
    pub entries: Vec<SignIn>,
    /// Entries Graph sent that were not sign-ins this tool can read.
    pub skipped: usize,
    /// Sorted, most important first.
    pub findings: Vec<Finding>,
}

/// Runs the lookup. `stdin` is read at most once, for a daemon secret from standard input;
/// `on_retry` hears of every throttled page waited out.
pub async fn lookup(
    request: &LookupRequest,
    env: &Environment,
    stdin: &mut (dyn FnMut() -> std::io::Result<String> + Send),
    now: DateTime<Utc>,
    on_retry: Option<RetryObserver>,
) -> Result<Lookup> {
    request.query.validate()?;
    // The reading app's token is for Microsoft Graph, whatever scope the daemon uses.
    let mut daemon = request.daemon.clone();
    if daemon.scopes.iter().all(|s| s.trim().is_empty()) {
        daemon.scopes = vec!["https://graph.microsoft.com/.default".to_owned()];
    }
    let daemon = &daemon;
    let context = daemon.fix_context();
    let (token, graph_url) = crate::consent::graph_token(
        daemon,
        request.admin.as_ref(),
        request.graph_url.as_deref(),
        env,
        stdin,
        now,
    )
    .await?;
    let reader = request
        .admin
        .as_ref()
        .map(|a| a.client_id.clone())
        .or_else(|| daemon.client_id.clone())
        .unwrap_or_else(|| "<the reading app>".to_owned());
    let options = setup::client_options(&daemon.network, env)?;
    let mut client = crate::auth::TokenClient::new(options)?;
    if let Some(observer) = on_retry {
        client = client.on_retry(observer);
    }
    let (entries, skipped, findings) =
        match super::read(&client, &graph_url, &token, &request.query).await {
            Ok((entries, skipped)) => {
                let found = super::findings(&entries, &request.query, &context);
                (entries, skipped, found)
            }
            Err(ReadFailure::Denied {
                url,
                status,
                detail,
            }) => (
                Vec::new(),
                0,
                vec![super::denied(status, &detail, &url, &reader)],
            ),
            Err(ReadFailure::NotFound { what }) => (
                Vec::new(),
                0,
                vec![crate::diagnose::consent::not_found(&what)],
            ),
            Err(ReadFailure::Failed(error)) => {
                (Vec::new(), 0, vec![preflight::error(&error, &context)])
            }
        };
    Ok(Lookup {
        graph_url,
        reader,
        entries,
        skipped,
        findings,
    })
}
