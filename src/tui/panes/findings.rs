//! Findings: title, cause, evidence and fixes; the selected one is expanded.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _, Wrap};

use super::clean;
use crate::diagnose::Severity;
use crate::tui::state::{Load, State};
use crate::tui::theme;

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let findings = state.all_findings();
    let mut lines = state
        .consent
        .as_deref()
        .map(super::consent::lines)
        .unwrap_or_default();
    // Information (the signature verified, the token version) is no problem: the verdict
    // still leads, with the information below it.
    if findings.iter().all(|f| f.severity == Severity::Info) {
        let message = match (&state.token, &state.probe) {
            (Load::Ready(_), Load::Ready(report)) if report.is_success() => {
                "All clear: the token was issued and the API answered with success."
            }
            (Load::Ready(_), _) => "No problems with the token. Press p to call the API with it.",
            _ => "No findings yet. Press d to run every step.",
        };
        lines.push(Line::from(Span::styled(message, theme::ok())));
        if !findings.is_empty() {
            lines.push(Line::from(""));
        }
    }
    for (index, finding) in findings.iter().enumerate() {
        let selected = index == state.selected_finding;
        let marker = if selected { "▶ " } else { "  " };
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(
                format!("{:<7} ", finding.severity.label()),
                theme::severity(finding.severity),
            ),
            Span::styled(
                clean(&finding.title),
                if selected {
                    theme::title()
                } else {
                    ratatui::style::Style::new()
                },
            ),
            Span::styled(format!("  {}", finding.id), theme::label()),
        ]));
        if selected {
            if !finding.cause.is_empty() {
                lines.push(Line::from(vec![
                    Span::styled("    why      ", theme::label()),
                    Span::raw(clean(&finding.cause)),
                ]));
            }
            for evidence in &finding.evidence {
                lines.push(Line::from(vec![
                    Span::styled("    evidence ", theme::label()),
                    Span::raw(clean(evidence)),
                ]));
            }
            for fix in &finding.fixes {
                lines.push(Line::from(vec![
                    Span::styled("    fix      ", theme::label()),
                    Span::raw(clean(fix)),
                ]));
            }
            for doc in &finding.docs {
                lines.push(Line::from(vec![
                    Span::styled("    docs     ", theme::label()),
                    Span::raw(clean(doc)),
                ]));
            }
        }
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(area, buf);
}
