//! The last API call: status, time, headers and the body (pretty JSON, scrollable).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _, Wrap};

use super::clean;
use crate::tui::state::{Load, State};
use crate::tui::theme;

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let url = state.form.probe_url.value();
    let mut lines = vec![Line::from(vec![
        Span::styled("GET ", theme::label()),
        Span::raw(if url.is_empty() {
            "(no probe URL: fill it in under Credentials)".to_owned()
        } else {
            clean(url)
        }),
    ])];
    match &state.probe {
        Load::Empty => lines.push(Line::from("Not called yet. Press p (with a token) or d.")),
        Load::Loading => lines.push(Line::from("Calling…")),
        Load::Failed(finding) => {
            lines.push(Line::from(Span::styled(
                finding.title.clone(),
                theme::severity(finding.severity),
            )));
            lines.push(Line::from(clean(&finding.cause)));
        }
        Load::Ready(report) => {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} {}", report.status, report.reason),
                    theme::http_status(report.status),
                ),
                Span::raw(format!(
                    " in {} ms · {} bytes{}",
                    report.elapsed_ms,
                    report.body_bytes,
                    if report.truncated {
                        " (cut at 1 MiB)"
                    } else {
                        ""
                    }
                )),
            ]));
            for (name, value) in &report.headers {
                lines.push(Line::from(vec![
                    Span::styled(format!("{name}: "), theme::label()),
                    Span::raw(clean(value)),
                ]));
            }
            lines.push(Line::default());
            lines.extend(report.pretty_body().lines().map(|l| Line::from(clean(l))));
        }
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((state.probe_scroll, 0))
        .render(area, buf);
}
