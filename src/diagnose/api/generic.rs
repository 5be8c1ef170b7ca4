//! What an answer's status and words say when no service rule knew it: a 401 or 403 in
//! general, an expired or not-yet-valid token, a skewed clock, and the gateway answers (5xx,
//! 429, redirects, HTML pages).

use chrono::{DateTime, Utc};

use super::{ApiAnswer, ApiError, MAX_SKEW, Reading, describe, gateway, grant_role_az, path_of};
use crate::diagnose::www_authenticate::Challenge;
use crate::diagnose::{Finding, FixContext, Severity, token_checks};
use crate::token::DecodedToken;

/// The token's time in the API's words: not valid yet (a clock problem), or expired.
pub(super) fn time_findings(
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
pub(super) struct Generic<'a> {
    pub(super) answer: &'a ApiAnswer,
    pub(super) reading: &'a Reading,
    pub(super) bearer: Option<&'a Challenge>,
    pub(super) token: Option<&'a DecodedToken>,
    pub(super) resource: Option<&'a crate::diagnose::Resource>,
    /// The API authorises by app roles (Graph, most custom APIs), not by Azure RBAC.
    pub(super) uses_app_roles: bool,
    pub(super) context: &'a FixContext,
    pub(super) now: DateTime<Utc>,
}

impl Generic<'_> {
    pub(super) fn add(&self, findings: &mut Vec<Finding>) {
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

fn forbidden(
    answer: &ApiAnswer,
    error: &ApiError,
    token: Option<&DecodedToken>,
    resource: Option<&crate::diagnose::Resource>,
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

pub(super) fn clock_skew(answer: &ApiAnswer, now: DateTime<Utc>) -> Option<Finding> {
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
