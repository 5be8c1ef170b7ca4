//! Moving through what is on screen: j/k select (a finding, a field, a step) or move a line;
//! PgDn/PgUp page by what the operator saw (the view measured it); Home/End go to either end.

use super::{tenant, walk};
use crate::tui::state::{Pane, State, Viewport};

/// j/k: the next or previous finding, field or step; a line of the help or the response.
pub(super) fn by(state: &mut State, delta: i32) {
    if state.show_help {
        state.help_scroll = by_lines(state.help_view.get(), delta);
        return;
    }
    match state.focus {
        Pane::Findings => {
            let count = state.all_findings().len();
            let moved = i64::try_from(state.selected_finding).unwrap_or(0) + i64::from(delta);
            state.select_finding(
                usize::try_from(
                    moved.clamp(0, i64::try_from(count.saturating_sub(1)).unwrap_or(0)),
                )
                .unwrap_or(0),
            );
        }
        Pane::Credentials => state.field = super::step(&state.form.visible(), state.field, delta),
        Pane::Walkthrough => walk::select(state, delta),
        Pane::Tenant => tenant::select(state, delta),
        Pane::Probe | Pane::Token | Pane::Cache => {
            let moved = i32::from(state.probe_scroll) + delta;
            state.probe_scroll = u16::try_from(moved.max(0)).unwrap_or(0);
        }
    }
}

/// `delta` lines on from where the view stood, within bounds.
fn by_lines(view: Viewport, delta: i32) -> u16 {
    let moved = i32::from(view.offset) + delta;
    u16::try_from(moved.clamp(0, i32::from(view.max_offset()))).unwrap_or(0)
}

/// PgDn/PgUp: by what the operator saw of the findings or the help; by ten lines elsewhere.
pub(super) fn page(state: &mut State, pages: i32) {
    if state.show_help {
        state.help_scroll = state.help_view.get().paged(pages);
        return;
    }
    match state.focus {
        Pane::Findings => state.findings_scroll = Some(state.findings_view.get().paged(pages)),
        Pane::Walkthrough => walk::page(state, pages),
        Pane::Tenant => tenant::page(state, pages),
        Pane::Probe | Pane::Token | Pane::Cache => by(state, pages.saturating_mul(10)),
        Pane::Credentials => {}
    }
}

/// Home/End: the top or the bottom of the findings, the help or a step's details.
pub(super) fn edge(state: &mut State, end: bool) {
    let target = |view: Viewport| if end { view.max_offset() } else { 0 };
    if state.show_help {
        state.help_scroll = target(state.help_view.get());
    } else if state.focus == Pane::Findings {
        state.findings_scroll = Some(target(state.findings_view.get()));
    } else if state.focus == Pane::Walkthrough {
        walk::edge(state, end);
    } else if state.focus == Pane::Tenant {
        tenant::edge(state, end);
    } else if matches!(state.focus, Pane::Probe | Pane::Token | Pane::Cache) && !end {
        state.probe_scroll = 0;
    }
}
