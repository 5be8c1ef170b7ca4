//! The tenant audit as a task: [`crate::audit::run`] with the form's credential (or its admin
//! app), each judged app sent to the tab through the progress channel in small batches, so the
//! table fills as Graph's pages come in and the screen is redrawn a few times a second, not once
//! per app. Without a progress channel (a headless caller that has none) the task folds the apps
//! into the same bounded [`Tally`] itself and hands it over with the result.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::Services;
use crate::audit::{self, AppAudit, AuditRequest};
use crate::auth::client::RetryObserver;
use crate::diagnose::{Finding, Severity, preflight};
use crate::tui::action::Action;
use crate::tui::form::Form;
use crate::tui::state::{RequestId, Tally};

/// Apps sent in one report at most, and the longest a judged app waits to be sent.
const BATCH: usize = 100;
const BATCH_WAIT: Duration = Duration::from_millis(100);

pub(super) async fn run(
    id: RequestId,
    form: &Form,
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let spec = services.spec(form);
    let context = spec.fix_context();
    let request = AuditRequest {
        reader: spec,
        admin: form.admin(),
        graph_url: None,
        warn_days: crate::registration::DEFAULT_WARN_DAYS,
        unused_days: audit::DEFAULT_UNUSED_DAYS,
        now,
        page_size: audit::PAGE_SIZE,
    };
    let progress = services.progress.clone();
    let on_retry = progress.clone().map(|tx| -> RetryObserver {
        Arc::new(move |notice| {
            let _ = tx.send(Action::TenantProgress {
                id,
                apps: Vec::new(),
                retry: Some(notice.to_string()),
            });
        })
    });
    let mut tally = Tally::default();
    let mut batch: Vec<AppAudit> = Vec::new();
    let mut sent = Instant::now();
    let mut no_stdin = || Ok(String::new());
    let result = {
        let (tally, batch, sent, progress) = (&mut tally, &mut batch, &mut sent, &progress);
        let mut on_app = move |app: AppAudit| -> crate::Result<()> {
            let Some(tx) = progress else {
                tally.add(&app);
                return Ok(());
            };
            batch.push(app);
            if batch.len() >= BATCH || sent.elapsed() >= BATCH_WAIT {
                let _ = tx.send(Action::TenantProgress {
                    id,
                    apps: std::mem::take(batch),
                    retry: None,
                });
                *sent = Instant::now();
            }
            Ok(())
        };
        audit::run(
            &request,
            &services.network,
            &mut no_stdin,
            on_retry,
            &mut on_app,
        )
        .await
    };
    // The last apps go before the result, on the same channel: they arrive first.
    if let Some(tx) = &progress
        && !batch.is_empty()
    {
        let _ = tx.send(Action::TenantProgress {
            id,
            apps: batch,
            retry: None,
        });
    }
    Action::TenantAudited {
        id,
        result: result.map(Box::new).map_err(|error| match error {
            crate::Error::GraphDenied {
                url,
                status,
                detail,
                permission,
                ..
            } => Box::new(denied(&url, status, &detail, &permission)),
            other => Box::new(preflight::error(&other, &context)),
        }),
        tally: progress.is_none().then(|| Box::new(tally)),
    }
}

/// Graph refused a read: which permission the reading app lacks, and the TUI's two ways out
/// (the CLI's error names its flags instead).
fn denied(url: &str, status: u16, detail: &str, permission: &str) -> Finding {
    Finding::new(
        "audit.permission-missing",
        Severity::Error,
        format!("The reading app lacks {permission}: Microsoft Graph refused the tenant audit"),
    )
    .cause(format!(
        "Microsoft Graph answered {status} to GET {url} ({detail}): listing the tenant's app \
         registrations needs the application permission {permission}, granted with admin consent"
    ))
    .fix(format!(
        "Portal: Microsoft Entra admin center › App registrations › the reading app › API \
         permissions › Add a permission › Microsoft Graph › Application permissions › \
         {permission}, then Grant admin consent"
    ))
    .fix(format!(
        "Or read as an app that holds {permission}: fill the Admin app and Admin secret fields \
         (tab 1), then press r here again"
    ))
}
