//! `entra-doctor audit`: the tenant audit of [`crate::audit`]. With `--output json` each app is
//! one JSON line, printed as soon as it is judged, and a last `{"summary": …}` line; the text
//! table comes at the end. `--report FILE.md` writes a Markdown report as the run goes (a
//! private temporary file renamed into place at the end).
//!
//! Memory: the text table keeps a compact row for each app that has something to say, at most
//! [`TABLE_ROWS`] of them (the most severe first); healthy apps are only counted. A tenant of
//! 100,000 apps thus costs the same as one of 1,000 beyond the indexes (see `crate::audit`).
//!
//! Time: `--timeout` bounds each Graph request (its retries included), not the whole run, which
//! for a large tenant is a hundred pages or more; Ctrl-C ends it.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::args::AuditArgs;
use super::probe_cmd::stdin_reader;
use super::{OutputFormat, Report};
use crate::audit::{self, AppAudit, AuditRequest, SignInActivity, TenantSummary};
use crate::diagnose::Severity;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::files::StreamedFile;

/// Apps the text table lists at most; the rest are counted (and all are in JSON and the report).
pub const TABLE_ROWS: usize = 500;

pub async fn run(
    args: &AuditArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let admin =
        super::consent_cmd::admin_app(&args.graph, &args.credential.certificate_password_env, env)?;
    let request = AuditRequest {
        reader: args.credential.spec()?,
        admin,
        graph_url: args.graph.graph_url.clone(),
        warn_days: args.warn_days,
        unused_days: args.unused_days,
        now,
        page_size: args.page_size,
    };
    let mut file = match &args.report {
        Some(path) => {
            let failed = |e| Error::Output {
                what: format!("the report {}", path.display()),
                source: e,
            };
            let mut out = StreamedFile::create(path).map_err(failed)?;
            let graph = args.graph.graph_url.as_deref().unwrap_or("Microsoft Graph");
            out.write(markdown_title(graph, now).as_bytes())
                .map_err(failed)?;
            Some(out)
        }
        None => None,
    };
    let mut table = Table::default();
    let mut written: std::io::Result<()> = Ok(());
    let mut stdin = stdin_reader();
    let summary = {
        let report_ref = &*report;
        let file_ref = &mut file;
        let written_ref = &mut written;
        let table_ref = &mut table;
        let mut on_app = move |app: AppAudit| -> Result<()> {
            if format == OutputFormat::Json {
                report_ref.stream_line(&serde_json::to_string(&app).unwrap_or_default())?;
            } else {
                table_ref.add(&app);
            }
            if let (Some(out), Ok(())) = (file_ref.as_mut(), &*written_ref) {
                *written_ref = out.write(markdown_app(&app).as_bytes());
            }
            Ok(())
        };
        audit::run(
            &request,
            env,
            &mut stdin,
            Some(super::consent_cmd::retry_note()),
            &mut on_app,
        )
        .await?
    };
    if let (Some(path), Some(mut out)) = (&args.report, file) {
        let finished = written
            .and_then(|()| out.write(markdown_summary(&summary).as_bytes()))
            .and_then(|()| out.finish());
        finished.map_err(|e| Error::Output {
            what: format!("the report {}", path.display()),
            source: e,
        })?;
        report
            .stderr
            .push(format!("Report written to {} (mode 0600).", path.display()));
    }
    report.exit = u8::from(summary.needs_action());
    report.stdout = match format {
        OutputFormat::Json => format!("{}\n", json!({ "summary": summary })),
        OutputFormat::Text => table.text(&summary),
    };
    Ok(())
}

/// The compact rows of the text table.
#[derive(Default)]
struct Table {
    rows: Vec<Row>,
    /// Apps with something to say beyond [`TABLE_ROWS`].
    left_out: u64,
}

struct Row {
    severity: Severity,
    name: String,
    app_id: String,
    issues: Vec<(Severity, String, Vec<String>)>,
}

impl Table {
    fn add(&mut self, app: &AppAudit) {
        let Some(severity) = app.worst() else {
            return;
        };
        let row = Row {
            severity,
            name: app.display_name.chars().take(60).collect(),
            app_id: app.app_id.chars().take(60).collect(),
            issues: app
                .issues
                .iter()
                .map(|i| (i.severity, i.words.clone(), i.fix.clone()))
                .collect(),
        };
        if self.rows.len() < TABLE_ROWS {
            self.rows.push(row);
            return;
        }
        // Full: keep the more severe (a later error displaces an earlier info).
        self.left_out += 1;
        if let Some(least) = self
            .rows
            .iter_mut()
            .filter(|r| r.severity > severity)
            .max_by_key(|r| r.severity)
        {
            *least = row;
        }
    }

