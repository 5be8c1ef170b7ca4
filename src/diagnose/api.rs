//! API answers explained: 401, 403, 429, 5xx, redirects, audience complaints, clock skew.
//!
//! Azure services word the same problem many ways (Graph JSON, ARM JSON, Key Vault's AKV codes,
//! Storage XML, Batch's OData, bare `WWW-Authenticate`), so the checks look at the words, not the
//! shape: an audience complaint is recognised by its text wherever it appears.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

mod gateway;
mod generic;

use generic::{Generic, clock_skew, time_findings};

pub use super::audience::audience_complaint;
use super::service_errors::{ServiceErrors, Subject};
use super::www_authenticate::{self, Challenge};
use super::{Finding, FixContext, Resources, Severity};
use crate::token::DecodedToken;

/// Larger clock differences than this break token validation (MSAL and ASP.NET use 5 minutes).
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(5);

/// An HTTP answer from an API, as probed or as pasted.
#[derive(Debug, Clone, Default)]
pub struct ApiAnswer {
    pub method: String,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ApiAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn challenges(&self) -> Vec<Challenge> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
            .flat_map(|(_, v)| www_authenticate::parse(v))
            .collect()
    }
}

/// The error an API put in its body, whatever its dialect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub detail: Option<String>,
}

impl ApiError {
    pub fn parse(body: &str) -> Self {
        // Azure Storage starts its XML with a byte order mark.
        let trimmed = body.trim_start_matches('\u{feff}').trim();
        if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
            return Self::from_json(&value);
        }
        if trimmed.starts_with('<') {
            return Self {
                code: xml_text(trimmed, "Code"),
                message: xml_text(trimmed, "Message"),
                detail: xml_text(trimmed, "AuthenticationErrorDetail"),
            };
        }
        // All of it: rules read the whole text; only evidence is shortened, for display.
        Self {
            message: (!trimmed.is_empty()).then(|| trimmed.to_owned()),
            ..Self::default()
        }
    }

    pub(super) fn from_json(value: &Value) -> Self {
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("value").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        let inner = value
            .get("error")
            .or_else(|| value.get("odata.error"))
            .unwrap_or(value);
        match inner {
            Value::Object(o) => Self {
                code: o.get("code").or_else(|| o.get("Code")).and_then(text),
                message: o.get("message").or_else(|| o.get("Message")).and_then(text),
                detail: o
                    .get("innererror")
                    .or_else(|| o.get("innerError"))
                    .and_then(|i| i.get("message"))
                    .and_then(text)
                    .or_else(|| odata_values(o)),
            },
            Value::String(code) => Self {
                code: Some(code.clone()),
                message: value.get("error_description").and_then(text),
                detail: None,
            },
            _ => Self::default(),
        }
    }

    /// Every word the API said, for text checks.
    fn text(&self) -> String {
        [&self.code, &self.message, &self.detail]
            .iter()
            .filter_map(|t| t.as_deref())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Batch's OData errors carry the detail in `values: [{"key": …, "value": …}]`.
fn odata_values(object: &serde_json::Map<String, Value>) -> Option<String> {
    let values = object.get("values")?.as_array()?;
    let texts: Vec<&str> = values
        .iter()
        .filter_map(|v| v.get("value").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join(" "))
}

fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_owned())
}

/// Everything an answer says, read once: the body's error, the challenge's description, the
/// codes and ids found anywhere in it.
pub(super) struct Reading {
    pub(super) error: ApiError,
    /// The body's code, message and detail with the challenge's description.
    pub(super) said: String,
    /// The body and the challenge's description, whole, for the rules.
    pub(super) full_text: String,
    /// The service's message, for evidence.
    pub(super) quote: String,
    pub(super) codes: Vec<String>,
    pub(super) scan: super::extract::Scan,
}

impl Reading {
    fn of(answer: &ApiAnswer, bearer: Option<&Challenge>) -> Self {
        let error = ApiError::parse(&answer.body);
        // What the API said, in its body and its challenge; the two often repeat each other.
        let mut said = error.text();
        if let Some(description) = bearer.and_then(Challenge::error_description)
            && !said.contains(description)
        {
            format!("{said} {description}").trim().clone_into(&mut said);
        }
        let scan = super::extract::scan(&answer.body);
        let mut codes: Vec<String> = error.code.iter().cloned().collect();
        for code in &scan.codes {
            if !codes.contains(code) {
                codes.push(code.clone());
            }
        }
        let full_text = if said.is_empty() || answer.body.contains(said.as_str()) {
            answer.body.clone()
        } else {
            format!("{}\n{said}", answer.body)
        };
        // The service's own message: in a log line, the `Message="…"` inside it.
        let quote = scan
            .messages
            .first()
            .or(error.message.as_ref())
            .cloned()
            .unwrap_or_else(|| said.clone());
        Self {
            error,
            said,
            full_text,
            quote,
            codes,
            scan,
        }
    }
}

