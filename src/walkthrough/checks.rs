//! The live check of each step. The token request is shared: the steps it proves (app,
//! credential, scope, token) read one answer, and an Entra ID refusal is pinned to the step
//! that Entra ID was checking when it refused ([`stage_of`]).

use chrono::{DateTime, Utc};

use super::fixes;
use super::{Session, Status, StepId, StepReport};
use crate::auth::Credential;
use crate::diagnose::{self, Finding, FixContext, Resources, Severity, api, preflight};
use crate::error::Error;
use crate::probe::{ProbeRequest, Prober};
use crate::secret::Secret;
use crate::token::{DecodedToken, decode, relative};

/// The answer to the session's token request.
#[derive(Debug)]
pub(super) enum Attempt {
    Issued {
        raw: Secret,
        decoded: Option<Box<DecodedToken>>,
        expires_in: u64,
    },
    Refused(Error),
}

/// The step Entra ID was checking when it refused: it checks the tenant, then the app, then
/// its credential, then the scope, and only then issues (or applies policies). An error that
/// is not Entra ID's (the network, an unreadable answer) belongs to the first step that needs
/// the token endpoint.
pub fn stage_of(error: &Error) -> StepId {
    const TENANT: &[u64] = &[
        90002, 900_023, 50128, 50059, 90019, 9_001_023, 50194, 90038, 900_432, 50049,
    ];
    const APP: &[u64] = &[700_016, 700_011, 7_000_229, 7_000_112, 70001, 7_000_114];
    const CREDENTIAL: &[u64] = &[
        7_000_215, 7_000_222, 7_000_218, 7_000_216, 700_025, 700_027, 700_024, 700_021, 50048,
        5_002_738, 5_002_723, 700_030, 50012, 70002, 70021, 700_211, 700_213, 700_222, 700_229,
    ];
    const SCOPE: &[u64] = &[
        70011, 1_002_012, 700_022, 700_023, 901_002, 90009, 500_011, 50001, 500_014, 90014,
    ];
    let entra = match error {
        Error::Entra(entra) => entra,
        // A 429 that outlasted the retries: Entra ID knew the app and let it ask.
        Error::Throttled { .. } => return StepId::Token,
        _ => return StepId::App,
    };
    match entra.code() {
        Some(code) if TENANT.contains(&code) => StepId::Tenant,
        Some(code) if APP.contains(&code) => StepId::App,
        Some(code) if CREDENTIAL.contains(&code) => StepId::Credential,
        Some(code) if SCOPE.contains(&code) => StepId::Scope,
        _ => StepId::Token,
    }
}

pub(super) async fn check(session: &mut Session, step: StepId, now: DateTime<Utc>) -> StepReport {
    let context = FixContext::for_request(&session.setup.request);
    match step {
        StepId::Tenant => tenant(session, &context).await,
        StepId::Scope => match scope_lint(session) {
            Some(finding) => failed(step, checked_scope(session), Vec::new(), finding, session),
            None => from_attempt(session, step, now, &context).await,
        },
        StepId::App | StepId::Credential | StepId::Token => {
            from_attempt(session, step, now, &context).await
        }
        StepId::Role => role(session, now, &context).await,
        StepId::Api => call_api(session, now, &context).await,
    }
}

async fn tenant(session: &Session, context: &FixContext) -> StepReport {
    let authority = &session.setup.request.authority;
    let checked = format!(
        "OpenID Connect discovery of tenant {} at {}",
        authority.tenant,
        authority.discovery_url()
    );
    match session.client.discover(authority).await {
        Ok(metadata) => passed(
            StepId::Tenant,
            checked,
            vec![
                format!("issuer: {}", metadata.issuer),
                format!("token endpoint: {}", metadata.token_endpoint),
            ],
        ),
        Err(error) => failed(
            StepId::Tenant,
            checked,
            Vec::new(),
            preflight::error(&error, context),
            session,
        ),
    }
}

/// The token request, made once per session.
async fn attempt(session: &mut Session, now: DateTime<Utc>) -> &Attempt {
    let answer = match session.attempt.take() {
        Some(answer) => answer,
        None => match session.client.acquire(&session.setup.request, now).await {
            Ok(response) => {
                let decoded = decode(response.access_token.expose()).ok().map(Box::new);
                Attempt::Issued {
                    raw: response.access_token,
                    decoded,
                    expires_in: response.expires_in,
                }
            }
            Err(error) => Attempt::Refused(error),
        },
    };
    session.attempt.insert(answer)
}

