//! The layout: every pane at once on a large terminal, one pane with tabs on a small one, a
//! status bar, and overlays (help, scenario picker). Pure: it reads the state and draws.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs};

use super::panes;
use super::state::{Pane, State};
use super::{keys, theme};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// The hints that stay when the pane's own do not fit; whole, or not at all.
const SHORT_HINTS: &str = " ? help · q quit ";
const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

pub fn render(state: &State, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let message = format!(
            "The terminal is {}x{}; entra-doctor needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Enlarge it, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(message).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(state, frame, header);
    if matches!(state.focus, Pane::Walkthrough | Pane::Tenant) {
        render_pane(state, frame, state.focus, body);
    } else if area.width >= 120 && area.height >= 40 {
        // The findings get the tall column beside the token: their fixes must be readable
        // without scrolling. The probe's response sits under the short credentials form.
        // The left column fits a GUID after its label (13 + 36 + borders); the right one the
        // token's first line.
        let left_width = (body.width * 43 / 100).max(51);
        let [left, right] =
            Layout::horizontal([Constraint::Length(left_width), Constraint::Min(0)]).areas(body);
        // The form as tall as its fields and lints want (the probe keeps 8 rows); the probe's
        // response gets the rest.
        let wanted = panes::credentials::height(state, left_width.saturating_sub(2)) + 2;
        let room = left.height.saturating_sub(7 + 8);
        let [credentials, probe, cache] = Layout::vertical([
            Constraint::Length(wanted.clamp(11, room.max(11))),
            Constraint::Min(0),
            Constraint::Length(7),
        ])
        .areas(left);
        let [token, findings] =
            Layout::vertical([Constraint::Length(18), Constraint::Min(0)]).areas(right);
        render_pane(state, frame, Pane::Credentials, credentials);
        render_pane(state, frame, Pane::Cache, cache);
        render_pane(state, frame, Pane::Token, token);
        render_pane(state, frame, Pane::Probe, probe);
        render_pane(state, frame, Pane::Findings, findings);
    } else {
        render_pane(state, frame, state.focus, body);
    }
    render_status(state, frame, status);
    if state.demo.as_ref().is_some_and(|d| d.open) {
        panes::help::render_picker(state, frame, body);
    }
    if state.show_help {
        panes::help::render_help(state, frame, body);
    }
}

fn render_header(state: &State, frame: &mut Frame, area: Rect) {
    let titles: Vec<Line> = Pane::ALL
        .iter()
        .enumerate()
        .map(|(i, pane)| {
            let mark = if pane_has_problem(state, *pane) {
                "!"
            } else {
                ""
            };
            Line::from(format!("{} {}{mark}", i + 1, pane.title()))
        })
        .collect();
    let selected = Pane::ALL
        .iter()
        .position(|p| *p == state.focus)
        .unwrap_or(0);
    // The name yields its room to the six tabs on a narrow terminal.
    let name_width = if area.width >= 100 { 16 } else { 0 };
    let [name, tabs] =
        Layout::horizontal([Constraint::Length(name_width), Constraint::Min(0)]).areas(area);
    frame.render_widget(Span::styled(" entra-doctor ", theme::title()), name);
    // Seven tabs with their padding are wider than 80 columns: a narrow terminal gets them
    // without it rather than losing the last ones.
    let wanted = titles
        .iter()
        .map(|t| t.width() + 3)
        .sum::<usize>()
        .saturating_sub(1);
    let tabs_widget = Tabs::new(titles)
        .select(selected)
        .highlight_style(theme::selected());
    let tabs_widget = if wanted > usize::from(tabs.width) {
        tabs_widget.padding("", "")
    } else {
        tabs_widget
    };
    frame.render_widget(tabs_widget, tabs);
}

fn pane_has_problem(state: &State, pane: Pane) -> bool {
    match pane {
        Pane::Findings => state
            .all_findings()
            .iter()
            .any(|f| f.severity == crate::diagnose::Severity::Error),
        Pane::Token => matches!(state.token, super::state::Load::Failed(_)),
        Pane::Probe => match &state.probe {
            super::state::Load::Ready(report) => !report.is_success(),
            super::state::Load::Failed(_) => true,
            super::state::Load::Empty | super::state::Load::Loading => false,
        },
        Pane::Walkthrough => state
            .walk
            .steps
            .iter()
            .any(|r| r.status == crate::walkthrough::Status::Failed),
        Pane::Tenant => match &state.tenant.outcome {
            super::state::Outcome::Failed(_) => true,
            super::state::Outcome::Done(summary) => summary.needs_action(),
            super::state::Outcome::NotRun
            | super::state::Outcome::Running { .. }
            | super::state::Outcome::Cancelled => false,
        },
        Pane::Credentials | Pane::Cache => false,
    }
}

fn render_pane(state: &State, frame: &mut Frame, pane: Pane, area: Rect) {
    let focused = state.focus == pane;
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme::focused_border()
        } else {
            theme::border()
        })
        .title(Span::styled(format!(" {} ", pane.title()), theme::title()));
    let inner = block.inner(area);
    let buffer = frame.buffer_mut();
    // The pane first: a scrolled one measures itself, and its border says where it stands.
    match pane {
        Pane::Credentials => panes::credentials::render(state, inner, buffer),
        Pane::Token => panes::token::render(state, inner, buffer),
        Pane::Cache => panes::cache::render(state, inner, buffer),
        Pane::Probe => panes::probe::render(state, inner, buffer),
        Pane::Findings => panes::findings::render(state, inner, buffer),
        Pane::Walkthrough => panes::walkthrough::render(state, inner, buffer),
        Pane::Tenant => panes::tenant::render(state, inner, buffer),
    }
    let scrolled = match pane {
        Pane::Findings => Some(state.findings_view.get()),
        Pane::Walkthrough => Some(state.walk.view.get()),
        Pane::Tenant => Some(state.tenant.view.get()),
        Pane::Credentials | Pane::Token | Pane::Cache | Pane::Probe => None,
    };
    if let Some(position) = scrolled.and_then(super::state::Viewport::position) {
        let keys = if focused { " PgDn/PgUp" } else { "" };
        block = block.title_bottom(
            Line::from(Span::styled(format!(" {position}{keys} "), theme::label())).right_aligned(),
        );
    }
    frame.render_widget(block, area);
    if focused
        && state.editing
        && pane == Pane::Credentials
        && let Some((x, y)) = panes::credentials::cursor(state, inner)
    {
        frame.set_cursor_position((x, y));
    }
}

fn render_status(state: &State, frame: &mut Frame, area: Rect) {
    let running = state.running.as_ref().map(|r| {
        format!(
            " {} {}…{} (Esc cancels) ",
            SPINNER[state.spinner % SPINNER.len()],
            r.what,
            r.note.as_ref().map(|n| format!(" {n}")).unwrap_or_default()
        )
    });
    let left = running.unwrap_or_else(|| format!(" {} ", state.status));
    // The status message wins the space; the key hints get what is left (all of `?` remains).
    let width = usize::from(area.width);
    // A message longer than the bar says it was cut.
    let left = panes::wrap::cut_end(&left, width);
    let room = width.saturating_sub(left.chars().count() + 1);
    let hints = format!(" {} ", keys::hints(state));
    let hints: String = if hints.chars().count() <= room {
        hints
    } else if room >= SHORT_HINTS.chars().count() {
        SHORT_HINTS.to_owned()
    } else {
        String::new()
    };
    let pad = width.saturating_sub(left.chars().count() + hints.chars().count());
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(pad)),
        Span::styled(hints, theme::label()),
    ]);
    frame.render_widget(Paragraph::new(line).style(theme::status_bar()), area);
}
