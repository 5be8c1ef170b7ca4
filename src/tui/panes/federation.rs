//! The federated token beside the app's federated credentials (`g` on the assertion kind, or
//! `d` after Entra ID refused the token): for each credential, each value the token presents sits
//! directly above the credential's, so a trailing slash or a case difference is seen, not hunted.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::clean;
use super::wrap::{cut_end, hanging};
use crate::diagnose::Severity;
use crate::federation::{Comparison, CredentialComparison, FieldVerdict};
use crate::tui::theme;

/// How many credentials are shown: the matching one, or the closest first.
const SHOWN: usize = 4;

/// The comparison's lines at `width`, for the end of the findings pane.
pub fn lines(comparison: &Comparison, width: u16) -> Vec<Line<'static>> {
    let presented = &comparison.presented;
    let mut lines = vec![Line::from(Span::styled(
        "The federated token beside the app's federated credentials",
        theme::title(),
    ))];
    if comparison.credentials.is_empty() {
        lines.push(Line::from(Span::styled(
            "  (the app registration has no federated credential)",
            theme::label(),
        )));
        return lines;
    }
    let token_aud = presented.aud.join(", ");
    let mut ordered: Vec<&CredentialComparison> = comparison.credentials.iter().collect();
    // The match (or the closest) first: it is the one to read.
    let first = comparison.matching().or_else(|| comparison.closest());
    ordered.sort_by_key(|c| !first.is_some_and(|f| std::ptr::eq(*c, f)));
    for credential in ordered.into_iter().take(SHOWN) {
        let name = if credential.credential.name.is_empty() {
            "(unnamed)".to_owned()
        } else {
            clean(&credential.credential.name)
        };
        let (mark, style) = if credential.is_match {
            ("✓", theme::ok())
        } else {
            ("✗", theme::severity(Severity::Error))
        };
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            cut_end(&format!("{mark} credential {name}"), usize::from(width)),
            style,
        )));
        let subject = credential
            .credential
            .subject
            .clone()
            .or_else(|| {
                credential
                    .credential
                    .claims_matching_expression
                    .as_ref()
                    .map(|e| format!("(expression) {}", e.value))
            })
            .unwrap_or_default();
        for (field, token, registered, verdict) in [
            (
                "issuer",
                presented.iss.clone().unwrap_or_default(),
                credential.credential.issuer.clone(),
                &credential.issuer,
            ),
            (
                "subject",
                presented.sub.clone().unwrap_or_default(),
                subject,
                &credential.subject,
            ),
            (
                "audience",
                token_aud.clone(),
                credential.credential.audiences.join(", "),
                &credential.audience,
            ),
        ] {
            pair(&mut lines, field, &token, &registered, verdict, width);
        }
    }
    let hidden = comparison.credentials.len().saturating_sub(SHOWN);
    if hidden > 0 {
        lines.push(Line::from(Span::styled(
            format!("  … and {hidden} more (entra-doctor federation lists all)"),
            theme::label(),
        )));
    }
    lines
}

/// One field: its verdict, then the token's value directly above the credential's, each
/// wrapped whole under itself (the end of a URL is where a trailing slash hides).
fn pair(
    lines: &mut Vec<Line<'static>>,
    field: &str,
    token: &str,
    registered: &str,
    verdict: &FieldVerdict,
    width: u16,
) {
    let (verdict_text, verdict_style) = match &verdict.difference {
        Some(difference) => (
            format!("✗ {}", clean(difference)),
            theme::severity(Severity::Error),
        ),
        None if verdict.is_match => ("✓ same".to_owned(), theme::ok()),
        None => ("✗".to_owned(), theme::severity(Severity::Error)),
    };
    lines.extend(hanging(
        vec![Span::styled(format!("  {field:<9} "), theme::label())],
        &[(verdict_text, verdict_style)],
        width,
    ));
    let style = if verdict.is_match {
        Style::new()
    } else {
        theme::severity(Severity::Error)
    };
    for (who, value, style) in [
        ("token", token, Style::new()),
        ("credential", registered, style),
    ] {
        lines.extend(hanging(
            vec![Span::styled(format!("    {who:<11} "), theme::label())],
            &[(clean(value), style)],
            width,
        ));
    }
}
