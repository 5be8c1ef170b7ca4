//! API answers explained: 401, 403, 429, 5xx, redirects, audience complaints, clock skew.
//!
//! Azure services word the same problem many ways (Graph JSON, ARM JSON, Key Vault's AKV codes,
//! Storage XML, Batch's OData, bare `WWW-Authenticate`), so the checks look at the words, not the
//! shape: an audience complaint is recognised by its text wherever it appears.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

mod gateway;

pub use super::audience::audience_complaint;
use super::service_errors::{ServiceErrors, Subject};
use super::www_authenticate::{self, Challenge};
use super::{Finding, FixContext, Resources, Severity, token_checks};
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

    fn from_json(value: &Value) -> Self {
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
struct Reading {
    error: ApiError,
    /// The body's code, message and detail with the challenge's description.
    said: String,
    /// The body and the challenge's description, whole, for the rules.
    full_text: String,
    /// The service's message, for evidence.
    quote: String,
    codes: Vec<String>,
    scan: super::extract::Scan,
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
        let quote = error.message.clone().unwrap_or_else(|| said.clone());
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

/// The token's time in the API's words: not valid yet (a clock problem), or expired.
fn time_findings(
    answer: &ApiAnswer,
    reading: &Reading,
    token: Option<&DecodedToken>,
    now: DateTime<Utc>,
    so_far: &[Finding],
) -> Vec<Finding> {
    let said = reading.said.trim();
    let status_line = answer
        .status
        .map_or_else(|| "the API".into(), |s| format!("HTTP {s}"));
    let lower = said.to_ascii_lowercase();
    // "has expired or is not yet valid" (Graph) is nearly always the former.
    let not_yet_valid = !lower.contains("expired")
        && (lower.contains("not yet valid")
            || lower.contains("not valid yet")
            || lower.contains("not valid at the current time"));
    if not_yet_valid {
        return vec![not_valid_yet(said, &status_line)];
    }
    let expired_words = lower.contains("expired") || lower.contains("lifetime validation failed");
    let refused_token = answer.status == Some(401)
        || (answer.status == Some(403) && authentication_failed(&reading.codes));
    let explained = so_far.iter().any(|f| f.id.starts_with("AADSTS"));
    if refused_token
        && !explained
        && (expired_words || token.is_some_and(|t| token_checks::is_expired(t, now)))
    {
        return vec![token_checks::expired(token, now).evidence(format!("{status_line}: {said}"))];
    }
    Vec::new()
}

/// What a status alone says when nothing more specific was found.
struct Generic<'a> {
    answer: &'a ApiAnswer,
    reading: &'a Reading,
    bearer: Option<&'a Challenge>,
    token: Option<&'a DecodedToken>,
    resource: Option<&'a super::Resource>,
    /// The API authorises by app roles (Graph, most custom APIs), not by Azure RBAC.
    uses_app_roles: bool,
    context: &'a FixContext,
    now: DateTime<Utc>,
}

impl Generic<'_> {
    fn add(&self, findings: &mut Vec<Finding>) {
        let answer = self.answer;
        let error = &self.reading.error;
        let authentication = authentication_failed(&self.reading.codes);
        let quoted = || {
            let status_line = answer
                .status
                .map_or_else(|| "the API".into(), |s| format!("HTTP {s}"));
            format!("{status_line}: {}", self.reading.said.trim())
        };
        match answer.status {
            // Storage answers authentication failures (a wrong audience) with 403 too.
            Some(401) if findings.is_empty() => {
                findings.push(unauthorized(error, self.bearer, &quoted()));
            }
            Some(403) if authentication && findings.is_empty() => {
                findings.push(unauthorized(error, self.bearer, &quoted()));
            }
            // Azure resources answer by RBAC role assignments: explained by the rules, or as an
            // unrecognised 403 by the caller.
            Some(403) if !authentication && findings.is_empty() && self.uses_app_roles => {
                findings.push(forbidden(
                    answer,
                    error,
                    self.token,
                    self.resource,
                    self.context,
                ));
            }
            Some(429) => findings.push(gateway::throttled(answer, self.now)),
            Some(status) if status >= 500 => {
                findings.push(gateway::server_error(answer, status, &self.reading.said));
            }
            Some(status @ 300..=399) => findings.push(gateway::redirected(answer, status)),
            Some(status) if findings.is_empty() => {
                findings.extend(gateway::html_page(answer, status));
            }
            _ => {}
        }
    }
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

fn describe(challenge: &Challenge) -> String {
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

fn path_of(url: &str) -> Option<String> {
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

fn forbidden(
    answer: &ApiAnswer,
    error: &ApiError,
    token: Option<&DecodedToken>,
    resource: Option<&super::Resource>,
    context: &FixContext,
) -> Finding {
    let roles = token
        .and_then(|t| t.claims.roles.clone())
        .unwrap_or_default();
    let route = resource
        .zip(answer.url.as_deref().and_then(path_of))
        .and_then(|(r, p)| r.route(&answer.method, &p));
    let needed = route.map(|r| r.permissions.clone()).unwrap_or_default();
    let role = needed.first().cloned().or_else(|| context.role.clone());
    let context = FixContext {
        role,
        ..context.clone()
    };
    let api = resource.map_or_else(|| "The API".to_owned(), |r| r.name.clone());
    let mut finding = Finding::new("api.forbidden", Severity::Error, format!("{api} refused the call: the app lacks the permission (403)"))
        .cause(
            "the token is valid but does not carry an application permission (app role) this call needs: the permission \
             was never added, was added as Delegated instead of Application, was not admin-consented, or was consented \
             after this token was issued (a token keeps the roles it was issued with)",
        )
        .evidence(format!(
            "HTTP 403: {}",
            [error.code.as_deref(), error.message.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(": ")
        ));
    if token.is_some() {
        finding = finding.evidence(if roles.is_empty() {
            "token roles: none".to_owned()
        } else {
            format!("token roles: {}", roles.join(", "))
        });
    }
    if let Some(route) = route {
        // Least privileged first; the long tail of broader permissions helps nobody.
        let shown: Vec<&str> = route
            .permissions
            .iter()
            .take(4)
            .map(String::as_str)
            .collect();
        let more = route.permissions.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" (or one of {more} broader permissions)")
        } else {
            String::new()
        };
        finding = finding.evidence(format!(
            "{} {} needs one of: {}{tail}",
            route.method,
            route.path,
            shown.join(", ")
        ));
    }
    let resource_id = resource.map_or_else(|| "<resource-app-id>".to_owned(), |r| r.app_id.clone());
    finding
        .fix(context.render(
            "Add the Application permission {role} (API permissions › Add a permission › Application permissions), then Grant admin consent",
        ))
        .fix(context.render(&format!("az: {}", grant_role_az(&resource_id))))
        .fix("Then acquire a NEW token (entra-doctor token --force-refresh): a cached token keeps its old roles")
        .doc("https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#application-permissions")
}

fn clock_skew(answer: &ApiAnswer, now: DateTime<Utc>) -> Option<Finding> {
    let date = DateTime::parse_from_rfc2822(answer.header("date")?)
        .ok()?
        .with_timezone(&Utc);
    let skew = date - now;
    (skew.abs() > MAX_SKEW).then(|| {
        Finding::new("clock.skew", Severity::Warning, "This machine's clock differs from the server's")
            .cause("token lifetimes and client assertions are checked against the clock; a skew over 5 minutes makes fresh tokens look expired or not yet valid")
            .evidence(format!("server Date: {date}, local clock: {now} ({} s apart)", skew.num_seconds().abs()))
            .fix("Synchronise the clock (NTP): timedatectl set-ntp true, or w32tm /resync on Windows")
    })
}

/// A 401 that is neither an audience problem nor an expired token.
fn unauthorized(error: &ApiError, bearer: Option<&Challenge>, said: &str) -> Finding {
    let no_token =
        bearer.is_some() && error.text().is_empty() && bearer.and_then(Challenge::error).is_none();
    let mut finding = Finding::new("api.unauthorized", Severity::Error, "The API did not accept the token (401)")
        .cause(if no_token {
            "no token reached the API, or it was not a Bearer token: the API asks for one in WWW-Authenticate"
        } else {
            "the API rejected the token; its own words are in the evidence"
        })
        .evidence(said);
    if let Some(challenge) = bearer {
        finding = finding.evidence(format!("WWW-Authenticate: {}", describe(challenge)));
    }
    finding.fix("Check the token's aud, iss and exp with: entra-doctor decode")
}

/// A 403 whose code says authentication failed, not authorisation.
fn authentication_failed(codes: &[String]) -> bool {
    codes.iter().any(|code| {
        let code = code.to_ascii_lowercase();
        code == "authenticationfailed" || code.starts_with("invalidauthenticationtoken")
    })
}

/// The API's own words say the token is not valid yet: a clock problem.
fn not_valid_yet(said: &str, status_line: &str) -> Finding {
    Finding::new("clock.skew", Severity::Error, "The API says the token is not valid yet")
        .cause("the token's nbf is in the API's future: the API's clock, or the clock of the machine that asked for the token, is wrong")
        .evidence(format!("{status_line}: {}", said.trim()))
        .fix("Synchronise the clocks (NTP): timedatectl set-ntp true, or w32tm /resync on Windows")
}