/// Findings for an API answer; `token` (if known) gives roles and `aud` as evidence.
pub fn explain(
    answer: &ApiAnswer,
    token: Option<&DecodedToken>,
    now: DateTime<Utc>,
    context: &FixContext,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let challenges = answer.challenges();
    let bearer = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"));
    let reading = Reading::of(answer, bearer);
    let said = &reading.said;
    let status_line = answer
        .status
        .map_or_else(|| "the API".into(), |s| format!("HTTP {s}"));
    let aud = token
        .and_then(|t| t.claims.aud.as_ref())
        .and_then(|a| a.values().first().map(|s| (*s).to_owned()));
    // By the API's host; for a host we do not know (a proxy, the demo tenant), by the audience.
    let resource = answer
        .url
        .as_deref()
        .and_then(host_of)
        .and_then(|h| Resources::builtin().by_host(&h))
        .or_else(|| {
            aud.as_deref()
                .and_then(|a| Resources::builtin().by_identifier(a))
        });
    let subject = Subject {
        text: &reading.full_text,
        quote: &reading.quote,
        codes: &reading.codes,
        status: answer.status,
        called: answer.url.as_deref(),
        urls: &reading.scan.urls,
        audience: aud.as_deref().or(context.resource.as_deref()),
    };
    let known = ServiceErrors::builtin();
    let service = known.service_of(&subject);
    // An Entra error inside an API's answer (a gateway that asked for a token on the caller's
    // behalf and failed) is the cause: the catalog explains it better than the status can.
    for code in &reading.scan.aadsts {
        findings.push(
            super::Catalog::builtin()
                .finding(*code, context)
                .evidence(super::service_errors::said(&subject)),
        );
    }
    let accepted = resource.map(|r| r.audiences.clone()).or_else(|| {
        service
            .map(|s| s.audiences.clone())
            .filter(|a| !a.is_empty())
    });
    if let Some(finding) = audience_complaint(said, aud.as_deref(), accepted.as_deref()) {
        findings.push(finding.evidence(format!("{status_line}: {}", said.trim())));
    }
    // Any challenge that carries claims= is a claims challenge, whatever its error says (CAE
    // sends invalid_token with "Tenant IP Policy validate failed." too).
    if let Some((challenge, claims)) = bearer.and_then(|c| c.claims().map(|claims| (c, claims))) {
        findings.push(claims_challenge(challenge, &claims));
    }
    if !findings
        .iter()
        .any(|f| f.id.starts_with("audience.") || f.id.starts_with("AADSTS"))
    {
        let mut ruled = known.findings(&subject, context);
        if let (Some(first), Some(challenge)) = (ruled.first_mut(), bearer) {
            first
                .evidence
                .push(format!("WWW-Authenticate: {}", describe(challenge)));
        }
        findings.extend(ruled);
    }
    findings.extend(time_findings(answer, &reading, token, now, &findings));
    let generic = Generic {
        answer,
        reading: &reading,
        bearer,
        token,
        resource,
        uses_app_roles: service.is_none_or(|s| s.uses_app_roles),
        context,
        now,
    };
    generic.add(&mut findings);
    if findings.is_empty()
        && let Some(status) = answer.status.filter(|s| *s >= 400)
    {
        findings.push(super::unrecognised::finding(
            &subject,
            Some(status),
            &reading.scan,
            context,
        ));
    }
    if let Some(skew) = clock_skew(answer, now) {
        findings.push(skew);
    }
    findings
}

/// `error="insufficient_claims"`: what the challenge asks for and what a daemon must do.
fn claims_challenge(challenge: &Challenge, claims: &str) -> Finding {
    let mut finding = Finding::new("api.claims-challenge", Severity::Error, "The API demands a token with more claims (claims challenge)")
        .cause(
            "Continuous access evaluation or a Conditional Access policy rejected this token and sent a claims \
             challenge: retrying with the same (cached) token fails again. A daemon must re-acquire a token, \
             sending the claims parameter (MSAL: WithClaims / claims_challenge), then retry the call once",
        )
        .evidence(format!("claims: {claims}"));
    if let Some(description) = challenge.error_description() {
        finding = finding.evidence(format!(
            "error=\"{}\", error_description=\"{description}\"",
            challenge.error().unwrap_or("-")
        ));
    }
    finding
        .fix(format!(
            "Acquire a new token sending these claims: entra-doctor token --claims '{}'",
            claims.replace('\'', "'\\''")
        ))
        .fix("If the policy is IP-based (a location condition), no token helps: call from an allowed network or IP range")
        .doc("https://learn.microsoft.com/entra/identity-platform/claims-challenge")
}

pub(super) fn describe(challenge: &Challenge) -> String {
    let params: Vec<String> = challenge
        .params
        .iter()
        .map(|(k, v)| format!("{k}=\"{v}\""))
        .collect();
    format!("{} {}", challenge.scheme, params.join(", "))
}

pub fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

pub(super) fn path_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().map(|u| u.path().to_owned())
}

/// The az commands that add the application permission `{role}` of the API with app id
/// `resource_app_id` to `{client_id}` and grant admin consent: a template for
/// [`FixContext::render`].
pub fn grant_role_az(resource_app_id: &str) -> String {
    format!(
        "az ad app permission add --id {{client_id}} --api {resource_app_id} --api-permissions $(az ad sp show --id {resource_app_id} --query \"appRoles[?value=='{{role}}'].id\" -o tsv)=Role && az ad app permission admin-consent --id {{client_id}}"
    )
}
