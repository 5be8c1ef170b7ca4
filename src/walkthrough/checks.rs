//! The live check of each step. The token request is shared: the steps it proves (app,
//! credential, scope, token) read one answer, and an Entra ID refusal is pinned to the step
//! that Entra ID was checking when it refused ([`stage_of`]).

use chrono::{DateTime, Utc};

use super::{Session, Status, StepId, StepReport};
use super::{evidence, expiry, fixes, token_use};
use crate::auth::Credential;
use crate::diagnose::catalog::Step;
use crate::diagnose::{self, Catalog, Finding, FixContext, Severity, preflight};
use crate::error::Error;
use crate::secret::Secret;
use crate::token::{DecodedToken, decode};

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
/// its credential, then the scope, and only then issues (or applies policies). Which code belongs
/// to which step is data: the `step` of the code's entry in the AADSTS catalog. An error that
/// is not Entra ID's (the network, an unreadable answer) belongs to the first step that needs
/// the token endpoint.
pub fn stage_of(error: &Error) -> StepId {
    let entra = match error {
        Error::Entra(entra) => entra,
        // A 429 that outlasted the retries: Entra ID knew the app and let it ask.
        Error::Throttled { .. } => return StepId::Token,
        // The endpoint could not give out the identity: the credential of a managed identity.
        Error::ManagedIdentity(_) => return StepId::Credential,
        _ => return StepId::App,
    };
    match entra.code().and_then(|code| Catalog::builtin().step(code)) {
        Some(Step::Tenant) => StepId::Tenant,
        Some(Step::App) => StepId::App,
        Some(Step::Credential) => StepId::Credential,
        Some(Step::Scope) => StepId::Scope,
        None => StepId::Token,
    }
}

pub(super) async fn check(session: &mut Session, step: StepId, now: DateTime<Utc>) -> StepReport {
    let context = FixContext::for_request(&session.setup.request);
    if let Some(report) = managed_identity_step(session, step) {
        return report;
    }
    match step {
        StepId::Tenant => tenant(session, &context).await,
        StepId::Scope => match scope_lint(session) {
            Some(finding) => failed(
                step,
                evidence::checked_scope(session),
                Vec::new(),
                finding,
                session,
            ),
            None => from_attempt(session, step, now, &context).await,
        },
        StepId::App | StepId::Credential | StepId::Token => {
            from_attempt(session, step, now, &context).await
        }
        StepId::Role => token_use::role(session, now, &context).await,
        StepId::Api => token_use::call_api(session, now, &context).await,
    }
}

