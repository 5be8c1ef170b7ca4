//! Overlays: the help (every key, from the one table in `keys`) and the demo scenario picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::wrap::hanging;
use crate::tui::keys::HELP;
use crate::tui::state::{State, Viewport};
use crate::tui::theme;

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [_, row, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(height.min(area.height)),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, cell, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(width.min(area.width)),
        Constraint::Fill(1),
    ])
    .areas(row);
    cell
}

/// Where an overlay goes: centred, or the whole area when the margins would be slivers (a
/// border one column off a pane's border reads as a doubled corner).
fn overlay(area: Rect, width: u16, height: u16) -> Rect {
    let width = if area.width.saturating_sub(width) < 8 {
        area.width
    } else {
        width
    };
    let height = if area.height.saturating_sub(height) < 6 {
        area.height
    } else {
        height
    };
    centered(area, width, height)
}

/// The help: every key of the one table in `keys`, descriptions wrapped under themselves, and
/// scrolled (j/k, PgDn/PgUp, Home/End) when the terminal is short.
pub fn render_help(state: &State, frame: &mut Frame, area: Rect) {
    let width = area.width.min(100);
    let inner_width = width.saturating_sub(2);
    let lines: Vec<Line> = HELP
        .iter()
        .flat_map(|(key, what)| {
            hanging(
                vec![Span::styled(format!("{key:<17}"), theme::key_claim())],
                &[((*what).to_owned(), Style::new())],
                inner_width,
            )
        })
        .collect();
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let popup = overlay(area, width, total.saturating_add(2));
    let mut view = Viewport {
        offset: 0,
        height: popup.height.saturating_sub(2),
        total,
    };
    view.offset = state.help_scroll.min(view.max_offset());
    state.help_view.set(view);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Keys (Esc closes) ");
    if let Some(position) = view.position() {
        block =
            block.title_bottom(Line::from(format!(" {position} · j/k PgDn PgUp ")).right_aligned());
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((view.offset, 0)),
        popup,
    );
}

/// The lesson picker; the lesson the form holds now is marked.
pub fn render_picker(state: &State, frame: &mut Frame, area: Rect) {
    let Some(demo) = &state.demo else { return };
    let popup = overlay(area, 76, 18);
    let width = popup.width.saturating_sub(2);
    let mut lines = hanging(
        Vec::new(),
        &[(
            "The embedded demo tenant: pick a lesson (j/k, Enter), Esc closes.".to_owned(),
            Style::new(),
        )],
        width,
    );
    lines.push(Line::default());
    for (index, scenario) in demo.scenarios.iter().enumerate() {
        let selected = index == demo.selected;
        let current = state.lesson.as_deref() == Some(scenario.name.as_str());
        let mut row = vec![Span::styled(
            format!("{} {}", if selected { "▶" } else { " " }, scenario.name),
            if selected {
                theme::selected()
            } else {
                theme::title()
            },
        )];
        if current {
            row.push(Span::styled("  ● current lesson", theme::ok()));
        }
        lines.push(Line::from(row));
        if selected {
            lines.extend(hanging(
                vec![Span::raw("    ")],
                &[(scenario.teaches.clone(), Style::new())],
                width,
            ));
        }
    }
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Demo scenarios ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
