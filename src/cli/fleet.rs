//! `entra-doctor doctor --fleet FILE`: the doctor checklist for every app of a fleet file, run
//! concurrently (at most `--concurrency` at once, a semaphore) over one shared HTTP client, so a
//! thousand apps reuse a handful of connections to the token endpoint and the APIs.
//!
//! Output: one JSON line per app (`-o json`), in file order, or a table with a closing count.
//! The exit code is the worst of the apps' (0 all well, 1 refused, 2 input, 3 network).

mod file;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::args::DoctorArgs;
use super::config::Environment;
use super::doctor_cmd::{Checklist, Outcome, check};
use super::{OutputFormat, Report};
use crate::diagnose::{Finding, FixContext};
use crate::error::{Error, Result};

pub use file::FleetApp;

/// What one app's check came to.
struct AppResult {
    label: String,
    client_id: String,
    exit: u8,
    elapsed_ms: u64,
    /// The app's JSON line, serialised at once (smaller than a kept `Value`).
    json: String,
    /// The failing step and the leading finding, for the table.
    verdict: String,
}

pub async fn run(
    path: &Path,
    args: &DoctorArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let apps = file::load(path)?;
    let count = apps.len();
    let started = Instant::now();
    let results = check_all(apps, args, env, now).await?;
    let wall_ms = millis(started.elapsed());
    let failed = results.iter().filter(|r| r.exit != 0).count();
    report.exit = results.iter().map(|r| r.exit).max().unwrap_or(0);
    let summary = format!(
        "{count} app(s): {} ok, {failed} failed, in {wall_ms} ms (concurrency {})",
        count - failed,
        args.concurrency
    );
    report.stdout = match format {
        OutputFormat::Json => {
            report.stderr.push(summary);
            results.iter().fold(String::new(), |mut out, r| {
                let _ = writeln!(out, "{}", r.json);
                out
            })
        }
        OutputFormat::Text => table(&results, &summary),
    };
    Ok(())
}

