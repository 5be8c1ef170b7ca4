//! `entra-doctor doctor` (and `probe`) end to end against the embedded demo tenant, one run per
//! scenario: healthy exits 0 with no error finding, each failing scenario exits non-zero with its
//! expected finding first. The binary runs with the real clock: the demo tenant issues and checks
//! tokens and client assertions against it.

use assert_cmd::Command;
use chrono::Utc;
use entra_doctor::Secret;
use entra_doctor::auth::{
    Authority, AuthorityHost, ClientOptions, Credential, ScopeSet, Tenant, TokenClient,
    TokenRequest,
};
use entra_doctor::demo::{DemoApp, RunningDemo};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::assert_cli_snapshot;
use crate::support::{real_clock_binary, start_demo};

#[derive(Clone, Copy, PartialEq, Eq)]
enum With {
    Secret,
    Certificate,
}

/// `doctor` for one demo app with its handed-out credential, probing its probe URL.
fn doctor(demo: &RunningDemo, app: &DemoApp, with: With, extra: &[&str]) -> Command {
    let mut command = real_clock_binary();
    command.args([
        "doctor",
        "--authority-host",
        demo.authority_host(),
        "--tenant",
        demo.tenant_id(),
        "--client-id",
        app.client_id.as_str(),
        "--scope",
        app.scope.as_str(),
        "--probe",
        app.probe_url.as_str(),
    ]);
    match with {
        With::Secret => {
            command.env(
                "AZURE_CLIENT_SECRET",
                app.secret.as_ref().expect("a secret").expose(),
            );
        }
        With::Certificate => {
            command
                .arg("--certificate")
                .arg(app.certificate_pem.as_ref().expect("a PEM"));
        }
    }
    command.args(extra);
    command
}

struct Run {
    code: Option<i32>,
    json: Value,
    stdout: String,
}

fn run_json(mut command: Command) -> Run {
    let output = command.args(["-o", "json"]).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Run {
        code: output.status.code(),
        json,
        stdout,
    }
}

