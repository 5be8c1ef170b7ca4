//! The tenant tab: the audit's summary on top, a table of the apps with something to fix (most
//! severe first: severity, name, client id, worst issue), and below it the selected app's issues
//! with their `az` fixes, wrapped under their text and scrolled by PgDn/PgUp.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};

use super::clean;
use super::wrap::{cut_end, hanging};
use crate::diagnose::{self, Finding, Severity};
use crate::tui::state::{AuditRow, Outcome, State, TenantTab, Viewport};
use crate::tui::theme;

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let tab = &state.tenant;
    let running = tab
        .running_id()
        .is_some_and(|id| state.running.as_ref().is_some_and(|r| r.id == id));
    if matches!(tab.outcome, Outcome::NotRun) {
        intro(state, area, buf);
        return;
    }
    let head = hanging(Vec::new(), &summary_line(tab, running), area.width);
    let head_height = u16::try_from(head.len()).unwrap_or(1).min(3);
    let rows = tab.tally.rows.len();
    let room = area.height.saturating_sub(head_height + 1);
    let table_height = if rows == 0 {
        0
    } else {
        u16::try_from(rows + 1)
            .unwrap_or(u16::MAX)
            .min((room / 2).max(3))
    };
    let [head_area, table_area, gap, detail] = Layout::vertical([
        Constraint::Length(head_height),
        Constraint::Length(table_height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    Paragraph::new(head).render(head_area, buf);
    if rows > 0 {
        table(tab, table_area, buf);
    }
    let _ = gap;

    let mut lines = Vec::new();
    let width = detail.width;
    if let Outcome::Failed(finding) = &tab.outcome {
        failure(finding, width, &mut lines);
    }
    match tab.selected_row() {
        Some(row) => details(row, width, &mut lines),
        None if running => lines.extend(hanging(
            Vec::new(),
            &[(
                "Reading… the apps with something to fix appear here as Graph's pages come in."
                    .to_owned(),
                theme::label(),
            )],
            width,
        )),
        None if matches!(tab.outcome, Outcome::Done(_)) => lines.extend(hanging(
            Vec::new(),
            &[(
                format!(
                    "All clear: none of the {} app(s) has anything to fix.",
                    tab.tally.apps
                ),
                theme::ok(),
            )],
            width,
        )),
        None => {}
    }
    let mut view = Viewport {
        offset: 0,
        height: detail.height,
        total: u16::try_from(lines.len()).unwrap_or(u16::MAX),
    };
    view.offset = tab.scroll.min(view.max_offset());
    tab.view.set(view);
    Paragraph::new(lines)
        .scroll((view.offset, 0))
        .render(detail, buf);
}

/// Before the first run: what `r` does, and as whom it reads.
fn intro(state: &State, area: Rect, buf: &mut Buffer) {
    let reader = if let Some(admin) = state.form.admin() {
        format!("the Admin app {}", clean(&admin.client_id))
    } else {
        let id = state.form.client_id.value().trim();
        if id.is_empty() {
            "the form's app".to_owned()
        } else {
            format!("the form's app {}", clean(id))
        }
    };
    let text = [
        format!(
            "Press r to audit every app registration of the tenant through Microsoft Graph, read as {reader}."
        ),
        String::new(),
        "Each app's secrets and certificates against their end dates, credentials nobody signs in with, apps with no owner, highly privileged Graph permissions, delegated permissions on apps that only run app-only, and multi-tenant apps with no service principal here; each with the az command that fixes it.".to_owned(),
        String::new(),
        format!(
            "The reading app needs {} (application); {} too for the sign-in activity.",
            crate::audit::AUDIT_PERMISSION,
            crate::audit::SIGN_IN_PERMISSION
        ),
    ];
    let mut lines = Vec::new();
    for (index, paragraph) in text.iter().enumerate() {
        let style = if index == 0 {
            theme::title()
        } else {
            Style::new()
        };
        lines.extend(hanging(
            Vec::new(),
            &[(paragraph.clone(), style)],
            area.width,
        ));
    }
    Paragraph::new(lines).render(area, buf);
}

/// "17 app(s) read · 10 with issues, 7 healthy · 2 expired, 2 expiring · …", as runs for
/// [`hanging`] (which puts one blank between runs).
fn summary_line(tab: &TenantTab, running: bool) -> Vec<(String, Style)> {
    let t = &tab.tally;
    let mut runs = vec![
        (format!("{} app(s) read", t.apps), theme::title()),
        (
            format!("· {} with issues, {} healthy ·", t.with_issues, t.healthy()),
            Style::new(),
        ),
        (
            format!("{} expired,", t.expired),
            count_style(t.expired, Severity::Error),
        ),
        (
            format!("{} expiring", t.expiring),
            count_style(t.expiring, Severity::Warning),
        ),
        ("·".to_owned(), Style::new()),
        (
            format!("{} privileged", t.privileged),
            count_style(t.privileged, Severity::Warning),
        ),
        ("·".to_owned(), Style::new()),
        (
            format!("{} no owner", t.no_owner),
            count_style(t.no_owner, Severity::Warning),
        ),
    ];
    if t.left_out > 0 {
        runs.push((
            format!(
                "· {} more with issues not listed (entra-doctor audit --output json has them)",
                t.left_out
            ),
            Style::new(),
        ));
    }
    let tail = match &tab.outcome {
        Outcome::Running { .. } if running => "· reading…".to_owned(),
        Outcome::Running { .. } => "· stopped before the end: partial".to_owned(),
        Outcome::Cancelled => "· cancelled: partial".to_owned(),
        Outcome::Done(summary) => {
            let throttled = match summary.throttled_retries {
                0 => String::new(),
                n => format!(", {n} throttled read(s) waited out"),
            };
            format!("· {} page(s){throttled}", summary.pages)
        }
        Outcome::Failed(_) => "· failed".to_owned(),
        Outcome::NotRun => String::new(),
    };
    runs.push((tail, theme::label()));
    runs
}

fn count_style(count: u64, severity: Severity) -> Style {
    if count == 0 {
        Style::new()
    } else {
        theme::severity(severity)
    }
}

/// The table: a header, then the rows around the selected one.
fn table(tab: &TenantTab, area: Rect, buf: &mut Buffer) {
    let width = usize::from(area.width);
    let wide = width >= 110;
    let (name_width, id_width) = if wide { (30, 36) } else { (22, 9) };
    let worst_width = width.saturating_sub(11 + name_width + 1 + id_width + 1);
    let cell = |text: &str, w: usize| format!("{:<w$}", cut_end(&clean(text), w));
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "  {:<9}{} {} {}",
            "severity",
            cell("app", name_width),
            cell("client id", id_width),
            "worst issue"
        ),
        theme::label(),
    ))];
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    let first = tab.selected.saturating_sub(visible - 1);
    for (index, row) in tab.tally.rows.iter().enumerate().skip(first).take(visible) {
        let selected = index == tab.selected;
        let worst = row.issues.first().map_or("", |i| i.words.as_str());
        lines.push(Line::from(vec![
            Span::raw(if selected { "▶ " } else { "  " }),
            Span::styled(
                format!("{:<9}", row.severity.label()),
                theme::severity(row.severity),
            ),
            Span::styled(
                cell(&row.name, name_width),
                if selected {
                    theme::title()
                } else {
                    Style::new()
                },
            ),
            Span::raw(format!(" {} ", cell(&row.app_id, id_width))),
            Span::raw(cut_end(&clean(worst), worst_width)),
        ]));
    }
    Paragraph::new(lines).render(area, buf);
}

