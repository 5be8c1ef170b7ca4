//! Issue 17, sign-in logs: `entra-doctor signins` against the demo tenant's log of its own
//! token requests (a scenario's failure by correlation id, paging through a 429, the missing
//! permission, nothing logged yet), and against wiremock for hostile answers (a next link to
//! another host, escape codes in a failure reason, a huge page, an absurd Retry-After, a
//! tenant without P1/P2).

use entra_doctor::demo::RunningDemo;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::cli::entra_doctor;
use crate::support::{
    CLIENT_ID, TENANT_ID, json_finding_ids, real_clock_binary, start_demo, token_body,
    v1_graph_token,
};

const CORRELATION: &str = "0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90";

/// A token request to the demo with a chosen `client-request-id` (Entra ID's correlation id).
async fn request_token(demo: &RunningDemo, scenario: &str, correlation: &str) -> u16 {
    let app = demo.app(scenario).unwrap();
    reqwest::Client::new()
        .post(demo.token_endpoint())
        .header("client-request-id", correlation)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.secret.as_ref().unwrap().expose()),
            ("scope", app.scope.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `signins` against the demo, read as `reader`'s app.
fn signins(demo: &RunningDemo, reader: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let app = demo.app(reader).unwrap();
    let output = real_clock_binary()
        .args(["signins", "--authority-host", demo.authority_host()])
        .args(["--tenant", demo.tenant_id()])
        .args(["--client-id", &app.client_id])
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(!stdout.contains(secret.expose()), "secret leaked");
        }
    }
    assert!(!stdout.contains("eyJ0eX"), "raw token leaked");
    (
        output.status.code(),
        stdout,
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_failure_is_found_by_its_correlation_id() {
    let demo = start_demo().await;
    assert_eq!(
        request_token(&demo, "expired-secret", CORRELATION).await,
        401
    );
    let (code, stdout, stderr) = signins(&demo, "healthy", &["--correlation-id", CORRELATION]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    crate::assert_cli_snapshot!(
        "signins_expired_secret_by_correlation_id",
        regex_time(&stdout)
    );
    let (_, stdout, _) = signins(
        &demo,
        "healthy",
        &["--correlation-id", CORRELATION, "-o", "json"],
    );
    let lines = lines(&stdout);
    assert_eq!(lines.len(), 2, "{stdout}");
    let entry = &lines[0]["signin"];
    assert_eq!(entry["status"]["errorCode"], 7_000_222);
    assert_eq!(entry["clientCredentialType"], "clientSecret");
    assert_eq!(
        entry["servicePrincipalCredentialKeyId"],
        "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07"
    );
    assert_eq!(entry["resourceDisplayName"], "Microsoft Graph");
    assert_eq!(entry["conditionalAccessStatus"], "notApplied");
    assert_eq!(json_finding_ids(&lines[1]), ["AADSTS7000222"]);
}

/// The sign-in's time is the only thing that changes between runs.
fn regex_time(text: &str) -> String {
    regex::Regex::new(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
        .unwrap()
        .replace_all(text, "[time]")
        .into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_list_pages_through_the_demo_s_429() {
    let demo = start_demo().await;
    let healthy = demo.app("healthy").unwrap().client_id.clone();
    for i in 0..55 {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        assert_eq!(request_token(&demo, "healthy", &id).await, 200);
    }
    let (code, stdout, stderr) = signins(
        &demo,
        "healthy",
        &["--app", &healthy, "--top", "55", "-o", "json"],
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let lines = lines(&stdout);
    let summary = lines.last().unwrap();
    // Two pages of at most 50; the second was answered 429 once and read after Retry-After.
    assert_eq!(summary["count"], 55, "{summary:#}");
    assert_eq!(json_finding_ids(summary), ["signins.succeeded"]);
    // Newest first, as Graph lists them: the reading app's own token request, then ours.
    assert_eq!(lines[0]["signin"]["appId"], healthy);
    assert_eq!(
        lines[1]["signin"]["correlationId"],
        "00000000-0000-4000-8000-000000000054"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_audit_log_read_all_the_permission_is_named() {
    let demo = start_demo().await;
    let (code, stdout, _) = signins(
        &demo,
        "wrong-scope",
        &["--correlation-id", CORRELATION, "-o", "json"],
    );
    assert_eq!(code, Some(1), "{stdout}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json_finding_ids(&summary), ["signins.permission-missing"]);
    let finding = &summary["findings"][0];
    assert!(
        finding["evidence"][0]
            .as_str()
            .unwrap()
            .contains("Authentication_MSGraphPermissionMissing"),
        "{finding:#}"
    );
    let (_, text, _) = signins(&demo, "wrong-scope", &["--correlation-id", CORRELATION]);
    crate::assert_cli_snapshot!("signins_permission_missing", text);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_logged_says_the_log_lags() {
    let demo = start_demo().await;
    let (code, stdout, _) = signins(&demo, "healthy", &["--correlation-id", CORRELATION]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("signins.none-yet") || stdout.contains("(yet)"),
        "{stdout}"
    );
    assert!(stdout.contains("minutes"), "{stdout}");
}

#[test]
fn a_correlation_id_that_is_no_guid_is_refused_before_any_request() {
    let output = entra_doctor()
        .args(["signins", "--tenant", TENANT_ID, "--client-id", CLIENT_ID])
        .args(["--correlation-id", "x' or appId ne '"])
        .env("AZURE_CLIENT_SECRET", "s")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("is not a GUID"), "{stderr}");
}

/// Graph on wiremock: the token endpoint, and `auditLogs/signIns` answering `page`.
async fn graph(page: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT_ID}/oauth2/v2.0/token")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("g"), 3600)),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/graph/beta/auditLogs/signIns"))
        .respond_with(page)
        .mount(&server)
        .await;
    server
}

fn against(server: &MockServer, extra: &[&str]) -> (Option<i32>, String, String) {
    let output = entra_doctor()
        .args(["signins", "--tenant", TENANT_ID, "--client-id", CLIENT_ID])
        .args(["--authority-host", &server.uri()])
        .args(["--correlation-id", CORRELATION, "--timeout", "20"])
        .env("AZURE_CLIENT_SECRET", "s3cr3t-value-for-the-test")
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_next_link_to_another_host_gets_no_token() {
    let elsewhere = MockServer::start().await;
    let server = graph(ResponseTemplate::new(200).set_body_json(json!({
        "value": [{"correlationId": CORRELATION, "status": {"errorCode": 0}}],
        "@odata.nextLink": format!("{}/graph/beta/auditLogs/signIns?$skiptoken=x", elsewhere.uri()),
    })))
    .await;
    let (code, stdout, stderr) = against(&server, &["-o", "json"]);
    assert_ne!(code, Some(0), "{stdout}{stderr}");
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the other host was called"
    );
    assert!(
        stdout.contains("the token is sent nowhere else"),
        "{stdout}{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn escape_codes_in_a_failure_reason_are_shown_escaped() {
    let server = graph(ResponseTemplate::new(200).set_body_json(json!({"value": [{
        "createdDateTime": "2026-11-25T11:58:00Z",
        "correlationId": CORRELATION,
        "appDisplayName": "evil\u{1b}]0;pwned\u{7}\u{1b}[2J",
        "status": {"errorCode": 7_000_215, "failureReason": "bad\u{1b}[31m red \u{202e}reversed"},
        "clientCredentialType": "clientSecret",
        "appliedConditionalAccessPolicies": [{"displayName": "p\u{1b}[1m", "result": "failure"}],
    }]})))
    .await;
    let (code, stdout, _) = against(&server, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(!stdout.contains('\u{202e}'), "{stdout:?}");
    assert!(!stdout.contains('\u{7}'), "{stdout:?}");
    assert!(
        stdout.contains("Blocked by Conditional Access policy"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_page_is_a_clear_failure_not_a_crash() {
    let padding = "x".repeat(3 * 1024 * 1024);
    let server = graph(ResponseTemplate::new(200).set_body_string(format!(
        "{{\"value\":[{{\"appDisplayName\":\"{padding}\"}}]}}"
    )))
    .await;
    let (code, stdout, stderr) = against(&server, &["-o", "json"]);
    assert!(matches!(code, Some(1..=3)), "{code:?} {stderr}");
    assert!(stdout.len() < 64 * 1024, "{} bytes printed", stdout.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_absurd_retry_after_is_not_slept() {
    let server = graph(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "99999999")
            .set_body_json(
                json!({"error": {"code": "TooManyRequests", "message": "Too many requests"}}),
            ),
    )
    .await;
    let (code, stdout, stderr) = against(&server, &["-o", "json"]);
    assert_ne!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("throttled") || stdout.contains("429"),
        "{stdout}{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_without_p1_or_p2_is_named() {
    // Graph's answer, from microsoftgraph/microsoft-graph-docs-contrib#3033.
    let server = graph(ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "message": "Neither tenant is B2C or tenant doesn't have premium license",
        "innerError": {"date": "2021-09-02T14:32:39", "request-id": "2501535b-2fd7-43e3-87db-c12cbe31fca0", "client-request-id": "2501535b-2fd7-43e3-87db-c12cbe31fca0"},
    }})))
    .await;
    let (code, stdout, _) = against(&server, &["-o", "json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json_finding_ids(&summary), ["signins.tenant-not-premium"]);
}
