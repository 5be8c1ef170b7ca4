//! The walkthrough tab: the seven steps with their marks on top, the selected step below —
//! what it checked, the evidence, and on failure the finding, the portal path, the `az`
//! command and what `x` would apply. Detail rows wrap under their text.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};

use super::clean;
use super::wrap::{cut_end, fit, labelled};
use crate::diagnose::Severity;
use crate::tui::state::{State, Viewport};
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
    // One row: the scope is cut with a mark rather than wrapped over the step list.
    let scope_room = usize::from(head.width)
        .saturating_sub(4 + 8 + state.form.client_id.value().chars().count());
    Paragraph::new(Line::from(vec![
        Span::styled("app ", theme::label()),
        Span::raw(clean(state.form.client_id.value())),
        Span::styled("  scope ", theme::label()),
        Span::raw(cut_end(&clean(state.form.scope.value()), scope_room)),
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
    let width = detail.width;
    if let Some(note) = &walk.note {
        lines.extend(row("fixed", note, theme::ok(), width));
    }
    if let Some(report) = walk.selected_step() {
        details(report, width, &mut lines);
    }
    let mut view = Viewport {
        offset: 0,
        height: detail.height,
        total: u16::try_from(lines.len()).unwrap_or(u16::MAX),
    };
    view.offset = walk.scroll.min(view.max_offset());
    walk.view.set(view);
    Paragraph::new(lines)
        .scroll((view.offset, 0))
        .render(detail, buf);
}

fn details(report: &StepReport, width: u16, lines: &mut Vec<Line<'static>>) {
    lines.extend(fit(
        Line::from(vec![
            Span::styled(
                format!("Step {} · {}", report.step.number(), report.title),
                theme::title(),
            ),
            Span::styled(
                format!(" — {}", report.status.label()),
                mark_style(report.status),
            ),
        ]),
        width,
    ));
    lines.extend(row(
        report.checked_label(),
        &report.checked,
        Style::new(),
        width,
    ));
    // On a failure the diagnosis and its fix come first: the evidence (trace ids and all)
    // can scroll off a small terminal, the fix must not.
    if let Some(finding) = &report.finding {
        lines.extend(row(
            "finding",
            &format!("{} — {}", finding.id, finding.title),
            theme::severity(finding.severity),
            width,
        ));
    }
    if let Some(fix) = &report.fix {
        lines.extend(row("fix", &fix.summary, Style::new(), width));
        if let Some(portal) = &fix.portal {
            lines.extend(row("portal", portal, Style::new(), width));
        }
        if let Some(az) = &fix.az {
            lines.extend(row("az", az, theme::key_claim(), width));
        }
        if let Some(apply) = &fix.apply {
            lines.extend(row(
                "x",
                &format!("press x to {}", apply.describe()),
                theme::ok(),
                width,
            ));
        }
    }
    if let Some(finding) = report.finding.as_ref().filter(|f| !f.cause.is_empty()) {
        lines.extend(row("why", &finding.cause, Style::new(), width));
    }
    for evidence in &report.evidence {
        lines.extend(row("evidence", evidence, Style::new(), width));
    }
}

/// A labelled row of the details, wrapped under its text.
fn row(label: &str, text: &str, style: Style, width: u16) -> Vec<Line<'static>> {
    labelled(label, 9, theme::label(), &clean(text), style, width)
}

fn mark_style(status: Status) -> Style {
    match status {
        Status::Passed => theme::ok().bold(),
        Status::Failed => theme::severity(Severity::Error),
        Status::NotYet | Status::Skipped => theme::label(),
    }
}