/// The selected app: its name and ids, then each issue with its `az` commands under it.
fn details(row: &AuditRow, width: u16, lines: &mut Vec<Line<'static>>) {
    lines.extend(hanging(
        Vec::new(),
        &[
            (clean(&row.name), theme::title()),
            (
                format!("  client id {}", clean(&row.app_id)),
                theme::label(),
            ),
        ],
        width,
    ));
    for issue in &row.issues {
        let mark = match issue.severity {
            Severity::Error => "✗ ",
            Severity::Warning => "! ",
            Severity::Info => "· ",
        };
        lines.extend(hanging(
            vec![Span::styled(
                format!("  {mark}"),
                theme::severity(issue.severity),
            )],
            &[(clean(&issue.words), Style::new())],
            width,
        ));
        for command in &issue.fix {
            lines.extend(hanging(
                vec![Span::raw("      ")],
                &[(clean(command), theme::key_claim())],
                width,
            ));
        }
    }
    if row.more_issues > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "  … and {} more issue(s): entra-doctor audit --output json lists them all",
                row.more_issues
            ),
            theme::label(),
        )));
    }
}

/// Why the audit stopped: the finding's title, its cause and what to do.
fn failure(finding: &Finding, width: u16, lines: &mut Vec<Line<'static>>) {
    lines.extend(hanging(
        vec![Span::styled(
            format!("{:<8}", finding.severity.label()),
            theme::severity(finding.severity),
        )],
        &[
            (clean(&finding.title), theme::title()),
            (format!("  {}", finding.id), theme::label()),
        ],
        width,
    ));
    let row = |label: &str, text: &str, style: Style| {
        hanging(
            vec![Span::styled(format!("  {label:<8}"), theme::label())],
            &[(clean(text), style)],
            width,
        )
    };
    if !finding.cause.is_empty() {
        lines.extend(row("why", &finding.cause, Style::new()));
    }
    for fix in &finding.fixes {
        let (label, text, style) = match diagnose::split_fix_label(fix) {
            Some((label @ ("az" | "PowerShell"), text)) => (label, text, theme::key_claim()),
            Some((label, text)) => (label, text, Style::new()),
            None => ("fix", fix.as_str(), Style::new()),
        };
        lines.extend(row(label, text, style));
    }
    lines.push(Line::default());
}
