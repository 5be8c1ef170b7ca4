//! Issue 17, point 3 in the TUI and `doctor`: a refused token request (or a pasted error) with a
//! correlation id offers its sign-in log entry; `l` reads it as the form's Admin app (or the app
//! itself) from the demo tenant, which logs every token request at once.

#![cfg(feature = "tui")]

use crossterm::event::KeyCode;
use entra_doctor::tui::form::Field;
use serde_json::Value;

use crate::assert_frame;
use crate::support::{real_clock_binary, start_demo};
use crate::tui_harness::Harness;

fn fixed_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// The expired secret's key id in the demo tenant (`assets/demo/tenant.toml`).
const EXPIRED_KEY_ID: &str = "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07";

/// `d` on expired-secret, then `l`: the 7000222 entry with the expired secret's key id, read as
/// the healthy app the demo puts in the Admin fields.
#[tokio::test(flavor = "multi_thread")]
async fn d_then_l_shows_the_refused_sign_in_with_the_expired_key() {
    let mut h = Harness::demo(Some("expired-secret")).await;
    // The secrets' day counts from a fixed day, as the expiry frames count them.
    h.state.now = fixed_now();
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(h.state.findings[0].id, "AADSTS7000222");
    assert!(
        h.state
            .status
            .ends_with("· l: look up this sign-in in the log"),
        "{}",
        h.state.status
    );
    let offered = h.frame(80, 24);
    assert!(offered.contains("l: look up this sign-in"), "{offered}");
    assert_frame!("signins_offered_after_d_80x24", offered.clone());

    h.press(KeyCode::Char('l'));
    assert_eq!(
        h.state.running.as_ref().map(|r| r.what),
        Some("sign-in log lookup")
    );
    h.settle().await;
    let table = h.state.signins.as_deref().expect("the log was read");
    assert_eq!(table.entries.len(), 1, "{table:#?}");
    let entry = &table.entries[0];
    assert_eq!(entry.error_code(), Some(7_000_222));
    assert_eq!(
        entry.service_principal_credential_key_id.as_deref(),
        Some(EXPIRED_KEY_ID)
    );
    assert_eq!(table.reader, h.state.form.admin_client_id.value());
    // The log's own AADSTS7000222 finding is the refusal already shown: not repeated.
    let ids: Vec<&str> = h.state.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids.iter().filter(|id| **id == "AADSTS7000222").count(),
        1,
        "{ids:?}"
    );
    assert!(
        h.state
            .status
            .starts_with("Sign-in log: failure AADSTS7000222"),
        "{}",
        h.state.status
    );
    let small = h.frame(80, 24);
    let large = h.frame(120, 40);
    for frame in [&small, &large] {
        assert!(frame.contains("failure AADSTS7000222"), "{frame}");
        assert!(frame.contains("key id"), "{frame}");
    }
    assert_frame!("signins_expired_secret_l_80x24", small.clone());
    assert_frame!("signins_expired_secret_l_120x40", large.clone());
    h.assert_no_secret(&[&offered, &small, &large]);
}

/// `l` with nothing refused on screen says why nothing is looked up, and asks nothing.
#[tokio::test(flavor = "multi_thread")]
async fn l_without_a_correlation_id_says_why_nothing_is_looked_up() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('l'));
    assert!(h.pending.is_empty());
    assert!(h.state.running.is_none());
    assert!(
        h.state.status.starts_with("Nothing to look up"),
        "{}",
        h.state.status
    );
    let frame = h.frame(80, 24);
    assert_frame!("signins_l_without_correlation_id_80x24", frame.clone());
    h.assert_no_secret(&[&frame]);
}

