//! The token cache: one line per entry, with its time left. Never the token.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};

use super::wrap::hanging;
use crate::token::relative;
use crate::tui::state::State;
use crate::tui::theme;

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let mut lines = vec![];
    if state.cache.is_empty() {
        lines.extend(hanging(
            Vec::new(),
            &[(
                "Empty. Tokens are cached in memory per tenant, client id and scopes.".to_owned(),
                Style::new(),
            )],
            area.width,
        ));
    }
    for entry in &state.cache {
        let usable = entry.stale_reason(state.now);
        let (said, style) = match usable {
            None => (
                format!("expires {}", relative(entry.expires_on, state.now)),
                theme::ok(),
            ),
            Some(miss) => (miss.describe().to_owned(), theme::label()),
        };
        lines.extend(hanging(
            Vec::new(),
            &[(entry.resource.clone(), Style::new()), (said, style)],
            area.width,
        ));
        // The client id whole: a cut one would be another app's.
        lines.extend(hanging(
            vec![Span::styled("  client ", theme::label())],
            &[(
                format!("{} · {}", entry.key.client_id, entry.source),
                theme::label(),
            )],
            area.width,
        ));
    }
    lines.push(Line::from(Span::styled(
        "f force refresh · x clear",
        theme::label(),
    )));
    Paragraph::new(lines).render(area, buf);
}
