//! `entra-doctor consent`: the admin-consent audit of one app on one resource, read from
//! Microsoft Graph with the daemon's own token or a second (admin) credential.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::args::{ConsentArgs, GraphReadArgs};
use super::probe_cmd::stdin_reader;
use super::{OutputFormat, Report, findings, token_arg};
use crate::consent::Audit;
use crate::consent::{self, AdminApp, AuditRequest};
use crate::diagnose::Severity;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::setup::{CredentialSpec, Password};

pub async fn run(
    args: &ConsentArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    if let Some(token) = args.token.as_deref() {
        report.stderr.extend(token_arg::warning(token, "--token"));
    }
    let audit = audit(args, env, now).await?;
    let found = &audit.findings;
    report.exit = u8::from(found.iter().any(|f| f.severity != Severity::Info));
    report.stdout = match format {
        OutputFormat::Json => format!(
            "{}\n",
            json!({
                "client_id": audit.client_id,
                "graph_url": audit.graph_url,
                "resource": audit.directory.as_ref().map(|d| json!({"app_id": d.resource_app_id, "name": d.resource_name})),
                "permissions": audit.rows,
                "findings": found,
            })
        ),
        OutputFormat::Text => text(&audit),
    };
    Ok(())
}

/// The audit of the options: the domain's [`consent::run`], with the admin app's secret read
/// from its variable and a given token read from where `--token` says.
pub async fn audit(args: &ConsentArgs, env: &Environment, now: DateTime<Utc>) -> Result<Audit> {
    if args.credential.secret_stdin && token_arg::is_stdin(args.token.as_deref()) {
        return Err(token_arg::stdin_taken("--secret-stdin", "--token -"));
    }
    let admin = admin_app(&args.graph, &args.credential.certificate_password_env, env)?;
    let token = match args.token.as_deref() {
        Some(value) => Some(Secret::new(token_arg::read(value)?.0)),
        None => None,
    };
    let request = AuditRequest {
        daemon: args.credential.spec()?,
        graph_url: args.graph.graph_url.clone(),
        admin,
        token,
    };
    let mut stdin = stdin_reader();
    consent::run(&request, env, &mut stdin, now, Some(retry_note())).await
}

/// A retry said on standard error, as `token` says it.
pub(super) fn retry_note() -> crate::auth::client::RetryObserver {
    std::sync::Arc::new(|notice| {
        eprintln!(
            "note: {}",
            crate::scrub::printable_line(&notice.to_string())
        );
    })
}

/// The `--admin-client-id` app: its certificate (a PFX's password in `password_env`), or the
/// secret in its variable.
pub(super) fn admin_app(
    graph: &GraphReadArgs,
    password_env: &str,
    env: &Environment,
) -> Result<Option<AdminApp>> {
    let Some(client_id) = &graph.admin_client_id else {
        return Ok(None);
    };
    let credential = if let Some(path) = &graph.admin_certificate {
        CredentialSpec::Certificate {
            path: Some(path.clone()),
            private_key: None,
            password: Password::Given(Secret::new(env.get(password_env).unwrap_or_default())),
        }
    } else {
        let secret = env
            .get(&graph.admin_secret_env)
            .ok_or_else(|| Error::MissingCredential {
                hint: format!(
                    "--admin-client-id needs its client secret in {} (or --admin-certificate)",
                    graph.admin_secret_env
                ),
            })?;
        CredentialSpec::Secret(Some(Secret::new(secret)))
    };
    Ok(Some(AdminApp {
        client_id: client_id.clone(),
        credential,
    }))
}

fn mark(value: bool) -> &'static str {
    if value { "✓" } else { "✗" }
}

fn text(audit: &Audit) -> String {
    let (client_id, directory, rows, found, graph_url) = (
        &audit.client_id,
        audit.directory.as_ref(),
        &audit.rows,
        &audit.findings,
        &audit.graph_url,
    );
    let mut out = String::new();
    if let Some(d) = directory {
        let _ = writeln!(
            out,
            "Consent audit of {client_id} on {} ({}), read from {graph_url}\n",
            d.resource_name, d.resource_app_id
        );
        let _ = writeln!(
            out,
            "  {:<24} {:<12} {:<15} {:<27} in token",
            "permission", "application", "delegated only", "admin consent"
        );
        for row in rows {
            let consent = match (row.admin_consent, row.consented_on) {
                (true, Some(on)) => format!("✓ {}", on.format("%Y-%m-%d %H:%M UTC")),
                (granted, _) => mark(granted).to_owned(),
            };
            let _ = writeln!(
                out,
                "  {:<24} {:<12} {:<15} {:<27} {}",
                super::render::clean(&row.permission),
                mark(row.requested_as_application),
                if row.delegated_only { "✗ yes" } else { "-" },
                consent,
                row.in_token.map_or("-", mark)
            );
        }
        if rows.is_empty() {
            out.push_str("  (no permission requested or granted)\n");
        }
        out.push('\n');
    }
    out.push_str(&findings::text(found));
    out
}
