//! The trust results in the TUI: a token's signature check, and the consent audit (`g`), whose
//! findings join the findings pane in place of the previous run's.

use crate::diagnose::{self, Finding};
use crate::tui::effect::Effect;
use crate::tui::state::{Load, Pane, RequestId, State};

/// Finding ids a signature check produces; a new check replaces the old one's.
const SIGNATURE_FINDINGS: [&str; 8] = [
    "token.verified",
    "token.graph-nonce",
    "token.bad-signature",
    "token.unknown-key",
    "token.wrong-tenant",
    "token.untrusted-issuer",
    "token.untrusted-keys",
    "token.not-verified",
];

pub(super) fn token_verified(
    state: &mut State,
    id: RequestId,
    label: (crate::diagnose::Severity, String),
    finding: Finding,
) -> Vec<Effect> {
    let Load::Ready(view) = &mut state.token else {
        return Vec::new();
    };
    if id != state.token_id {
        return Vec::new();
    }
    view.signature = Some(label);
    state
        .findings
        .retain(|f| !SIGNATURE_FINDINGS.contains(&f.id.as_str()));
    state.findings.push(finding);
    diagnose::sort(&mut state.findings);
    Vec::new()
}

/// Starts the consent audit with the form's credential (it replaces any running request).
pub(super) fn start_consent(state: &mut State) -> Vec<Effect> {
    let (id, mut effects) = super::begin(state, "consent audit");
    state.editing = false;
    state.status = "Auditing admin consent through Microsoft Graph…".into();
    let token = match &state.token {
        Load::Ready(view) => Some(view.raw.clone()),
        Load::Empty | Load::Loading | Load::Failed(_) => None,
    };
    effects.push(Effect::Consent {
        id,
        form: Box::new(state.form.clone()),
        token,
        now: state.now,
    });
    effects
}

pub(super) fn consent_audited(
    state: &mut State,
    id: RequestId,
    summary: String,
    table: Option<Box<crate::tui::state::ConsentTable>>,
    findings: Vec<Finding>,
) -> Vec<Effect> {
    if state.running.as_ref().is_none_or(|r| r.id != id) {
        return Vec::new();
    }
    state.running = None;
    // An app that requests nothing of the API: the refusal's finding, which names the permission
    // the call needs, says more than "requests nothing"; otherwise the audit names the cause.
    let requests_nothing = table.as_ref().is_some_and(|t| t.rows.is_empty());
    state.consent = table;
    state.findings.retain(|f| !f.id.starts_with("consent."));
    if requests_nothing {
        let mut all = std::mem::take(&mut state.findings);
        all.extend(findings);
        state.findings = all;
        lead_with(state, Vec::new(), summary);
    } else {
        lead_with(state, findings, summary);
    }
    Vec::new()
}

/// A check's findings replace its earlier run's and lead among equals: the audit (or the
/// comparison) names the cause of a refusal the request only saw.
fn lead_with(state: &mut State, findings: Vec<Finding>, summary: String) {
    let mut all = findings;
    all.append(&mut state.findings);
    diagnose::sort(&mut all);
    state.findings = all;
    state.select_finding(0);
    state.status = summary;
    state.focus = Pane::Findings;
}

/// Starts the federation check with the form's token and admin app (it replaces any running
/// request).
pub(super) fn start_federation(state: &mut State) -> Vec<Effect> {
    let (id, mut effects) = super::begin(state, "federation check");
    state.editing = false;
    state.status =
        "Comparing the federated token with the app's federated credentials (Graph)…".into();
    effects.push(Effect::Federation {
        id,
        form: Box::new(state.form.clone()),
        now: state.now,
    });
    effects
}

pub(super) fn federation_checked(
    state: &mut State,
    id: RequestId,
    summary: String,
    comparison: Option<Box<crate::federation::Comparison>>,
    findings: Vec<Finding>,
) -> Vec<Effect> {
    if state.running.as_ref().is_none_or(|r| r.id != id) {
        return Vec::new();
    }
    state.running = None;
    state.federation = comparison;
    state
        .findings
        .retain(|f| !f.id.starts_with("federation.") || f.id == "federation.presented");
    lead_with(state, findings, summary);
    Vec::new()
}

/// Entra ID's refusals of a federated token: the comparison says which value differs.
pub(super) fn is_federation_refusal(finding: &Finding) -> bool {
    [
        "AADSTS70021",
        "AADSTS700211",
        "AADSTS700212",
        "AADSTS700213",
        "AADSTS7002137",
        "AADSTS7002138",
    ]
    .contains(&finding.id.as_str())
}