async fn from_attempt(
    session: &mut Session,
    step: StepId,
    now: DateTime<Utc>,
    context: &FixContext,
) -> StepReport {
    let checked = match step {
        StepId::App => format!(
            "asked the token endpoint for client id {}",
            session.setup.request.client_id
        ),
        StepId::Credential => format!(
            "sent the {} to the token endpoint",
            credential_words(&session.setup.request.credential)
        ),
        StepId::Scope => checked_scope(session),
        _ => format!(
            "client credentials request to {}",
            session.setup.request.token_endpoint()
        ),
    };
    let evidence_before = step_evidence(session, step, None);
    let outcome = match attempt(session, now).await {
        Attempt::Issued { .. } => Ok(()),
        Attempt::Refused(error) => Err((stage_of(error), preflight::error(error, context))),
    };
    match outcome {
        Ok(()) => {
            let evidence = step_evidence(session, step, Some(now));
            passed(step, checked, evidence)
        }
        Err((stage, finding)) if stage == step => {
            failed(step, checked, evidence_before, finding, session)
        }
        Err((stage, _)) if stage > step => {
            let mut evidence = evidence_before;
            evidence.push(format!(
                "Entra ID accepted this and went on to check step {} ({})",
                stage.number(),
                stage.title()
            ));
            passed(step, checked, evidence)
        }
        Err((stage, _)) => StepReport::not_yet(
            step,
            format!(
                "Entra ID stopped earlier, at step {} ({})",
                stage.number(),
                stage.title()
            ),
        ),
    }
}

