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
    state.consent = table;
    state.findings.retain(|f| !f.id.starts_with("consent."));
    // The audit names the cause of a refusal the probe only saw: it leads among equals.
    let mut all = findings;
    all.append(&mut state.findings);
    diagnose::sort(&mut all);
    state.findings = all;
    state.select_finding(0);
    state.status = summary;
    state.focus = Pane::Findings;
    Vec::new()
}
