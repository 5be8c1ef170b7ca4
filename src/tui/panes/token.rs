//! The decoded token: the claims that matter called out, problems in colour, a live countdown.
//! A long value (an issuer URL) wraps under itself rather than being cut.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget as _};
use serde_json::Value;

use super::clean;
use super::wrap::fit;
use crate::token::{relative, relative_to_expiry};
use crate::tui::state::{Load, State};
use crate::tui::theme;

const CALLED_OUT: &[&str] = &[
    "aud", "roles", "exp", "iss", "tid", "appid", "azp", "idtyp", "ver", "oid",
];

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => clean(s),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => clean(&other.to_string()),
    }
}

pub fn render(state: &State, area: Rect, buf: &mut Buffer) {
    let lines: Vec<Line> = match &state.token {
        Load::Empty => vec![Line::from(
            "No token yet. Press a to acquire one, d to run every step.",
        )],
        Load::Loading => vec![Line::from("Asking Entra ID for a token…")],
        Load::Failed(finding) => vec![
            Line::from(Span::styled(
                format!("No token: {}", finding.title),
                theme::severity(finding.severity),
            )),
            Line::from(finding.cause.clone()),
            Line::from("See the Findings pane for the fix."),
        ],
        Load::Ready(view) => {
            let mut lines = vec![Line::from(vec![
                Span::styled(
                    if view.from_cache {
                        "from the cache"
                    } else {
                        "from Entra ID"
                    },
                    theme::ok(),
                ),
                // The resource last: on a narrow pane it wraps whole, the countdown stays.
                Span::raw(format!(
                    " · {} · for {}",
                    relative_to_expiry(view.expires_on, state.now),
                    view.resource,
                )),
            ])];
            match &view.decoded {
                None => lines.push(Line::from(
                    "Not a JWT (opaque or encrypted): only the API can read it.",
                )),
                Some(token) => lines.extend(claim_lines(token, state)),
            }
            lines
        }
    };
    let lines: Vec<Line> = lines
        .into_iter()
        .flat_map(|line| fit(line, area.width))
        .collect();
    Paragraph::new(lines).render(area, buf);
}

/// The called-out claims, the header and the names of the rest.
fn claim_lines(token: &crate::token::DecodedToken, state: &State) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let claims = &token.raw_claims;
    for name in CALLED_OUT {
        let Some(value) = claims.get(*name) else {
            if *name == "roles" && token.claims.is_app_only() {
                lines.push(no_roles_line(token));
            }
            continue;
        };
        let shown = match (
            *name,
            value
                .as_i64()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0)),
        ) {
            ("exp", Some(t)) => format!(
                "{} ({})",
                t.format("%H:%M:%S UTC"),
                relative_to_expiry(t, state.now)
            ),
            _ => text(value),
        };
        let style =
            if *name == "exp" && token.claims.exp.is_some_and(|e| e <= state.now.timestamp()) {
                theme::severity(crate::diagnose::Severity::Error)
            } else {
                ratatui::style::Style::new()
            };
        lines.push(Line::from(vec![
            Span::styled(format!("{name:<8}"), theme::key_claim()),
            Span::styled(shown, style),
        ]));
    }
    if let Some(iat) = token
        .claims
        .iat
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    {
        // A fresh token's iat is minutes old: Entra ID backdates it (and nbf) for clock skew,
        // which puzzles everyone who sees "5 min ago" on a token just issued.
        let fresh = (state.now - iat).num_minutes() <= 6;
        lines.push(Line::from(vec![
            Span::styled("iat     ", theme::label()),
            Span::raw(relative(iat, state.now)),
            Span::styled(
                if fresh {
                    " · Entra ID backdates iat/nbf 5 min (clock skew)"
                } else {
                    ""
                },
                theme::label(),
            ),
        ]));
    }
    let header = &token.header;
    lines.push(Line::from(vec![
        Span::styled("header  ", theme::label()),
        Span::raw(format!(
            "alg {} · kid {}{}",
            header.alg.as_deref().unwrap_or("-"),
            header.kid.as_deref().map_or_else(|| "-".into(), clean),
            if header.has_nonce {
                // The sig line below says what the nonce means.
                " · nonce (a Graph token)"
            } else {
                ""
            }
        )),
    ]));
    if let Some(view) = match &state.token {
        Load::Ready(view) if view.verify_target.is_some() => Some(view),
        _ => None,
    } {
        let (style, label) = match &view.signature {
            None => (
                theme::label(),
                "checking against the tenant's keys…".to_owned(),
            ),
            Some((severity, label)) => (theme::severity(*severity), label.clone()),
        };
        // The verdict goes first: on a short pane it must not be cut off.
        lines.insert(
            0,
            Line::from(vec![
                Span::styled("sig     ", theme::label()),
                Span::styled(label, style),
            ]),
        );
    }
    let others: Vec<String> = claims
        .keys()
        .filter(|k| !CALLED_OUT.contains(&k.as_str()) && k.as_str() != "iat")
        .map(|k| clean(k))
        .collect();
    if !others.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("others  ", theme::label()),
            Span::raw(others.join(", ")),
        ]));
    }
    lines
}

/// The `roles` line of an app-only token without roles: a warning, except for an API that reads
/// none (Azure SQL: a database user decides), where none is what it wants.
fn no_roles_line(token: &crate::token::DecodedToken) -> Line<'static> {
    let (said, severity) = if crate::diagnose::token_checks::reads_no_roles(token) {
        (
            "(none) — this API reads none: a database user decides",
            crate::diagnose::Severity::Info,
        )
    } else {
        (
            "(none) — no application permission granted",
            crate::diagnose::Severity::Warning,
        )
    };
    Line::from(vec![
        Span::styled(format!("{:<8}", "roles"), theme::key_claim()),
        Span::styled(said, theme::severity(severity)),
    ])
}
