//! The last API call: status, time, headers and the body (pretty JSON, scrollable). The URL
//! hangs under itself; what the server sent wraps at the pane's edge as it came.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _, Wrap};

use super::clean;
use super::wrap::fit;
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
    // What the server sent (headers, body) as it came, indentation kept.
    let mut body = Vec::new();
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
                body.push(Line::from(vec![
                    Span::styled(format!("{name}: "), theme::label()),
                    Span::raw(clean(value)),
                ]));
            }
            body.push(Line::default());
            body.extend(report.pretty_body().lines().map(|l| Line::from(clean(l))));
        }
    }
    let lines: Vec<Line> = lines
        .into_iter()
        .flat_map(|line| fit(line, area.width))
        .chain(body)
        .collect();
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((state.probe_scroll, 0))
        .render(area, buf);
}
