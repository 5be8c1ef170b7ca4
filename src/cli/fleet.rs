//! `entra-doctor doctor --fleet FILE`: the doctor checklist for every app of a fleet file, run
//! concurrently (at most `--concurrency` at once) over one shared HTTP client, so a thousand apps
//! reuse a handful of connections, and with one token request per credential
//! ([`tokens::TokenShare`]): a fleet of 100,000 entries of one app asks for one token.
//!
//! Memory does not grow with the fleet. The file is read twice, one app at a time
//! ([`file::scan`]): first whole, to refuse a bad entry (an inline secret at app #90,000) before
//! anything is sent; then fed to the checks through a channel as slots free up. Each result is
//! printed when its app finishes and then dropped.
//!
//! Output: with `-o json`, one JSON line per app *as it finishes* (completion order; `index` is
//! the app's 1-based position in the file, to rebuild file order with `sort`/`jq`), and the
//! closing count on standard error. In text, the table comes at the end, in file order, one row
//! per app (greppable: `grep ✗`): what an operator reads after a run. To print it without holding
//! 100,000 results, the run keeps 8 bytes per app (its exit code and time) plus the verdict of
//! each *failing* app, and reads the labels and client ids from the file a third time. So that a
//! long text run is not silent, each failing app is also said on standard error when it fails.
//! The exit code is the worst of the apps' (0 all well, 1 refused, 2 input, 3 network; 101 when
//! an app's check stopped with an internal error — that app's result, the others still complete).

mod file;
pub(super) mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::task::JoinSet;

use super::args::DoctorArgs;
use super::doctor_cmd::{Checklist, Outcome, Shared, check};
use super::{OutputFormat, Report};
use crate::diagnose::{Finding, FixContext};
use crate::environment::Environment;
use crate::error::{Error, Result};
use tokens::{TokenKey, TokenShare};

pub use file::FleetApp;

/// What one app's check came to.
struct AppResult {
    /// The app's 1-based position in the file.
    index: usize,
    label: String,
    exit: u8,
    elapsed_ms: u64,
    /// The app's JSON line.
    json: String,
    /// The failing step and the leading finding, for the table.
    verdict: String,
}

/// What the run keeps per app for the text table: 8 bytes, whatever the app's result.
#[derive(Debug, Clone, Copy, Default)]
struct Row {
    exit: u8,
    elapsed_ms: u32,
}

/// The run's running account: counts, the worst exit, and (text) the rows of the table.
struct Tally {
    format: OutputFormat,
    done: usize,
    failed: usize,
    worst: u8,
    /// Text only: one per app, by position.
    rows: Vec<Row>,
    /// Text only: the verdict of each failing app, by position.
    verdicts: BTreeMap<usize, String>,
}

impl Tally {
    fn new(format: OutputFormat, count: usize) -> Self {
        let rows = match format {
            OutputFormat::Text => vec![Row::default(); count],
            OutputFormat::Json => Vec::new(),
        };
        Self {
            format,
            done: 0,
            failed: 0,
            worst: 0,
            rows,
            verdicts: BTreeMap::new(),
        }
    }

    /// Counts a finished app and prints what is to be printed now; `Err` when standard output
    /// cannot be written any more.
    fn finish(&mut self, result: AppResult, report: &Report) -> Result<()> {
        self.done += 1;
        self.worst = self.worst.max(result.exit);
        if result.exit != 0 {
            self.failed += 1;
        }
        match self.format {
            OutputFormat::Json => report.stream_line(&result.json),
            OutputFormat::Text => {
                if let Some(row) = result
                    .index
                    .checked_sub(1)
                    .and_then(|i| self.rows.get_mut(i))
                {
                    *row = Row {
                        exit: result.exit,
                        elapsed_ms: u32::try_from(result.elapsed_ms).unwrap_or(u32::MAX),
                    };
                }
                if result.exit != 0 {
                    say_now(&format!(
                        "✗ #{} {}: {}",
                        result.index, result.label, result.verdict
                    ));
                    self.verdicts.insert(result.index, result.verdict);
                }
                Ok(())
            }
        }
    }
}

/// A line on standard error now, through the choke point (the report's lines come at the end).
fn say_now(line: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "{}",
        crate::scrub::printable(line, crate::scrub::LINES)
    );
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
    // First reading: every app checked, before anything is sent; only the count and the widest
    // label are kept.
    let (count, width) = {
        let file = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut width = 0;
            let count = file::scan(&file, &mut |_, app| {
                width = width.max(app.label().chars().count());
                Ok(())
            })?;
            Ok::<_, Error>((count, width))
        })
        .await
        .map_err(|e| reading_stopped(path, &e.to_string()))??
    };
    let started = Instant::now();
    let mut tally = Tally::new(format, count);
    let tokens = Arc::new(TokenShare::new());
    check_all(path, args, env, now, (&tokens, &mut tally), report).await?;
    let wall_ms = millis(started.elapsed());
    report.exit = tally.worst;
    let summary = format!(
        "{count} app(s): {} ok, {} failed, in {wall_ms} ms (concurrency {}, {} token request(s))",
        tally.done - tally.failed,
        tally.failed,
        args.concurrency,
        tokens.requests()
    );
    match format {
        OutputFormat::Json => report.stderr.push(summary),
        OutputFormat::Text => {
            // Third reading, for the labels: nothing is running any more, so reading the file
            // here (blocking) holds up no check.
            table(path, &tally, width.clamp(3, 40), report)?;
            report.stdout = format!("\n{summary}\n");
        }
    }
    Ok(())
}

