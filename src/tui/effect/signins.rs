//! `l`: the sign-in log entry of a refused token request, read through Microsoft Graph with the
//! form's admin app (or, when its fields are empty, the app's own credential), as
//! `entra-doctor signins --correlation-id` reads it.

use chrono::{DateTime, Utc};

use super::Services;
use crate::diagnose::{FixContext, preflight};
use crate::signins::{LookupRequest, Query, SignIn};
use crate::tui::action::Action;
use crate::tui::form::Form;
use crate::tui::state::{RequestId, SignInsTable};

/// A correlation id names one request; a few entries are more than enough (a retry of it).
const TOP: u32 = 10;

pub(super) async fn look_up(
    id: RequestId,
    form: &Form,
    correlation_id: String,
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let request = LookupRequest {
        daemon: services.spec(form),
        admin: form.admin(),
        graph_url: None,
        query: Query {
            correlation_id: Some(correlation_id.clone()),
            app_id: None,
            since: None,
            top: TOP,
        },
    };
    let mut no_stdin = || Ok(String::new());
    let on_retry = services.retry_observer(id);
    match crate::signins::lookup(&request, &services.network, &mut no_stdin, now, on_retry).await {
        Ok(lookup) => {
            // The log was read when it gave entries or said it has none yet; otherwise Graph
            // refused the read (permission, licence) or failed, and the findings say why.
            let read = !lookup.entries.is_empty()
                || lookup.findings.iter().any(|f| f.id == "signins.none-yet");
            let summary = if !read {
                format!(
                    "Sign-in log not read: {}",
                    lookup
                        .findings
                        .first()
                        .map_or("no answer", |f| f.title.as_str())
                )
            } else if lookup.entries.is_empty() {
                "Sign-in log: nothing for this correlation id yet (the log lags minutes behind: l again later)."
                    .to_owned()
            } else {
                // The first entry's verdict: a correlation id names one request (retries aside).
                let first = lookup
                    .entries
                    .first()
                    .and_then(SignIn::error_code)
                    .map_or_else(
                        || "success".to_owned(),
                        |code| format!("failure AADSTS{code}"),
                    );
                format!(
                    "Sign-in log: {first} logged for this correlation id ({} entr{}).",
                    lookup.entries.len(),
                    if lookup.entries.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    }
                )
            };
            Action::SignInsLookedUp {
                id,
                summary,
                table: read.then(|| {
                    Box::new(SignInsTable {
                        correlation_id,
                        reader: lookup.reader,
                        entries: lookup.entries,
                    })
                }),
                findings: lookup.findings,
            }
        }
        Err(error) => {
            let finding = preflight::error(&error, &FixContext::default());
            Action::SignInsLookedUp {
                id,
                summary: format!("Sign-in log not read: {}", finding.title),
                table: None,
                findings: vec![finding],
            }
        }
    }
}
