//! The walkthrough tab: the seven steps with their marks on top, the selected step below —
//! what it checked, the evidence, and on failure the finding, the portal path, the `az`
//! command and what `x` would apply.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _, Wrap};

use super::clean;
use crate::diagnose::Severity;
use crate::tui::state::State;
use crate::tui::theme;
use crate::walkthrough::{Status, StepReport};

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let walk = &state.walk;
    let list_height = u16::try_from(walk.steps.len() + 2).unwrap_or(9);
    let [head, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(list_height),
        Constraint::Min(0),
    ])
    .areas(area);
    Paragraph::new(Line::from(vec![
        Span::styled("app ", theme::label()),
        Span::raw(clean(state.form.client_id.value())),
        Span::styled("  scope ", theme::label()),
        Span::raw(clean(state.form.scope.value())),
    ]))
    .render(head, buf);

    let running_all = state
        .running
        .as_ref()
        .is_some_and(|r| r.what == "walkthrough");
    let mut lines = vec![Line::from("")];
    for (index, report) in walk.steps.iter().enumerate() {
        let checking = running_all || walk.checking == Some(report.step);
        let (mark, label) = if checking {
            ("…", "checking")
        } else {
            (report.status.mark(), report.status.label())
        };
        let selected = index == walk.selected;
        lines.push(Line::from(vec![
            Span::raw(if selected { "▶ " } else { "  " }),
            Span::styled(format!("{mark} "), mark_style(report.status)),
            Span::styled(
                format!("{}. {:<30}", report.step.number(), report.title),
                if selected {
                    theme::title()
                } else {
                    Style::new()
                },
            ),
            Span::styled(label, theme::label()),
        ]));
    }
    Paragraph::new(lines).render(list, buf);

    let mut lines = Vec::new();
    if let Some(note) = &walk.note {
        lines.push(row("fixed", note, theme::ok()));
    }
    if let Some(report) = walk.selected_step() {
        details(report, &mut lines);
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((walk.scroll, 0))
        .render(detail, buf);
}

fn details(report: &StepReport, lines: &mut Vec<Line<'static>>) {
    lines.push(Line::from(vec![
        Span::styled(
            format!("Step {} · {}", report.step.number(), report.title),
            theme::title(),
        ),
        Span::styled(
            format!(" — {}", report.status.label()),
            mark_style(report.status),
        ),
    ]));
    lines.push(row(report.checked_label(), &report.checked, Style::new()));
    // On a failure the diagnosis and its fix come first: the evidence (trace ids and all)
    // can scroll off a small terminal, the fix must not.
    if let Some(finding) = &report.finding {
        lines.push(row(
            "finding",
            &format!("{} — {}", finding.id, finding.title),
            theme::severity(finding.severity),
        ));
    }
    if let Some(fix) = &report.fix {
        lines.push(row("fix", &fix.summary, Style::new()));
        if let Some(portal) = &fix.portal {
            lines.push(row("portal", portal, Style::new()));
        }
        if let Some(az) = &fix.az {
            lines.push(row("az", az, theme::key_claim()));
        }
        if let Some(apply) = &fix.apply {
            lines.push(row(
                "x",
                &format!("press x to {}", apply.describe()),
                theme::ok(),
            ));
        }
    }
    if let Some(finding) = report.finding.as_ref().filter(|f| !f.cause.is_empty()) {
        lines.push(row("why", &finding.cause, Style::new()));
    }
    for evidence in &report.evidence {
        lines.push(row("evidence", evidence, Style::new()));
    }
}

fn row(label: &str, text: &str, style: Style) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<9}"), theme::label()),
        Span::styled(clean(text), style),
    ])
}

fn mark_style(status: Status) -> Style {
    match status {
        Status::Passed => theme::ok().bold(),
        Status::Failed => theme::severity(Severity::Error),
        Status::NotYet | Status::Skipped => theme::label(),
    }
}
