//! The sign-in log entries of a refused token request (`l`), at the end of the findings pane:
//! each compactly — time, status with its AADSTS code and title, resource and IP, the credential
//! used, the Conditional Access status and the policies applied with their result.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::clean;
use super::wrap::hanging;
use crate::diagnose::{Catalog, Severity};
use crate::signins::SignIn;
use crate::tui::state::SignInsTable;
use crate::tui::theme;

/// The table's lines at `width`, for the end of the findings pane.
pub fn lines(table: &SignInsTable, width: u16) -> Vec<Line<'static>> {
    let mut lines = hanging(
        Vec::new(),
        &[
            ("Sign-in log".to_owned(), theme::title()),
            (
                format!(
                    "· correlation id {} · read as {}",
                    clean(&table.correlation_id),
                    clean(&table.reader)
                ),
                theme::label(),
            ),
        ],
        width,
    );
    if table.entries.is_empty() {
        lines.extend(hanging(
            vec![Span::raw("  ")],
            &[(
                "(no entry yet: sign-ins reach the log minutes after they happen; press l again \
                 in a few minutes)"
                    .to_owned(),
                theme::label(),
            )],
            width,
        ));
    }
    for entry in &table.entries {
        self::entry(entry, width, &mut lines);
    }
    lines
}

fn entry(entry: &SignIn, width: u16, lines: &mut Vec<Line<'static>>) {
    let time = entry.created().map_or_else(
        || clean(entry.created_date_time.as_deref().unwrap_or("(no time)")),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    );
    let (status, style) = match entry.error_code() {
        None => ("success".to_owned(), theme::ok()),
        Some(code) => (
            match Catalog::builtin().get(code) {
                Some(known) => format!("failure AADSTS{code} {}", known.title),
                None => format!("failure AADSTS{code}"),
            },
            theme::severity(Severity::Error),
        ),
    };
    lines.extend(hanging(
        vec![Span::raw("  ")],
        &[(format!("{time}  "), Style::new()), (status, style)],
        width,
    ));
    let resource = entry
        .resource_display_name
        .as_deref()
        .or(entry.resource_id.as_deref())
        .unwrap_or("-");
    let ip = entry.ip_address.as_deref().unwrap_or("-");
    row(
        lines,
        "resource",
        &format!("{} · IP {}", clean(resource), clean(ip)),
        Style::new(),
        width,
    );
    row(
        lines,
        "credential",
        &clean(&entry.credential()),
        Style::new(),
        width,
    );
    let ca = clean(entry.conditional_access_status.as_deref().unwrap_or("-"));
    match &entry.applied_conditional_access_policies {
        None => row(
            lines,
            "CA",
            &format!("{ca} (which policies applied is not shown to this reader)"),
            Style::new(),
            width,
        ),
        Some(policies) if policies.is_empty() => row(
            lines,
            "CA",
            &format!("{ca}, no policy applied"),
            Style::new(),
            width,
        ),
        Some(policies) => {
            row(lines, "CA", &ca, Style::new(), width);
            for policy in policies {
                let result = policy.result.as_deref().unwrap_or("-");
                let controls = if policy.enforced_grant_controls.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", clean(&policy.enforced_grant_controls.join(", ")))
                };
                let style = if result == "failure" {
                    theme::severity(Severity::Error)
                } else {
                    Style::new()
                };
                row(
                    lines,
                    "policy",
                    &format!(
                        "{}: {}{controls}",
                        clean(policy.display_name.as_deref().unwrap_or("(unnamed policy)")),
                        clean(result)
                    ),
                    style,
                    width,
                );
            }
        }
    }
}

fn row(lines: &mut Vec<Line<'static>>, label: &str, text: &str, style: Style, width: u16) {
    lines.extend(hanging(
        vec![Span::styled(format!("    {label:<11}"), theme::label())],
        &[(text.to_owned(), style)],
        width,
    ));
}
