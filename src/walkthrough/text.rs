//! The walkthrough as plain text, for a terminal without the TUI and for reports.

use std::fmt::Write as _;

use super::{Status, StepReport};

pub fn render_text(reports: &[StepReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let _ = writeln!(
            out,
            "{} {}. {} — {}",
            report.status.mark(),
            report.step.number(),
            report.title,
            report.status.label()
        );
        let _ = writeln!(out, "    {}: {}", report.checked_label(), report.checked);
        for line in &report.evidence {
            let _ = writeln!(out, "    evidence: {line}");
        }
        if let Some(finding) = &report.finding {
            let _ = writeln!(out, "    finding: {} — {}", finding.id, finding.title);
        }
        if let Some(fix) = &report.fix {
            let _ = writeln!(out, "    fix: {}", fix.summary);
            if let Some(portal) = &fix.portal {
                let _ = writeln!(out, "    portal: {portal}");
            }
            if let Some(az) = &fix.az {
                let _ = writeln!(out, "    az: {az}");
            }
        }
    }
    let passed = reports
        .iter()
        .filter(|r| matches!(r.status, Status::Passed | Status::Skipped))
        .count();
    let _ = writeln!(out, "\n{passed} of {} steps passed.", reports.len());
    out
}