/// The Admin fields emptied on an app without AuditLog.Read.All: it reads the log itself and
/// Graph refuses; the finding names the permission.
#[tokio::test(flavor = "multi_thread")]
async fn l_as_an_app_without_audit_log_read_all_names_the_permission() {
    let mut h = Harness::demo(Some("wrong-scope")).await;
    h.state.form.set(Field::AdminClientId, "");
    h.state.form.set(Field::AdminSecret, "");
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(h.state.findings[0].id, "AADSTS1002012");
    h.press(KeyCode::Char('l'));
    h.settle().await;
    assert!(h.state.signins.is_none());
    let missing = h
        .state
        .findings
        .iter()
        .find(|f| f.id == "signins.permission-missing")
        .unwrap_or_else(|| panic!("{:#?}", h.state.findings));
    assert!(
        missing.title.contains("AuditLog.Read.All"),
        "{}",
        missing.title
    );
    assert!(
        h.state.status.starts_with("Sign-in log not read"),
        "{}",
        h.state.status
    );
    let small = h.frame(80, 24);
    let large = h.frame(120, 40);
    assert_frame!("signins_permission_missing_80x24", small.clone());
    assert_frame!("signins_permission_missing_120x40", large.clone());
    h.assert_no_secret(&[&small, &large]);
}

/// A pasted refusal with its correlation id offers the lookup too.
#[tokio::test(flavor = "multi_thread")]
// The refusal must come from the demo the TUI reads, which the harness keeps as `_demo`.
#[allow(clippy::used_underscore_binding)]
async fn a_pasted_refusal_offers_its_sign_in() {
    use entra_doctor::tui::action::Action;

    let mut h = Harness::demo(Some("healthy")).await;
    // Entra ID's error body as the demo tenant returns it to the expired-secret app.
    let demo = h._demo.as_ref().unwrap();
    let app = demo.app("expired-secret").unwrap();
    let body = reqwest::Client::new()
        .post(demo.token_endpoint())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.secret.as_ref().unwrap().expose()),
            ("scope", app.scope.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    h.dispatch(Action::Pasted(body));
    assert!(
        h.state
            .status
            .ends_with("· l: look up this sign-in in the log"),
        "{}",
        h.state.status
    );
    h.press(KeyCode::Char('l'));
    h.settle().await;
    let table = h.state.signins.as_deref().expect("the log was read");
    assert_eq!(table.entries[0].error_code(), Some(7_000_222));
}

/// `doctor` on a refused token request prints the command that reads its sign-in, as `explain`
/// does, in text and in JSON.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_offers_the_refused_request_s_sign_in() {
    let demo = start_demo().await;
    let app = demo.app("expired-secret").unwrap();
    let run = |json: bool| {
        let mut command = real_clock_binary();
        if json {
            command.args(["-o", "json"]);
        }
        let output = command
            .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
            .args(["doctor", "--authority-host", demo.authority_host()])
            .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
            .args(["--scope", &app.scope])
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(!stdout.contains(app.secret.as_ref().unwrap().expose()));
        stdout
    };
    let json: Value = serde_json::from_str(&run(true)).unwrap();
    let command = json["signins"]["command"]
        .as_str()
        .unwrap_or_else(|| panic!("{json:#}"));
    let expected_start = "entra-doctor signins --correlation-id ";
    assert!(command.starts_with(expected_start), "{command}");
    assert!(
        command.contains(&format!("--app {}", app.client_id)),
        "{command}"
    );
    // Each run is a new request with its own correlation id: the rest of the line is the same.
    let text = run(false);
    let log = text
        .lines()
        .find(|l| l.starts_with("log:"))
        .unwrap_or_else(|| panic!("{text}"));
    let tail = |line: &str| line.split_once(" --app ").map(|(_, rest)| rest.to_owned());
    assert!(log.contains(expected_start), "{log}");
    assert_eq!(tail(log), tail(command), "{log}\n{command}");
    // A healthy run has nothing to look up.
    let healthy = demo.app("healthy").unwrap();
    let output = real_clock_binary()
        .env(
            "AZURE_CLIENT_SECRET",
            healthy.secret.as_ref().unwrap().expose(),
        )
        .args([
            "-o",
            "json",
            "doctor",
            "--authority-host",
            demo.authority_host(),
        ])
        .args([
            "--tenant",
            demo.tenant_id(),
            "--client-id",
            &healthy.client_id,
        ])
        .args(["--scope", &healthy.scope])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json.get("signins").is_none(), "{json:#}");
}