/// A managed identity has no tenant to discover and no app registration: steps 1 and 2 say
/// so (its token names both, `tid` and `appid`), and step 3 asks its endpoint.
fn managed_identity_step(session: &Session, step: StepId) -> Option<StepReport> {
    let Credential::ManagedIdentity { source, .. } = &session.setup.request.credential else {
        return None;
    };
    let (checked, evidence) = match step {
        StepId::Tenant => (
            "nothing to discover: a managed identity's tenant is the one its token names",
            format!(
                "the {} endpoint answers for the Azure resource this runs on; its token's tid is the tenant",
                source.kind()
            ),
        ),
        StepId::App => (
            "no app registration: a managed identity is a service principal only",
            "its token's appid is the identity's client id; its permissions are app role assignments on that service principal".to_owned(),
        ),
        _ => return None,
    };
    Some(StepReport {
        status: Status::Skipped,
        evidence: vec![evidence],
        ..StepReport::not_yet(step, checked)
    })
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
pub(super) async fn attempt(session: &mut Session, now: DateTime<Utc>) -> &Attempt {
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
        StepId::Credential => match &session.setup.request.credential {
            Credential::ManagedIdentity { source, .. } => {
                format!(
                    "asked the {} endpoint for the managed identity",
                    source.kind()
                )
            }
            credential => format!(
                "sent the {} to the token endpoint",
                evidence::credential_words(credential)
            ),
        },
        StepId::Scope => evidence::checked_scope(session),
        _ => format!(
            "client credentials request to {}",
            session.setup.request.token_endpoint()
        ),
    };
    let evidence_before = evidence::step_evidence(session, step, None);
    let outcome = match attempt(session, now).await {
        Attempt::Issued { .. } => Ok(()),
        Attempt::Refused(error) => Err((stage_of(error), preflight::error(error, context))),
    };
    let report = match outcome {
        Ok(()) => {
            let evidence = evidence::step_evidence(session, step, Some(now));
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
        Err((stage, _)) => {
            return StepReport::not_yet(
                step,
                format!(
                    "Entra ID stopped earlier, at step {} ({})",
                    stage.number(),
                    stage.title()
                ),
            );
        }
    };
    if step == StepId::Credential {
        with_expiry(report, session, now, context).await
    } else {
        report
    }
}

/// Step 3 told the credential in use's expiry: as evidence, and as the finding when it expired
/// or is about to. An AADSTS7000222 is told which secret expired and which others still work,
/// and its fix becomes "give the daemon that one".
async fn with_expiry(
    mut report: StepReport,
    session: &Session,
    now: DateTime<Utc>,
    context: &FixContext,
) -> StepReport {
    let Some(in_use) = expiry::look_up(session, now).await else {
        return report;
    };
    match report.finding.as_mut() {
        // Read: the refusal names the secrets. Not read, the catalog's fix stays the fix and
        // one evidence line says how to learn which secret it was.
        Some(refusal)
            if refusal.id == diagnose::expiry::EXPIRED_SECRET_CODE
                && in_use.registration.is_some() =>
        {
            let before = refusal.evidence.len();
            diagnose::expiry::name_expired_secret(refusal, &in_use, context, now);
            // The refusal's own evidence is in the step's already; add what was named.
            report
                .evidence
                .extend(refusal.evidence[before..].iter().cloned());
            let finding = refusal.clone();
            report.fix = Some(fixes::fix_for(StepId::Credential, &finding, &session.setup));
        }
        Some(_) => report.evidence.extend(expiry::evidence(&in_use)),
        None => {
            report.evidence.extend(expiry::evidence(&in_use));
            if let Some(finding) = expiry::finding(&in_use, context, now) {
                report.fix = Some(fixes::from_finding(&finding));
                report.finding = Some(finding);
            }
        }
    }
    report.credential = Some(in_use);
    report
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

pub(super) fn passed(step: StepId, checked: String, evidence: Vec<String>) -> StepReport {
    StepReport {
        step,
        title: step.title(),
        status: Status::Passed,
        checked,
        evidence,
        finding: None,
        fix: None,
        credential: None,
    }
}

pub(super) fn failed(
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
        credential: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::EntraError;

    fn refused(code: u64) -> Error {
        Error::Entra(Box::new(EntraError {
            status: 400,
            error: "invalid_request".into(),
            error_codes: vec![code],
            ..EntraError::default()
        }))
    }

    /// The mapping the walkthrough had as match arms before it moved into the catalog, plus
    /// the codes added with it. 700023 is the one move: it is a client assertion audience
    /// error (credential), not a scope error.
    #[test]
    fn each_code_is_pinned_to_the_step_entra_id_was_checking() {
        let table: &[(StepId, &[u64])] = &[
            (
                StepId::Tenant,
                &[
                    90002, 900_023, 50128, 50059, 90019, 9_001_023, 50194, 90038, 900_432, 50049,
                    90124, 90130, 900_382,
                ],
            ),
            (
                StepId::App,
                &[
                    700_016, 700_011, 7_000_229, 7_000_112, 70001, 7_000_114, 65002, 90099,
                ],
            ),
            (
                StepId::Credential,
                &[
                    7_000_215, 7_000_222, 7_000_218, 7_000_216, 700_025, 700_027, 700_024, 700_021,
                    50048, 5_002_738, 5_002_723, 700_030, 50012, 70002, 70021, 700_211, 700_213,
                    700_222, 700_229, 700_023, 700_212, 7_002_137, 7_002_138, 700_223, 7_000_213,
                    50027, 50013, 5_002_730,
                ],
            ),
            (
                StepId::Scope,
                &[
                    70011, 1_002_012, 700_022, 901_002, 90009, 500_011, 50001, 500_014, 90014,
                    650_052,
                ],
            ),
            (
                StepId::Token,
                &[
                    53003, 1_002_016, 50000, 90033, 90036, 90092, 500_021, 50196, 99_999,
                ],
            ),
        ];
        for (step, codes) in table {
            for &code in *codes {
                assert_eq!(stage_of(&refused(code)), *step, "AADSTS{code}");
            }
        }
    }

    #[test]
    fn errors_that_are_not_entra_ids_keep_their_steps() {
        assert_eq!(
            stage_of(&Error::Throttled {
                url: "https://login.microsoftonline.com/t/oauth2/v2.0/token".into(),
                retry_after: None,
            }),
            StepId::Token
        );
    }
}
