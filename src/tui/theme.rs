//! Every colour of the TUI, by meaning. The default foreground is never overridden.

use ratatui::style::{Color, Modifier, Style};

use crate::diagnose::Severity;

pub fn title() -> Style {
    Style::new().bold()
}

pub fn focused_border() -> Style {
    Style::new().fg(Color::Cyan)
}

pub fn border() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn label() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn editing() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn ok() -> Style {
    Style::new().fg(Color::Green)
}

pub fn key_claim() -> Style {
    Style::new().fg(Color::Cyan)
}

pub fn severity(severity: Severity) -> Style {
    match severity {
        Severity::Error => Style::new().fg(Color::Red).bold(),
        Severity::Warning => Style::new().fg(Color::Yellow),
        Severity::Info => Style::new().fg(Color::Blue),
    }
}

pub fn status_bar() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn http_status(status: u16) -> Style {
    match status {
        200..=299 => ok().bold(),
        400..=499 => Style::new().fg(Color::Red).bold(),
        _ => Style::new().fg(Color::Yellow).bold(),
    }
}
