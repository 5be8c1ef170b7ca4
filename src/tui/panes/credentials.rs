//! The credentials form, with the live preflight lints under it.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _, Wrap};

use crate::tui::form::{CredentialKind, Field};
use crate::tui::state::{Load, State};
use crate::tui::theme;

const LABEL_WIDTH: u16 = 13;

fn value(state: &State, field: Field) -> String {
    match field {
        Field::Kind => match state.form.kind {
            CredentialKind::Secret => "client secret  (Space: next kind)".into(),
            CredentialKind::Certificate => "certificate  (Space: next kind)".into(),
            CredentialKind::Assertion => "federated assertion file  (Space: next kind)".into(),
            CredentialKind::ManagedIdentity => "managed identity  (Space: next kind)".into(),
        },
        Field::Identity if state.form.identity.value().trim().is_empty() => {
            "(empty = system-assigned)".into()
        }
        field if field.is_secret() && !state.reveal_secret => {
            let len = state
                .form
                .input(field)
                .map_or(0, |input| input.value().chars().count());
            if len == 0 {
                String::new()
            } else {
                format!("{} ({len} chars, r reveals)", "•".repeat(len.min(16)))
            }
        }
        Field::Authority if state.form.authority.value().trim().is_empty() => {
            "(public cloud)".into()
        }
        Field::AdminClientId if state.form.admin_client_id.value().trim().is_empty() => {
            "(optional: an admin app for g)".into()
        }
        other => state
            .form
            .input(other)
            .map(|i| super::clean(i.value()))
            .unwrap_or_default(),
    }
}

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let mut lines: Vec<Line> = Vec::new();
    for field in state.form.visible() {
        let selected = field == state.field;
        let style = if selected && state.editing {
            theme::editing()
        } else if selected {
            theme::selected()
        } else {
            ratatui::style::Style::new()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<width$}",
                    field.label(),
                    width = usize::from(LABEL_WIDTH)
                ),
                theme::label(),
            ),
            Span::styled(value(state, field), style),
        ]));
    }
    if let Load::Ready(token) = &state.token
        && let Some(info) = &token.certificate
    {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("Certificate  ", theme::label()),
            Span::raw(info.subject.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("  thumbprint ", theme::label()),
            Span::raw(info.thumbprint_sha1.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("  valid      ", theme::label()),
            Span::raw(format!(
                "{} to {}",
                info.not_before.format("%Y-%m-%d"),
                info.not_after.format("%Y-%m-%d")
            )),
        ]));
    }
    // Fields are cut at the edge, never wrapped: a wrapped value reads like the next field.
    let fields_height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .min(area.height);
    let [fields, rest] =
        Layout::vertical([Constraint::Length(fields_height), Constraint::Min(0)]).areas(area);
    Paragraph::new(lines).render(fields, buf);
    if !state.lints.is_empty() {
        let mut lint_lines = vec![Line::default()];
        for lint in &state.lints {
            lint_lines.push(Line::from(vec![
                Span::styled(
                    format!("{} ", lint.severity.label()),
                    theme::severity(lint.severity),
                ),
                Span::raw(lint.cause.clone()),
            ]));
        }
        Paragraph::new(lint_lines)
            .wrap(Wrap { trim: false })
            .render(rest, buf);
    }
}

/// Where the cursor goes while a field is edited.
pub fn cursor(state: &State, area: Rect) -> Option<(u16, u16)> {
    let row = state
        .form
        .visible()
        .iter()
        .position(|f| *f == state.field)?;
    let input = state.form.input(state.field)?;
    let column = if state.field.is_secret() && !state.reveal_secret {
        input.visual_cursor().min(16)
    } else {
        input.visual_cursor()
    };
    let x = area.x + LABEL_WIDTH + u16::try_from(column).unwrap_or(u16::MAX);
    let y = area.y + u16::try_from(row).unwrap_or(0);
    (x < area.right() && y < area.bottom()).then_some((x, y))
}
