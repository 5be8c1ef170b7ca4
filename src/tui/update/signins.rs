//! `l`: the sign-in log lookup of a refused token request (its correlation id is in the
//! refusal's finding, from `d`, `a` or a pasted error), whose entries follow the findings and
//! whose findings join them.

use crate::diagnose::{self, Finding};
use crate::tui::effect::Effect;
use crate::tui::state::{Pane, RequestId, SignInsTable, State};

/// The offer, where the operator looks: the status bar and the refusal's finding.
pub const OFFER: &str = "l: look up this sign-in in the log";

/// The correlation id `l` looks up: a refused token request's, among the findings shown.
pub fn correlation_id(state: &State) -> Option<String> {
    crate::signins::correlation_in(state.findings.iter())
}

/// Starts the lookup with the form's admin app or the app's own credential (it replaces any
/// running request); without a correlation id, says why nothing is looked up.
pub(super) fn start(state: &mut State) -> Vec<Effect> {
    let Some(correlation_id) = correlation_id(state) else {
        state.status =
            "Nothing to look up: no refusal with a correlation id (press d, or paste one).".into();
        return Vec::new();
    };
    let (id, mut effects) = super::begin(state, "sign-in log lookup");
    state.editing = false;
    state.status = "Reading the sign-in log through Microsoft Graph…".into();
    effects.push(Effect::SignIns {
        id,
        form: Box::new(state.form.clone()),
        correlation_id,
        now: state.now,
    });
    effects
}

pub(super) fn looked_up(
    state: &mut State,
    id: RequestId,
    summary: String,
    table: Option<Box<SignInsTable>>,
    findings: Vec<Finding>,
) -> Vec<Effect> {
    if state.running.as_ref().is_none_or(|r| r.id != id) {
        return Vec::new();
    }
    state.running = None;
    state.signins = table;
    // The last lookup's findings give way to this one's. The log's own finding for the refusal
    // (same AADSTS code) would repeat the one shown, which keeps the correlation id.
    state.findings.retain(|f| !f.id.starts_with("signins."));
    let mut all: Vec<Finding> = findings
        .into_iter()
        .filter(|f| !state.findings.iter().any(|shown| shown.id == f.id))
        .collect();
    all.append(&mut state.findings);
    diagnose::sort(&mut all);
    state.findings = all;
    state.select_finding(0);
    // The entries are what was asked for: they end the pane, so it shows its end (Home goes
    // back to the findings). A log not read has no entries: its finding leads instead.
    if state.signins.is_some() {
        state.findings_scroll = Some(u16::MAX);
    }
    state.status = summary;
    state.focus = Pane::Findings;
    Vec::new()
}

/// The status after a refusal, with the offer when the refusal carries a correlation id.
pub(super) fn with_offer(state: &State, status: String) -> String {
    if correlation_id(state).is_some() {
        format!("{status} · {OFFER}")
    } else {
        status
    }
}
