//! `explain`: whatever the operator pasted — a token-endpoint error, an API error (JSON, XML or
//! text), a `WWW-Authenticate` header, a raw HTTP response, a JWT or a bare AADSTS code — turned
//! into findings.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::api::{self, ApiAnswer};
use super::extract::{self, Scan};
use super::{Catalog, Finding, FixContext, Resources, http_text, sort, token_checks, unrecognised};
use crate::auth::{EntraError, scope::resource_of};
use crate::token::{DecodedToken, decode};

/// What `explain` was given, beside the text itself.
#[derive(Debug, Clone, Default)]
pub struct Extra<'a> {
    /// The scope that was requested: its resource is what the token should be for.
    pub scope: Option<&'a str>,
    /// The API URL that was called: its host names the well-known resource.
    pub url: Option<&'a str>,
    /// The token that was sent, for roles and `aud` evidence.
    pub token: Option<&'a DecodedToken>,
    pub context: FixContext,
}

/// What the input was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recognised {
    Code,
    TokenError,
    HttpResponse,
    ApiError,
    Challenge,
    Token,
    Text,
}

/// Explains `text`; `Err` says the input is none of the accepted kinds.
pub fn explain(
    text: &str,
    extra: &Extra,
    now: DateTime<Utc>,
) -> Result<(Recognised, Vec<Finding>), String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let trimmed = &*without_markdown_links(trimmed);
    let (kind, mut findings) = recognise(trimmed, extra, now)?;
    // Never silent on an error: what reads as a failure gets a finding even when no rule knew it.
    if findings.is_empty() && kind != Recognised::Token && looks_like_failure(trimmed) {
        findings.push(fallback(trimmed, &extract::scan(trimmed), extra));
    }
    sort(&mut findings);
    Ok((kind, findings))
}

fn recognise(
    text: &str,
    extra: &Extra,
    now: DateTime<Utc>,
) -> Result<(Recognised, Vec<Finding>), String> {
    if text.is_empty() {
        return Err("nothing to explain: give a file, '-' for standard input, or a code such as AADSTS70011".into());
    }
    let digits = text
        .strip_prefix("AADSTS")
        .or_else(|| text.strip_prefix("aadsts"))
        .unwrap_or(text);
    if !digits.is_empty() && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let code = digits
            .parse()
            .map_err(|_| format!("{text} is not an AADSTS code"))?;
        return Ok((
            Recognised::Code,
            vec![Catalog::builtin().finding(code, &extra.context)],
        ));
    }
    if let Some(answer) = http_text::parse(text) {
        return Ok((
            Recognised::HttpResponse,
            answer_findings(answer, extra, now),
        ));
    }
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) {
        if is_token_error(&object)
            && let Ok(error) = serde_json::from_value::<EntraError>(Value::Object(object.clone()))
        {
            return Ok((
                Recognised::TokenError,
                vec![Catalog::builtin().explain(&error, &extra.context)],
            ));
        }
        if !object.contains_key("access_token") {
            let answer = ApiAnswer {
                body: text.to_owned(),
                status: status_of_api_error(text),
                ..ApiAnswer::default()
            };
            return Ok((Recognised::ApiError, answer_findings(answer, extra, now)));
        }
    }
    let header = text
        .strip_prefix("WWW-Authenticate:")
        .or_else(|| text.strip_prefix("www-authenticate:"));
    if header.is_some() || (text.starts_with("Bearer ") && text.contains('=')) {
        let value = header.unwrap_or(text).trim().to_owned();
        let answer = ApiAnswer {
            status: Some(401),
            headers: vec![("WWW-Authenticate".into(), value)],
            ..ApiAnswer::default()
        };
        return Ok((Recognised::Challenge, answer_findings(answer, extra, now)));
    }
    if let Ok(token) = decode(text) {
        return Ok((Recognised::Token, token_findings(&token, extra, now)));
    }
    if text.starts_with('<') {
        let answer = ApiAnswer {
            body: text.to_owned(),
            ..ApiAnswer::default()
        };
        return Ok((Recognised::ApiError, answer_findings(answer, extra, now)));
    }
    text_findings(text, extra, now)
}

