//! `entra-doctor federation`: the external token of a federated credential, checked on its own
//! and set beside each federated identity credential of the app registration (read from
//! Microsoft Graph with an admin app's token, or the daemon's own), naming what differs.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::args::FederationArgs;
use super::{OutputFormat, Report, findings};
use crate::diagnose::{Finding, Severity};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::federation::{self, Comparison, ExternalClaims, FieldVerdict};
use crate::secret::Secret;
use crate::token::time::relative_to_expiry;

/// What the command found, and where the token came from.
#[derive(Debug, Clone)]
pub struct FederationReport {
    /// `--assertion-file` or `AZURE_FEDERATED_TOKEN_FILE`.
    pub source: &'static str,
    pub claims: Option<ExternalClaims>,
    pub client_id: Option<String>,
    pub graph_url: Option<String>,
    pub comparison: Option<Comparison>,
    /// Sorted, most important first.
    pub findings: Vec<Finding>,
}

pub async fn run(
    args: &FederationArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let found = examine(args, env, now).await?;
    report.exit = u8::from(found.findings.iter().any(|f| f.severity != Severity::Info));
    report.stdout = match format {
        OutputFormat::Json => format!(
            "{}\n",
            json!({
                "source": found.source,
                "token": found.claims,
                "client_id": found.client_id,
                "graph_url": found.graph_url,
                "credentials": found.comparison.as_ref().map(|c| &c.credentials),
                "findings": found.findings,
            })
        ),
        OutputFormat::Text => text(&found, now),
    };
    Ok(())
}

/// Reads the token named by the options, then runs the domain's check.
pub async fn examine(
    args: &FederationArgs,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<FederationReport> {
    let (path, source) = match (
        &args.credential.assertion_file,
        env.get("AZURE_FEDERATED_TOKEN_FILE"),
    ) {
        (Some(path), _) => (path.clone(), "--assertion-file"),
        (None, Some(path)) => (std::path::PathBuf::from(path), "AZURE_FEDERATED_TOKEN_FILE"),
        (None, None) => {
            return Err(Error::MissingCredential {
                hint: "the federated token: pass --assertion-file PATH or set AZURE_FEDERATED_TOKEN_FILE"
                    .into(),
            });
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::file(path.clone(), e))?;
    // The token is the credential: never printed, scrubbed from whatever the run prints.
    let token = Secret::new(text.trim());
    crate::scrub::remember(&token);
    let mut daemon_args = args.credential.clone();
    daemon_args.assertion_file = Some(path);
    daemon_args.secret_stdin = false;
    daemon_args.certificate = None;
    let admin =
        super::consent_cmd::admin_app(&args.graph, &args.credential.certificate_password_env, env)?;
    let request = federation::FederationRequest {
        daemon: daemon_args.spec()?,
        token,
        admin,
        graph_url: args.graph.graph_url.clone(),
        local_only: args.no_graph,
    };
    let found = federation::examine(&request, env, now).await?;
    Ok(FederationReport {
        source,
        claims: found.claims,
        client_id: found.client_id,
        graph_url: found.graph_url,
        comparison: found.comparison,
        findings: found.findings,
    })
}

fn text(report: &FederationReport, now: DateTime<Utc>) -> String {
    let clean = super::render::clean;
    let mut out = String::new();
    if let Some(claims) = &report.claims {
        let _ = writeln!(out, "Federated token ({})", report.source);
        let _ = writeln!(
            out,
            "  issuer    {}  ({})",
            clean(claims.iss.as_deref().unwrap_or("-")),
            claims.issuer_kind.label()
        );
        let _ = writeln!(
            out,
            "  subject   {}  ({})",
            clean(claims.sub.as_deref().unwrap_or("-")),
            claims.subject_shape.describe()
        );
        let _ = writeln!(out, "  audience  {}", clean(&claims.aud.join(", ")));
        if let Some(exp) = claims.exp {
            let _ = writeln!(
                out,
                "  expires   {} ({})",
                exp.format("%Y-%m-%d %H:%M:%S UTC"),
                relative_to_expiry(exp, now)
            );
        }
        out.push('\n');
    }
    if let Some(comparison) = &report.comparison {
        let _ = writeln!(
            out,
            "Federated credentials of app {}, read from {}\n",
            report.client_id.as_deref().unwrap_or("-"),
            report.graph_url.as_deref().unwrap_or("-")
        );
        if comparison.credentials.is_empty() {
            out.push_str("  (none)\n\n");
        }
        let token_aud = comparison.presented.aud.join(", ");
        for row in &comparison.credentials {
            let c = &row.credential;
            let _ = writeln!(out, "  {}  {}", clean(&c.name), mark(row.is_match));
            let subject = c.subject.clone().unwrap_or_else(|| {
                c.claims_matching_expression
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |e| e.value.clone())
            });
            field(
                &mut out,
                "issuer",
                comparison.presented.iss.as_deref().unwrap_or("-"),
                &c.issuer,
                &row.issuer,
            );
            field(
                &mut out,
                "subject",
                comparison.presented.sub.as_deref().unwrap_or("-"),
                &subject,
                &row.subject,
            );
            field(
                &mut out,
                "audience",
                &token_aud,
                &c.audiences.join(", "),
                &row.audience,
            );
            out.push('\n');
        }
    }
    out.push_str(&findings::text(&report.findings));
    out
}

fn field(out: &mut String, label: &str, token: &str, credential: &str, verdict: &FieldVerdict) {
    let clean = super::render::clean;
    if verdict.is_match {
        let _ = writeln!(out, "    {label:<9} ✓ {}", clean(credential));
        return;
    }
    let _ = writeln!(out, "    {label:<9} ✗ token       {}", clean(token));
    let _ = writeln!(out, "    {:<9}   credential  {}", "", clean(credential));
    if let Some(difference) = &verdict.difference {
        let _ = writeln!(out, "    {:<9}   → {}", "", clean(difference));
    }
}

fn mark(value: bool) -> &'static str {
    if value {
        "✓ trusts this token"
    } else {
        "✗"
    }
}
