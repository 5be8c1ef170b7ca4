//! Issue 16, the TUI's look and keys: long findings scroll by line and `c` copies the command;
//! cut values say so and an edit can be cancelled; Ctrl plus a letter runs nothing; a cancel
//! clears what belonged to the earlier run; the help scrolls; the lesson picker marks the lesson;
//! a fresh token's `iat` is explained. Each with frames at 80x24 and 120x40, read as assertions.

#![cfg(feature = "tui")]

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use entra_doctor::tui::action::Action;
use entra_doctor::tui::effect::{Effect, execute};
use entra_doctor::tui::form::Field;
use entra_doctor::tui::keys;
use entra_doctor::tui::state::{Load, Pane, State};

use crate::assert_frame;
use crate::tui_harness::Harness;

/// The rows of a frame, without the quotes `TestBackend` puts around them.
fn rows(frame: &str) -> Vec<&str> {
    frame
        .lines()
        .map(|l| l.trim_start_matches('"').trim_end_matches('"'))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_long_findings_scroll_by_line_and_c_copies_the_command() {
    let mut h = Harness::demo(Some("no-consent")).await;
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(h.state.focus, Pane::Findings);
    // The app requests nothing: the probe's long finding (the permission it needs) leads.
    assert_eq!(h.state.findings[0].id, "api.forbidden");

    // 80x24: the three fixes of the selected finding are on the first screen, the az command
    // whole; the border says how much more there is.
    let top = h.frame(80, 24);
    assert_frame!("issue16_findings_top_80x24", top.clone());
    assert!(top.contains("admin-consent --id"), "{top}");
    assert!(top.contains("Then acquire a NEW token"), "{top}");
    assert!(top.contains("1–20 of 37"), "{top}");

    // PgDn scrolls by line (a page less one), it does not jump to another finding.
    h.press(KeyCode::PageDown);
    assert_eq!(h.state.selected_finding, 0);
    let paged = h.frame(80, 24);
    assert_frame!("issue16_findings_pgdn_80x24", paged.clone());
    assert!(paged.contains("18–37 of 37"), "{paged}");
    h.press(KeyCode::End);
    let end = h.frame(80, 24);
    assert!(rows(&end)[22].contains(" of "), "{end}");
    h.press(KeyCode::Home);
    assert!(h.frame(80, 24).contains("1–20 of 37"));

    // 120x40: the findings have the tall column; the fixes show without scrolling.
    let wide = h.frame(120, 40);
    assert_frame!("issue16_findings_120x40", wide.clone());
    assert!(wide.contains("admin-consent --id"), "{wide}");
    assert!(
        wide.contains("a cached token keeps its old roles"),
        "{wide}"
    );

    // `c` copies the command, not the wordy first fix, and says so.
    h.press(KeyCode::Char('c'));
    let copied = h.copied();
    assert_eq!(copied.len(), 1);
    assert!(
        copied[0].starts_with("az ad app permission add --id "),
        "{copied:?}"
    );
    assert!(
        h.state
            .status
            .starts_with("Copied the az command to the clipboard: \"az ad app permission add"),
        "{}",
        h.state.status
    );
    let status = h.frame(120, 40);
    assert_frame!("issue16_copied_the_az_command_120x40", status.clone());
    assert!(rows(&status)[39].contains("Copied the az command"));
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_cut_values_end_in_a_mark_and_an_edit_can_be_cancelled() {
    let mut h = Harness::demo(Some("healthy")).await;
    let wide = h.frame(120, 40);
    // The Probe URL no longer reads as another valid URL: its cut end is marked.
    let probe_row = rows(&wide)
        .into_iter()
        .find(|r| r.contains("Probe URL"))
        .unwrap()
        .to_owned();
    assert!(probe_row.contains("/graph/v1.0/u…"), "{probe_row}");

    // A revealed 40-character secret (a stand-in, typed here) is cut with a mark.
    h.select_field(Field::Secret);
    h.press(KeyCode::Enter);
    h.press_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    for c in "NOT-A-SECRET-forty-characters-long-00040".chars() {
        h.press(KeyCode::Char(c));
    }
    h.press(KeyCode::Enter);
    h.press(KeyCode::Char('r'));
    let revealed = h.frame(120, 40);
    assert_frame!("issue16_revealed_secret_cut_120x40", revealed.clone());
    assert!(
        revealed.contains("NOT-A-SECRET-forty-characters-long-…"),
        "{revealed}"
    );

    // A 2,000-character paste: the field scrolls to the cursor, which stays on screen; the lint
    // quotes a short prefix, not the paste.
    let before = h.state.form.tenant.value().to_owned();
    h.select_field(Field::Tenant);
    h.press(KeyCode::Enter);
    let paste = "contoso-".repeat(250);
    h.dispatch(Action::Pasted(paste.clone()));
    assert_eq!(h.state.form.tenant.value().len(), before.len() + 2000);
    for (width, height) in [(80, 24), (120, 40)] {
        let (frame, cursor) = h.frame_and_cursor(width, height);
        let (x, y) = cursor.expect("the cursor is shown while editing");
        assert!(x < width - 1 && y < height, "cursor at {x},{y}");
        let row = rows(&frame)[usize::from(y)].to_owned();
        assert!(row.contains("Tenant"), "the cursor is on the field: {row}");
        assert!(!frame.contains(&"contoso-".repeat(20)), "{frame}");
        assert!(frame.contains("(2036 characters)"), "{frame}");
        assert!(
            frame.contains("Enter keeps the edit · Esc undoes it"),
            "the hint: {frame}"
        );
        assert_frame!(format!("issue16_long_paste_{width}x{height}"), frame);
    }
    // Esc cancels the edit: the value before it is back. Enter keeps an edit.
    h.press(KeyCode::Esc);
    assert!(!h.state.editing);
    assert_eq!(h.state.form.tenant.value(), before);
    assert!(h.state.lints.is_empty(), "{:?}", h.state.lints);
    let cancelled = h.frame(80, 24);
    assert_frame!("issue16_edit_cancelled_80x24", cancelled.clone());
    assert!(cancelled.contains("Edit cancelled: Tenant is as it was."));
    h.press(KeyCode::Enter);
    h.press(KeyCode::Char('x'));
    h.press(KeyCode::Enter);
    assert_eq!(h.state.form.tenant.value(), format!("{before}x"));
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_ctrl_and_a_letter_runs_nothing() {
    let mut h = Harness::demo(Some("healthy")).await;
    let before = (h.frame(80, 24), h.frame(120, 40));
    for (code, modifiers) in [
        (KeyCode::Char('d'), KeyModifiers::CONTROL),
        (KeyCode::Char('x'), KeyModifiers::CONTROL),
        (KeyCode::Char('a'), KeyModifiers::CONTROL),
        (KeyCode::Char('q'), KeyModifiers::CONTROL),
        (KeyCode::Char('d'), KeyModifiers::ALT),
        (KeyCode::PageDown, KeyModifiers::CONTROL),
    ] {
        let event = Event::Key(KeyEvent::new(code, modifiers));
        assert!(
            keys::map(&event, &h.state).is_none(),
            "{modifiers:?}+{code:?} runs nothing"
        );
        h.press_with(code, modifiers);
    }
    assert!(h.pending.is_empty() && h.state.running.is_none());
    let after = (h.frame(80, 24), h.frame(120, 40));
    assert_eq!(after, before, "the screen did not change");
    assert_frame!("issue16_ctrl_d_runs_nothing_80x24", after.0);
    assert_frame!("issue16_ctrl_d_runs_nothing_120x40", after.1);
    // The plain letter, Shift-Tab and Ctrl-C still do what they say.
    let map = |code, modifiers, state: &State| {
        keys::map(&Event::Key(KeyEvent::new(code, modifiers)), state)
    };
    assert!(matches!(
        map(KeyCode::Char('d'), KeyModifiers::NONE, &h.state),
        Some(Action::Doctor)
    ));
    assert!(matches!(
        map(KeyCode::BackTab, KeyModifiers::SHIFT, &h.state),
        Some(Action::FocusPrevious)
    ));
    assert!(matches!(
        map(KeyCode::Char('c'), KeyModifiers::CONTROL, &h.state),
        Some(Action::Quit)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_cancel_clears_the_earlier_run_and_the_status_names_the_doctor() {
    let mut h = Harness::demo(Some("no-consent")).await;
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert!(h.frame(80, 24).contains("5 Findings!"));
    // d again: the status bar names the doctor, not a force refresh.
    h.press(KeyCode::Char('d'));
    let running = h.frame(80, 24);
    assert_frame!("issue16_doctor_running_80x24", running.clone());
    assert!(
        rows(&running)[23].contains("doctor (acquiring a fresh token)… (Esc cancels)"),
        "{running}"
    );
    assert!(!running.contains("force refresh…"));
    // Esc: what belonged to the earlier run is gone, and no pane keeps its `!`.
    h.press(KeyCode::Esc);
    assert!(h.state.running.is_none());
    assert!(h.state.findings.is_empty(), "{:?}", h.state.findings);
    assert!(matches!(h.state.token, Load::Empty));
    assert!(matches!(h.state.probe, Load::Empty));
    let cancelled = h.frame(120, 40);
    assert_frame!("issue16_doctor_cancelled_120x40", cancelled.clone());
    assert!(!rows(&cancelled)[0].contains('!'), "{cancelled}");
    assert!(cancelled.contains("Cancelled doctor (acquiring a fresh token)"));

    // Cancelling the doctor's probe keeps the new token, and drops the earlier probe's findings.
    h.press(KeyCode::Char('d'));
    let Some(Effect::Acquire { .. }) = h.pending.first() else {
        panic!("{:?}", h.pending);
    };
    for effect in std::mem::take(&mut h.pending) {
        if let Some(action) = execute(effect, &h.services).await {
            h.dispatch(action);
        }
    }
    assert_eq!(
        h.state.running.as_ref().map(|r| r.what),
        Some("doctor (calling the API)")
    );
    h.pending.clear();
    h.press(KeyCode::Esc);
    assert!(matches!(h.state.token, Load::Ready(_)));
    assert!(!h.state.findings.iter().any(|f| f.id.starts_with("api.")));
    let probe_cancelled = h.frame(80, 24);
    assert_frame!("issue16_doctor_probe_cancelled_80x24", probe_cancelled);
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_help_scrolls_without_doubled_corners_or_cut_lines() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('?'));
    let top = h.frame(80, 24);
    assert_frame!("issue16_help_80x24", top.clone());
    assert!(
        !top.contains("┌┌") && !top.contains("┐┐") && !top.contains("└└"),
        "{top}"
    );
    // Every row ends in the overlay's own border: nothing runs past it.
    for row in &rows(&top)[1..23] {
        assert!(
            row.ends_with('│') || row.ends_with('┐') || row.ends_with('┘'),
            "{row}"
        );
    }
    assert!(top.contains(" of ") && top.contains("PgDn"), "{top}");
    h.press(KeyCode::PageDown);
    let down = h.frame(80, 24);
    assert_frame!("issue16_help_pgdn_80x24", down.clone());
    assert!(
        down.contains("q / Ctrl-C"),
        "the last key is reachable: {down}"
    );
    let wide = h.frame(120, 40);
    assert_frame!("issue16_help_120x40", wide.clone());
    for (key, _) in keys::HELP {
        assert!(wide.contains(key), "help lists {key}");
    }
    h.press(KeyCode::Esc);
    assert!(!h.state.show_help);
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_picker_marks_the_lesson_and_iat_is_explained() {
    let mut h = Harness::demo(Some("no-consent")).await;
    h.press(KeyCode::Char('s'));
    let picker = h.frame(80, 24);
    assert_frame!("issue16_picker_marks_the_lesson_80x24", picker.clone());
    let marked: Vec<&str> = rows(&picker)
        .into_iter()
        .filter(|r| r.contains("● current lesson"))
        .collect();
    assert_eq!(marked.len(), 1, "{picker}");
    assert!(marked[0].contains("no-consent"), "{picker}");
    assert_frame!("issue16_picker_marks_the_lesson_120x40", h.frame(120, 40));
    h.press(KeyCode::Esc);
    // Esc closes the picker, not a request running behind it.
    h.press(KeyCode::Char('a'));
    h.press(KeyCode::Char('s'));
    h.press(KeyCode::Esc);
    assert!(!h.state.demo.as_ref().unwrap().open);
    assert!(h.state.running.is_some(), "the request goes on");
    h.pending.clear();
    h.press(KeyCode::Esc);
    assert!(h.state.running.is_none());
    h.pending.clear();

    h.press(KeyCode::Char('a'));
    h.settle().await;
    h.press(KeyCode::Char('2'));
    let token = h.frame(80, 24);
    assert_frame!("issue16_token_iat_explained_80x24", token.clone());
    assert!(
        token.contains("5 min ago · Entra ID backdates iat/nbf 5 min (clock skew)"),
        "{token}"
    );
    let wide = h.frame(120, 40);
    assert_frame!("issue16_token_iat_explained_120x40", wide.clone());
    // The token's first line fits: nothing cut mid-word.
    assert!(
        wide.contains("min · for https://graph.microsoft.com│"),
        "{wide}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_16_a_long_walkthrough_step_scrolls_by_page_with_its_position() {
    let mut h = Harness::demo(Some("trailing-slash")).await;
    h.press(KeyCode::Char('6'));
    h.press(KeyCode::Char('r'));
    h.settle().await;
    assert_eq!(h.state.focus, Pane::Walkthrough);
    let top = h.frame(80, 24);
    assert!(top.contains(" of ") && top.contains("PgDn/PgUp ┘"), "{top}");
    h.press(KeyCode::PageDown);
    let down = h.frame(80, 24);
    assert_frame!("issue16_walkthrough_pgdn_80x24", down.clone());
    // The az command's rows hang under it, whole, once scrolled to.
    assert!(down.contains("az       az ad sp show --id"), "{down}");
    h.press(KeyCode::End);
    h.press(KeyCode::Home);
    assert_eq!(h.frame(80, 24), top);
    assert_frame!("issue16_walkthrough_120x40", h.frame(120, 40));
}
