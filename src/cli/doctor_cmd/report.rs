//! The doctor's checklist as text and as a Markdown report (no secret, no raw token).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{Outcome, Step};
use crate::cli::findings;
use crate::diagnose::Finding;

fn mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "✓",
        Outcome::Failed => "✗",
        Outcome::Skipped => "-",
    }
}

pub(super) fn text(steps: &[Step], found: &[Finding]) -> String {
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
    out.push('\n');
    out.push_str(&findings::text(found));
    out
}

pub(super) fn markdown(steps: &[Step], found: &[Finding], now: DateTime<Utc>) -> String {
    let mut out = format!(
        "# entra-doctor report\n\nGenerated {now}. Contains no secret and no raw token.\n\n## Steps\n\n| | step | result |\n|---|---|---|\n"
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
