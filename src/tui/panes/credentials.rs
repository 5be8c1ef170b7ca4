//! The credentials form, with the live preflight lints under it. A value wider than its field
//! is cut with `…` at the cut end; while edited, the field scrolls sideways with the cursor.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};

use super::wrap::{cut_end, fit, hanging, window};

use crate::tui::form::{CredentialKind, Field};
use crate::tui::state::{Load, State};
use crate::tui::theme;

const LABEL_WIDTH: u16 = 13;
/// The dots that stand for a hidden secret, whatever its length.
const MASK_DOTS: usize = 12;

/// A field whose value is a secret: shown as dots until `r` reveals it. The client secret, and
/// any password field (a PFX password): by its label, so a field added later is hidden too.
fn is_hidden(state: &State, field: Field) -> bool {
    !state.reveal_secret
        && (field.is_secret() || (field == Field::AssertionFile && state.form.assertion_is_token()))
}

fn value(state: &State, field: Field) -> String {
    match field {
        Field::Kind => match state.form.kind {
            CredentialKind::Secret => "client secret  (Space: next kind)".into(),
            CredentialKind::Certificate => "certificate  (Space: next kind)".into(),
            CredentialKind::Assertion => "federated token  (Space: next kind)".into(),
            CredentialKind::ManagedIdentity => "managed identity  (Space: next kind)".into(),
        },
        Field::Identity if state.form.identity.value().trim().is_empty() => {
            "(empty = system-assigned)".into()
        }
        hidden if is_hidden(state, hidden) => {
            let len = state
                .form
                .input(hidden)
                .map_or(0, |i| i.value().chars().count());
            if len == 0 {
                String::new()
            } else {
                format!(
                    "{} ({len} chars, r reveals)",
                    "•".repeat(len.min(MASK_DOTS))
                )
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

/// Whether the field's value is shown as typed (and so scrolls with the cursor), not as a
/// description (the kind, the hidden secret, the default authority).
fn is_literal(state: &State, field: Field) -> bool {
    match field {
        Field::Kind => false,
        Field::Authority => !state.form.authority.value().trim().is_empty(),
        other => !is_hidden(state, other),
    }
}

/// What a field shows in `width` columns, and where the cursor is in it while it is edited.
fn shown(state: &State, field: Field, width: usize) -> (String, Option<usize>) {
    let text = value(state, field);
    let edited = state.editing && field == state.field;
    match state.form.input(field) {
        Some(input) if edited && is_literal(state, field) => {
            let (shown, column) = window(&text, input.cursor(), width);
            (shown, Some(column))
        }
        // The hidden secret: the dots stand for it, the cursor stays on them.
        Some(input) if edited => (cut_end(&text, width), Some(input.cursor().min(MASK_DOTS))),
        _ => (cut_end(&text, width), None),
    }
}

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    Paragraph::new(lines(state, area.width)).render(area, buf);
}

/// The rows the pane wants at this inner width: the view sizes it by them.
pub fn height(state: &State, width: u16) -> u16 {
    u16::try_from(lines(state, width).len()).unwrap_or(u16::MAX)
}

/// Every row: one per field (a value is cut, never wrapped: a wrapped value reads like the next
/// field), the certificate used, and the live lints wrapped under themselves.
fn lines(state: &State, area_width: u16) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = Vec::new();
    let width = usize::from(area_width.saturating_sub(LABEL_WIDTH));
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
            Span::styled(shown(state, field, width).0, style),
        ]));
    }
    if let Load::Ready(token) = &state.token
        && let Some(info) = &token.certificate
    {
        lines.push(Line::default());
        for line in [
            Line::from(vec![
                Span::styled("Certificate  ", theme::label()),
                Span::raw(super::clean(&info.subject)),
            ]),
            Line::from(vec![
                Span::styled("  thumbprint ", theme::label()),
                Span::raw(info.thumbprint_sha1.clone()),
            ]),
            Line::from(vec![
                Span::styled("  valid      ", theme::label()),
                Span::raw(format!(
                    "{} to {}",
                    info.not_before.format("%Y-%m-%d"),
                    info.not_after.format("%Y-%m-%d")
                )),
            ]),
        ] {
            lines.extend(fit(line, area_width));
        }
    }
    // After `d`: where the credential in use stands against its end date.
    if let Some((severity, text)) = crate::diagnose::expiry::headline(&state.findings) {
        lines.push(Line::default());
        lines.extend(hanging(
            vec![Span::styled(
                format!("{:<width$}", "Expiry", width = usize::from(LABEL_WIDTH)),
                theme::label(),
            )],
            &[(super::clean(&text), theme::severity(severity))],
            area_width,
        ));
    }
    if !state.lints.is_empty() {
        lines.push(Line::default());
        for lint in &state.lints {
            lines.extend(hanging(
                vec![Span::styled(
                    format!("{:<8}", lint.severity.label()),
                    theme::severity(lint.severity),
                )],
                &[(super::clean(&lint.cause), Style::new())],
                area_width,
            ));
        }
    }
    lines
}

/// Where the cursor goes while a field is edited.
pub fn cursor(state: &State, area: Rect) -> Option<(u16, u16)> {
    let row = state
        .form
        .visible()
        .iter()
        .position(|f| *f == state.field)?;
    let width = usize::from(area.width.saturating_sub(LABEL_WIDTH));
    let column = shown(state, state.field, width).1?;
    let x = area.x + LABEL_WIDTH + u16::try_from(column).unwrap_or(u16::MAX);
    let y = area.y + u16::try_from(row).unwrap_or(0);
    (x < area.right() && y < area.bottom()).then_some((x, y))
}
