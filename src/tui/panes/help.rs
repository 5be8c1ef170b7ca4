//! Overlays: the help (every key, from the one table in `keys`) and the demo scenario picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::keys::HELP;
use crate::tui::state::State;
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

pub fn render_help(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:<17}"), theme::key_claim()),
                Span::raw(*what),
            ])
        })
        .collect();
    let height = u16::try_from(lines.len()).unwrap_or(20) + 2;
    let popup = centered(area, 78, height);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Keys (Esc closes) ");
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

pub fn render_picker(state: &State, frame: &mut Frame, area: Rect) {
    let Some(demo) = &state.demo else { return };
    let mut lines = vec![
        Line::from("The embedded demo tenant: pick a lesson (j/k, Enter), Esc closes."),
        Line::default(),
    ];
    for (index, scenario) in demo.scenarios.iter().enumerate() {
        let selected = index == demo.selected;
        lines.push(Line::from(Span::styled(
            format!("{} {}", if selected { "▶" } else { " " }, scenario.name),
            if selected {
                theme::selected()
            } else {
                theme::title()
            },
        )));
        if selected {
            lines.push(Line::from(format!("    {}", scenario.teaches)));
        }
    }
    let popup = centered(area, 76, 18);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::focused_border())
        .title(" Demo scenarios ");
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
}
