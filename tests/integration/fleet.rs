//! `entra-doctor doctor --fleet FILE` against the in-process demo tenant: every app checked
//! concurrently over one HTTP client, one JSON line per app in file order, a table in text,
//! the worst exit code, and inline secrets refused before anything is sent.

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::Command;
use entra_doctor::demo::{DemoApp, RunningDemo};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::support::start_demo;

fn app<'a>(demo: &'a RunningDemo, scenario: &str) -> &'a DemoApp {
    demo.app(scenario).unwrap()
}

/// A `[[apps]]` entry whose secret is in the variable `var`.
fn entry(demo: &RunningDemo, name: &str, app: &DemoApp, credential: &str) -> String {
    format!(
        "[[apps]]\nname = \"{name}\"\ntenant = \"{}\"\nclient_id = \"{}\"\nscopes = [\"{}\"]\n\
         probe = \"{}\"\n{credential}\n\n",
        demo.tenant_id(),
        app.client_id,
        app.scope,
        app.probe_url
    )
}

/// The binary with a clean environment: each demo app's secret in `SECRET_<SCENARIO>`.
fn fleet(demo: &RunningDemo, file: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command.env_clear();
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            command.env(variable(&app.scenario), secret.expose());
        }
    }
    command
        .args(["doctor", "--fleet"])
        .arg(file)
        .args(["--authority-host", demo.authority_host()])
        .args(extra);
    command
}

fn variable(scenario: &str) -> String {
    format!("SECRET_{}", scenario.replace('-', "_").to_ascii_uppercase())
}

fn secret_env(scenario: &str) -> String {
    format!("secret_env = \"{}\"", variable(scenario))
}

fn assert_no_secret(demo: &RunningDemo, text: &str) {
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(
                !text.contains(secret.expose()),
                "{} secret leaked",
                app.scenario
            );
        }
    }
    assert!(
        !text.contains("eyJ0eX") && !text.contains("eyJhbG"),
        "a raw token leaked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_checks_every_app_and_prints_one_json_line_each_in_file_order() {
    let demo = start_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let healthy = app(&demo, "healthy");
    let pem = healthy
        .certificate_pem
        .as_ref()
        .unwrap()
        .display()
        .to_string();
    let mut text = String::new();
    text.push_str(&entry(
        &demo,
        "healthy-secret",
        healthy,
        &secret_env("healthy"),
    ));
    text.push_str(&entry(
        &demo,
        "healthy-cert",
        healthy,
        &format!("certificate = \"{pem}\""),
    ));
    let no_consent = app(&demo, "no-consent");
    text.push_str(&entry(
        &demo,
        "no-consent",
        no_consent,
        &secret_env("no-consent"),
    ));
    let expired = app(&demo, "expired-secret");
    text.push_str(&entry(
        &demo,
        "expired",
        expired,
        &secret_env("expired-secret"),
    ));
    text.push_str(&entry(
        &demo,
        "unset-var",
        healthy,
        "secret_env = \"NOT_SET_ANYWHERE\"",
    ));
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, text).unwrap();

    let output = fleet(&demo, &file, &["-o", "json", "--concurrency", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, bool, u64, String)> = lines
        .iter()
        .map(|l| {
            let first = l["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["severity"] == "error")
                .map(|f| f["id"].as_str().unwrap().to_owned())
                .unwrap_or_default();
            (
                l["app"].as_str().unwrap().to_owned(),
                l["ok"].as_bool().unwrap(),
                l["exit_code"].as_u64().unwrap(),
                first,
            )
        })
        .collect();
    let expected = [
        ("healthy-secret", true, 0, ""),
        ("healthy-cert", true, 0, ""),
        ("no-consent", false, 1, "api.forbidden"),
        ("expired", false, 1, "AADSTS7000222"),
        ("unset-var", false, 2, "credential.missing"),
    ];
    let expected: Vec<(String, bool, u64, String)> = expected
        .iter()
        .map(|(a, ok, code, id)| ((*a).to_owned(), *ok, *code, (*id).to_owned()))
        .collect();
    assert_eq!(summary, expected, "stderr: {stderr}");
    assert_eq!(
        lines[0]["credential"],
        format!("env:{}", variable("healthy"))
    );
    assert!(
        lines[1]["credential"]
            .as_str()
            .unwrap()
            .starts_with("certificate:")
    );
    assert!(stderr.contains("5 app(s): 2 ok, 3 failed"), "{stderr}");
    // The worst exit code wins: 2 (the unset variable) over 1 (refused).
    assert_eq!(output.status.code(), Some(2));
    assert_no_secret(&demo, &stdout);
    assert_no_secret(&demo, &stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_json_fleet_of_many_apps_passes_with_a_table() {
    let demo = start_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let healthy = app(&demo, "healthy");
    let mut apps = Vec::new();
    for i in 0..40 {
        apps.push(serde_json::json!({
            "name": format!("daemon-{i:02}"),
            "tenant": demo.tenant_id(),
            "client_id": healthy.client_id,
            "scope": healthy.scope,
            "probe": healthy.probe_url,
            "secret_env": variable("healthy"),
        }));
    }
    let file = dir.path().join("fleet.json");
    std::fs::write(&file, serde_json::json!({ "apps": apps }).to_string()).unwrap();

    let output = fleet(&demo, &file, &["--concurrency", "8"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with('✓')).collect();
    assert_eq!(rows.len(), 40, "{stdout}");
    assert!(rows[0].contains("daemon-00") && rows[39].contains("daemon-39"));
    assert!(
        rows.iter().all(|r| r.ends_with("all steps passed")),
        "{stdout}"
    );
    assert!(stdout.contains("40 app(s): 40 ok, 0 failed"), "{stdout}");
    assert_no_secret(&demo, &stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inline_secret_is_refused_before_anything_is_sent() {
    let demo = start_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let healthy = app(&demo, "healthy");
    let secret = healthy.secret.as_ref().unwrap().expose().to_owned();
    let mut text = entry(
        &demo,
        "inline",
        healthy,
        &format!("client_secret = \"{secret}\""),
    );
    let _ = writeln!(text);
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, text).unwrap();

    let output = fleet(&demo, &file, &[]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("holds a secret inline"), "{stderr}");
    assert!(stderr.contains("secret_env"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_no_secret(&demo, &stderr);
}