    fn text(mut self, summary: &TenantSummary) -> String {
        self.rows
            .sort_by(|a, b| a.severity.cmp(&b.severity).then(a.name.cmp(&b.name)));
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Audit of {} app registration(s), read from {}\n",
            summary.apps, summary.graph_url
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "{:<8} {}  ({})",
                row.severity.label(),
                row.name,
                row.app_id
            );
            for (severity, words, fix) in &row.issues {
                let mark = match severity {
                    Severity::Error => "✗",
                    Severity::Warning => "!",
                    Severity::Info => "·",
                };
                let _ = writeln!(out, "         {mark} {words}");
                for command in fix {
                    let _ = writeln!(out, "             {command}");
                }
            }
        }
        if self.left_out > 0 {
            let _ = writeln!(
                out,
                "… and {} more app(s) with issues, not listed here: see --output json or --report",
                self.left_out
            );
        }
        if !self.rows.is_empty() {
            out.push('\n');
        }
        out.push_str(&summary_text(summary));
        out
    }
}

fn summary_text(summary: &TenantSummary) -> String {
    let mut out = String::new();
    let healthy = summary.apps - summary.apps_with_issues;
    let _ = writeln!(
        out,
        "Summary: {} app(s) read in {} page(s); {} with issues, {healthy} healthy (not listed).",
        summary.apps, summary.pages, summary.apps_with_issues
    );
    let _ = writeln!(
        out,
        "  credentials: {} expired, {} expiring within {} days",
        summary.expired, summary.expiring, summary.warn_days
    );
    if summary.throttled_retries > 0 {
        let _ = writeln!(
            out,
            "  throttled: {} read(s) waited out as Graph's Retry-After asked",
            summary.throttled_retries
        );
    }
    if summary.skipped > 0 {
        let _ = writeln!(
            out,
            "  skipped: {} entr(ies) without an id or client id",
            summary.skipped
        );
    }
    match &summary.sign_in_activity {
        SignInActivity::Read { credentials } => {
            let _ = writeln!(
                out,
                "  sign-in activity: read ({credentials} credential(s) with sign-ins); unused means no sign-in for {} days",
                summary.unused_days
            );
        }
        SignInActivity::Skipped { reason } => {
            let _ = writeln!(out, "  sign-in activity: not read: {reason}");
        }
    }
    for (id, count) in &summary.issues {
        let _ = writeln!(out, "  {id}: {count}");
    }
    out
}

/// Markdown's special characters escaped, hidden ones made visible, secrets scrubbed.
fn md(text: &str) -> String {
    let clean = super::render::clean(text);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        if "\\`*_[]<>#|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn markdown_app(app: &AppAudit) -> String {
    let Some(severity) = app.worst() else {
        return String::new();
    };
    let mut out = format!(
        "## {} — {}\n\nClient id `{}`, object id `{}`{}.\n\n",
        md(&app.display_name),
        severity.label(),
        super::render::clean(&app.app_id).replace('`', "'"),
        super::render::clean(&app.object_id).replace('`', "'"),
        app.owners
            .map(|n| format!(", {n} owner(s)"))
            .unwrap_or_default()
    );
    for issue in &app.issues {
        let _ = writeln!(
            out,
            "- **{}** `{}`: {}",
            issue.severity.label(),
            issue.id,
            md(&issue.words)
        );
        if !issue.fix.is_empty() {
            out.push_str("\n  ```sh\n");
            for command in &issue.fix {
                let _ = writeln!(out, "  {}", super::render::clean(command));
            }
            out.push_str("  ```\n");
        }
    }
    out.push('\n');
    out
}

fn markdown_summary(summary: &TenantSummary) -> String {
    let mut out = String::from("## Summary\n\n```text\n");
    out.push_str(&super::render::clean_multiline(&summary_text(summary)));
    out.push_str("\n```\n");
    out
}

/// The report's title, written first.
pub fn markdown_title(graph_url: &str, now: DateTime<Utc>) -> String {
    format!(
        "# entra-doctor audit\n\nRead from {} at {}. Apps with something to fix, most severe \
         issue first in each; healthy apps are counted in the summary.\n\n",
        md(graph_url),
        now.format("%Y-%m-%d %H:%M UTC")
    )
}
