//! Issue 17 point 4, the tenant audit in the TUI (tab 7): the run on the demo tenant (its 17
//! registrations, paged, one 429 waited out) with the apps streamed through the progress
//! channel; the table and the selected app's fixes at 80x24 and 120x40; j/k; `c`; Esc during a
//! run; and the refusal when the reading app lacks Application.Read.All.

#![cfg(feature = "tui")]

use crossterm::event::KeyCode;
use entra_doctor::demo::{self, DemoOptions, Listings, TenantModel};
use entra_doctor::tui::Launch;
use entra_doctor::tui::action::Action;
use entra_doctor::tui::effect::{Effect, Services, execute};
use entra_doctor::tui::form::Field;
use entra_doctor::tui::state::{Outcome, Pane};

use crate::assert_frame;
use crate::support::NOW_RFC3339;
use crate::tui_harness::Harness;

/// The demo on `scenario`, its registrations dated from the fixed clock the state acts at, so
/// the day counts in the frames hold on any day; Graph throttles the second page once.
async fn tenant_demo(scenario: &str) -> Harness {
    let now: chrono::DateTime<chrono::Utc> = chrono::DateTime::parse_from_rfc3339(NOW_RFC3339)
        .unwrap()
        .into();
    let running = demo::start(DemoOptions {
        listings: Listings {
            clock: Some(now),
            synthetic_apps: 0,
            throttle_once: true,
        },
        ..DemoOptions::new(TenantModel::builtin().unwrap())
    })
    .await
    .unwrap();
    let services = Services::new(None).with_demo_imds(running.authority_host());
    let Launch {
        mut state, demo, ..
    } = Launch::demo(running, Some(scenario));
    state.now = now;
    Harness {
        state,
        services,
        pending: Vec::new(),
        _demo: demo,
    }
}

/// Runs the pending effects as the runtime does: what a task reports on the progress channel
/// reaches `update` before its result. Returns the progress actions seen.
async fn settle_with_progress(h: &mut Harness) -> Vec<String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    h.services.progress = Some(tx);
    let mut seen = Vec::new();
    while !h.pending.is_empty() {
        for effect in std::mem::take(&mut h.pending) {
            let result = execute(effect, &h.services).await;
            while let Ok(action) = rx.try_recv() {
                if let Action::TenantProgress { apps, retry, .. } = &action {
                    seen.push(format!("{} app(s), retry {retry:?}", apps.len()));
                }
                h.dispatch(action);
            }
            if let Some(action) = result {
                h.dispatch(action);
            }
        }
    }
    h.services.progress = None;
    seen
}

