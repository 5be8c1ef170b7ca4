//! Issue 14, hostile numbers: a token endpoint that answers `expires_in`, `ext_expires_in` or
//! `refresh_in` of 10^13 or more (or negative, a float, a word, `u64::MAX`) panicked the tool
//! ("DateTime + TimeDelta overflowed", exit 101), and in `doctor --fleet` took the healthy apps
//! down with it. Now each is a named error (exit 3) and one hostile app is only its own result.

use assert_cmd::Command;
use chrono::Utc;
use entra_doctor::Error;
use entra_doctor::auth::{ClientOptions, TokenClient};
use entra_doctor::demo::{self, DemoOptions, TenantModel};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CLIENT_ID, TENANT_ID, v1_graph_token};
use crate::token_faults::request_to;

/// Each field with each absurd value, as JSON.
fn hostile_bodies() -> Vec<(&'static str, Value)> {
    let absurd = [
        json!(10_000_000_000_000_u64),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(-1),
        json!(3599.5),
        json!(1e300),
        json!("soon"),
        json!("-3599"),
        json!("10000000000000"),
    ];
    let mut bodies = Vec::new();
    for field in ["expires_in", "ext_expires_in", "refresh_in"] {
        for value in &absurd {
            let mut body = json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": v1_graph_token("hostile"),
            });
            body[field] = value.clone();
            bodies.push((field, body));
        }
    }
    bodies
}

async fn endpoint(body: &Value) -> MockServer {
    let server = MockServer::start().await;
    answer_with(&server, body).await;
    server
}

/// From now on `server` answers every token request with `body`.
async fn answer_with(server: &MockServer, body: &Value) {
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Runs the binary off the async workers, which keep serving the mock meanwhile.
async fn run(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_absurd_lifetime_is_a_named_error_from_the_client() {
    let client = TokenClient::new(ClientOptions::default()).unwrap();
    let server = MockServer::start().await;
    for (field, body) in hostile_bodies() {
        answer_with(&server, &body).await;
        let error = client
            .acquire(&request_to(&server.uri()), Utc::now())
            .await
            .unwrap_err();
        match &error {
            Error::ImplausibleLifetime { field: named, .. } => assert_eq!(*named, field, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
        assert_eq!(error.failure().exit_code(), 3);
        let message = error.to_string();
        assert!(message.contains(&format!("sent {field} = ")), "{message}");
        assert!(
            message.contains("check what the URL points at"),
            "{message}"
        );
    }
}

fn binary(server: &MockServer, command: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    cmd.env_clear()
        .env("AZURE_CLIENT_SECRET", "x")
        .args([command, "--tenant", TENANT_ID, "--client-id", CLIENT_ID])
        .args(["--scope", "https://graph.microsoft.com/.default"])
        .args(["--authority-host", &server.uri()]);
    cmd
}

/// `token` and `doctor` end with the error (exit 3), never a panic (exit 101).
#[tokio::test(flavor = "multi_thread")]
async fn token_and_doctor_explain_an_absurd_lifetime_and_exit_3() {
    // Every value for `token`; `doctor` (slower: a whole checklist) with one of each kind.
    let server = MockServer::start().await;
    for (index, (field, body)) in hostile_bodies().into_iter().enumerate() {
        answer_with(&server, &body).await;
        let output = run(binary(&server, "token")).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{body}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.contains(&format!("sent {field} = ")), "{stderr}");
        if index % 3 != 0 {
            continue;
        }
        let mut doctor = binary(&server, "doctor");
        doctor.args(["-o", "json"]);
        let output = run(doctor).await;
        assert_eq!(output.status.code(), Some(3), "{body}");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["ok"], false);
        assert_eq!(
            report["findings"][0]["id"], "network.implausible-lifetime",
            "{report:#}"
        );
        let token_step = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "token")
            .unwrap();
        assert_eq!(token_step["outcome"], "failed", "{report:#}");
    }
}

/// A fleet of three, one of them answered by a hostile token endpoint: the other two complete
/// with their own results, the hostile one is its own failure, and the run exits with it.
#[tokio::test(flavor = "multi_thread")]
async fn one_hostile_app_in_a_fleet_does_not_stop_the_others() {
    let demo = demo::start(DemoOptions::new(TenantModel::builtin().unwrap()))
        .await
        .unwrap();
    let healthy = demo.app("healthy").unwrap();
    let hostile = endpoint(&hostile_bodies()[0].1).await;
    let entry = |name: &str, host: &str| {
        format!(
            "[[apps]]\nname = \"{name}\"\ntenant = \"{}\"\nclient_id = \"{}\"\nscopes = [\"{}\"]\n\
             probe = \"{}\"\nauthority_host = \"{host}\"\nsecret_env = \"HEALTHY_SECRET\"\n\n",
            demo.tenant_id(),
            healthy.client_id,
            healthy.scope,
            healthy.probe_url
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    let text = [
        entry("first", demo.authority_host()),
        entry("hostile", &hostile.uri()),
        entry("third", demo.authority_host()),
    ]
    .concat();
    std::fs::write(&file, text).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command
        .env_clear()
        .env("HEALTHY_SECRET", healthy.secret.as_ref().unwrap().expose())
        .args(["doctor", "--fleet"])
        .arg(&file)
        .args(["-o", "json"]);
    let output = run(command).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    // Lines come as apps finish; `index` gives the file order back.
    let mut lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    lines.sort_by_key(|line| line["index"].as_u64());
    let lines: Vec<(String, u64, bool)> = lines
        .iter()
        .map(|line| {
            (
                line["app"].as_str().unwrap().to_owned(),
                line["exit_code"].as_u64().unwrap(),
                line["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("first".to_owned(), 0, true),
            ("hostile".to_owned(), 3, false),
            ("third".to_owned(), 0, true),
        ],
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(stdout.contains("network.implausible-lifetime"), "{stdout}");
}
