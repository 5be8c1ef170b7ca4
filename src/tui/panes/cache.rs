//! The token cache: one line per entry, with its time left. Never the token.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};

use crate::token::relative;
use crate::tui::state::State;
use crate::tui::theme;

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let mut lines = vec![];
    if state.cache.is_empty() {
        lines.push(Line::from(
            "Empty. Tokens are cached in memory per tenant, client id and scopes.",
        ));
    }
    for entry in &state.cache {
        let usable = entry.stale_reason(state.now);
        lines.push(Line::from(vec![
            Span::raw(format!("{}  ", entry.resource)),
            Span::styled(
                match usable {
                    None => format!("expires {}", relative(entry.expires_on, state.now)),
                    Some(miss) => miss.describe().to_owned(),
                },
                if usable.is_none() {
                    theme::ok()
                } else {
                    theme::label()
                },
            ),
        ]));
        lines.push(Line::from(Span::styled(
            format!("  client {} · {}", entry.key.client_id, entry.source),
            theme::label(),
        )));
    }
    lines.push(Line::from(Span::styled(
        "f force refresh · x clear",
        theme::label(),
    )));
    Paragraph::new(lines).render(area, buf);
}
