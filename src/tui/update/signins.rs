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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

    use crate::diagnose::{Finding, Severity};
    use crate::tui::action::Action;
    use crate::tui::effect::Effect;
    use crate::tui::form::Form;
    use crate::tui::state::State;
    use crate::tui::{keys, update};

    fn press_l(state: &mut State) -> Vec<Effect> {
        let event = Event::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE));
        let action = keys::map(&event, state).expect("l is a key");
        assert!(matches!(action, Action::LookUpSignIn));
        update::update(state, action)
    }

    #[test]
    fn l_asks_for_the_refusal_s_correlation_id_only() {
        let mut state = State::new(Form::default(), Utc::now());
        assert!(press_l(&mut state).is_empty());
        assert!(state.status.starts_with("Nothing to look up"));
        // An API's correlation id is no sign-in.
        state.findings = vec![
            Finding::new("api.forbidden", Severity::Error, "403")
                .evidence("correlation id: 11111111-2222-4333-8444-555555555555"),
        ];
        assert!(press_l(&mut state).is_empty());
        state.findings.push(
            Finding::new("AADSTS7000222", Severity::Error, "Client secret expired")
                .evidence("correlation id: 0C1D5D2E-4A8B-4F37-9D7E-2B1F8A6C3E90"),
        );
        let effects = press_l(&mut state);
        assert!(
            matches!(
                effects.as_slice(),
                [Effect::SignIns { correlation_id, .. }]
                    if correlation_id == "0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90"
            ),
            "{effects:?}"
        );
        assert_eq!(
            state.running.as_ref().map(|r| r.what),
            Some("sign-in log lookup")
        );
    }

    #[test]
    fn a_late_answer_is_dropped_and_a_current_one_leads_without_repeating_the_refusal() {
        let mut state = State::new(Form::default(), Utc::now());
        state.findings = vec![
            Finding::new("AADSTS7000222", Severity::Error, "Client secret expired")
                .evidence("correlation id: 0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90"),
        ];
        press_l(&mut state);
        let id = state.running.as_ref().map_or(0, |r| r.id);
        let answer = |id| Action::SignInsLookedUp {
            id,
            summary: "Sign-in log: nothing for this correlation id yet".into(),
            table: None,
            findings: vec![
                Finding::new("AADSTS7000222", Severity::Error, "Client secret expired"),
                Finding::new("signins.none-yet", Severity::Warning, "none yet"),
            ],
        };
        update::update(&mut state, answer(id + 1));
        assert_eq!(state.findings.len(), 1);
        update::update(&mut state, answer(id));
        let ids: Vec<&str> = state.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["AADSTS7000222", "signins.none-yet"]);
        // The refusal, with its correlation id, is still the one `l` looks up.
        assert!(super::correlation_id(&state).is_some());
        assert!(state.running.is_none());
    }
}
