//! A federated client assertion (an external issuer's token) checked as Entra ID does: the
//! app's federated identity credentials are searched by the token's `iss` (exact), then `sub`
//! (exact and case-sensitive, or a flexible credential's expression), then `aud`; then the
//! signature (the demo issuer's key) and the times. In a plausible order: no public source fixes
//! Entra ID's own. The refusals carry Entra ID's words, each from a real body:
//!
//! - 70021 (`invalid_request`): Azure/azure-workload-identity#616 ("No matching federated
//!   identity record found for presented assertion. Assertion Issuer: '…'. Assertion Subject:
//!   '…'. Assertion Audience: '…'."); the demo answers it when the app has no federated
//!   credential at all.
//! - 700211: Azure/azure-workload-identity#1200 ("… for presented assertion issuer '…'. Please
//!   check your federated identity credential Subject, Audience and Issuer against the presented
//!   assertion.").
//! - 700213: Azure/azure-workload-identity#1200 and dotnet/maui#31978 ("… for presented assertion
//!   subject '…'. Check your federated identity credential Subject, Audience and Issuer against
//!   the presented assertion.").
//! - 7002138: Azure/login#515 ("… The subject matches with case-insensitive comparison, but not
//!   with case-sensitive comparison. …").
//! - 700212: AthenZ/athenz `AzureAccessTokenProviderTest.java` ("… for presented assertion
//!   audience '…'. Please check your federated identity credential Subject, Audience and Issuer
//!   against the presented assertion.").
//! - 700024 (time), as for certificate assertions.

use serde_json::Value;

use super::assertion::{check_times, split};
use super::model::{Application, DemoFederatedCredential};
use super::server::AppState;
use super::sts_error::{Code, StsError};
use crate::federation::expression::Expression;

const DOCS_OLD: &str =
    "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";
const DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/// True when an assertion's `iss` is an issuer URL, not the client id (a certificate assertion
/// names the app itself).
pub(super) fn is_federated(iss: &str, client_id: &str) -> bool {
    !iss.eq_ignore_ascii_case(client_id) && iss.contains("://")
}

/// Checks a federated assertion against `app`'s federated credentials.
pub(super) fn verify(
    state: &AppState,
    app: &Application,
    assertion: &str,
    now: i64,
) -> Result<(), StsError> {
    let (_, claims, _) = split(assertion)?;
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    for field in ["iss", "aud"] {
        if claims.get(field).is_none() {
            return Err(StsError::missing_field(field));
        }
    }
    let (iss, sub) = (text("iss"), text("sub"));
    let auds: Vec<String> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let host = &state.authority_host;
    matching(state, app, &claims, (&iss, &sub, &auds))?;
    match super::issuer::verify_signature(&state.model, &state.keys, host, assertion) {
        Some(true) => {}
        // A credential may name an issuer the demo does not play: its keys cannot be fetched.
        Some(false) | None => {
            return Err(StsError::client(
                Code::InvalidSignature,
                format!(
                    "Client assertion contains an invalid signature. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                    app.client_id
                ),
            ));
        }
    }
    check_times(&claims, now)
}

/// Finds a federated credential of `app` matching the token's issuer, subject and audience;
/// the first field that finds none is the refusal.
fn matching(
    state: &AppState,
    app: &Application,
    claims: &serde_json::Map<String, Value>,
    (iss, sub, auds): (&str, &str, &[String]),
) -> Result<(), StsError> {
    let host = &state.authority_host;
    let aud = auds.join(",");
    let credentials: Vec<(&DemoFederatedCredential, String)> = app
        .federated_credentials
        .iter()
        .map(|c| (c, c.issuer_url(&state.model, host)))
        .collect();
    if credentials.is_empty() {
        return Err(StsError::request(
            Code::NoFederatedRecord,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{aud}'. {DOCS_OLD}"
            ),
        ));
    }
    let by_issuer: Vec<&DemoFederatedCredential> = credentials
        .iter()
        .filter(|(_, url)| *url == iss)
        .map(|(c, _)| *c)
        .collect();
    if by_issuer.is_empty() {
        return Err(StsError::client(
            Code::FederatedIssuer,
            format!(
                "No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS_OLD}"
            ),
        ));
    }
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let by_subject: Vec<&DemoFederatedCredential> = by_issuer
        .iter()
        .copied()
        .filter(|c| match (&c.subject, &c.claims_matching_expression) {
            (Some(subject), _) => *subject == sub,
            (None, Some(expression)) => Expression::parse(expression)
                .is_ok_and(|e| e.evaluate(claim).iter().all(|t| t.holds)),
            (None, None) => false,
        })
        .collect();
    if by_subject.is_empty() {
        let case_only = by_issuer.iter().any(|c| {
            c.subject
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(sub))
        });
        return Err(if case_only {
            StsError::client(
                Code::FederatedSubjectCase,
                format!(
                    "No matching federated identity record found for presented assertion subject '{sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: {DOCS}. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024."
                ),
            )
        } else {
            StsError::client(
                Code::FederatedSubject,
                format!(
                    "No matching federated identity record found for presented assertion subject '{sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS}"
                ),
            )
        });
    }
    if !by_subject
        .iter()
        .any(|c| auds.iter().any(|a| c.audiences.contains(a)))
    {
        return Err(StsError::client(
            Code::FederatedAudience,
            format!(
                "No matching federated identity record found for presented assertion audience '{aud}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS_OLD}"
            ),
        ));
    }
    Ok(())
}
