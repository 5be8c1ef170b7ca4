//! Audience complaints, whatever service words them: which audience the token had, which the
//! API wanted, and whether they differ only by the final `/` (the trailing-slash case).

use super::{Finding, Severity};

/// The audience complaint in an API's words, if there is one.
///
/// Recognised by the word "audience" in any form; the audiences named are read from the text,
/// the token and the well-known resource, and the trailing-slash case is named as such.
pub fn audience_complaint(
    text: &str,
    token_aud: Option<&str>,
    accepted: Option<&[String]>,
) -> Option<Finding> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("audience") && !lower.contains("invalid aud") {
        return None;
    }
    let named = audiences_in(text);
    let actual = token_aud
        .map(str::to_owned)
        .or_else(|| actual_in(text, &named));
    let mut expected: Vec<String> = accepted.map(<[String]>::to_vec).unwrap_or_default();
    expected.extend(
        named
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| Some(a) != actual.as_ref()),
    );
    // Accepted and named audiences overlap: keep the first of each, in order.
    let mut seen = std::collections::HashSet::new();
    expected.retain(|a| seen.insert(a.clone()));
    let slash = actual.as_ref().and_then(|a| {
        expected
            .iter()
            .find(|e| *e != a && e.trim_end_matches('/') == a.trim_end_matches('/'))
            .cloned()
    });
    let finding = if let (Some(wanted), Some(actual)) = (&slash, &actual) {
        trailing_slash(actual, wanted)
    } else {
        {
            let mut finding = Finding::new("audience.mismatch", Severity::Error, "The token is for another audience than this API")
                .cause("the token's aud names a different resource than the API accepts: the scope asked for the wrong resource");
            if let Some(actual) = &actual {
                finding = finding.evidence(format!("token aud: {actual}"));
            }
            if !expected.is_empty() {
                finding = finding.evidence(format!("the API accepts: {}", expected.join(", ")));
            }
            let fix = expected.first().map_or_else(
                || "Request a token for this API's own resource: scope <its App ID URI>/.default".to_owned(),
                |e| format!("Request the scope {e}/.default, then acquire a new token with --force-refresh"),
            );
            finding.fix(fix)
        }
    };
    Some(finding)
}

/// The token's aud differs from the one the API wants only by the final `/`.
pub fn trailing_slash(actual: &str, wanted: &str) -> Finding {
    Finding::new("audience.trailing-slash", Severity::Error, format!("Trailing slash: the API wants aud {wanted}, the token has {actual}"))
        .cause(format!(
            "Entra ID reads the resource as everything before the last / of the scope, so the scope decided the slash: \
             the token was issued for {actual}, and this API compares aud as an exact string"
        ))
        .evidence(format!("token aud: {actual}"))
        .fix(format!("Request the scope {wanted}/.default (note the double slash when the audience ends in /), then acquire a new token with --force-refresh"))
        .doc("https://learn.microsoft.com/entra/identity-platform/scopes-oidc#trailing-slash-and-default")
}

/// URLs and GUIDs named in a text, with where they start, trimmed of quotes and sentence
/// punctuation. A URL with a path (Exchange's "request url is …") stands for its origin, the
/// audience an API at that URL would want.
fn audiences_in(text: &str) -> Vec<(usize, String)> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut start = 0;
    for word in text.split(|c: char| {
        c.is_whitespace() || matches!(c, '\'' | '"' | ',' | '(' | ')' | '[' | ']' | '<' | '>')
    }) {
        let position = start;
        start += word.len() + 1;
        let word = word.trim_end_matches(['.', ';', ':']);
        let lower = word.to_ascii_lowercase();
        let is_web = lower.starts_with("https://") || lower.starts_with("http://");
        let is_uri = is_web || lower.starts_with("api://") || lower.starts_with("spn:");
        if !(is_uri || crate::auth::tenant::is_guid(&lower)) {
            continue;
        }
        let audience = match url::Url::parse(word) {
            Ok(url) if is_web && url.path().trim_matches('/').contains('/') => {
                url.origin().ascii_serialization()
            }
            _ => word.to_owned(),
        };
        if !found.iter().any(|(_, f)| *f == audience) {
            found.push((position, audience));
        }
    }
    found
}

/// The audience a message says the token had ("found: X", "wrong audience or resource 'X'",
/// "Audience claim is 'X'", "The audience 'X' is invalid"): the first one named after the
/// earliest such phrase.
fn actual_in(text: &str, named: &[(usize, String)]) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let marker = [
        "found",
        "wrong audience or resource",
        "audience claim is",
        "audience validation failed",
        "token audience",
        "the audience '",
        "the audience \"",
    ]
    .iter()
    .filter_map(|m| lower.find(m))
    .min()?;
    named
        .iter()
        .find(|(position, _)| *position >= marker)
        .map(|(_, n)| n.clone())
}

/// Whether a well-known API accepts the token's audience; a finding when it does not.
pub fn against_resource(
    token: &crate::token::DecodedToken,
    resource: &super::Resource,
) -> Option<Finding> {
    let aud = token
        .claims
        .aud
        .as_ref()
        .map(|a| a.values().join(" "))
        .unwrap_or_default();
    if aud.is_empty() || resource.accepts_audience(&aud) {
        return None;
    }
    let complaint = format!("token audience {aud} is not one of the accepted audiences");
    audience_complaint(&complaint, Some(&aud), Some(&resource.audiences))
}
