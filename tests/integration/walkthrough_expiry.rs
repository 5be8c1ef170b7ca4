//! Issue 17, point 2, the walkthrough's part: step 3 ("Credential accepted") shows the credential
//! in use's expiry and the app's other credentials, read through Graph (an admin app, or the
//! daemon's own Graph token); AADSTS7000222 names the expired secret and the one to give the
//! daemon. Against the demo tenant, with the clock fixed for the day counts.

use chrono::{DateTime, Utc};
use entra_doctor::demo::RunningDemo;
use entra_doctor::walkthrough::{DemoFix, Session, Status, StepId, StepReport, demo_setup};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::expiry::now;
use crate::support::{real_clock_binary, start_demo};

async fn step_3(setup: entra_doctor::walkthrough::Setup, at: DateTime<Utc>) -> StepReport {
    let mut session = Session::new(setup).unwrap();
    let reports = session.run_all(at).await;
    reports[StepId::Credential.number() - 1].clone()
}

fn evidence(report: &StepReport) -> String {
    report.evidence.join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn aadsts7000222_names_the_expired_secret_and_the_one_to_give_the_daemon() {
    let demo = start_demo().await;
    // The demo's lessons read their registration as the healthy app.
    let report = step_3(demo_setup(&demo, "expired-secret").unwrap(), now()).await;
    assert_eq!(report.status, Status::Failed);
    let finding = report.finding.as_ref().unwrap();
    assert_eq!(finding.id, "AADSTS7000222");
    let evidence = evidence(&report);
    assert!(
        evidence.contains(
            "the secret in use: secret \"orders-sync 2024\", hint AU7…, key id \
             7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07, expired on 2025-06-30 (expired 519 days ago)"
        ),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "still valid: secret \"orders-sync 2025\", hint Rt2…, key id \
             c4e8a2f6-1b3d-4a5c-8e7f-9d0b2c4e6a81, valid until 2027-09-30 (expires in 303 days)"
        ),
        "{evidence}"
    );
    let fix = report.fix.as_ref().unwrap();
    assert!(
        fix.summary.starts_with(
            "Give the daemon the secret \"orders-sync 2025\" (hint Rt2…, valid until 2027-09-30)"
        ),
        "{fix:?}"
    );
    // Still the portal, az, and what x adds in the demo tenant.
    assert!(fix.portal.is_some() && fix.az.is_some(), "{fix:?}");
    assert_eq!(fix.apply, Some(DemoFix::AddSecret));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["credential"]["registration"]["matched"][0]["display_name"],
        "orders-sync 2024"
    );
    assert_eq!(
        json["credential"]["registration"]["matched"][0]["expiry"],
        json!({"state": "expired", "days_ago": 519})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_app_reads_its_own_expiry_with_its_own_graph_token() {
    let demo = start_demo().await;
    let setup = demo_setup(&demo, "healthy").unwrap();
    assert!(setup.graph.admin.is_none(), "the healthy app reads its own");
    let report = step_3(setup, now()).await;
    assert_eq!(report.status, Status::Passed);
    assert_eq!(
        report.evidence[1..],
        [
            "expiry: secret 72a… (no display name): expires in 26693 days (2099-12-31)".to_owned(),
            "also registered: certificate \"CN=healthy\", thumbprint \
             52BC8C206D6FFC9D26DC276FE49ED54659886B63, key id \
             52bc8c20-6d6f-fc9d-26dc-276fe49ed546, valid until 2125-01-01 (expires in 35825 days)"
                .to_owned(),
        ],
        "{report:#?}"
    );
    // A comfortable end date is evidence, not a finding.
    assert_eq!(report.finding, None);
    assert_eq!(report.credential.as_ref().unwrap().kind, "secret");
}

/// The healthy secret 16 days before its end (the demo's token endpoint keeps the real clock,
/// so it still issues): the step passes, with the warning and the renewal commands.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_about_to_expire_passes_with_a_warning_and_its_renewal() {
    let demo = start_demo().await;
    let late = DateTime::parse_from_rfc3339("2099-12-15T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let report = step_3(demo_setup(&demo, "healthy").unwrap(), late).await;
    assert_eq!(report.status, Status::Passed);
    let finding = report.finding.as_ref().unwrap();
    assert_eq!(finding.id, "credential.expires-soon");
    assert_eq!(
        finding.title,
        "The secret in use expires in 16 days (2099-12-31)"
    );
    let fix = report.fix.as_ref().unwrap();
    assert!(
        fix.summary.contains("az ad app credential reset --id"),
        "{fix:?}"
    );
    assert_eq!(fix.apply, None, "a passed step offers nothing to x");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_graph_one_line_says_the_expiry_is_unknown_and_how_to_read_it() {
    let demo = start_demo().await;
    // no-consent holds no Application.Read.All: its own Graph token reads nothing.
    let setup = demo_setup(&demo, "no-consent").unwrap().with_admin(None);
    let report = step_3(setup, now()).await;
    assert_eq!(report.status, Status::Passed);
    let lines: Vec<&String> = report
        .evidence
        .iter()
        .filter(|e| e.starts_with("expiry: "))
        .collect();
    assert_eq!(lines.len(), 1, "{report:#?}");
    assert!(lines[0].contains("expiry unknown"), "{}", lines[0]);
    assert!(lines[0].contains("Application.Read.All"), "{}", lines[0]);
    assert!(lines[0].contains("--admin-client-id"), "{}", lines[0]);
    assert_eq!(report.finding, None);

    // The expired secret, unread: the catalog's fix stays the fix.
    let setup = demo_setup(&demo, "expired-secret")
        .unwrap()
        .with_admin(None);
    let report = step_3(setup, now()).await;
    assert_eq!(report.status, Status::Failed);
    assert!(
        report
            .fix
            .as_ref()
            .unwrap()
            .summary
            .starts_with("Add a new secret, roll it out to the daemon"),
        "{report:#?}"
    );
    let evidence = evidence(&report);
    assert!(
        evidence.contains("the app's own sign-in was refused"),
        "{evidence}"
    );
    assert!(evidence.contains("--admin-client-id"), "{evidence}");
}

fn walkthrough_json(demo: &RunningDemo, scenario: &str, admin: bool) -> (Option<i32>, Value) {
    let app = demo.app(scenario).unwrap();
    let healthy = demo.app("healthy").unwrap();
    let mut command = real_clock_binary();
    command
        .env("ENTRA_DOCTOR_NOW", "2026-12-01T00:00:00Z")
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args(["-o", "json", "walkthrough"])
        .args(["--authority-host", demo.authority_host()])
        .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
        .args(["--scope", &app.scope, "--probe", &app.probe_url]);
    if admin {
        command
            .env(
                "ENTRA_DOCTOR_ADMIN_SECRET",
                healthy.secret.as_ref().unwrap().expose(),
            )
            .args(["--admin-client-id", &healthy.client_id]);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(!all.contains(secret.expose()), "{} leaked", app.scenario);
        }
    }
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    (output.status.code(), json)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_reads_the_registration_with_admin_client_id() {
    let demo = start_demo().await;
    let (code, json) = walkthrough_json(&demo, "expired-secret", true);
    assert_eq!(code, Some(1));
    let step = &json["steps"][2];
    assert_eq!(step["status"], "failed");
    assert_eq!(step["finding"]["id"], "AADSTS7000222");
    let evidence = step["evidence"].to_string();
    assert!(
        evidence.contains(r#"the secret in use: secret \"orders-sync 2024\", hint AU7…"#),
        "{evidence}"
    );
    assert!(
        evidence.contains(r#"still valid: secret \"orders-sync 2025\", hint Rt2…"#),
        "{evidence}"
    );
    assert!(
        step["fix"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Give the daemon the secret \"orders-sync 2025\""),
        "{step:#}"
    );
    assert_eq!(
        step["credential"]["registration"]["others"][0]["expiry"],
        json!({"state": "valid", "days_left": 303})
    );

    // Without it the daemon's refused sign-in reads nothing: the step says how to.
    let (_, json) = walkthrough_json(&demo, "expired-secret", false);
    let step = &json["steps"][2];
    assert!(step["credential"]["registration"].is_null(), "{step:#}");
    assert!(
        step["evidence"].to_string().contains("--admin-client-id"),
        "{step:#}"
    );
}

#[test]
fn demo_walkthrough_reads_the_lessons_registration_as_the_healthy_app() {
    let output = real_clock_binary()
        .env("ENTRA_DOCTOR_NOW", "2026-12-01T00:00:00Z")
        .args(["demo", "--walkthrough", "--scenario", "expired-secret"])
        .args(["-o", "text"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("fix: Give the daemon the secret \"orders-sync 2025\" (hint Rt2…, valid until 2027-09-30)"),
        "{text}"
    );
    assert!(
        text.contains("evidence: the secret in use: secret \"orders-sync 2024\", hint AU7…"),
        "{text}"
    );
}

/// The walkthrough tab on the expired-secret lesson: the demo's Admin fields hold the healthy
/// app, so step 3 names both secrets on screen.
#[cfg(feature = "tui")]
#[tokio::test(flavor = "multi_thread")]
async fn tui_walkthrough_step_3_names_the_expired_secret() {
    use crossterm::event::KeyCode;

    use crate::assert_frame;
    use crate::tui_harness::Harness;

    let mut h = Harness::demo(Some("expired-secret")).await;
    h.state.now = now();
    h.press(KeyCode::Char('6'));
    h.press(KeyCode::Char('r'));
    h.settle().await;
    assert_eq!(h.state.walk.selected, StepId::Credential.number() - 1);
    let small = h.frame(80, 24);
    let large = h.frame(120, 40);
    assert!(
        large.contains("Give the daemon the secret \"orders-sync 2025\""),
        "{large}"
    );
    assert_frame!("walkthrough_expired_secret_named_80x24", small.clone());
    assert_frame!("walkthrough_expired_secret_named_120x40", large.clone());
    h.assert_no_secret(&[&small, &large]);
}

/// The healthy lesson's step 3: its own Graph token reads the secret's end date.
#[cfg(feature = "tui")]
#[tokio::test(flavor = "multi_thread")]
async fn tui_walkthrough_step_3_shows_a_healthy_secrets_expiry() {
    use crossterm::event::KeyCode;

    use crate::assert_frame;
    use crate::tui_harness::Harness;

    let mut h = Harness::demo(Some("healthy")).await;
    h.state.now = now();
    h.press(KeyCode::Char('6'));
    h.press(KeyCode::Char('r'));
    h.settle().await;
    while h.state.walk.selected > StepId::Credential.number() - 1 {
        h.press(KeyCode::Char('k'));
    }
    while h.state.walk.selected < StepId::Credential.number() - 1 {
        h.press(KeyCode::Char('j'));
    }
    let small = h.frame(80, 24);
    let large = h.frame(120, 40);
    assert!(
        large.contains("expiry: secret 72a… (no display name): expires in NNNNN")
            || large.contains("secret 72a… (no display name): expires in 26693 days"),
        "{large}"
    );
    assert_frame!("walkthrough_healthy_expiry_80x24", small.clone());
    assert_frame!("walkthrough_healthy_expiry_120x40", large.clone());
    h.assert_no_secret(&[&small, &large]);
}
