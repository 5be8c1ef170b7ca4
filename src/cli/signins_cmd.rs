//! `entra-doctor signins`: the service-principal sign-in log entries of a token request (by its
//! correlation id) or of an app, read from Microsoft Graph beta with an admin app's token or the
//! daemon's own: one block per sign-in, or one JSON line each.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::args::SigninsArgs;
use super::consent_cmd::{admin_app, retry_note};
use super::probe_cmd::stdin_reader;
use super::render::clean;
use super::{OutputFormat, Report, findings};
use crate::diagnose::{Catalog, Severity};
use crate::environment::Environment;
use crate::error::Result;
use crate::signins::{self, Lookup, LookupRequest, Query, SignIn};

pub async fn run(
    args: &SigninsArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let lookup = lookup(args, env, now).await?;
    report.exit = u8::from(lookup.findings.iter().any(|f| f.severity != Severity::Info));
    report.stdout = match format {
        // One line per sign-in, then one with the findings: a stream a script can read line
        // by line.
        OutputFormat::Json => {
            let mut out = String::new();
            for entry in &lookup.entries {
                let _ = writeln!(out, "{}", json!({"signin": entry}));
            }
            let _ = writeln!(
                out,
                "{}",
                json!({
                    "graph_url": lookup.graph_url,
                    "reader": lookup.reader,
                    "count": lookup.entries.len(),
                    "skipped": lookup.skipped,
                    "findings": lookup.findings,
                })
            );
            out
        }
        OutputFormat::Text => text(&lookup),
    };
    Ok(())
}

/// The lookup the options describe.
pub async fn lookup(args: &SigninsArgs, env: &Environment, now: DateTime<Utc>) -> Result<Lookup> {
    let query = Query {
        correlation_id: args
            .correlation_id
            .as_deref()
            .map(str::trim)
            .map(str::to_owned),
        app_id: args.app.as_deref().map(str::trim).map(str::to_owned),
        since: args
            .since
            .as_deref()
            .map(|s| signins::parse_since(s, now))
            .transpose()?,
        top: args.top,
    };
    query.validate()?;
    let request = LookupRequest {
        daemon: args.credential.spec()?,
        admin: admin_app(&args.graph, &args.credential.certificate_password_env, env)?,
        graph_url: args.graph.graph_url.clone(),
        query,
    };
    let mut stdin = stdin_reader();
    signins::lookup(&request, env, &mut stdin, now, Some(retry_note())).await
}

fn text(lookup: &Lookup) -> String {
    let mut out = String::new();
    let unread = lookup.findings.iter().any(|f| {
        matches!(
            f.id.as_str(),
            "signins.permission-missing" | "signins.tenant-not-premium"
        )
    });
    let (graph, reader) = (clean(&lookup.graph_url), clean(&lookup.reader));
    let _ = match lookup.entries.len() {
        _ if unread => writeln!(
            out,
            "The sign-in log at {graph} could not be read as {reader}\n"
        ),
        1 => writeln!(
            out,
            "1 service-principal sign-in, read from {graph} as {reader}\n"
        ),
        n => writeln!(
            out,
            "{n} service-principal sign-ins, read from {graph} as {reader}\n"
        ),
    };
    for entry in &lookup.entries {
        entry_text(&mut out, entry);
    }
    if lookup.skipped > 0 {
        let _ = writeln!(
            out,
            "({} entries Graph sent were unreadable and skipped)\n",
            lookup.skipped
        );
    }
    out.push_str(&findings::text(&lookup.findings));
    out
}

/// One sign-in as a block: time and status first, then who, what, from where, with what.
fn entry_text(out: &mut String, entry: &SignIn) {
    let time = entry.created().map_or_else(
        || clean(entry.created_date_time.as_deref().unwrap_or("(no time)")),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    );
    let status = match entry.error_code() {
        None => "success".to_owned(),
        Some(code) => match Catalog::builtin().get(code) {
            Some(known) => format!("failure AADSTS{code}: {}", known.title),
            None => format!("failure AADSTS{code}"),
        },
    };
    let _ = writeln!(out, "{time}  {status}");
    let named = |name: &Option<String>, id: &Option<String>| match (name, id) {
        (Some(name), Some(id)) if !id.is_empty() => format!("{} ({})", clean(name), clean(id)),
        (Some(name), _) => clean(name),
        (None, Some(id)) => clean(id),
        (None, None) => "-".to_owned(),
    };
    let field = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<12} {value}");
    };
    if let Some(reason) = entry
        .status
        .as_ref()
        .and_then(|s| s.failure_reason.as_deref())
    {
        field(out, "reason", &clean(reason));
    }
    field(out, "app", &named(&entry.app_display_name, &entry.app_id));
    field(
        out,
        "resource",
        &named(&entry.resource_display_name, &entry.resource_id),
    );
    field(
        out,
        "ip",
        &clean(entry.ip_address.as_deref().unwrap_or("-")),
    );
    field(out, "credential", &clean(&entry.credential()));
    field(
        out,
        "correlation",
        &clean(entry.correlation_id.as_deref().unwrap_or("-")),
    );
    field(
        out,
        "CA",
        &clean(entry.conditional_access_status.as_deref().unwrap_or("-")),
    );
    match &entry.applied_conditional_access_policies {
        None => field(
            out,
            "",
            "(policies not shown: the reader may not read Conditional Access data)",
        ),
        Some(policies) => {
            for policy in policies {
                let controls = if policy.enforced_grant_controls.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", clean(&policy.enforced_grant_controls.join(", ")))
                };
                field(
                    out,
                    "",
                    &format!(
                        "{}: {}{controls}",
                        clean(policy.display_name.as_deref().unwrap_or("(unnamed policy)")),
                        clean(policy.result.as_deref().unwrap_or("-"))
                    ),
                );
            }
        }
    }
    out.push('\n');
}
