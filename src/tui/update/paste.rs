//! Text pasted into the TUI: into the field being edited, or else explained as `explain` would
//! explain it — an error body, a log line, a raw response, a token — with the findings shown in
//! the findings pane.

use tui_input::InputRequest;

use crate::diagnose::explain::{Extra, explain};
use crate::tui::derive::{fix_context, refresh_lints};
use crate::tui::state::{Pane, State};

/// More than any error body or log excerpt worth explaining; a runaway paste is refused whole.
const MAX_PASTE_BYTES: usize = 4 * 1024 * 1024;

pub(super) fn pasted(state: &mut State, text: &str) {
    if state.editing {
        // A field is one line: the paste's line breaks would end it.
        if let Some(input) = state.form.input_mut(state.field) {
            for c in text.chars().filter(|c| !c.is_control()) {
                input.handle(InputRequest::InsertChar(c));
            }
            refresh_lints(state);
        }
        return;
    }
    if text.len() > MAX_PASTE_BYTES {
        state.status = format!(
            "Not explained: the paste is {} MiB; explain takes at most {} MiB (use entra-doctor explain FILE)",
            text.len() / (1024 * 1024),
            MAX_PASTE_BYTES / (1024 * 1024)
        );
        return;
    }
    let probe_url = state.form.probe_url.value().trim().to_owned();
    let scope = state.form.scope.value().trim().to_owned();
    let extra = Extra {
        scope: Some(scope.as_str()).filter(|s| !s.is_empty()),
        url: Some(probe_url.as_str()).filter(|u| !u.is_empty()),
        token: None,
        context: fix_context(state),
    };
    match explain(text, &extra, state.now) {
        Ok((_, findings)) => {
            let status = match findings.first() {
                Some(first) => format!(
                    "Explained the paste: {} finding(s), first {}",
                    findings.len(),
                    first.id
                ),
                None => "Explained the paste: nothing wrong in it.".into(),
            };
            state.findings = findings;
            // A sign-in looked up before was another error's.
            state.signins = None;
            state.status = super::signins::with_offer(state, status);
            state.select_finding(0);
            state.focus = Pane::Findings;
        }
        Err(reason) => state.status = format!("Not explained: {reason}"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use crossterm::event::Event;

    use crate::tui::action::Action;
    use crate::tui::form::{Field, Form};
    use crate::tui::state::{Pane, State};
    use crate::tui::{keys, update};

    fn paste(state: &mut State, text: &str) {
        let action = keys::map(&Event::Paste(text.into()), state).expect("a paste is an action");
        assert!(matches!(&action, Action::Pasted(t) if t == text));
        update::update(state, action);
    }

    #[test]
    fn a_pasted_log_line_is_explained_into_the_findings_pane() {
        let mut state = State::new(Form::default(), Utc::now());
        paste(
            &mut state,
            "azure.core.exceptions.HttpResponseError: Operation returned an invalid status 'Forbidden'\nContent: {\"error\":{\"code\":\"ErrorAccessDenied\",\"message\":\"Access is denied. Check credentials and try again.\"}}",
        );
        assert_eq!(state.focus, Pane::Findings);
        assert_eq!(state.findings[0].id, "graph.exchange-access-denied");
        assert!(
            state.status.contains("first graph.exchange-access-denied"),
            "{}",
            state.status
        );
    }

    #[test]
    fn nothing_recognisable_says_so_and_keeps_the_findings() {
        let mut state = State::new(Form::default(), Utc::now());
        paste(&mut state, "hello");
        assert!(
            state.status.starts_with("Not explained: "),
            "{}",
            state.status
        );
        assert_eq!(state.focus, Pane::Credentials);
    }

    #[test]
    fn while_editing_a_paste_goes_into_the_field_on_one_line() {
        let mut state = State::new(Form::default(), Utc::now());
        state.field = Field::Tenant;
        state.editing = true;
        paste(&mut state, "contoso.onmicrosoft.com\n");
        assert_eq!(state.form.tenant.value(), "contoso.onmicrosoft.com");
        assert!(state.findings.is_empty());
    }
}