/// Checks every app, at most `--concurrency` at once, over one HTTP client; file order out.
async fn check_all(
    apps: Vec<FleetApp>,
    args: &DoctorArgs,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<Vec<AppResult>> {
    let options = super::config::client_options(&args.credential, env)?;
    let http = crate::auth::client::http_client(&options)?;
    let transport = Arc::new(options.transport);
    let permits = Arc::new(Semaphore::new(usize::from(args.concurrency)));
    let mut results: Vec<Option<AppResult>> = Vec::new();
    results.resize_with(apps.len(), || None);
    let mut tasks = JoinSet::new();
    for (index, app) in apps.into_iter().enumerate() {
        // A task is spawned only when a slot is free, so a fleet of 100,000 apps holds
        // `--concurrency` checks in memory, not 100,000 waiting ones. The semaphore is never
        // closed, so acquiring only waits.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        while let Some(joined) = tasks.try_join_next() {
            place(&mut results, joined)?;
        }
        let (app_args, app_env) = per_app(&app, args, env);
        let http = http.clone();
        let transport = Arc::clone(&transport);
        tasks.spawn(async move {
            let started = Instant::now();
            let checklist = match app_env {
                Ok(app_env) => check(&app_args, &app_env, now, Some((&http, &transport))).await,
                Err(error) => Checklist::preflight_failed(&error, &context_of(&app)),
            };
            drop(permit);
            (index, result(&app, &checklist, millis(started.elapsed())))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        place(&mut results, joined)?;
    }
    Ok(results.into_iter().flatten().collect())
}

fn place(
    results: &mut [Option<AppResult>],
    joined: std::result::Result<(usize, AppResult), tokio::task::JoinError>,
) -> Result<()> {
    let (index, result) = joined.map_err(|e| Error::InvalidInput {
        what: "a fleet check".into(),
        reason: format!("stopped unexpectedly: {e}"),
    })?;
    if let Some(slot) = results.get_mut(index) {
        *slot = Some(result);
    }
    Ok(())
}

/// The doctor arguments and the environment one app is checked with: its own tenant, client
/// id, scopes and probe; the fleet's timeouts and authority host; and, of the process's
/// variables, only the one its `secret_env` names (seen as `AZURE_CLIENT_SECRET`).
fn per_app(
    app: &FleetApp,
    args: &DoctorArgs,
    env: &Environment,
) -> (DoctorArgs, Result<Environment>) {
    let mut credential = args.credential.clone();
    credential.tenant = Some(app.tenant.clone());
    credential.client_id = Some(app.client_id.clone());
    credential.scopes = app.all_scopes();
    if let Some(host) = &app.authority_host {
        credential.authority_host = Some(host.clone());
        credential.cloud = None;
    }
    credential.token_endpoint = None;
    credential.secret_stdin = false;
    // The shared client already trusts it; `check` hands its transport to each app.
    credential.ca_file = None;
    credential.assertion_file = None;
    credential.certificate.clone_from(&app.certificate);
    credential.private_key.clone_from(&app.private_key);
    if let Some(var) = &app.certificate_password_env {
        credential.certificate_password_env.clone_from(var);
    }
    let password_var = credential.certificate_password_env.clone();
    let app_env = match &app.secret_env {
        Some(var) if env.get(var).is_none() => Err(Error::MissingCredential {
            hint: format!(
                "the fleet file names ${var} as this app's secret, and it is not set (or empty)"
            ),
        }),
        secret_env => Ok(env.pick(&[
            ("AZURE_CLIENT_SECRET", secret_env.as_deref().unwrap_or("")),
            (&password_var, &password_var),
            ("AZURE_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST"),
        ])),
    };
    let app_args = DoctorArgs {
        credential,
        probe: app.probe.clone(),
        report: None,
        fleet: None,
        concurrency: args.concurrency,
        graph_url: args.graph_url.clone(),
    };
    (app_args, app_env)
}

fn context_of(app: &FleetApp) -> FixContext {
    FixContext {
        tenant: Some(app.tenant.clone()),
        client_id: Some(app.client_id.clone()),
        ..FixContext::default()
    }
}

fn result(app: &FleetApp, checklist: &Checklist, elapsed_ms: u64) -> AppResult {
    let (exit, found) = checklist.verdict();
    let verdict = verdict(checklist, &found);
    let line = json!({
        "app": app.label(),
        "tenant": app.tenant,
        "client_id": app.client_id,
        "credential": app.credential_reference(),
        "ok": exit == 0,
        "exit_code": exit,
        "elapsed_ms": elapsed_ms,
        "steps": checklist.steps,
        "findings": found,
    })
    .to_string();
    AppResult {
        label: app.label().to_owned(),
        client_id: app.client_id.clone(),
        exit,
        elapsed_ms,
        json: line,
        verdict,
    }
}

/// "probe: api.forbidden" — the first failed step and the leading error finding.
fn verdict(checklist: &Checklist, found: &[Finding]) -> String {
    let step = checklist
        .steps
        .iter()
        .find(|s| s.outcome == Outcome::Failed)
        .map(|s| s.name);
    let finding = found
        .iter()
        .find(|f| f.severity == crate::diagnose::Severity::Error)
        .map(|f| f.id.as_str());
    match (step, finding) {
        (Some(step), Some(id)) => format!("{step}: {id}"),
        (Some(step), None) => format!("{step} failed"),
        (None, Some(id)) => id.to_owned(),
        (None, None) => "all steps passed".into(),
    }
}

fn table(results: &[AppResult], summary: &str) -> String {
    let width = results
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(3, 40);
    let mut out = format!(
        "  {:<width$}  {:<36}  {:>4}  {:>6}  verdict\n",
        "app", "client id", "exit", "ms"
    );
    for r in results {
        let mark = if r.exit == 0 { "✓" } else { "✗" };
        let label = super::render::clean(&r.label);
        let _ = writeln!(
            out,
            "{mark} {:<width$}  {:<36}  {:>4}  {:>6}  {}",
            label.chars().take(width).collect::<String>(),
            super::render::clean(&r.client_id),
            r.exit,
            r.elapsed_ms,
            super::render::clean(&r.verdict)
        );
    }
    let _ = write!(out, "\n{summary}\n");
    out
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
