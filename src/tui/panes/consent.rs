//! The consent audit as a table (`g`, or `d` when roles are missing): one row per permission,
//! the columns of `entra-doctor consent` (requested as an application permission, requested as
//! delegated only, admin consent, in the token), so the delegated-only mistake stands out.

use ratatui::text::{Line, Span};

use super::clean;
use crate::tui::state::ConsentTable;
use crate::tui::theme;

/// The table's lines, for the end of the findings pane.
pub fn lines(table: &ConsentTable) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(Span::styled(
            format!("Consent on {}", clean(&table.resource)),
            theme::title(),
        )),
        Line::from(Span::styled(
            format!(
                "  {:<22} {:<4} {:<9} {:<12} {}",
                "permission", "app", "delegated", "consent", "token"
            ),
            theme::label(),
        )),
    ];
    for row in &table.rows {
        let mark = |value: bool| if value { "✓" } else { "✗" };
        let consent = match (row.admin_consent, row.consented_on) {
            (true, Some(on)) => format!("✓ {}", on.format("%Y-%m-%d")),
            (granted, _) => mark(granted).to_owned(),
        };
        let delegated = if row.delegated_only { "✗ only" } else { "-" };
        let text = format!(
            "  {:<22} {:<4} {:<9} {:<12} {}",
            clean(&row.permission),
            mark(row.requested_as_application),
            delegated,
            consent,
            row.in_token.map_or("-", mark),
        );
        let style = if row.delegated_only || !row.admin_consent {
            theme::severity(crate::diagnose::Severity::Error)
        } else {
            ratatui::style::Style::new()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    if table.rows.is_empty() {
        lines.push(Line::from(Span::styled(
            "  (no permission requested or granted)",
            theme::label(),
        )));
    }
    lines
}
