//! `explain`: whatever the operator pasted — a token-endpoint error, an API error (JSON, XML or
//! text), a `WWW-Authenticate` header, a raw HTTP response, a JWT or a bare AADSTS code — turned
//! into findings.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::api::{self, ApiAnswer};
use super::{Catalog, Finding, FixContext, Resources, http_text, sort, token_checks};
use crate::auth::{EntraError, response::aadsts_in, scope::resource_of};
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
    let (kind, mut findings) = recognise(trimmed, extra, now)?;
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
        if object.get("error").is_some_and(Value::is_string)
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
    if let Some(code) = aadsts_in(text) {
        let error = EntraError {
            error_description: text.to_owned(),
            error_codes: vec![code],
            ..EntraError::default()
        };
        return Ok((
            Recognised::Text,
            vec![Catalog::builtin().explain(&error, &extra.context)],
        ));
    }
    let findings = answer_findings(
        ApiAnswer {
            body: text.to_owned(),
            ..ApiAnswer::default()
        },
        extra,
        now,
    );
    if findings.is_empty() {
        return Err(
            "this is none of what explain reads: a token-endpoint error (JSON), an API error (JSON, XML or text), a \
             WWW-Authenticate header, a raw HTTP response (curl -i), a JWT, or an AADSTS code"
                .into(),
        );
    }
    Ok((Recognised::Text, findings))
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
    let code = api::ApiError::parse(body).code?;
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
    let mut findings =
        token_checks::check(token, now, extra.scope.map(resource_of), &extra.context);
    findings.extend(url_audience(token, extra));
    findings
}
