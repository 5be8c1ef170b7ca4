//! The tenant tab's updates: starting the audit (`r`), folding the apps in as they arrive,
//! the end of the run, Esc, and moving through the table.

use crate::audit::TenantSummary;
use crate::diagnose::Finding;
use crate::tui::effect::Effect;
use crate::tui::state::{Outcome, RequestId, State, Tally, TenantTab};

/// The running request's name, as the status bar shows it.
pub(super) const WHAT: &str = "tenant audit";

/// `r` on the tab: a fresh run replaces the last one's table.
pub(super) fn start(state: &mut State) -> Vec<Effect> {
    let (id, mut effects) = super::begin(state, WHAT);
    state.tenant = TenantTab {
        outcome: Outcome::Running { id },
        ..TenantTab::default()
    };
    let reader = state.form.admin().map_or_else(
        || "the form's app".to_owned(),
        |admin| format!("the Admin app {}", admin.client_id),
    );
    if let Some(running) = state.running.as_mut() {
        running.note = Some(format!("signing in as {reader}"));
    }
    state.status = format!("Reading every app registration through Microsoft Graph as {reader}…");
    effects.push(Effect::TenantAudit {
        id,
        form: Box::new(state.form.clone()),
        now: state.now,
    });
    effects
}

pub(super) fn progress(
    state: &mut State,
    id: RequestId,
    apps: &[crate::audit::AppAudit],
    retry: Option<String>,
) {
    if state.tenant.running_id() != Some(id) {
        return;
    }
    let tab = &mut state.tenant;
    for app in apps {
        tab.tally.add(app);
    }
    if let Some(notice) = retry {
        tab.retries += 1;
        tab.retry_note = Some(notice);
    }
    let read = format!("read {} of ? apps", tab.tally.apps);
    let note = match &tab.retry_note {
        Some(notice) => format!("{read} · Graph: {notice}"),
        None => read,
    };
    if let Some(running) = state.running.as_mut().filter(|r| r.id == id) {
        running.note = Some(note);
    }
}

pub(super) fn audited(
    state: &mut State,
    id: RequestId,
    result: Result<Box<TenantSummary>, Box<Finding>>,
    tally: Option<Box<Tally>>,
) {
    if state.tenant.running_id() != Some(id) {
        return;
    }
    if state.running.as_ref().is_some_and(|r| r.id == id) {
        state.running = None;
    }
    let tab = &mut state.tenant;
    if let Some(tally) = tally {
        tab.tally = *tally;
    }
    match result {
        Ok(summary) => {
            state.status = format!(
                "Tenant audit: {} app(s) read in {} page(s); {} with issues.",
                summary.apps, summary.pages, summary.apps_with_issues
            );
            tab.outcome = Outcome::Done(summary);
        }
        Err(finding) => {
            state.status = format!("Tenant audit failed: {}", finding.title);
            tab.outcome = Outcome::Failed(finding);
        }
    }
}

/// Esc while the audit runs: what was read stays on screen, marked partial.
pub(super) fn cancelled(state: &mut State) {
    state.tenant.outcome = Outcome::Cancelled;
}

/// j/k: the next or previous app; its details start at the top.
pub(super) fn select(state: &mut State, delta: i32) {
    let tab = &mut state.tenant;
    let last = tab.tally.rows.len().saturating_sub(1);
    let moved = i64::try_from(tab.selected).unwrap_or(0) + i64::from(delta);
    tab.selected = usize::try_from(moved.clamp(0, i64::try_from(last).unwrap_or(0))).unwrap_or(0);
    tab.scroll = 0;
}

/// PgDn/PgUp: the selected app's details by what was seen of them.
pub(super) fn page(state: &mut State, pages: i32) {
    state.tenant.scroll = state.tenant.view.get().paged(pages);
}

/// Home/End: the first or last app.
pub(super) fn edge(state: &mut State, end: bool) {
    let tab = &mut state.tenant;
    tab.selected = if end {
        tab.tally.rows.len().saturating_sub(1)
    } else {
        0
    };
    tab.scroll = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::action::Action;
    use crate::tui::form::Form;
    use crate::tui::keys;
    use crate::tui::state::Pane;
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

    fn key(state: &State, c: char) -> Option<Action> {
        keys::map(
            &Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            state,
        )
    }

    #[test]
    fn seven_reaches_the_tab_where_r_audits_and_elsewhere_r_still_reveals() {
        let mut state = State::new(Form::default(), chrono::Utc::now());
        assert!(matches!(key(&state, 'r'), Some(Action::ToggleReveal)));
        assert!(matches!(
            key(&state, '7'),
            Some(Action::Focus(Pane::Tenant))
        ));
        state.focus = Pane::Tenant;
        assert!(matches!(key(&state, 'r'), Some(Action::AuditTenant)));
    }

    /// Progress of an earlier run (replaced or cancelled) is not folded into this one.
    #[test]
    fn progress_and_results_of_another_run_are_dropped() {
        let mut state = State::new(Form::default(), chrono::Utc::now());
        let effects = crate::tui::update::update(&mut state, Action::AuditTenant);
        assert!(matches!(effects.last(), Some(Effect::TenantAudit { .. })));
        let id = state.tenant.running_id().unwrap_or_default();
        progress(&mut state, id + 1, &[], Some("HTTP 429".into()));
        assert_eq!(state.tenant.retries, 0);
        progress(&mut state, id, &[], Some("HTTP 429".into()));
        assert_eq!(state.tenant.retries, 1);
        let late = Box::new(Finding::new("x", crate::diagnose::Severity::Error, "late"));
        audited(&mut state, id + 1, Err(late), None);
        assert!(matches!(state.tenant.outcome, Outcome::Running { .. }));
    }
}