/// Free text: a log line, an exception, a stack trace, several errors, JSON quoted in a string.
/// Whatever [`extract::scan`] finds is explained; a failure no rule knows still gets a finding.
fn text_findings(
    text: &str,
    extra: &Extra,
    now: DateTime<Utc>,
) -> Result<(Recognised, Vec<Finding>), String> {
    let scan = extract::scan(text);
    let mut findings = Vec::new();
    // An Entra error body inside the text is the most precise thing it can hold.
    for body in &scan.bodies {
        if let Ok(error) = serde_json::from_str::<EntraError>(body)
            && error.code().is_some()
        {
            findings.push(Catalog::builtin().explain(&error, &extra.context));
        }
    }
    for code in scan.aadsts.iter().copied() {
        if !findings.iter().any(|f| f.id == format!("AADSTS{code}")) {
            findings.push(entra_finding(text, code, &scan, extra));
        }
    }
    if findings.is_empty() {
        let answer = ApiAnswer {
            status: scan
                .status()
                .or_else(|| scan.codes.iter().find_map(|c| status_of_code(c))),
            headers: scan
                .challenge
                .iter()
                .map(|c| ("WWW-Authenticate".to_owned(), c.clone()))
                .collect(),
            url: scan.called.clone(),
            body: text.to_owned(),
            ..ApiAnswer::default()
        };
        findings = answer_findings(answer, extra, now);
    }
    if findings.is_empty() && looks_like_failure(text) {
        findings.push(fallback(text, &scan, extra));
    }
    if findings.is_empty() {
        return Err(
            "this is none of what explain reads: a token-endpoint error (JSON), an API error (JSON, XML or text), a \
             WWW-Authenticate header, a raw HTTP response (curl -i), a JWT, an AADSTS code, or a log line, exception or \
             stack trace that carries an HTTP status, an error code or an error message"
                .into(),
        );
    }
    Ok((Recognised::Text, findings))
}

/// An OAuth error body (`{"error":"invalid_client","error_description":…}`), not any JSON with
/// an `error` string (a log record's `"error":"POST https://… 403"` is free text).
fn is_token_error(object: &serde_json::Map<String, Value>) -> bool {
    const OAUTH_ERRORS: [&str; 9] = [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_resource",
        "temporarily_unavailable",
        "access_denied",
    ];
    let Some(error) = object.get("error").and_then(Value::as_str) else {
        return false;
    };
    object.contains_key("error_description")
        || object.contains_key("error_codes")
        || OAUTH_ERRORS.contains(&error)
        || error.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// A paste from a rendered web page turns `'https://x/'` into `'[https://x/'](https://x/%27)`:
/// the link text is what the service said.
fn without_markdown_links(text: &str) -> std::borrow::Cow<'_, str> {
    static LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\[([^\]\n]{1,500})\]\(https?://[^)\s]{1,500}\)")
            .expect("a constant pattern")
    });
    if text.contains("](http") {
        LINK.replace_all(text, "$1")
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The finding for a failure no rule knows (see [`unrecognised`]), from the scan of `text`.
fn fallback(text: &str, scan: &Scan, extra: &Extra) -> Finding {
    unrecognised::finding(&scan.subject(text), scan.status(), scan, &extra.context)
}

/// The finding for one AADSTS code quoted in free text, with the sentence that carries it.
fn entra_finding(text: &str, code: u64, scan: &Scan, extra: &Extra) -> Finding {
    let needle = format!("AADSTS{code}");
    let description = text.find(&needle).map_or(needle.as_str(), |at| {
        let line_end = text[at..].find(['\n', '\r']).map_or(text.len(), |e| at + e);
        text[at..line_end]
            .trim()
            .trim_end_matches(['"', '\'', ',', '}'])
    });
    let label = |wanted: &str| {
        scan.ids
            .iter()
            .find(|(label, _)| label.replace(' ', "").starts_with(wanted))
            .map(|(_, id)| id.clone())
    };
    let error = EntraError {
        error_description: description.to_owned(),
        error_codes: vec![code],
        trace_id: label("traceid"),
        correlation_id: label("correlationid"),
        ..EntraError::default()
    };
    Catalog::builtin().explain(&error, &extra.context)
}

/// Words and numbers that make a text a failure report, so that it is never left silent: a 4xx
/// or 5xx status, a denial, an exception, or "error"/"failed" used as a log's label
/// (`Error: …`, `failed to …`) rather than in passing ("this is not an error message").
fn looks_like_failure(text: &str) -> bool {
    static FAILURE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)\b(?:exception|denied|unauthori[sz]ed|forbidden|not authori[sz]ed|not allowed|insufficient privileges|refused|[45]\d\d)\b|\b(?:error|failed|failure|fatal)\s*[:=(\[]|\b(?:failed|unable) to\b|\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception|Failed|Denied)\b",
        )
        .expect("a constant pattern")
    });
    FAILURE.is_match(text)
}

