//! The TUI driven as an operator drives it: key events through `keys::map` and `update`, effects
//! run against the in-process demo tenant, frames rendered into a `TestBackend` and snapshotted.
//! No sleeps: each effect is awaited and its result fed back as the action it sends.

#![cfg(feature = "tui")]

use crossterm::event::{KeyCode, KeyModifiers};
use entra_doctor::tui::action::Action;
use entra_doctor::tui::effect::{Effect, execute};
use entra_doctor::tui::form::Field;
use entra_doctor::tui::keys;
use entra_doctor::tui::state::{Load, Pane};

use crate::assert_frame;
use crate::tui_harness::{Harness, render};

#[tokio::test(flavor = "multi_thread")]
async fn picker_then_healthy_doctor() {
    let mut h = Harness::demo(None).await;
    let picker = h.frame(120, 40);
    assert_frame!("picker_120x40", picker.clone());
    h.press(KeyCode::Enter);
    let empty = h.frame(120, 40);
    assert_frame!("healthy_empty_120x40", empty.clone());
    h.press(KeyCode::Char('d'));
    let loading = h.frame(120, 40);
    assert!(matches!(h.state.token, Load::Loading));
    assert_frame!("healthy_loading_120x40", loading.clone());
    h.settle().await;
    let done = h.frame(120, 40);
    assert!(
        matches!(&h.state.probe, Load::Ready(r) if r.status == 200),
        "{:?}",
        h.state.status
    );
    assert_frame!("healthy_probed_120x40", done.clone());
    assert!(
        !h.state
            .findings
            .iter()
            .any(|f| f.severity == entra_doctor::diagnose::Severity::Error)
    );
    h.press(KeyCode::Char('3'));
    let cache = h.frame(80, 24);
    assert_frame!("healthy_cache_80x24", cache.clone());
    h.press(KeyCode::Char('2'));
    let token = h.frame(80, 24);
    assert_frame!("healthy_token_80x24", token.clone());
    h.assert_no_secret(&[&picker, &empty, &loading, &done, &cache, &token]);
    // Issue 9: the signature check joins the findings, and the token pane says it.
    let ids: Vec<&str> = h.state.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(ids.contains(&"token.graph-nonce"), "{ids:?}");
    assert!(ids.contains(&"token.version"), "{ids:?}");
    assert!(token.contains("not verifiable by design"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_check_of_an_older_token_is_dropped() {
    use entra_doctor::diagnose::{Finding, Severity};
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('a'));
    h.settle().await;
    let Load::Ready(view) = &h.state.token else {
        panic!("no token");
    };
    assert!(view.signature.is_some());
    let before = h.state.findings.clone();
    h.dispatch(Action::TokenVerified {
        id: h.state.token_id - 1,
        label: (Severity::Error, "stale".into()),
        finding: Box::new(Finding::new(
            "token.bad-signature",
            Severity::Error,
            "stale",
        )),
    });
    assert_eq!(h.state.findings, before);
    assert!(h.pending.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn no_consent_gets_403_explained() {
    let mut h = Harness::demo(Some("no-consent")).await;
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(h.state.focus, Pane::Findings);
    // The app requests nothing: the probe's refusal, which names the permission the call needs,
    // leads; the consent audit that `d` ends on follows it.
    let ids: Vec<&str> = h.state.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids[0], "api.forbidden");
    assert!(ids.contains(&"consent.missing"), "{ids:?}");
    let findings = h.frame(120, 40);
    assert_frame!("no_consent_403_120x40", findings.clone());
    let narrow = h.frame(80, 24);
    assert_frame!("no_consent_403_findings_80x24", narrow.clone());
    h.press(KeyCode::Char('4'));
    let probe = h.frame(80, 24);
    assert_frame!("no_consent_403_probe_80x24", probe.clone());
    h.assert_no_secret(&[&findings, &narrow, &probe]);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_scope_is_refused_with_aadsts1002012() {
    let mut h = Harness::demo(Some("wrong-scope")).await;
    let lints = h.frame(80, 24);
    assert_frame!("wrong_scope_live_lint_80x24", lints.clone());
    h.press(KeyCode::Char('a'));
    h.settle().await;
    assert!(matches!(h.state.token, Load::Failed(_)));
    assert_eq!(h.state.findings[0].id, "AADSTS1002012");
    let failed = h.frame(120, 40);
    assert_frame!("wrong_scope_token_failed_120x40", failed.clone());
    h.assert_no_secret(&[&lints, &failed]);
}

#[tokio::test(flavor = "multi_thread")]
async fn trailing_slash_then_fixed_with_the_double_slash() {
    let mut h = Harness::demo(Some("trailing-slash")).await;
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(h.state.findings[0].id, "audience.trailing-slash");
    let refused = h.frame(120, 40);
    assert_frame!("trailing_slash_401_120x40", refused.clone());
    // Edit the scope: select it, Enter, go to the end, type the missing slash before /.default.
    h.press(KeyCode::Char('1'));
    while h.state.field != Field::Scope {
        h.press(KeyCode::Char('j'));
    }
    h.press(KeyCode::Enter);
    assert!(h.state.editing);
    h.press(KeyCode::End);
    for _ in 0.."/.default".len() {
        h.press(KeyCode::Left);
    }
    h.type_text("/");
    h.press(KeyCode::Enter);
    assert_eq!(
        h.state.form.scope.value(),
        "https://database.windows.net//.default"
    );
    assert!(
        h.state.lints.is_empty(),
        "the live lint is gone: {:?}",
        h.state.lints
    );
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert!(matches!(&h.state.probe, Load::Ready(r) if r.status == 200));
    let fixed = h.frame(120, 40);
    assert_frame!("trailing_slash_fixed_120x40", fixed.clone());
    h.assert_no_secret(&[&refused, &fixed]);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_secret_and_unregistered_certificate() {
    for (scenario, code) in [
        ("expired-secret", "AADSTS7000222"),
        ("unregistered-certificate", "AADSTS700027"),
    ] {
        let mut h = Harness::demo(Some(scenario)).await;
        if scenario == "expired-secret" {
            // `d` names the expired secret with its age: a fixed clock keeps the frame stable
            // (the demo checks a secret's end date with its own clock, not the request's).
            h.state.now = crate::expiry::now();
        }
        h.press(KeyCode::Char('d'));
        h.settle().await;
        assert_eq!(h.state.findings[0].id, code, "{scenario}");
        let frame = h.frame(120, 40);
        assert_frame!(format!("{scenario}_120x40"), frame.clone());
        h.assert_no_secret(&[&frame]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_type_only_while_editing_and_help_lists_every_key() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('q'));
    assert!(h.state.should_quit, "q quits when not editing");
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Enter);
    h.type_text("qad");
    assert!(
        !h.state.should_quit && h.pending.is_empty(),
        "letters type while editing"
    );
    assert!(h.state.form.tenant.value().ends_with("qad"));
    h.press(KeyCode::Esc);
    h.press_with(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(h.state.should_quit, "Ctrl-C always quits");
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('?'));
    let help = h.frame(120, 40);
    for (key, _) in keys::HELP {
        assert!(help.contains(key), "help lists {key}");
    }
    assert_frame!("help_120x40", help);
    h.press(KeyCode::Esc);
    assert!(!h.state.show_help);
    h.press(KeyCode::Char('r'));
    assert!(h.state.reveal_secret);
}

#[tokio::test(flavor = "multi_thread")]
async fn esc_cancels_and_late_results_are_dropped() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('a'));
    let effects = std::mem::take(&mut h.pending);
    h.press(KeyCode::Esc);
    assert!(h.state.running.is_none());
    assert!(matches!(h.pending.as_slice(), [Effect::Cancel(_)]));
    // The cancelled request's answer arrives anyway: it must change nothing.
    for effect in effects {
        if let Some(action) = execute(effect, &h.services).await {
            h.dispatch(action);
        }
    }
    assert!(
        matches!(h.state.token, Load::Empty),
        "a cancelled result is dropped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_small_terminal_says_so() {
    let h = Harness::demo(Some("healthy")).await;
    let frame = render(&h.state, 60, 20);
    assert!(frame.contains("needs at least 80x24"), "{frame}");
}

#[test]
fn hostile_claims_are_escaped() {
    assert_eq!(
        entra_doctor::cli::render::clean("a\u{1b}[2Jb\0c"),
        "a\\u{1b}[2Jb\\u{0}c"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_loading_then_failure_on_a_closed_port() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('a'));
    h.settle().await;
    h.press(KeyCode::Char('4'));
    h.press(KeyCode::Char('p'));
    assert!(matches!(h.state.probe, Load::Loading));
    let loading = h.frame(80, 24);
    assert_frame!("probe_loading_80x24", loading.clone());
    h.settle().await;
    assert!(matches!(&h.state.probe, Load::Ready(r) if r.status == 200));

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!(
        "http://127.0.0.1:{}/graph/v1.0/users",
        listener.local_addr().unwrap().port()
    );
    drop(listener);
    h.press(KeyCode::Char('1'));
    while h.state.field != Field::ProbeUrl {
        h.press(KeyCode::Char('j'));
    }
    h.press(KeyCode::Enter);
    h.press_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.type_text(&closed);
    h.press(KeyCode::Enter);
    assert_eq!(h.state.form.probe_url.value(), closed);
    h.press(KeyCode::Char('p'));
    h.settle().await;
    assert!(
        matches!(h.state.probe, Load::Failed(_)),
        "{:?}",
        h.state.probe
    );
    assert_eq!(h.state.findings[0].id, "network.unreachable");
    h.press(KeyCode::Char('4'));
    let failed = h.frame(80, 24);
    assert_frame!("probe_failed_closed_port_80x24", failed.clone());
    h.assert_no_secret(&[&loading, &failed]);
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_kind_cycles_through_secret_certificate_assertion_and_managed_identity() {
    let mut h = Harness::demo(Some("healthy")).await;
    while h.state.field != Field::Kind {
        h.press(KeyCode::Char('j'));
    }
    let fields = |h: &Harness| h.state.form.visible();
    assert!(fields(&h).contains(&Field::Secret));
    h.press(KeyCode::Char(' '));
    assert!(fields(&h).contains(&Field::Certificate) && !fields(&h).contains(&Field::Secret));
    h.press(KeyCode::Char(' '));
    assert!(fields(&h).contains(&Field::AssertionFile));
    let assertion = h.frame(80, 24);
    assert_frame!("credential_kind_assertion_80x24", assertion.clone());
    h.press(KeyCode::Char(' '));
    // A managed identity: one Identity field; its tenant and app are its token's.
    assert!(fields(&h).contains(&Field::Identity));
    assert!(!fields(&h).contains(&Field::Tenant) && !fields(&h).contains(&Field::ClientId));
    assert_eq!(h.state.field, Field::Kind);
    let managed = h.frame(80, 24);
    assert_frame!("credential_kind_managed_identity_80x24", managed.clone());
    h.press(KeyCode::Char(' '));
    assert!(fields(&h).contains(&Field::Secret) && fields(&h).contains(&Field::Tenant));
    h.assert_no_secret(&[&assertion, &managed]);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_show_in_the_status_bar_and_stale_ones_do_not() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('a'));
    let id = h.state.running.as_ref().unwrap().id;
    h.dispatch(Action::Retrying {
        id,
        notice: "HTTP 503; retrying (1/2) in 1 s".into(),
    });
    let note = |h: &Harness| h.state.running.as_ref().unwrap().note.clone();
    assert_eq!(
        note(&h).as_deref(),
        Some("Entra ID: HTTP 503; retrying (1/2) in 1 s")
    );
    h.dispatch(Action::Retrying {
        id: id + 100,
        notice: "other".into(),
    });
    assert_eq!(
        note(&h).as_deref(),
        Some("Entra ID: HTTP 503; retrying (1/2) in 1 s"),
        "a stale request's notice is dropped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn g_audits_consent_and_its_findings_join_the_pane() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('g'));
    assert!(h.state.running.is_some());
    h.settle().await;
    assert!(
        h.state
            .status
            .starts_with("Consent audit: 3 permission(s) of Microsoft Graph, 0 problem(s)"),
        "{}",
        h.state.status
    );
    assert!(
        !h.state
            .findings
            .iter()
            .any(|f| f.id.starts_with("consent."))
    );

    // The demo's healthy app reads Graph for the other lessons (the Admin app field).
    let mut h = Harness::demo(Some("no-consent")).await;
    h.press(KeyCode::Char('g'));
    h.settle().await;
    assert_eq!(h.state.focus, Pane::Findings);
    let ids: Vec<&str> = h.state.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["consent.missing"], "{}", h.state.status);

    // Without an admin app, the daemon's own token cannot read app registrations.
    let mut h = Harness::demo(Some("no-consent")).await;
    h.state.form.set(Field::AdminClientId, "");
    h.state.form.set(Field::AdminSecret, "");
    h.press(KeyCode::Char('g'));
    h.settle().await;
    let ids: Vec<&str> = h.state.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["consent.no-graph-access"], "{}", h.state.status);
}
