//! The doctor's trust steps: the token checked against the tenant's keys, and the consent
//! audit when the token lacks roles or the API refused it.

use chrono::{DateTime, Utc};

use super::{Checklist, Outcome, Probed};
use crate::auth::Deadline;
use crate::cli::args::DoctorArgs;
use crate::cli::consent_cmd;
use crate::diagnose::{Severity, signature};
use crate::environment::Environment;
use crate::token::{Verification, Verifier, VerifyTarget};

/// Checks the token against the tenant's published keys: a token the API cannot validate fails
/// there whatever its roles say. Only a verified signature passes; a Graph token (not
/// verifiable outside Graph, by design) is skipped, and every other outcome fails the step.
pub(super) async fn verify_step(
    list: &mut Checklist,
    raw: &str,
    decoded: Option<&crate::token::DecodedToken>,
    request: &crate::auth::TokenRequest,
    (shared, options): (Option<&reqwest::Client>, crate::auth::ClientOptions),
    now: DateTime<Utc>,
) {
    let Some(token) = decoded else {
        list.step("verify", Outcome::Skipped, "the token is not a JWT");
        return;
    };
    // A fleet's apps share its client (and connections) here too.
    let client = match shared {
        Some(http) => Ok(crate::auth::TokenClient::with_http(http.clone(), options)),
        None => crate::auth::TokenClient::new(options),
    };
    let verifier = match client {
        Ok(client) => Verifier::new(client),
        Err(error) => {
            list.step("verify", Outcome::Skipped, error.to_string());
            return;
        }
    };
    let target = VerifyTarget {
        host: Some(request.authority.host.clone()),
        // A managed identity's tenant is the token's own `tid`.
        tenant: request.known_tenant().map(ToString::to_string),
        app_id: None,
    };
    let checked = signature::check(&verifier, raw, token, &target, now).await;
    let step = match (&checked.outcome, checked.failure) {
        (_, None) => Outcome::Passed,
        (Some(Verification::GraphNonce), _) => Outcome::Skipped,
        (Some(_), Some(_)) => Outcome::Failed,
        // The keys could not be fetched: the exit code says what kind of failure that was.
        (None, Some(failure)) => {
            list.failure.get_or_insert(failure);
            Outcome::Failed
        }
    };
    list.step("verify", step, checked.finding.title.clone());
    list.findings.push(checked.finding);
}

/// The consent audit, when the token lacks roles or the API said 403: that is where the
/// answer sits in the app registration. Otherwise the step says why it did not run, from what
/// the probe really learned: an accepted call, a 401, another answer, or no answer at all.
pub(super) async fn consent_step(
    list: &mut Checklist,
    args: &DoctorArgs,
    env: &Environment,
    (now, deadline): (DateTime<Utc>, Deadline),
    (probed, roles): (Probed, &[String]),
) {
    let needed = list
        .findings
        .iter()
        .any(|f| f.id == "api.forbidden" || f.id == "token.no-roles");
    if !needed {
        list.step("consent", Outcome::Skipped, not_needed(probed, roles));
        return;
    }
    if args.credential.secret_stdin {
        list.step(
            "consent",
            Outcome::Skipped,
            "the secret was read from standard input once; run entra-doctor consent",
        );
        return;
    }
    if args.credential.managed.managed_identity.is_some() {
        list.step(
            "consent",
            Outcome::Skipped,
            "a managed identity has no app registration to audit: its permissions are app role \
             assignments on its service principal (az rest --url \
             https://graph.microsoft.com/v1.0/servicePrincipals/<its object id>/appRoleAssignments)",
        );
        return;
    }
    let daemon = match args.credential.spec() {
        Ok(daemon) => daemon,
        Err(error) => {
            list.step("consent", Outcome::Skipped, error.to_string());
            return;
        }
    };
    let admin =
        match consent_cmd::admin_app(&args.graph, &args.credential.certificate_password_env, env) {
            Ok(admin) => admin,
            Err(error) => {
                list.step("consent", Outcome::Skipped, error.to_string());
                return;
            }
        };
    let request = crate::consent::AuditRequest {
        daemon,
        graph_url: args.graph.graph_url.clone(),
        admin,
        token: None,
    };
    let mut stdin = super::super::probe_cmd::stdin_reader();
    // The audit builds its own client: bounding it here keeps it inside the doctor's deadline.
    let audited = tokio::time::timeout_at(
        deadline.instant(),
        crate::consent::run(
            &request,
            env,
            &mut stdin,
            now,
            Some(consent_cmd::retry_note()),
        ),
    )
    .await;
    let Ok(audited) = audited else {
        list.step(
            "consent",
            Outcome::Skipped,
            format!(
                "not finished: the command's {} s deadline (--timeout, for all its requests) \
                 was reached during the audit",
                deadline.budget().as_secs()
            ),
        );
        return;
    };
    match audited {
        Ok(audit) => {
            let failed = audit.findings.iter().any(|f| f.severity == Severity::Error);
            let detail = match &audit.directory {
                Some(d) => format!(
                    "{} permission(s) of {} audited",
                    audit.rows.len(),
                    d.resource_name
                ),
                None => audit
                    .findings
                    .first()
                    .map(|f| f.title.clone())
                    .unwrap_or_default(),
            };
            let outcome = match (failed, &audit.directory) {
                (true, _) => Outcome::Failed,
                (false, Some(_)) => Outcome::Passed,
                (false, None) => Outcome::Skipped,
            };
            list.step("consent", outcome, detail);
            list.findings.extend(audit.findings);
        }
        Err(error) => list.step("consent", Outcome::Skipped, error.to_string()),
    }
}

/// Why the consent audit did not run, saying only what the probe established.
fn not_needed(probed: Probed, roles: &[String]) -> String {
    let roles = if roles.is_empty() {
        "no roles".to_owned()
    } else {
        format!("roles {}", roles.join(", "))
    };
    match probed {
        Probed::Answered(status) if (200..300).contains(&status) => {
            format!("not needed: the API accepted the call with the token's {roles}")
        }
        Probed::Answered(401) => "not run: the API answered 401, so it did not accept the token \
                                  itself (see the finding); permissions matter once it does"
            .to_owned(),
        Probed::Answered(status) => {
            format!("not run: the API answered {status}, which is not a refusal of permissions")
        }
        Probed::NotReached => format!(
            "not run: the API was not reached, so whether it accepts the token's {roles} is \
             unknown"
        ),
        Probed::NotCalled => format!(
            "not run: no API was called, so whether it accepts the token's {roles} is unknown \
             (give --probe URL)"
        ),
    }
}