/// What a step can show: before the answer (`now` = None) the request's own facts, after a
/// token the token's.
fn step_evidence(session: &Session, step: StepId, now: Option<DateTime<Utc>>) -> Vec<String> {
    let request = &session.setup.request;
    let token = match (&session.attempt, now) {
        (Some(Attempt::Issued { decoded, .. }), Some(_)) => decoded.as_deref(),
        _ => None,
    };
    let claim = |name: &str| {
        token
            .and_then(|t| t.raw_claims.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    match step {
        StepId::App => {
            let mut evidence = vec![format!("client id: {}", request.client_id)];
            if let Some(name) = claim("app_displayname") {
                evidence.push(format!("app: {name}"));
            }
            if let Some(oid) = claim("oid") {
                evidence.push(format!("service principal (object id): {oid}"));
            }
            evidence
        }
        StepId::Credential => credential_evidence(&request.credential),
        StepId::Scope => {
            let resource = request.scopes.resource();
            let mut evidence = vec![
                format!("scope: {}", request.scopes.to_request_value()),
                format!("Entra ID reads the resource as {resource}"),
            ];
            if let Some(known) = Resources::builtin().by_identifier(resource) {
                evidence.push(format!(
                    "{} accepts aud {}",
                    known.name,
                    known.audiences.first().map_or("", String::as_str)
                ));
            }
            evidence
        }
        StepId::Token => match (&session.attempt, token, now) {
            (Some(Attempt::Issued { expires_in, .. }), Some(token), Some(now)) => {
                let aud = token
                    .claims
                    .aud
                    .as_ref()
                    .map(|a| a.values().join(", "))
                    .unwrap_or_default();
                let expires =
                    now + chrono::Duration::seconds(i64::try_from(*expires_in).unwrap_or(0));
                vec![
                    format!(
                        "a v{} access token for aud {aud}",
                        token.claims.ver.as_deref().unwrap_or("?")
                    ),
                    format!("expires {}", relative(expires, now)),
                ]
            }
            (Some(Attempt::Issued { .. }), None, _) => {
                vec!["an opaque (not JWT) token: only the API can read it".to_owned()]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn credential_words(credential: &Credential) -> &'static str {
    match credential {
        Credential::Secret(_) => "client secret",
        Credential::Certificate { .. } => "certificate-signed client assertion",
        Credential::Assertion { .. } => "federated assertion",
    }
}

fn credential_evidence(credential: &Credential) -> Vec<String> {
    match credential {
        Credential::Secret(secret) => vec![format!(
            "a client secret of {} characters (its value is never shown)",
            secret.char_len()
        )],
        Credential::Certificate { certificate, .. } => {
            let info = &certificate.info;
            vec![
                format!(
                    "certificate thumbprint {} — compare with Certificates & secrets › Certificates in the portal",
                    info.thumbprint_sha1
                ),
                format!(
                    "subject {}, valid until {}",
                    info.subject,
                    info.not_after.format("%Y-%m-%d")
                ),
            ]
        }
        Credential::Assertion { path, .. } => {
            vec![format!(
                "a federated assertion read from {}",
                path.display()
            )]
        }
    }
}

fn checked_scope(session: &Session) -> String {
    format!(
        "the scope {} against the client credentials rules (one resource, /.default) and the resource's audience",
        session.setup.request.scopes.to_request_value()
    )
}

/// A scope problem found before sending: any scope error, and a trailing slash the resource
/// will miss (a warning elsewhere; here it is the step's very question).
fn scope_lint(session: &Session) -> Option<Finding> {
    session
        .setup
        .preflight
        .iter()
        .find(|f| {
            f.id.starts_with("scope.")
                && (f.severity == Severity::Error || f.id == "scope.trailing-slash-audience")
        })
        .cloned()
}

async fn role(session: &mut Session, now: DateTime<Utc>, context: &FixContext) -> StepReport {
    let needed = fixes::needed_roles(&session.setup);
    let checked = if needed.is_empty() {
        "the token's roles claim: a daemon's token needs at least one application role".to_owned()
    } else {
        format!(
            "the token's roles claim against what the API call needs (any one of: {})",
            short_list(&needed)
        )
    };
    let decoded = match attempt(session, now).await {
        Attempt::Issued { decoded, .. } => decoded.clone(),
        Attempt::Refused(_) => {
            return StepReport::not_yet(StepId::Role, "needs a token first (step 5)");
        }
    };
    let Some(token) = decoded else {
        return passed(
            StepId::Role,
            checked,
            vec![
                "the token is not a JWT: its roles cannot be read here; the API call will tell"
                    .to_owned(),
            ],
        );
    };
    let roles = token.claims.roles.clone().unwrap_or_default();
    if roles.is_empty() {
        let context = FixContext {
            role: needed.first().cloned(),
            ..context.clone()
        };
        let finding = diagnose::token_checks::check(&token, now, None, &context)
            .into_iter()
            .find(|f| f.id == "token.no-roles" || f.id == "token.not-app-only")
            .unwrap_or_else(|| missing_role(&needed));
        return failed(StepId::Role, checked, Vec::new(), finding, session);
    }
    let mut evidence = vec![format!("roles: {}", roles.join(", "))];
    if !needed.is_empty() && !roles.iter().any(|r| needed.contains(r)) {
        return failed(
            StepId::Role,
            checked,
            evidence,
            missing_role(&needed),
            session,
        );
    }
    if let Some(role) = roles.iter().find(|r| needed.contains(r)) {
        evidence.push(format!("{role} is one the call needs"));
    }
    passed(StepId::Role, checked, evidence)
}

fn missing_role(needed: &[String]) -> Finding {
    Finding::new(
        "token.missing-role",
        Severity::Error,
        "The token lacks the application role this call needs",
    )
    .cause("the app holds other application permissions of this API, but none that this call accepts; the API will answer 403")
    .evidence(format!("the call needs one of: {}", short_list(needed)))
}

/// The first few of a long list, and how many there are.
fn short_list(items: &[String]) -> String {
    const SHOWN: usize = 3;
    if items.len() <= SHOWN + 1 {
        return items.join(", ");
    }
    format!("{}, … ({} in all)", items[..SHOWN].join(", "), items.len())
}

async fn call_api(session: &mut Session, now: DateTime<Utc>, context: &FixContext) -> StepReport {
    let Some(url) = session.setup.probe.clone() else {
        return StepReport {
            status: Status::Skipped,
            ..StepReport::not_yet(
                StepId::Api,
                "no API URL to call: give --probe URL (the resource has no known harmless call)",
            )
        };
    };
    let checked = format!("GET {url} with the token");
    let (raw, decoded) = match attempt(session, now).await {
        Attempt::Issued { raw, decoded, .. } => (raw.clone(), decoded.clone()),
        Attempt::Refused(_) => {
            return StepReport::not_yet(StepId::Api, "needs a token first (step 5)");
        }
    };
    let request = ProbeRequest {
        url,
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        token: Some(raw),
    };
    let sent = match Prober::new(&session.setup.options) {
        Ok(prober) => prober.send(&request).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(report) => {
            let evidence = vec![format!(
                "{} {} in {} ms",
                report.status, report.reason, report.elapsed_ms
            )];
            if report.is_success() {
                return passed(StepId::Api, checked, evidence);
            }
            let findings = api::explain(&report.answer(), decoded.as_deref(), now, context);
            let finding = findings
                .into_iter()
                .find(|f| f.severity == Severity::Error)
                .unwrap_or_else(|| {
                    Finding::new("api.failed", Severity::Error, "The API refused the call")
                        .cause(format!("it answered {} {}", report.status, report.reason))
                });
            failed(StepId::Api, checked, evidence, finding, session)
        }
        Err(error) => failed(
            StepId::Api,
            checked,
            Vec::new(),
            preflight::error(&error, context),
            session,
        ),
    }
}

fn passed(step: StepId, checked: String, evidence: Vec<String>) -> StepReport {
    StepReport {
        step,
        title: step.title(),
        status: Status::Passed,
        checked,
        evidence,
        finding: None,
        fix: None,
    }
}

fn failed(
    step: StepId,
    checked: String,
    mut evidence: Vec<String>,
    finding: Finding,
    session: &Session,
) -> StepReport {
    evidence.extend(finding.evidence.iter().cloned());
    let fix = fixes::fix_for(step, &finding, &session.setup);
    StepReport {
        step,
        title: step.title(),
        status: Status::Failed,
        checked,
        evidence,
        finding: Some(finding),
        fix: Some(fix),
    }
}
