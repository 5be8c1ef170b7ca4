//! Findings: one row per finding, and the selected one expanded — its fixes first (the command
//! in its own colour), then why, the evidence and the docs. Rows wrap under their text; the pane
//! scrolls by line and its border says where it stands.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};

use super::clean;
use super::wrap::{cut_end, hanging};
use crate::diagnose::{self, Finding, Severity};
use crate::tui::state::{Load, State, Viewport};
use crate::tui::theme;

/// `"  why        "`: the labels of an expanded finding's rows, `PowerShell` the longest.
const LABEL_WIDTH: usize = 11;

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let (lines, selected_start) = lines(state, area.width);
    let mut view = Viewport {
        offset: 0,
        height: area.height,
        total: u16::try_from(lines.len()).unwrap_or(u16::MAX),
    };
    view.offset = state
        .findings_scroll
        .unwrap_or(selected_start)
        .min(view.max_offset());
    state.findings_view.set(view);
    Paragraph::new(lines)
        .scroll((view.offset, 0))
        .render(area, buf);
}

/// Every row of the pane at this width, and the row the selected finding starts on.
fn lines(state: &State, width: u16) -> (Vec<Line<'static>>, u16) {
    let findings = state.all_findings();
    let mut lines = Vec::new();
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
        lines.extend(hanging(
            Vec::new(),
            &[(message.to_owned(), theme::ok())],
            width,
        ));
        if !findings.is_empty() {
            lines.push(Line::from(""));
        }
    }
    let mut selected_start = 0;
    for (index, finding) in findings.iter().enumerate() {
        if index == state.selected_finding {
            selected_start = u16::try_from(lines.len()).unwrap_or(u16::MAX);
            expanded(finding, width, &mut lines);
        } else {
            let row = format!(
                "  {:<7} {}  {}",
                finding.severity.label(),
                clean(&finding.title),
                finding.id
            );
            let row = cut_end(&row, usize::from(width));
            let split = row.char_indices().nth(10).map_or(row.len(), |(i, _)| i);
            let (head, rest) = row.split_at(split);
            lines.push(Line::from(vec![
                Span::styled(head.to_owned(), theme::severity(finding.severity)),
                Span::raw(rest.to_owned()),
            ]));
        }
    }
    // The consent audit's table is the evidence behind its findings: it follows them.
    if let Some(table) = state.consent.as_deref() {
        lines.push(Line::default());
        lines.extend(super::consent::lines(table));
    }
    if let Some(comparison) = state.federation.as_deref() {
        lines.push(Line::default());
        lines.extend(super::federation::lines(comparison, width));
    }
    if let Some(table) = state.signins.as_deref() {
        lines.push(Line::default());
        lines.extend(super::signins::lines(table, width));
    }
    (lines, selected_start)
}

fn expanded(finding: &Finding, width: u16, lines: &mut Vec<Line<'static>>) {
    lines.extend(hanging(
        vec![
            Span::raw("▶ "),
            Span::styled(
                format!("{:<7} ", finding.severity.label()),
                theme::severity(finding.severity),
            ),
        ],
        &[
            (clean(&finding.title), theme::title()),
            (finding.id.clone(), theme::label()),
        ],
        width,
    ));
    // A refused token request is in the sign-in log: one row, under the title, where it is
    // seen on the smallest pane (the fixes can be long).
    if crate::signins::correlation_in([finding]).is_some() {
        lines.extend(row(
            "log",
            crate::tui::update::signins::OFFER,
            theme::key_claim(),
            width,
        ));
    }
    // The fix first, as the walkthrough does: on a small pane the evidence may scroll off,
    // what to do must not.
    for fix in &finding.fixes {
        let (label, text, style) = match diagnose::split_fix_label(fix) {
            Some((label @ ("az" | "PowerShell"), text)) => (label, text, theme::key_claim()),
            Some(("Portal", text)) => ("portal", text, Style::new()),
            Some((label, text)) => (label, text, Style::new()),
            None => ("fix", fix.as_str(), Style::new()),
        };
        lines.extend(row(label, text, style, width));
    }
    if !finding.cause.is_empty() {
        lines.extend(row("why", &finding.cause, Style::new(), width));
    }
    for evidence in &finding.evidence {
        lines.extend(row("evidence", evidence, Style::new(), width));
    }
    for doc in &finding.docs {
        lines.extend(row("docs", doc, Style::new(), width));
    }
}

fn row(label: &str, text: &str, style: Style, width: u16) -> Vec<Line<'static>> {
    hanging(
        vec![Span::styled(
            format!("  {label:<LABEL_WIDTH$}"),
            theme::label(),
        )],
        &[(clean(text), style)],
        width,
    )
}