fn answer_findings(mut answer: ApiAnswer, extra: &Extra, now: DateTime<Utc>) -> Vec<Finding> {
    if answer.url.is_none() {
        answer.url = extra.url.map(str::to_owned);
    }
    if answer.method.is_empty() {
        answer.method = "GET".into();
    }
    // A token-endpoint error inside a raw response is an Entra error, not an API error.
    if let Ok(mut error) = serde_json::from_str::<EntraError>(answer.body.trim())
        && error.code().is_some()
    {
        error.status = answer.status.unwrap_or_default();
        return vec![Catalog::builtin().explain(&error, &extra.context)];
    }
    let mut findings = api::explain(&answer, extra.token, now, &extra.context);
    if let Some(token) = extra.token {
        if !findings.iter().any(|f| f.id.starts_with("audience."))
            && let Some(audience) = url_audience(token, extra)
        {
            // The audience is the cause; a generic 401 beside it says nothing more.
            findings.retain(|f| f.id != "api.unauthorized");
            findings.insert(0, audience);
        }
        findings.extend(token_checks::check(
            token,
            now,
            extra.scope.map(resource_of),
            &extra.context,
        ));
    }
    findings
}

/// Whether the API at `--url` (a well-known one) accepts the token's audience.
fn url_audience(token: &DecodedToken, extra: &Extra) -> Option<Finding> {
    let resource = extra
        .url
        .and_then(api::host_of)
        .and_then(|h| Resources::builtin().by_host(&h))?;
    super::audience::against_resource(token, resource)
}

/// Pasted API errors come without their status line: infer it from the well-known codes.
fn status_of_api_error(body: &str) -> Option<u16> {
    status_of_code(&api::ApiError::parse(body).code?)
}

fn status_of_code(code: &str) -> Option<u16> {
    let lower = code.to_ascii_lowercase();
    if lower.contains("requestdenied")
        || lower.contains("forbidden")
        || lower.contains("authorizationfailed")
        || lower == "accessdenied"
    {
        Some(403)
    } else if lower.contains("authenticat")
        || lower.contains("unauthorized")
        || lower.contains("token")
    {
        Some(401)
    } else if lower.contains("throttl") || lower.contains("toomanyrequests") {
        Some(429)
    } else {
        None
    }
}

/// A pasted token: its own problems, and whether the API at `--url` accepts its audience.
fn token_findings(token: &DecodedToken, extra: &Extra, now: DateTime<Utc>) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(token_checks::graph_nonce(token));
    findings.extend(token_checks::check(
        token,
        now,
        extra.scope.map(resource_of),
        &extra.context,
    ));
    findings.extend(url_audience(token, extra));
    findings
}
