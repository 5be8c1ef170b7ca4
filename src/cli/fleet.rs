//! `entra-doctor doctor --fleet FILE`: the doctor checklist for every app of a fleet file, run
//! concurrently (at most `--concurrency` at once, a semaphore) over one shared HTTP client, so a
//! thousand apps reuse a handful of connections to the token endpoint and the APIs.
//!
//! Output: one JSON line per app (`-o json`), in file order, or a table with a closing count.
//! The exit code is the worst of the apps' (0 all well, 1 refused, 2 input, 3 network; 101 when
//! an app's check stopped with an internal error — that app's result, the others still complete).

mod file;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::args::DoctorArgs;
use super::doctor_cmd::{Checklist, Outcome, check};
use super::{OutputFormat, Report};
use crate::diagnose::{Finding, FixContext};
use crate::environment::Environment;
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
    if args.credential.managed.managed_identity.is_some() {
        // Each fleet app is an app registration with its own credential; one managed identity
        // would stand in for all of them.
        return Err(Error::InvalidInput {
            what: "--managed-identity with --fleet".into(),
            reason: "a fleet file lists app registrations, each with its own credential; check \
                     a managed identity alone with doctor --managed-identity"
                .into(),
        });
    }
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
///
/// Each app's check is its own task: whatever happens in it — a refusal, a hostile answer, an
/// internal error (a panic) — becomes that app's result, and the other apps go on.
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
    // The apps being checked, by task: a task that panicked is answered from here.
    let mut running: HashMap<tokio::task::Id, (usize, Arc<FleetApp>)> = HashMap::new();
    let mut tasks = JoinSet::new();
    for (index, app) in apps.into_iter().enumerate() {
        // A task is spawned only when a slot is free, so a fleet of 100,000 apps holds
        // `--concurrency` checks in memory, not 100,000 waiting ones. The semaphore is never
        // closed, so acquiring only waits.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        while let Some(joined) = tasks.try_join_next_with_id() {
            place(&mut results, &mut running, joined);
        }
        let app = Arc::new(app);
        let (app_args, app_env) = per_app(&app, args, env);
        let http = http.clone();
        let transport = Arc::clone(&transport);
        let task_app = Arc::clone(&app);
        let handle = tasks.spawn(async move {
            let _permit = permit;
            let started = Instant::now();
            let checklist = match app_env {
                Ok(app_env) => check(&app_args, &app_env, now, Some((&http, &transport))).await,
                Err(error) => Checklist::preflight_failed(&error, &context_of(&task_app)),
            };
            result(&task_app, &checklist, millis(started.elapsed()))
        });
        running.insert(handle.id(), (index, app));
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        place(&mut results, &mut running, joined);
    }
    Ok(results.into_iter().flatten().collect())
}

/// Puts a finished check in its app's slot; a check that panicked becomes an internal-error
/// result for its app ([`INTERNAL_ERROR_EXIT`]).
fn place(
    results: &mut [Option<AppResult>],
    running: &mut HashMap<tokio::task::Id, (usize, Arc<FleetApp>)>,
    joined: std::result::Result<(tokio::task::Id, AppResult), tokio::task::JoinError>,
) {
    let (id, outcome) = match joined {
        Ok((id, result)) => (id, Ok(result)),
        Err(error) => (error.id(), Err(error)),
    };
    let Some((index, app)) = running.remove(&id) else {
        return;
    };
    let result = outcome.unwrap_or_else(|error| internal_error(&app, error));
    if let Some(slot) = results.get_mut(index) {
        *slot = Some(result);
    }
}

/// The exit code of an app whose check stopped with an internal error (a panic: a bug in
/// entra-doctor, as Rust's own 101 says); the fleet's exit is then at least this.
pub const INTERNAL_ERROR_EXIT: u8 = 101;

fn internal_error(app: &FleetApp, error: tokio::task::JoinError) -> AppResult {
    let detail = match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into()),
        Err(error) => error.to_string(),
    };
    let error = Error::InvalidInput {
        what: "this app's check".into(),
        reason: format!(
            "stopped with an internal error ({detail}); this is a bug in entra-doctor, please \
             report it with the app's setup (never its secret); the other apps were checked"
        ),
    };
    let mut found = result(
        app,
        &Checklist::preflight_failed(&error, &context_of(app)),
        0,
    );
    found.exit = INTERNAL_ERROR_EXIT;
    found.verdict = "internal error".into();
    if let Ok(mut line) = serde_json::from_str::<serde_json::Value>(&found.json) {
        line["exit_code"] = json!(INTERNAL_ERROR_EXIT);
        found.json = line.to_string();
    }
    found
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
        graph: args.graph.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn buggy_check() -> AppResult {
        panic!("a bug in a check")
    }

    /// Issue 14: one app's panic aborted the whole fleet run, with no result for the others.
    #[tokio::test]
    async fn a_check_that_panics_is_only_its_apps_result() {
        let app: FleetApp =
            toml::from_str("name = \"bad\"\ntenant = \"t\"\nclient_id = \"c\"").unwrap();
        let good: FleetApp =
            toml::from_str("name = \"good\"\ntenant = \"t\"\nclient_id = \"d\"").unwrap();
        let (app, good) = (Arc::new(app), Arc::new(good));
        let mut tasks = JoinSet::new();
        let mut running = HashMap::new();
        let panics = tasks.spawn(async { buggy_check() });
        running.insert(panics.id(), (0, Arc::clone(&app)));
        let checked = Arc::clone(&good);
        let fine = tasks.spawn(async move {
            let list = Checklist::preflight_failed(
                &Error::MissingCredential { hint: "h".into() },
                &context_of(&checked),
            );
            result(&checked, &list, 1)
        });
        running.insert(fine.id(), (1, good));
        let mut results = vec![None, None];
        while let Some(joined) = tasks.join_next_with_id().await {
            place(&mut results, &mut running, joined);
        }
        let [Some(bad), Some(other)] = &results[..] else {
            panic!("both apps have a result");
        };
        assert_eq!((bad.exit, bad.verdict.as_str()), (101, "internal error"));
        let line: serde_json::Value = serde_json::from_str(&bad.json).unwrap();
        assert_eq!(line["app"], "bad");
        assert_eq!(line["exit_code"], 101);
        assert!(
            line.to_string().contains("a bug in a check"),
            "the panic is named: {line}"
        );
        assert_eq!((other.exit, other.label.as_str()), (2, "good"));
        assert!(running.is_empty());
    }
}
