//! `entra-doctor doctor --fleet FILE` against the in-process demo tenant: every app checked
//! concurrently over one HTTP client, one JSON line per app as it finishes (with its position
//! in the file), a table in file order in text, the worst exit code, one token request per
//! credential, and inline secrets refused before anything is sent.

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
    Command::from_std(fleet_std(demo, file, extra))
}

fn fleet_std(demo: &RunningDemo, file: &Path, extra: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
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

/// An app's line as (app, ok, exit code, first error finding).
fn summary_of(l: &Value) -> (String, bool, u64, String) {
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
}

#[tokio::test(flavor = "multi_thread")]
async fn fleet_checks_every_app_and_prints_one_json_line_each_with_its_place_in_the_file() {
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
    let mut lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each line is printed as its app finishes; `index` (1-based, file order) puts them back.
    lines.sort_by_key(|l| l["index"].as_u64());
    let indices: Vec<u64> = lines.iter().filter_map(|l| l["index"].as_u64()).collect();
    assert_eq!(indices, [1, 2, 3, 4, 5]);
    let summary: Vec<(String, bool, u64, String)> = lines.iter().map(summary_of).collect();
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
    assert!(
        stderr.contains("4 token request(s)"),
        "4 credentials: {stderr}"
    );
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
    assert!(
        stdout.contains("40 app(s): 40 ok, 0 failed") && stdout.contains("1 token request(s)"),
        "{stdout}"
    );
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

/// Issue 17: a fleet held every result and printed nothing until its last app finished. Here
/// app #1's token endpoint holds its request until the test lets go, so app #2's line can only
/// be printed first if lines are printed as apps finish.
#[tokio::test(flavor = "multi_thread")]
async fn issue_17_each_line_is_printed_when_its_app_finishes() {
    use std::io::BufRead as _;

    let demo = start_demo().await;
    let healthy = app(&demo, "healthy");
    // A token endpoint that accepts connections and never answers until `release` fires.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let held = format!("http://{}", listener.local_addr().unwrap());
    let (release, mut released) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut open = Vec::new();
        loop {
            tokio::select! {
                _ = &mut released => break,
                accepted = listener.accept() => open.extend(accepted.ok()),
            }
        }
        drop(open);
        // Later connections (a retry) are closed at once.
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut text = entry(&demo, "held", healthy, &secret_env("healthy"));
    text = text.replace(
        "probe = ",
        &format!("authority_host = \"{held}\"\nprobe = "),
    );
    text.push_str(&entry(&demo, "quick", healthy, &secret_env("healthy")));
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, text).unwrap();

    let mut command = fleet_std(&demo, &file, &["-o", "json"]);
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        (line, stdout)
    });
    let (first, mut stdout) = first.await.unwrap();
    let first: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        (&first["index"], &first["app"]),
        (&Value::from(2), &Value::from("quick"))
    );
    assert_eq!(first["ok"], true);
    // App #1 is still waiting for its token: the run has not ended.
    assert!(child.try_wait().unwrap().is_none());
    release.send(()).unwrap();
    let rest = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let status = child.wait().unwrap();
        (rest, status)
    });
    let (rest, status) = rest.await.unwrap();
    let second: Value = serde_json::from_str(rest.trim()).unwrap();
    assert_eq!(
        (&second["index"], &second["app"]),
        (&Value::from(1), &Value::from("held"))
    );
    assert_eq!(second["ok"], false);
    assert_eq!(status.code(), Some(3), "{rest}");
}

/// 2,000 entries of one app, as JSON lines: 2,000 result lines, each index once, and one token
/// request for all of them (the summary counts them; no probe, so the run stays quick).
#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_of_2000_entries_of_one_app_makes_one_token_request() {
    let demo = start_demo().await;
    let healthy = app(&demo, "healthy");
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..2000 {
        let _ = writeln!(
            text,
            "{}",
            serde_json::json!({
                "name": format!("d{i}"),
                "tenant": demo.tenant_id(),
                "client_id": healthy.client_id,
                "scope": healthy.scope,
                "secret_env": variable("healthy"),
            })
        );
    }
    let file = dir.path().join("fleet.jsonl");
    std::fs::write(&file, text).unwrap();

    let output = fleet(&demo, &file, &["-o", "json", "--concurrency", "32"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let mut indices: Vec<u64> = stdout
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            assert_eq!(line["ok"], true, "{line}");
            line["index"].as_u64().unwrap()
        })
        .collect();
    indices.sort_unstable();
    assert_eq!(indices, (1..=2000).collect::<Vec<u64>>());
    assert!(
        stderr.contains("2000 app(s): 2000 ok, 0 failed") && stderr.contains("1 token request(s)"),
        "{stderr}"
    );
    assert_no_secret(&demo, &stdout);
}