fn finding_ids(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

fn steps(json: &Value) -> Vec<(String, String)> {
    json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
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
    // A JWT's header always starts `eyJ` ('{"'): no raw token, only its decoded claims.
    assert!(
        !text.contains("eyJ0eX") && !text.contains("eyJhbG"),
        "a raw token leaked: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_passes_every_step_with_secret_and_certificate() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    for with in [With::Secret, With::Certificate] {
        let run = run_json(doctor(&demo, app, with, &[]));
        assert_eq!(run.code, Some(0), "{}", run.stdout);
        assert_eq!(run.json["ok"], true);
        assert_eq!(
            steps(&run.json),
            pairs(&[
                ("preflight", "passed"),
                ("token", "passed"),
                ("credential", "passed"),
                ("decode", "passed"),
                // A Graph token is not verifiable outside Graph: not a pass (issue 14), not
                // the app's fault either.
                ("verify", "skipped"),
                ("probe", "passed"),
                ("consent", "skipped")
            ])
        );
        let ids = finding_ids(&run.json);
        // A Graph token: not verifiable outside Graph, by design, and said so.
        assert!(ids.contains(&"token.graph-nonce".to_owned()), "{ids:?}");
        assert!(ids.contains(&"token.version".to_owned()), "{ids:?}");
        let errors: Vec<&Value> = run.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert_no_secret(&demo, &run.stdout);
    }
}

/// (scenario, credential, exit code, the finding that must lead, the failed step)
const FAILING: &[(&str, With, i32, &str, &str)] = &[
    ("no-consent", With::Secret, 1, "api.forbidden", "probe"),
    ("wrong-scope", With::Secret, 1, "AADSTS1002012", "token"),
    (
        "trailing-slash",
        With::Secret,
        1,
        "audience.trailing-slash",
        "probe",
    ),
    ("expired-secret", With::Secret, 1, "AADSTS7000222", "token"),
    (
        "unregistered-certificate",
        With::Certificate,
        1,
        "AADSTS700027",
        "token",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_failing_scenario_leads_with_its_finding() {
    let demo = start_demo().await;
    for &(scenario, with, code, leading, failed_step) in FAILING {
        let app = demo.app(scenario).unwrap();
        let run = run_json(doctor(&demo, app, with, &[]));
        assert_eq!(run.code, Some(code), "{scenario}: {}", run.stdout);
        assert_eq!(run.json["ok"], false, "{scenario}");
        let ids = finding_ids(&run.json);
        assert_eq!(
            ids.first().map(String::as_str),
            Some(leading),
            "{scenario}: {ids:?}"
        );
        let failed: Vec<String> = steps(&run.json)
            .into_iter()
            .filter(|(_, outcome)| outcome == "failed")
            .map(|(name, _)| name)
            .collect();
        assert!(
            failed.contains(&failed_step.to_owned()),
            "{scenario}: {failed:?}"
        );
        assert_no_secret(&demo, &run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_scenarios_explain_with_evidence_and_the_apps_own_ids() {
    let demo = start_demo().await;
    let finding = |scenario: &str, with: With, id: &str| -> Value {
        let app = demo.app(scenario).unwrap();
        let run = run_json(doctor(&demo, app, with, &[]));
        run.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("{scenario}: no {id} in {}", run.stdout))
            .clone()
    };
    let text = |value: &Value| value.to_string();

    // No consent: the token has no roles, Graph says 403; the fix names the app.
    let no_consent = demo.app("no-consent").unwrap();
    let forbidden = finding("no-consent", With::Secret, "api.forbidden");
    assert!(text(&forbidden["evidence"]).contains("Authorization_RequestDenied"));
    assert!(text(&forbidden["evidence"]).contains("token roles: none"));
    assert!(text(&forbidden["fixes"]).contains(&no_consent.client_id));
    let no_roles = finding("no-consent", With::Secret, "token.no-roles");
    assert_eq!(no_roles["severity"], "warning");
    assert!(text(&no_roles["fixes"]).contains(&no_consent.client_id));

    // Wrong scope: the preflight saw it coming, Entra ID confirms it.
    let delegated = finding("wrong-scope", With::Secret, "scope.delegated");
    assert!(text(&delegated["fixes"]).contains("https://graph.microsoft.com/.default"));
    let refused = finding("wrong-scope", With::Secret, "AADSTS1002012");
    assert!(text(&refused["evidence"]).contains("trace id: "));

    // Trailing slash: warned before sending, proven by the SQL API's 401.
    let warned = finding(
        "trailing-slash",
        With::Secret,
        "scope.trailing-slash-audience",
    );
    assert!(text(&warned["fixes"]).contains("https://database.windows.net//.default"));
    let slash = finding("trailing-slash", With::Secret, "audience.trailing-slash");
    assert!(text(&slash["evidence"]).contains("token aud: https://database.windows.net\""));
    assert!(text(&slash["fixes"]).contains("https://database.windows.net//.default"));

    // Expired secret and unregistered certificate: Entra ID's words, for a support ticket.
    let expired_app = demo.app("expired-secret").unwrap();
    let expired = finding("expired-secret", With::Secret, "AADSTS7000222");
    assert!(text(&expired["evidence"]).contains("HTTP 401 invalid_client: AADSTS7000222"));
    assert!(text(&expired["fixes"]).contains(&expired_app.client_id));
    let unregistered = finding(
        "unregistered-certificate",
        With::Certificate,
        "AADSTS700027",
    );
    assert!(text(&unregistered["evidence"]).contains("correlation id: "));
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_text_is_a_checklist_then_the_findings() {
    let demo = start_demo().await;
    let app = demo.app("no-consent").unwrap();
    let output = doctor(&demo, app, With::Secret, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = scrub_fetched(&scrub_millis(&String::from_utf8(output.stdout).unwrap()));
    assert_cli_snapshot!("doctor_no_consent", text);
}

/// `(fetched 2026-11-25 22:26:50 UTC)` → `(fetched [time])`: the JWKS fetch uses the real clock.
fn scrub_fetched(text: &str) -> String {
    text.lines()
        .map(|line| match (line.find("(fetched "), line.find(" UTC)")) {
            (Some(start), Some(end)) if start < end => format!(
                "{}(fetched [time]){}",
                &line[..start],
                &line[end + " UTC)".len()..]
            ),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `(12 ms)` → `([n] ms)`: the only part of doctor's text that changes between runs.
fn scrub_millis(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(end) = rest.find(" ms)") {
        let head = &rest[..end];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(&head[..head.len() - digits]);
        out.push_str("[n] ms)");
        rest = &rest[end + " ms)".len()..];
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn report_is_markdown_without_secret_or_raw_token() {
    let demo = start_demo().await;
    let dir = tempfile::tempdir().unwrap();
    for (scenario, failing) in [("healthy", false), ("no-consent", true)] {
        let app = demo.app(scenario).unwrap();
        let report = dir.path().join(format!("{scenario}.md"));
        let run = run_json(doctor(
            &demo,
            app,
            With::Secret,
            &["--report", report.to_str().unwrap()],
        ));
        assert_eq!(run.code, Some(i32::from(failing)), "{}", run.stdout);
        let markdown = std::fs::read_to_string(&report).unwrap();
        assert!(
            markdown.starts_with("# entra-doctor report\n"),
            "{markdown}"
        );
        assert!(markdown.contains("## Steps") && markdown.contains("## Findings"));
        assert!(markdown.contains("| ✓ | token |"), "{markdown}");
        if failing {
            assert!(markdown.contains("`api.forbidden` (error)"), "{markdown}");
            assert!(markdown.contains("- fix: "), "{markdown}");
        } else {
            // Only information: a Graph token's signature, the token version explained.
            assert!(
                markdown.contains("`token.graph-nonce` (info)"),
                "{markdown}"
            );
            assert!(!markdown.contains("(error)"), "{markdown}");
        }
        assert_no_secret(&demo, &markdown);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_id_pasted_as_secret_is_flagged_before_entra_refuses_it() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let mut command = doctor(&demo, app, With::Secret, &[]);
    // The portal's Secret ID column of the app's own secret.
    command.env(
        "AZURE_CLIENT_SECRET",
        "e82aadd4-c697-4343-b022-2c59d85a1a9b",
    );
    let run = run_json(command);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let ids = finding_ids(&run.json);
    assert_eq!(
        ids.first().map(String::as_str),
        Some("AADSTS7000215"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"credential.secret-looks-like-id".to_owned()),
        "{ids:?}"
    );
    assert!(!run.stdout.contains("e82aadd4-c697-4343-b022-2c59d85a1a9b"));
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credential_and_unreachable_authority() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let mut command = doctor(&demo, app, With::Secret, &[]);
    command.env_remove("AZURE_CLIENT_SECRET");
    let run = run_json(command);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(
        finding_ids(&run.json).first().map(String::as_str),
        Some("credential.missing")
    );
    assert_eq!(
        steps(&run.json),
        pairs(&[
            ("preflight", "failed"),
            ("token", "skipped"),
            ("decode", "skipped"),
            ("verify", "skipped"),
            ("probe", "skipped"),
            ("consent", "skipped")
        ])
    );

    // Nothing listens on port 1 of loopback.
    let mut command = real_clock_binary();
    command
        .args([
            "doctor",
            "--authority-host",
            "http://127.0.0.1:1",
            "--tenant",
            demo.tenant_id(),
            "--client-id",
            app.client_id.as_str(),
            "--scope",
            app.scope.as_str(),
            "--connect-timeout",
            "2",
        ])
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose());
    let run = run_json(command);
    assert_eq!(run.code, Some(3), "{}", run.stdout);
    assert_eq!(
        finding_ids(&run.json).first().map(String::as_str),
        Some("network.unreachable")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn common_tenant_is_refused_before_sending() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let mut command = real_clock_binary();
    command
        .args([
            "doctor",
            "--authority-host",
            demo.authority_host(),
            "--tenant",
            "common",
            "--client-id",
            app.client_id.as_str(),
            "--scope",
            app.scope.as_str(),
        ])
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose());
    let run = run_json(command);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert_eq!(
        finding_ids(&run.json).first().map(String::as_str),
        Some("tenant.not-allowed")
    );
}

/// A real token from the demo tenant for a scenario's app, with its secret.
async fn token_for(demo: &RunningDemo, scenario: &str) -> String {
    let app = demo.app(scenario).unwrap();
    let request = TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(demo.authority_host()).unwrap(),
            Tenant::parse(demo.tenant_id()).unwrap(),
        ),
        token_endpoint: None,
        client_id: app.client_id.clone(),
        scopes: ScopeSet::parse(&[app.scope.as_str()]).unwrap(),
        credential: Credential::Secret(Secret::new(app.secret.as_ref().unwrap().expose())),
        claims: None,
    };
    TokenClient::new(ClientOptions::default())
        .unwrap()
        .acquire(&request, Utc::now())
        .await
        .unwrap()
        .access_token
        .expose()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_with_a_no_roles_token_is_forbidden() {
    let demo = start_demo().await;
    let app = demo.app("no-consent").unwrap();
    let token = token_for(&demo, "no-consent").await;
    let mut command = real_clock_binary();
    command
        .args(["probe", "--url", &app.probe_url, "--token", "-"])
        .write_stdin(format!("Bearer {token}\n"));
    let run = run_json(command);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.json["response"]["status"], 403);
    let ids = finding_ids(&run.json);
    assert_eq!(
        ids.first().map(String::as_str),
        Some("api.forbidden"),
        "{ids:?}"
    );
    assert!(ids.contains(&"token.no-roles".to_owned()), "{ids:?}");
    let forbidden = run.json["findings"][0].to_string();
    assert!(forbidden.contains("token roles: none"), "{forbidden}");
    assert!(
        !run.stdout.contains(&token),
        "the raw token is never printed"
    );

    // The healthy app's token passes the same probe.
    let healthy = demo.app("healthy").unwrap();
    let token = token_for(&demo, "healthy").await;
    let mut command = real_clock_binary();
    command
        .args(["probe", "--url", &healthy.probe_url, "--token", "-"])
        .write_stdin(token);
    let run = run_json(command);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.json["response"]["status"], 200);
}
