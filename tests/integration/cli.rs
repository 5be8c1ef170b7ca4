//! The CLI as an operator runs it: against wiremock on loopback, with snapshots of its output.

use assert_cmd::Command;
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assert_cli_snapshot;
use crate::support::{
    CANARY_PFX_PASSWORD, CLIENT_ID, NOW_RFC3339, TENANT_ID, fixture, token_body, v1_graph_token,
    v2_api_token,
};

/// The binary with a clean environment and a fixed clock.
pub fn entra_doctor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command.env_clear().env("ENTRA_DOCTOR_NOW", NOW_RFC3339);
    command
}

pub fn token_args(server: &MockServer) -> Vec<String> {
    [
        "token",
        "--tenant",
        TENANT_ID,
        "--client-id",
        CLIENT_ID,
        "--scope",
        "https://graph.microsoft.com/.default",
        "--authority-host",
        &server.uri(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

pub async fn token_server(expected_calls: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("cli"), 3599)),
        )
        .expect(expected_calls)
        .mount(&server)
        .await;
    server
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn decode_v1_graph_token() {
    let output = entra_doctor()
        .args(["decode", &v1_graph_token("uti-1")])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_cli_snapshot!("decode_v1_graph_token", stdout(&output));
}

#[test]
fn decode_v2_token_without_roles_from_stdin() {
    let output = entra_doctor()
        .arg("decode")
        .write_stdin(format!("Bearer {}\n", v2_api_token()))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_cli_snapshot!("decode_v2_token_without_roles", stdout(&output));
}

#[test]
fn decode_json_is_one_document() {
    let output = entra_doctor()
        .args(["decode", "-o", "json", &v1_graph_token("u")])
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["summary"]["version"], "1.0");
    assert_eq!(document["summary"]["client_id"], CLIENT_ID);
    assert_eq!(document["summary"]["has_nonce"], true);
    assert_eq!(document["summary"]["expires"]["relative"], "in 1 h");
    assert_eq!(
        document["claims"]["roles"],
        serde_json::json!(["User.Read.All", "Group.Read.All"])
    );
}