fn reading_stopped(path: &Path, why: &str) -> Error {
    Error::InvalidInput {
        what: format!("fleet file {}", path.display()),
        reason: format!("reading it stopped ({why})"),
    }
}

/// Checks every app, at most `--concurrency` at once, over one HTTP client; prints each result
/// as its app finishes.
///
/// Each app's check is its own task: whatever happens in it — a refusal, a hostile answer, an
/// internal error (a panic) — becomes that app's result, and the other apps go on.
async fn check_all(
    path: &Path,
    args: &DoctorArgs,
    env: &Environment,
    now: DateTime<Utc>,
    (tokens, tally): (&Arc<TokenShare>, &mut Tally),
    report: &Report,
) -> Result<()> {
    let options = super::config::client_options(&args.credential, env)?;
    let http = crate::auth::client::http_client(&options)?;
    let transport = Arc::new(options.transport);
    let limit = usize::from(args.concurrency);
    // The reader runs ahead of the checks by at most `limit` apps: the channel is the only
    // place apps wait, so a fleet of 100,000 holds `2 × --concurrency` apps in memory.
    let (sender, mut apps) = tokio::sync::mpsc::channel::<(usize, FleetApp)>(limit);
    let file = path.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        file::scan(&file, &mut |index, app| {
            sender
                .blocking_send((index, app))
                .map_err(|_| reading_stopped(&file, "the run stopped"))
        })
    });
    // The apps being checked, by task: a task that panicked is answered from here.
    let mut running: HashMap<tokio::task::Id, (usize, Arc<FleetApp>)> = HashMap::new();
    let mut tasks = JoinSet::new();
    while let Some((index, app)) = apps.recv().await {
        while tasks.len() >= limit {
            if let Some(joined) = tasks.join_next_with_id().await {
                finished(&mut running, joined, tally, report)?;
            }
        }
        let app = Arc::new(app);
        let (app_args, app_env, key) = per_app(&app, args, env, tokens);
        let http = http.clone();
        let transport = Arc::clone(&transport);
        let tokens = Arc::clone(tokens);
        let task_app = Arc::clone(&app);
        let handle = tasks.spawn(async move {
            let started = Instant::now();
            let checklist = match app_env {
                Ok(app_env) => {
                    let shared = Shared {
                        http: &http,
                        transport: &transport,
                        tokens: key.map(|key| (&*tokens, key)),
                    };
                    check(&app_args, &app_env, now, Some(&shared)).await
                }
                Err(error) => Checklist::preflight_failed(&error, &context_of(&task_app)),
            };
            result(index, &task_app, &checklist, millis(started.elapsed()))
        });
        running.insert(handle.id(), (index, app));
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        finished(&mut running, joined, tally, report)?;
    }
    match reader.await {
        Ok(read) => read.map(|_| ()),
        Err(e) => Err(reading_stopped(path, &e.to_string())),
    }
}
/// The exit code of an app whose check stopped with an internal error (a panic: a bug in
/// entra-doctor, as Rust's own 101 says); the fleet's exit is then at least this.
pub const INTERNAL_ERROR_EXIT: u8 = 101;

/// Counts and prints a finished check; a check that panicked becomes an internal-error result
/// for its app ([`INTERNAL_ERROR_EXIT`]).
fn finished(
    running: &mut HashMap<tokio::task::Id, (usize, Arc<FleetApp>)>,
    joined: std::result::Result<(tokio::task::Id, AppResult), tokio::task::JoinError>,
    tally: &mut Tally,
    report: &Report,
) -> Result<()> {
    match settle(running, joined) {
        Some(result) => tally.finish(result, report),
        None => Ok(()),
    }
}

/// The result of a finished task, from its own answer or, when it panicked, from the app it
/// was checking.
fn settle(
    running: &mut HashMap<tokio::task::Id, (usize, Arc<FleetApp>)>,
    joined: std::result::Result<(tokio::task::Id, AppResult), tokio::task::JoinError>,
) -> Option<AppResult> {
    let (id, outcome) = match joined {
        Ok((id, result)) => (id, Ok(result)),
        Err(error) => (error.id(), Err(error)),
    };
    let (index, app) = running.remove(&id)?;
    Some(outcome.unwrap_or_else(|error| internal_error(index, &app, error)))
}