/// The token endpoint counts: fifty entries of one credential send one token request.
#[tokio::test(flavor = "multi_thread")]
async fn apps_with_one_credential_share_one_token_request() {
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::support::{CLIENT_ID, TENANT_ID, token_body, v1_graph_token};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT_ID}/oauth2/v2.0/token")))
        .and(body_string_contains("client_secret=shared-secret-value"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("fleet"), 3599)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let apps: Vec<Value> = (0..50)
        .map(|i| {
            serde_json::json!({
                "name": format!("daemon-{i}"),
                "tenant": TENANT_ID,
                "client_id": CLIENT_ID,
                "scopes": ["https://graph.microsoft.com/.default"],
                "secret_env": "SHARED_SECRET",
            })
        })
        .collect();
    let file = dir.path().join("fleet.json");
    std::fs::write(&file, Value::from(apps).to_string()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
        .env_clear()
        .env("SHARED_SECRET", "shared-secret-value")
        .args(["doctor", "--fleet"])
        .arg(&file)
        .args(["--authority-host", &server.uri(), "-o", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stdout.lines().count(), 50, "{stderr}");
    assert!(stderr.contains("1 token request(s)"), "{stderr}");
    assert!(!stdout.contains("shared-secret-value") && !stderr.contains("shared-secret-value"));
    // The mock's `expect(1)` is checked when the server drops.
}

/// The same client id with another secret is another credential: it gets its own request and
/// its own answer (refused), and the right secret is not refused with it.
#[tokio::test(flavor = "multi_thread")]
async fn another_secret_for_the_same_client_id_does_not_share_its_token() {
    let demo = start_demo().await;
    let healthy = app(&demo, "healthy");
    let dir = tempfile::tempdir().unwrap();
    let mut text = entry(&demo, "right", healthy, &secret_env("healthy"));
    text.push_str(&entry(
        &demo,
        "wrong",
        healthy,
        "secret_env = \"WRONG_SECRET\"",
    ));
    text.push_str(&entry(
        &demo,
        "right-again",
        healthy,
        &secret_env("healthy"),
    ));
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, text).unwrap();

    let output = fleet(&demo, &file, &["-o", "json"])
        .env("WRONG_SECRET", "Wr0ng~secret.value-for-this-app")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let mut lines: Vec<(u64, String, bool)> = stdout
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            (
                line["index"].as_u64().unwrap(),
                line["app"].as_str().unwrap().to_owned(),
                line["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            (1, "right".to_owned(), true),
            (2, "wrong".to_owned(), false),
            (3, "right-again".to_owned(), true),
        ],
        "{stderr}"
    );
    assert!(stdout.contains("AADSTS7000215"), "{stdout}");
    assert!(stderr.contains("2 token request(s)"), "{stderr}");
    assert_eq!(output.status.code(), Some(1));
    assert!(!stdout.contains("Wr0ng~secret") && !stderr.contains("Wr0ng~secret"));
    assert_no_secret(&demo, &stdout);
}

/// Text: the table at the end, in file order with each app's position, failing apps said on
/// standard error as they fail.
#[tokio::test(flavor = "multi_thread")]
async fn the_text_table_is_in_file_order_and_failures_are_said_as_they_happen() {
    let demo = start_demo().await;
    let healthy = app(&demo, "healthy");
    let expired = app(&demo, "expired-secret");
    let dir = tempfile::tempdir().unwrap();
    let mut text = entry(&demo, "first", healthy, &secret_env("healthy"));
    text.push_str(&entry(
        &demo,
        "expired",
        expired,
        &secret_env("expired-secret"),
    ));
    text.push_str(&entry(&demo, "third", healthy, &secret_env("healthy")));
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, text).unwrap();

    let output = fleet(&demo, &file, &[]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with('✓') || l.starts_with('✗'))
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["✓", "1", "first"],
            ["✗", "2", "expired"],
            ["✓", "3", "third"]
        ],
        "{stdout}"
    );
    assert!(stdout.contains("token: AADSTS7000222"), "{stdout}");
    assert!(
        stderr.contains("✗ #2 expired: token: AADSTS7000222"),
        "{stderr}"
    );
    assert!(stdout.contains("3 app(s): 2 ok, 1 failed"), "{stdout}");
    assert_eq!(output.status.code(), Some(1));
}
