//! Findings as text: the checklist view of `doctor` and `explain`, and one-line warnings.

use std::fmt::Write as _;

use crate::diagnose::{Finding, Severity};

fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "✗",
        Severity::Warning => "!",
        Severity::Info => "i",
    }
}

/// `warning: <title>: <cause>` for a preflight finding printed before a request.
pub fn one_line(finding: &Finding) -> String {
    let mut line = format!("{}: {}", finding.severity.label(), finding.title);
    if !finding.cause.is_empty() {
        let _ = write!(line, ": {}", finding.cause);
    }
    for fix in &finding.fixes {
        let _ = write!(line, "\n  fix: {fix}");
    }
    line
}

/// Every finding with its cause, evidence, fixes and docs.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("No findings.\n");
    }
    for (index, finding) in findings.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} [{}] {} ({})",
            mark(finding.severity),
            finding.severity.label(),
            finding.title,
            finding.id
        );
        if !finding.cause.is_empty() {
            let _ = writeln!(out, "  why:      {}", finding.cause);
        }
        for evidence in &finding.evidence {
            let _ = writeln!(out, "  evidence: {}", super::render::clean(evidence));
        }
        for fix in &finding.fixes {
            let _ = writeln!(out, "  fix:      {fix}");
        }
        for doc in &finding.docs {
            let _ = writeln!(out, "  docs:     {doc}");
        }
    }
    out
}
