//! Answers that say more about the way to the API than about the token: a 5xx, a 429, a
//! redirect, an HTML page where an API answers JSON or XML.
//!
//! They are explained with what the API (or whatever answered for it) said and what to try;
//! none of them is the token's fault, so none is an error.

use chrono::{DateTime, Utc};

use super::ApiAnswer;
use crate::auth::retry::parse_retry_after;
use crate::diagnose::{Finding, Severity};

/// `said` is what the API's error body said, `status_line` "HTTP 503".
pub(super) fn server_error(answer: &ApiAnswer, status: u16, said: &str) -> Finding {
    let page = html_title(answer);
    let cause = if page.is_some() {
        "an HTML error page instead of the API's JSON usually comes from a gateway, proxy or \
         load balancer in front of the API; either way a server error is not caused by the \
         token; retry later"
    } else {
        "a server error is not caused by the token; retry later"
    };
    let said = match (said.trim(), page) {
        ("", Some(title)) => format!("an HTML page titled {title:?}"),
        ("", None) if answer.body.trim().is_empty() => "(empty body)".to_owned(),
        ("", None) => snippet(&answer.body),
        (said, _) => said.to_owned(),
    };
    Finding::new(
        "api.server-error",
        Severity::Warning,
        format!("The API failed on its side (HTTP {status})"),
    )
    .cause(cause)
    .evidence(format!("HTTP {status}: {said}"))
    .fix("Try again in a few minutes; if it persists, check the service's status page")
}

pub(super) fn throttled(answer: &ApiAnswer, now: DateTime<Utc>) -> Finding {
    let header = answer.header("retry-after").map(str::trim);
    let wait = header.and_then(|value| parse_retry_after(value, now));
    let fix = match (header, wait) {
        (Some(value), Some(wait)) if value.parse::<u64>().is_ok() => format!(
            "Wait {} seconds (Retry-After) before calling again, and back off on further 429s",
            wait.as_secs()
        ),
        (Some(value), Some(wait)) => format!(
            "Wait until {value} ({} seconds from now, Retry-After) before calling again, and \
             back off on further 429s",
            wait.as_secs()
        ),
        _ => "Wait a minute before calling again, and back off on further 429s".to_owned(),
    };
    Finding::new(
        "throttled",
        Severity::Warning,
        "The API is throttling this app (429)",
    )
    .cause("too many requests in a short time; the API asks the client to wait")
    .evidence(format!("Retry-After: {}", header.unwrap_or("not given")))
    .fix(fix)
    .doc("https://learn.microsoft.com/graph/throttling")
}

/// A 3xx: the probe does not follow it, since the token would go wherever it points.
pub(super) fn redirected(answer: &ApiAnswer, status: u16) -> Finding {
    let location = answer.header("location").unwrap_or("(no Location header)");
    Finding::new(
        "api.redirect",
        Severity::Warning,
        format!("The API answered with a redirect (HTTP {status}), not followed"),
    )
    .cause(
        "entra-doctor never follows a redirect with a token: it would hand the token to \
         whatever host the redirect names",
    )
    .evidence(format!("Location: {location}"))
    .fix("If you trust that location, probe it directly with --url; else fix the URL")
}

/// An HTML page from an API that had nothing else to say: a sign-in or portal page, a proxy.
pub(super) fn html_page(answer: &ApiAnswer, status: u16) -> Option<Finding> {
    let title = html_title(answer)?;
    Some(
        Finding::new(
            "api.html-answer",
            Severity::Warning,
            "An HTML page answered, not the API",
        )
        .cause(
            "APIs answer JSON or XML; an HTML page comes from a web site, a sign-in page, a \
             captive portal or a proxy in between, or the URL is not the API's",
        )
        .evidence(format!("HTTP {status}: an HTML page titled {title:?}"))
        .fix("Check that the URL is the API's endpoint, and any proxy (HTTPS_PROXY) in between"),
    )
}

/// The page's `<title>`, when the answer is an HTML page.
fn html_title(answer: &ApiAnswer) -> Option<String> {
    let is_html = answer
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"))
        || answer
            .body
            .trim_start()
            .get(..15)
            .is_some_and(|start| start.eq_ignore_ascii_case("<!doctype html>"))
        || answer.body.trim_start().starts_with("<html");
    if !is_html {
        return None;
    }
    let lower = answer.body.to_ascii_lowercase();
    let title = lower
        .find("<title>")
        .map(|start| start + "<title>".len())
        .and_then(|start| {
            let end = lower[start..].find("</title>")? + start;
            answer.body.get(start..end)
        })
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    Some(title.map_or_else(|| "(untitled)".to_owned(), |t| snippet(&t)))
}

/// At most 120 characters of untrusted text, control characters escaped.
fn snippet(text: &str) -> String {
    crate::auth::client::snippet(text.as_bytes())
        .chars()
        .take(120)
        .collect()
}
