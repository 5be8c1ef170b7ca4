//! The steps that use the token: does it carry an application role the call needs (step 6; an
//! API that reads none, such as Azure SQL, is left to `database`), and does the API answer the
//! call (step 7)?

use chrono::{DateTime, Utc};

use super::checks::{Attempt, attempt, failed, passed};
use super::{Session, Status, StepId, StepReport, database, fixes};
use crate::diagnose::{self, Finding, FixContext, Severity, api, preflight};
use crate::probe::{ProbeRequest, Prober};

pub(super) async fn role(
    session: &mut Session,
    now: DateTime<Utc>,
    context: &FixContext,
) -> StepReport {
    if database::reads_no_roles(&session.setup) {
        return database::role_step(&session.setup);
    }
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

pub(super) async fn call_api(
    session: &mut Session,
    now: DateTime<Utc>,
    context: &FixContext,
) -> StepReport {
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
            let answer = report.answer();
            let sql = database::login_failed(&session.setup, &answer, decoded.as_deref());
            let findings = api::explain(&answer, decoded.as_deref(), now, context);
            let finding = sql
                .or_else(|| findings.into_iter().find(|f| f.severity == Severity::Error))
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
