//! `entra-doctor federation`: the external token of a federated credential, checked on its own
//! and set beside each federated identity credential of the app registration (read from
//! Microsoft Graph with an admin app's token, or the daemon's own), naming what differs.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::args::{CloudArg, FederationArgs};
use super::config::Environment;
use super::{OutputFormat, Report, findings};
use crate::consent::ReadFailure;
use crate::diagnose::{self, Finding, Severity, preflight};
use crate::error::{Error, Result};
use crate::federation::{self, Comparison, ExternalClaims, FieldVerdict, graph};
use crate::secret::Secret;
use crate::token::time::relative_to_expiry;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// What the command found.
#[derive(Debug, Clone)]
pub struct FederationReport {
    /// Where the token came from (`--assertion-file` or `AZURE_FEDERATED_TOKEN_FILE`).
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

/// Reads and checks the token, then compares it with the app's credentials when it can.
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
    let host = match (&args.credential.authority_host, args.credential.cloud) {
        (Some(host), _) => host.clone(),
        (None, Some(CloudArg::Usgov)) => "https://login.microsoftonline.us".to_owned(),
        (None, Some(CloudArg::China)) => "https://login.chinacloudapi.cn".to_owned(),
        (None, _) => env
            .get("AZURE_AUTHORITY_HOST")
            .unwrap_or("https://login.microsoftonline.com")
            .to_owned(),
    };
    let inspection = federation::inspect_for(
        token.expose(),
        Some(federation::audience_for_authority(&host)),
        now,
    );
    let mut found = inspection.findings;
    let mut report = FederationReport {
        source,
        claims: inspection.claims.clone(),
        client_id: args.credential.client_id.clone(),
        graph_url: None,
        comparison: None,
        findings: Vec::new(),
    };
    let Some(claims) = inspection.claims else {
        diagnose::sort(&mut found);
        report.findings = found;
        return Ok(report);
    };
    if args.no_graph {
        diagnose::sort(&mut found);
        report.findings = found;
        return Ok(report);
    }
    let Some(client_id) = args.credential.client_id.clone() else {
        found.push(graph::not_compared(
            "No --client-id (or AZURE_CLIENT_ID) names the app whose credentials to read.",
            "<client-id>",
        ));
        diagnose::sort(&mut found);
        report.findings = found;
        return Ok(report);
    };
    match credentials(args, env, &path, &client_id, now).await? {
        Read::Credentials { list, graph_url } => {
            let comparison = federation::compare(&claims, &list);
            found.extend(federation::findings(&comparison, &client_id));
            report.graph_url = Some(graph_url);
            report.comparison = Some(comparison);
        }
        Read::Failed {
            findings: more,
            graph_url,
        } => {
            found.extend(more);
            report.graph_url = graph_url;
        }
    }
    diagnose::sort(&mut found);
    report.findings = found;
    Ok(report)
}

enum Read {
    Credentials {
        list: Vec<federation::FederatedCredential>,
        graph_url: String,
    },
    Failed {
        findings: Vec<Finding>,
        graph_url: Option<String>,
    },
}

/// The app's federated credentials from Graph; failures the operator can act on are findings.
async fn credentials(
    args: &FederationArgs,
    env: &Environment,
    path: &std::path::Path,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<Read> {
    let mut daemon_args = args.credential.clone();
    daemon_args.assertion_file = Some(path.to_path_buf());
    daemon_args.secret_stdin = false;
    daemon_args.certificate = None;
    if daemon_args.scopes.is_empty() {
        daemon_args.scopes = vec![GRAPH_SCOPE.to_owned()];
    }
    let daemon = daemon_args.spec()?;
    let context = daemon.fix_context();
    let admin = super::consent_cmd::admin_app(
        super::consent_cmd::AdminOptions {
            client_id: args.admin_client_id.as_deref(),
            certificate: args.admin_certificate.as_deref(),
            secret_env: &args.admin_secret_env,
            password_env: &args.credential.certificate_password_env,
        },
        env,
    )?;
    let mut no_stdin = || Ok(String::new());
    let token = crate::consent::graph_token(
        &daemon,
        admin.as_ref(),
        args.graph_url.as_deref(),
        env,
        &mut no_stdin,
        now,
    )
    .await;
    let (token, graph_url) = match token {
        Ok(read) => read,
        // The daemon's own exchange failing is often the very problem: say so, and why the
        // credentials stay unread. An admin app's failure is the operator's setup: an error.
        Err(error)
            if args.admin_client_id.is_none()
                && error.failure() != crate::error::Failure::Input =>
        {
            let code = match &error {
                Error::Entra(entra) => entra
                    .error_codes
                    .first()
                    .map(|c| format!(" with AADSTS{c}"))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let why = format!(
                "The app's own sign-in for a Graph token failed{code} (the finding above), so its credentials could not be read with it."
            );
            return Ok(Read::Failed {
                findings: vec![
                    preflight::error(&error, &context),
                    graph::not_compared(&why, client_id),
                ],
                graph_url: None,
            });
        }
        Err(error) => return Err(error),
    };
    let options = super::config::client_options(&daemon_args, env)?;
    let client = crate::auth::TokenClient::new(options)?;
    Ok(
        match graph::read(&client, &graph_url, &token, client_id).await {
            Ok(list) => Read::Credentials { list, graph_url },
            Err(ReadFailure::Denied {
                url,
                status,
                detail,
            }) => Read::Failed {
                findings: vec![graph::denied(status, &detail, &url, client_id)],
                graph_url: Some(graph_url),
            },
            Err(ReadFailure::NotFound { what }) => Read::Failed {
                findings: vec![diagnose::consent::not_found(&what)],
                graph_url: Some(graph_url),
            },
            Err(ReadFailure::Failed(error)) => Read::Failed {
                findings: vec![preflight::error(&error, &context)],
                graph_url: Some(graph_url),
            },
        },
    )
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