#[test]
fn decode_refuses_what_is_not_a_jwt() {
    for (input, message) in [
        ("EwBwA8l6BAAUkj1", "opaque token"),
        ("a.b.c.d.e", "encrypted token"),
        ("a.b", "wrong number of segments: found 2"),
        ("", "no token given"),
    ] {
        let output = entra_doctor()
            .arg("decode")
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{input}");
        assert!(
            stderr(&output).contains(message),
            "{input}: {}",
            stderr(&output)
        );
    }
    let output = entra_doctor()
        .args(["decode", "-o", "json", "a.b"])
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["error"]["kind"], "input");
    assert_eq!(document["error"]["exit_code"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_with_secret_from_the_environment() {
    let server = token_server(1).await;
    let output = entra_doctor()
        .args(token_args(&server))
        .env("AZURE_CLIENT_SECRET", "a-secret")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_cli_snapshot!("token_with_secret", stdout(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn token_raw_prints_the_token_alone() {
    let server = token_server(1).await;
    let output = entra_doctor()
        .args(token_args(&server))
        .args(["--raw", "--secret-stdin"])
        .write_stdin("a-secret\n")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("{}\n", v1_graph_token("cli")));
    let form = crate::support::form_of(&server.received_requests().await.unwrap()[0]);
    assert_eq!(
        form["client_secret"], "a-secret",
        "the newline from echo is trimmed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_with_pfx_in_json() {
    let server = token_server(1).await;
    let output = entra_doctor()
        .args(token_args(&server))
        .args(["-o", "json", "--certificate"])
        .arg(fixture("daemon.pfx"))
        .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", CANARY_PFX_PASSWORD)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["credential"]["kind"], "certificate");
    assert_eq!(
        document["credential"]["certificate"]["thumbprint_sha1"],
        "44BD312F294398460D21DFD7BFA3F8B14E7D8303"
    );
    assert_eq!(document["cache"]["hit"], false);
    assert_eq!(document["response"]["expires_in"], 3599);
    assert_eq!(
        document["token"]["summary"]["roles"],
        serde_json::json!(["User.Read.All", "Group.Read.All"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn persisted_cache_serves_until_force_refresh() {
    let server = token_server(2).await;
    let dir = tempfile::tempdir().unwrap();
    let cache_file = dir.path().join("tokens.json");
    let run = |extra: &[&str]| {
        entra_doctor()
            .args(token_args(&server))
            .args(["-o", "json", "--persist-cache", "--cache-file"])
            .arg(&cache_file)
            .args(extra)
            .env("AZURE_CLIENT_SECRET", "a-secret")
            .output()
            .unwrap()
    };
    let first: Value = serde_json::from_slice(&run(&[]).stdout).unwrap();
    let second: Value = serde_json::from_slice(&run(&[]).stdout).unwrap();
    let forced: Value = serde_json::from_slice(&run(&["--force-refresh"]).stdout).unwrap();
    assert_eq!(
        (
            first["cache"]["hit"].clone(),
            first["cache"]["miss"].clone()
        ),
        (Value::Bool(false), "absent".into())
    );
    assert_eq!(second["cache"]["hit"], true);
    assert_eq!(forced["cache"]["miss"], "force-refresh");
    let listed = entra_doctor()
        .args(["cache", "list", "--cache-file"])
        .arg(&cache_file)
        .output()
        .unwrap();
    assert!(listed.status.success());
    let text = stdout(&listed);
    assert!(
        !text.contains(&v1_graph_token("cli")) && !text.contains("eyJ"),
        "{text}"
    );
    assert_cli_snapshot!("cache_list", text);
    let json_list = entra_doctor()
        .args(["cache", "list", "-o", "json", "--cache-file"])
        .arg(&cache_file)
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&json_list.stdout).unwrap();
    assert_eq!(
        document["entries"][0]["resource"],
        "https://graph.microsoft.com"
    );
    assert_eq!(document["entries"][0]["source"], "secret");
    assert_eq!(document["entries"][0]["time_left_seconds"], 3599);
    let cleared = entra_doctor()
        .args(["cache", "clear", "--cache-file"])
        .arg(&cache_file)
        .output()
        .unwrap();
    assert_eq!(
        stdout(&cleared),
        format!("Removed 1 cached token(s) from {}\n", cache_file.display())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn entra_refusal_exits_1_with_the_error_in_json() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_scope",
            "error_description": "AADSTS1002012: The provided value for scope User.Read is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            "error_codes": [1_002_012],
        })))
        .mount(&server)
        .await;
    let mut args = token_args(&server);
    args[6] = "User.Read".into();
    let output = entra_doctor()
        .args(&args)
        .arg("-o")
        .arg("json")
        .env("AZURE_CLIENT_SECRET", "s")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["error"]["aadsts"], 1_002_012);
    assert_eq!(document["error"]["entra"]["status"], 400);
    let text = entra_doctor()
        .args(&args)
        .env("AZURE_CLIENT_SECRET", "s")
        .output()
        .unwrap();
    assert_cli_snapshot!("token_delegated_scope_refused", stderr(&text));
}

#[test]
fn connection_refused_exits_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    drop(listener);
    let output = entra_doctor()
        .args([
            "token",
            "--tenant",
            TENANT_ID,
            "--client-id",
            CLIENT_ID,
            "--scope",
            "api://x/.default",
            "--authority-host",
            &host,
        ])
        .env("AZURE_CLIENT_SECRET", "s")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("connection refused by"),
        "{}",
        stderr(&output)
    );
}

/// Every flag given something obviously wrong: exit 2 and a message that names the problem.
#[test]
fn wrong_input_to_every_flag() {
    let base = [
        "token",
        "--tenant",
        TENANT_ID,
        "--client-id",
        CLIENT_ID,
        "--scope",
        "api://x/.default",
    ];
    let with = |replace: &[(usize, &str)], extra: &[&str]| {
        let mut args: Vec<String> = base.iter().map(ToString::to_string).collect();
        for (index, value) in replace {
            args[*index] = (*value).to_string();
        }
        args.extend(extra.iter().map(ToString::to_string));
        args
    };
    let pem = fixture("daemon-pkcs8.pem").display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with(&[(2, "common")], &[]), "names no single tenant"),
        (with(&[(2, "{tenant}")], &[]), "placeholder"),
        (with(&[(4, "my-app")], &[]), "client) ids are GUIDs"),
        (with(&[(6, "")], &[]), "it is empty"),
        (
            with(&[], &["--scope", "https://vault.azure.net/.default"]),
            "name two resources",
        ),
        (
            with(&[], &["--authority-host", "http://example.com"]),
            "refusing to send credentials over plain http",
        ),
        (
            with(&[], &["--authority-host", "login.microsoftonline.com"]),
            "expected a URL",
        ),
        (with(&[], &["--cloud", "mars"]), "invalid value 'mars'"),
        (
            with(
                &[],
                &["--cloud", "usgov", "--authority-host", "https://x.y"],
            ),
            "cannot be used with",
        ),
        (
            with(&[], &["--token-endpoint", "http://example.com/token"]),
            "plain http",
        ),
        (
            with(&[], &["--certificate", "/no/such.pem"]),
            "cannot read /no/such.pem",
        ),
        (with(&[], &["--certificate", "/tmp"]), "is a directory"),
        (
            with(&[], &["--certificate", &pem, "--secret-stdin"]),
            "choose one of",
        ),
        (with(&[], &["--private-key", &pem]), "--certificate"),
        (
            with(&[], &["--assertion-alg", "HS256"]),
            "invalid value 'HS256'",
        ),
        (with(&[], &["--connect-timeout", "0"]), "not in 1..=600"),
        (with(&[], &["--timeout", "soon"]), "invalid digit"),
        (
            with(&[], &["--assertion-file", "/no/such/token"]),
            "cannot read /no/such/token",
        ),
        (with(&[], &[]), "missing a credential"),
    ];
    for (args, expected) in cases {
        let output = entra_doctor().args(&args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = entra_doctor()
        .args(with(&[], &["--secret-stdin"]))
        .write_stdin("\n")
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("empty (Entra ID would answer AADSTS7000218)"),
        "{}",
        stderr(&output)
    );
    let bad_now = entra_doctor()
        .args(["decode", "x.y.z"])
        .env("ENTRA_DOCTOR_NOW", "yesterday")
        .output()
        .unwrap();
    assert!(stderr(&bad_now).contains("is not an RFC 3339 time"));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_certificate_warns_but_still_asks() {
    let server = token_server(1).await;
    let output = entra_doctor()
        .args(token_args(&server))
        .arg("--certificate")
        .arg(fixture("expired.pem"))
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("expired 5 y"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_id_pasted_as_secret_is_flagged() {
    let server = token_server(1).await;
    let output = entra_doctor()
        .args(token_args(&server))
        .env(
            "AZURE_CLIENT_SECRET",
            "0f0e0d0c-0b0a-4009-8008-070605040302",
        )
        .output()
        .unwrap();
    assert!(
        stderr(&output).contains("looks like a secret ID, not its value"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_tui_refuses_a_pipe_with_advice() {
    let output = entra_doctor().write_stdin("").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("needs an interactive terminal"),
        "{}",
        stderr(&output)
    );
    let demo = entra_doctor().arg("demo").write_stdin("").output().unwrap();
    assert_eq!(demo.status.code(), Some(2), "{}", stderr(&demo));
}
