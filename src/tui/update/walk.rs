//! The walkthrough tab: run one step (Enter) or all (`r`), apply the selected step's fix (`x`),
//! and follow a fix's changes in the form (a new secret, a corrected scope) before running every
//! step again, so the trainee watches the path turn green.

use crate::tui::action::WalkFixApplied;
use crate::tui::effect::Effect;
use crate::tui::form::{CredentialKind, Field};
use crate::tui::state::{RequestId, State, Walk};
use crate::walkthrough::{self, Status, StepId, StepReport};

pub(super) fn run(state: &mut State, all: bool) -> Vec<Effect> {
    let step = if all {
        None
    } else {
        StepId::ALL.get(state.walk.selected).copied()
    };
    let what = if all { "walkthrough" } else { "step" };
    let (id, mut effects) = super::begin(state, what);
    state.walk.checking = step;
    state.walk.note = None;
    state.editing = false;
    state.status = match step {
        Some(step) => format!("Checking step {}: {}…", step.number(), step.title()),
        None => "Running every step in order…".to_owned(),
    };
    effects.push(Effect::Walk {
        id,
        form: Box::new(state.form.clone()),
        step,
        now: state.now,
    });
    effects
}

pub(super) fn reported(state: &mut State, id: RequestId, reports: Vec<StepReport>) -> Vec<Effect> {
    if state.running.as_ref().is_none_or(|r| r.id != id) {
        return Vec::new();
    }
    state.running = None;
    state.walk.checking = None;
    state.walk.scroll = 0;
    let single = reports.len() == 1;
    for report in reports {
        let index = report.step.number() - 1;
        if let Some(slot) = state.walk.steps.get_mut(index) {
            *slot = report;
        }
    }
    let failed = walkthrough::first_failure(&state.walk.steps).map(|step| {
        (
            step.step.number(),
            step.fix.as_ref().and_then(|f| f.apply.as_ref()).is_some(),
        )
    });
    state.status = match failed {
        Some((number, can_fix)) => {
            if !single {
                state.walk.selected = number - 1;
            }
            // The finding is on screen below the steps: the status says what to do next.
            format!(
                "Step {number} failed: {}",
                if can_fix {
                    "x applies the fix."
                } else {
                    "follow the fix, then Enter checks it again."
                }
            )
        }
        None if state.walk.steps.iter().all(|r| r.status != Status::NotYet) => {
            "Every step passed: this daemon app works.".to_owned()
        }
        None => "No step failed so far. Press r to run every step.".to_owned(),
    };
    Vec::new()
}

pub(super) fn fix(state: &mut State) -> Vec<Effect> {
    let Some(fix) = state
        .walk
        .selected_step()
        .filter(|r| r.status == Status::Failed)
        .and_then(|r| r.fix.as_ref())
    else {
        state.status = "Nothing to fix here: select a failed step (✗).".into();
        return Vec::new();
    };
    let Some(apply) = fix.apply.clone() else {
        state.status = "This fix is yours to make: follow the portal path or the az command (c copies it), then press Enter.".into();
        return Vec::new();
    };
    let (id, mut effects) = super::begin(state, "fix");
    state.status = format!("Applying the fix: {}…", apply.describe());
    effects.push(Effect::WalkFix {
        id,
        form: Box::new(state.form.clone()),
        fix: Box::new(apply),
        now: state.now,
    });
    effects
}

pub(super) fn fixed(
    state: &mut State,
    id: RequestId,
    result: Result<WalkFixApplied, String>,
) -> Vec<Effect> {
    if state.running.as_ref().is_none_or(|r| r.id != id) {
        return Vec::new();
    }
    state.running = None;
    match result {
        Ok(applied) => {
            if let Some(secret) = &applied.new_secret {
                state.form.kind = CredentialKind::Secret;
                state.form.secret.0 = tui_input::Input::new(secret.expose().to_owned());
            }
            if let Some(scope) = &applied.new_scope {
                state.form.set(Field::Scope, scope);
            }
            super::refresh_lints(state);
            let note = applied.summary;
            let effects = run(state, true);
            state.walk.note = Some(note);
            effects
        }
        Err(message) => {
            state.status = format!("The fix was not applied: {message}");
            state.walk.note = Some(message);
            Vec::new()
        }
    }
}

/// A new form (another scenario) starts the walkthrough afresh.
pub(super) fn reset(state: &mut State) {
    state.walk = Walk::default();
}

/// j/k move between steps (and show the new step's details from the top).
pub(super) fn select(state: &mut State, delta: i32) {
    state.walk.scroll = 0;
    let last = i64::try_from(StepId::ALL.len() - 1).unwrap_or(0);
    let moved = i64::try_from(state.walk.selected).unwrap_or(0) + i64::from(delta);
    state.walk.selected = usize::try_from(moved.clamp(0, last)).unwrap_or(0);
}

/// PageDown/PageUp scroll the selected step's details by what was on screen.
pub(super) fn page(state: &mut State, pages: i32) {
    state.walk.scroll = state.walk.view.get().paged(pages);
}

/// Home/End: the top or the bottom of the selected step's details.
pub(super) fn edge(state: &mut State, end: bool) {
    state.walk.scroll = if end {
        state.walk.view.get().max_offset()
    } else {
        0
    };
}