fn internal_error(index: usize, app: &FleetApp, error: tokio::task::JoinError) -> AppResult {
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
        index,
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
/// variables, only the one its `secret_env` names (seen as `AZURE_CLIENT_SECRET`). And the key
/// of its credential in the fleet's token single flight.
fn per_app(
    app: &FleetApp,
    args: &DoctorArgs,
    env: &Environment,
    tokens: &TokenShare,
) -> (DoctorArgs, Result<Environment>, Option<TokenKey>) {
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
    let key = app_env
        .as_ref()
        .ok()
        .map(|app_env| credential_key(app, app_env, &password_var, tokens));
    let app_args = DoctorArgs {
        credential,
        probe: app.probe.clone(),
        report: None,
        fleet: None,
        concurrency: args.concurrency,
        graph: args.graph.clone(),
    };
    (app_args, app_env, key)
}

/// Everything that makes a token request what it is, beyond the fleet's own options (the same
/// for every app): the authority, tenant, client id, scopes, and the credential itself — the
/// secret's value, or the certificate and key files and the password's value. Hashed at once.
fn credential_key(
    app: &FleetApp,
    app_env: &Environment,
    password_var: &str,
    tokens: &TokenShare,
) -> TokenKey {
    let path_bytes = |path: &Option<PathBuf>| {
        path.as_ref()
            .map(|p| p.as_os_str().as_encoded_bytes().to_vec())
            .unwrap_or_default()
    };
    let scopes = app.all_scopes().join("\n");
    let (certificate, private_key) = (path_bytes(&app.certificate), path_bytes(&app.private_key));
    let (kind, secret): (&[u8], &str) = match &app.secret_env {
        Some(_) => (
            b"secret",
            app_env.get("AZURE_CLIENT_SECRET").unwrap_or_default(),
        ),
        None => (
            b"certificate",
            app_env.get(password_var).unwrap_or_default(),
        ),
    };
    tokens.key(&[
        app.authority_host.as_deref().unwrap_or_default().as_bytes(),
        app.tenant.as_bytes(),
        app.client_id.as_bytes(),
        scopes.as_bytes(),
        kind,
        secret.as_bytes(),
        &certificate,
        &private_key,
    ])
}

fn context_of(app: &FleetApp) -> FixContext {
    FixContext {
        tenant: Some(app.tenant.clone()),
        client_id: Some(app.client_id.clone()),
        ..FixContext::default()
    }
}

fn result(index: usize, app: &FleetApp, checklist: &Checklist, elapsed_ms: u64) -> AppResult {
    let (exit, found) = checklist.verdict();
    let verdict = verdict(checklist, &found);
    let line = json!({
        "index": index,
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
        index,
        label: app.label().to_owned(),
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

/// The table, in file order, printed row by row: the labels and client ids read from the file
/// again, each app's exit code and time from the run, the verdict kept for failing apps.
fn table(path: &Path, tally: &Tally, width: usize, report: &Report) -> Result<()> {
    let digits = tally.rows.len().to_string().len();
    report.stream_line(&format!(
        "  {:>digits$}  {:<width$}  {:<36}  {:>4}  {:>6}  verdict",
        "#", "app", "client id", "exit", "ms"
    ))?;
    file::scan(path, &mut |index, app| {
        let Some(row) = index.checked_sub(1).and_then(|i| tally.rows.get(i)) else {
            return Ok(());
        };
        let mark = if row.exit == 0 { "✓" } else { "✗" };
        let verdict = tally
            .verdicts
            .get(&index)
            .map_or("all steps passed", String::as_str);
        let label: String = super::render::clean(app.label())
            .chars()
            .take(width)
            .collect();
        report.stream_line(&format!(
            "{mark} {index:>digits$}  {label:<width$}  {:<36}  {:>4}  {:>6}  {}",
            super::render::clean(&app.client_id),
            row.exit,
            row.elapsed_ms,
            super::render::clean(verdict)
        ))
    })
    .map(|_| ())
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
        running.insert(panics.id(), (1, Arc::clone(&app)));
        let checked = Arc::clone(&good);
        let fine = tasks.spawn(async move {
            let list = Checklist::preflight_failed(
                &Error::MissingCredential { hint: "h".into() },
                &context_of(&checked),
            );
            result(2, &checked, &list, 1)
        });
        running.insert(fine.id(), (2, good));
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next_with_id().await {
            results.extend(settle(&mut running, joined));
        }
        results.sort_by_key(|r| r.index);
        let [bad, other] = &results[..] else {
            panic!("both apps have a result");
        };
        assert_eq!((bad.exit, bad.verdict.as_str()), (101, "internal error"));
        let line: serde_json::Value = serde_json::from_str(&bad.json).unwrap();
        assert_eq!((&line["index"], &line["app"]), (&json!(1), &json!("bad")));
        assert_eq!(line["exit_code"], 101);
        assert!(
            line.to_string().contains("a bug in a check"),
            "the panic is named: {line}"
        );
        assert_eq!((other.exit, other.label.as_str()), (2, "good"));
        assert!(running.is_empty());
    }
}
