//! The doctor's checklist as text and as a Markdown report (no secret, no raw token).

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

use super::{Outcome, Step};
use crate::auth::{Credential, TokenRequest};
use crate::cli::args::CredentialArgs;
use crate::cli::findings;
use crate::diagnose::Finding;

fn mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "✓",
        Outcome::Failed => "✗",
        Outcome::Skipped => "-",
    }
}

/// The steps, the command that reads a refused request's sign-in (`log`), then the findings.
pub(super) fn text(steps: &[Step], log: Option<&str>, found: &[Finding]) -> String {
    let mut out = String::new();
    for step in steps {
        let _ = writeln!(
            out,
            "{} {:<10} {}",
            mark(step.outcome),
            step.name,
            crate::cli::render::clean(&step.detail)
        );
    }
    if let Some(command) = log {
        // Under the steps' details: the next thing to run.
        let _ = writeln!(out, "{:<12} {command}", "log:");
    }
    out.push('\n');
    out.push_str(&findings::text(found));
    out
}

/// Which app a report is about: ids, never a secret (a certificate by its thumbprint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::cli) struct About {
    tenant: String,
    client_id: String,
    scope: String,
    credential: String,
    authority: String,
}

impl About {
    pub(super) fn of(request: &TokenRequest) -> Self {
        let credential = match &request.credential {
            Credential::Certificate { certificate, .. } => format!(
                "certificate, Thumbprint {} (SHA-1, as the portal lists it)",
                certificate.info.thumbprint_sha1
            ),
            other => other.source(),
        };
        // A managed identity's ids are its token's, which the report's token section shows.
        Self {
            tenant: request.known_tenant().map_or_else(
                || "the managed identity's (the token's tid)".to_owned(),
                ToString::to_string,
            ),
            client_id: request.known_client_id().map_or_else(
                || "the managed identity's (the token's appid)".to_owned(),
                str::to_owned,
            ),
            scope: request.scopes.to_request_value(),
            credential,
            authority: request.authority.host.to_string(),
        }
    }

    /// The client id, as the checklist names it (a managed identity's is no GUID yet).
    pub(super) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// What the options said, for a check that stopped before its request was prepared.
    pub(super) fn unprepared(args: &CredentialArgs) -> Self {
        let given = |value: Option<&String>| value.cloned().unwrap_or_else(|| "not given".into());
        Self {
            tenant: given(args.tenant.as_ref()),
            client_id: given(args.client_id.as_ref()),
            scope: if args.scopes.is_empty() {
                "not given".into()
            } else {
                args.scopes.join(" ")
            },
            credential: "not prepared (preflight failed)".into(),
            authority: given(args.authority_host.as_ref()),
        }
    }
}

pub(super) fn markdown(
    about: &About,
    steps: &[Step],
    found: &[Finding],
    now: DateTime<Utc>,
) -> String {
    // Seconds are precise enough for a report, and RFC 3339 is what logs and tickets use.
    let generated = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let code = |value: &str| format!("`{}`", value.replace('`', "'"));
    let mut out = format!(
        "# entra-doctor report\n\nGenerated {generated}. Contains no secret and no raw token.\n\n\
         - tenant: {}\n- client id: {}\n- scope: {}\n- credential: {}\n- authority: {}\n\n\
         ## Steps\n\n| | step | result |\n|---|---|---|\n",
        code(&about.tenant),
        code(&about.client_id),
        code(&about.scope),
        about.credential,
        code(&about.authority),
    );
    for step in steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            mark(step.outcome),
            step.name,
            step.detail.replace('|', "\\|")
        );
    }
    out.push_str("\n## Findings\n");
    if found.is_empty() {
        out.push_str("\nNone.\n");
    }
    for finding in found {
        let _ = write!(
            out,
            "\n### {} `{}` ({})\n\n{}\n\n",
            finding.title,
            finding.id,
            finding.severity.label(),
            finding.cause
        );
        for evidence in &finding.evidence {
            let _ = writeln!(out, "- evidence: `{}`", evidence.replace('`', "'"));
        }
        for fix in &finding.fixes {
            let _ = writeln!(out, "- fix: {fix}");
        }
        for doc in &finding.docs {
            let _ = writeln!(out, "- docs: <{doc}>");
        }
    }
    out
}