fn rows(frame: &str) -> Vec<&str> {
    frame
        .lines()
        .map(|l| l.trim_start_matches('"').trim_end_matches('"'))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_17_tenant_tab_fills_from_the_progress_channel_and_shows_each_apps_fixes() {
    let mut h = tenant_demo("healthy").await;
    h.press(KeyCode::Char('7'));
    assert_eq!(h.state.focus, Pane::Tenant);
    let intro = h.frame(80, 24);
    assert_frame!("issue17_tenant_intro_80x24", intro.clone());
    assert!(intro.contains("Press r to audit"), "{intro}");

    h.press(KeyCode::Char('r'));
    assert!(matches!(h.state.tenant.outcome, Outcome::Running { .. }));
    let loading = h.frame(80, 24);
    assert!(rows(&loading)[23].contains("tenant audit"), "{loading}");
    let seen = settle_with_progress(&mut h).await;
    // The apps came through the channel (the result carries no tally), and the 429 was told.
    assert!(seen.iter().any(|s| s.contains("Some(")), "{seen:?}");
    let Outcome::Done(summary) = &h.state.tenant.outcome else {
        panic!("{:?}", h.state.tenant.outcome)
    };
    assert_eq!(summary.apps, 17);
    assert_eq!(summary.throttled_retries, 1);
    let tally = &h.state.tenant.tally;
    assert_eq!(
        (tally.apps, tally.with_issues, tally.healthy()),
        (17, 10, 7)
    );
    assert_eq!((tally.expired, tally.expiring), (2, 2));
    assert_eq!((tally.privileged, tally.no_owner), (1, 1));
    assert_eq!(h.state.tenant.retries, 1);
    assert_eq!(tally.rows.len(), 10);
    assert_eq!(tally.rows[0].name, "contoso-demo-expired-secret-daemon");
    assert!(h.state.running.is_none());

    let narrow = h.frame(80, 24);
    assert_frame!("issue17_tenant_after_run_80x24", narrow.clone());
    assert!(narrow.contains("7 Tenant!"), "{narrow}");
    assert!(narrow.contains("17 app(s) read"), "{narrow}");
    assert!(narrow.contains("expired 513 days ago"), "{narrow}");
    let wide = h.frame(120, 40);
    assert_frame!("issue17_tenant_after_run_120x40", wide.clone());
    assert!(wide.contains("throttled read(s) waited out"), "{wide}");
    assert!(
        wide.contains("az ad app credential reset --id 89651b37-2886-47fc-946d-d19aaf0db309"),
        "{wide}"
    );
    h.assert_no_secret(&[&narrow, &wide]);

    // j moves to the next app, its details follow; k comes back; End is the last one.
    h.press(KeyCode::Char('j'));
    assert_eq!(h.state.tenant.selected, 1);
    let selected = h.frame(80, 24);
    assert_frame!("issue17_tenant_second_app_80x24", selected.clone());
    assert!(
        selected.contains("▶ error    contoso-legacy-reports"),
        "{selected}"
    );
    assert!(selected.contains("expired 3 days ago"), "{selected}");
    h.press(KeyCode::Char('k'));
    assert_eq!(h.state.tenant.selected, 0);
    h.press(KeyCode::End);
    assert_eq!(h.state.tenant.selected, 9);
    assert!(
        h.frame(80, 24)
            .contains("▶ warning  contoso-payroll-export")
    );
    h.press(KeyCode::Char('j'));
    assert_eq!(
        h.state.tenant.selected, 9,
        "the selection stops at the last app"
    );
    h.press(KeyCode::Home);
    h.press(KeyCode::Char('j'));

    // c copies the selected app's first fix: the new secret, added before the old is deleted.
    h.press(KeyCode::Char('c'));
    assert_eq!(
        h.copied(),
        vec![
            "az ad app credential reset --id 7c4e2a9b-5f1d-4b3e-8a7c-9e6d2f4b1a87 --append --display-name 'reports 2023 (renewed)' --years 1"
                .to_owned()
        ]
    );
    assert!(
        h.state
            .status
            .starts_with("Copied the selected app's first fix to the clipboard: \"az ad app"),
        "{}",
        h.state.status
    );
    let copied = h.frame(120, 40);
    assert_frame!("issue17_tenant_copied_120x40", copied.clone());
    assert!(rows(&copied)[39].contains("Copied the selected app's first fix"));
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_17_esc_cancels_a_running_tenant_audit_and_its_late_results_are_dropped() {
    let mut h = tenant_demo("healthy").await;
    h.press(KeyCode::Char('7'));
    h.press(KeyCode::Char('r'));
    let Outcome::Running { id } = h.state.tenant.outcome else {
        panic!("not running")
    };
    // A first batch arrives (as from the progress channel), then the operator presses Esc.
    h.dispatch(Action::TenantProgress {
        id,
        apps: Vec::new(),
        retry: Some("HTTP 429; retrying in 1 s (Retry-After)".into()),
    });
    let note = h.state.running.as_ref().unwrap().note.clone().unwrap();
    assert_eq!(
        note,
        "read 0 of ? apps · Graph: HTTP 429; retrying in 1 s (Retry-After)"
    );
    let running = h.frame(80, 24);
    assert_frame!("issue17_tenant_running_80x24", running.clone());
    assert!(rows(&running)[23].contains("read 0 of ? apps"), "{running}");

    h.press(KeyCode::Esc);
    assert!(
        h.pending
            .iter()
            .any(|e| matches!(e, Effect::Cancel(cancelled) if *cancelled == id)),
        "the task is aborted"
    );
    assert!(matches!(h.state.tenant.outcome, Outcome::Cancelled));
    assert_eq!(h.state.status, "Cancelled tenant audit.");
    // The task (not aborted here: the harness has no runtime) ends; its result is dropped.
    h.settle().await;
    assert!(matches!(h.state.tenant.outcome, Outcome::Cancelled));
    assert_eq!(h.state.tenant.tally.apps, 0);
    let cancelled = h.frame(80, 24);
    assert_frame!("issue17_tenant_cancelled_80x24", cancelled.clone());
    assert!(cancelled.contains("cancelled: partial"), "{cancelled}");
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_17_tenant_audit_without_application_read_all_names_the_permission() {
    let mut h = tenant_demo("no-consent").await;
    // Without the Admin fields the audit reads as the app itself, which holds nothing.
    h.state.form.set(Field::AdminClientId, "");
    h.state.form.set(Field::AdminSecret, "");
    h.press(KeyCode::Char('7'));
    h.press(KeyCode::Char('r'));
    h.settle().await;
    let Outcome::Failed(finding) = &h.state.tenant.outcome else {
        panic!("{:?}", h.state.tenant.outcome)
    };
    let text = format!("{} {} {:?}", finding.title, finding.cause, finding.fixes);
    assert!(text.contains("Application.Read.All"), "{text}");
    assert!(
        h.state.status.starts_with("Tenant audit failed"),
        "{}",
        h.state.status
    );
    let narrow = h.frame(80, 24);
    assert_frame!("issue17_tenant_refused_80x24", narrow.clone());
    assert!(narrow.contains("Application.Read.All"), "{narrow}");
    assert!(narrow.contains("7 Tenant!"), "{narrow}");
    let wide = h.frame(120, 40);
    assert_frame!("issue17_tenant_refused_120x40", wide.clone());
    h.assert_no_secret(&[&narrow, &wide]);
}
