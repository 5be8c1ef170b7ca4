//! Issue 15, `entra-doctor federation`: the two lessons of the demo tenant set side by side with
//! the app's credentials (snapshots), every comparison finding through the CLI, Graph refusals
//! said as findings, and the Graph read against wiremock (flexible credentials re-read from
//! beta, a missing app).

use entra_doctor::demo::{RunningDemo, TenantChange};
use entra_doctor::federation::graph;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assert_cli_snapshot;
use crate::support::{json_finding_ids, start_demo};

const EXCHANGE: &str = "api://AzureADTokenExchange";

/// Runs `federation` for a scenario's app with `token_file`, reading Graph as `admin`.
fn run(
    demo: &RunningDemo,
    scenario: &str,
    token_file: &std::path::Path,
    admin: Option<&str>,
    json: bool,
) -> (Option<i32>, String) {
    let app = demo.app(scenario).unwrap();
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command
        .env_clear()
        .env("AZURE_FEDERATED_TOKEN_FILE", token_file)
        .args(["federation", "--authority-host", demo.authority_host()])
        .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id]);
    if let Some(admin) = admin {
        let admin_app = demo.app(admin).unwrap();
        command
            .args(["--admin-client-id", &admin_app.client_id])
            .env(
                "ENTRA_DOCTOR_ADMIN_SECRET",
                admin_app.secret.as_ref().unwrap().expose(),
            );
    }
    if json {
        command.args(["-o", "json"]);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let token = std::fs::read_to_string(token_file).unwrap();
    assert!(!stdout.contains(token.trim()), "the federated token leaked");
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(!stdout.contains(secret.expose()), "a secret leaked");
        }
    }
    (output.status.code(), stdout)
}

/// The expiry line depends on the clock.
fn steady(text: &str) -> String {
    regex::Regex::new(r"expires   \S+ \S+ UTC \([^)]*\)")
        .unwrap()
        .replace_all(text, "expires   [time]")
        .into_owned()
}

fn handout(demo: &RunningDemo, scenario: &str) -> std::path::PathBuf {
    demo.app(scenario).unwrap().assertion_file.clone().unwrap()
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_token_beside_the_branch_credential() {
    let demo = start_demo().await;
    let file = handout(&demo, "federated-subject-mismatch");
    let (code, text) = run(
        &demo,
        "federated-subject-mismatch",
        &file,
        Some("healthy"),
        false,
    );
    assert_eq!(code, Some(1));
    assert_cli_snapshot!("federation_subject_mismatch", steady(&text));
    let (_, out) = run(
        &demo,
        "federated-subject-mismatch",
        &file,
        Some("healthy"),
        true,
    );
    let json = json_of(&out);
    assert_eq!(json_finding_ids(&json), ["federation.subject-mismatch"]);
    assert_eq!(
        json["token"]["subject_shape"]["kind"],
        "github-pull-request"
    );
    assert_eq!(json["token"]["issuer_kind"], "github-actions");
    assert_eq!(json["credentials"][0]["subject"]["is_match"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aks_issuer_with_its_trailing_slash_beside_the_credential_without() {
    let demo = start_demo().await;
    let file = handout(&demo, "federated-issuer-slash");
    let (code, text) = run(
        &demo,
        "federated-issuer-slash",
        &file,
        Some("healthy"),
        false,
    );
    assert_eq!(code, Some(1));
    assert_cli_snapshot!("federation_issuer_slash", steady(&text));
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_fix_the_credential_trusts_the_token() {
    let demo = start_demo().await;
    let app = demo.app("federated-issuer-slash").unwrap();
    demo.control()
        .apply(&TenantChange::AddFederatedCredential {
            client_id: app.client_id.clone(),
            name: "orders-api".into(),
            issuer: format!("{}/issuers/aks/contoso-cluster/", demo.authority_host()),
            subject: "system:serviceaccount:orders:orders-api".into(),
            audiences: vec![EXCHANGE.into()],
        })
        .unwrap();
    let file = handout(&demo, "federated-issuer-slash");
    // No admin needed any more: the app's own token reads Graph? It has no Application.Read.All,
    // so Graph refuses, and that is a finding, not a failure.
    let (code, out) = run(&demo, "federated-issuer-slash", &file, None, true);
    assert_eq!(
        json_finding_ids(&json_of(&out)),
        ["federation.graph-denied"]
    );
    assert_eq!(code, Some(1));
    let (code, out) = run(
        &demo,
        "federated-issuer-slash",
        &file,
        Some("healthy"),
        true,
    );
    assert_eq!(json_finding_ids(&json_of(&out)), ["federation.match"]);
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_admin_the_failed_exchange_and_the_missing_comparison_are_named() {
    let demo = start_demo().await;
    let file = handout(&demo, "federated-subject-mismatch");
    let (code, out) = run(&demo, "federated-subject-mismatch", &file, None, true);
    assert_eq!(code, Some(1));
    assert_eq!(
        json_finding_ids(&json_of(&out)),
        ["AADSTS700213", "federation.not-compared"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audience_case_registration_and_graph_findings_through_the_cli() {
    let demo = start_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str, &[&str]); 4] = [
        (
            "federated-subject-mismatch",
            "repo:contoso/inventory-sync:ref:refs/heads/main",
            "https://github.com/contoso",
            &["federation.audience", "federation.audience-mismatch"],
        ),
        (
            "federated-subject-mismatch",
            "repo:Contoso/inventory-sync:ref:refs/heads/main",
            EXCHANGE,
            &["federation.subject-case"],
        ),
        (
            "healthy",
            "repo:contoso/inventory-sync:ref:refs/heads/main",
            EXCHANGE,
            &["federation.no-credentials"],
        ),
        (
            "federated-subject-mismatch",
            "octo-org/octo-repo@main",
            EXCHANGE,
            &["federation.subject-mismatch", "federation.subject-shape"],
        ),
    ];
    for (scenario, sub, audience, expected) in cases {
        let file = mint_file(&demo, dir.path(), sub, audience).await;
        let (code, out) = run(&demo, scenario, &file, Some("healthy"), true);
        assert_eq!(
            json_finding_ids(&json_of(&out)),
            expected,
            "{sub} {audience}"
        );
        assert_eq!(code, Some(1));
    }
    // Graph refuses a reader without Application.Read.All.
    let file = handout(&demo, "federated-subject-mismatch");
    let (_, out) = run(
        &demo,
        "federated-subject-mismatch",
        &file,
        Some("no-consent"),
        true,
    );
    assert_eq!(
        json_finding_ids(&json_of(&out)),
        ["federation.graph-denied"]
    );
}

async fn mint_file(
    demo: &RunningDemo,
    dir: &std::path::Path,
    sub: &str,
    audience: &str,
) -> std::path::PathBuf {
    let body: Value = reqwest::Client::new()
        .get(format!(
            "{}/issuers/github-actions/token",
            demo.authority_host()
        ))
        .query(&[("sub", sub), ("audience", audience)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = dir.join(format!("{}.jwt", uuid::Uuid::new_v4()));
    std::fs::write(&path, body["value"].as_str().unwrap()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_no_token_and_no_file_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("token");
    std::fs::write(&junk, "not a token\n").unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
        .env_clear()
        .args(["federation", "--assertion-file"])
        .arg(&junk)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(json_finding_ids(&json), ["federation.not-a-jwt"]);
    let missing = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
        .env_clear()
        .args(["federation"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("AZURE_FEDERATED_TOKEN_FILE"));
}

/// A token signed with the demo GitHub issuer's key (the lints need no server).
fn signed(claims: &Value) -> String {
    let asset = |name: &str| {
        std::fs::read_to_string(format!("{}/assets/demo/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
    };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(asset("github-actions-issuer.key.pem").as_bytes())
            .unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[test]
fn the_token_alone_is_linted_without_graph() {
    let now = chrono::Utc::now().timestamp();
    let gh = "https://token.actions.githubusercontent.com";
    let sub = "repo:contoso/inventory-sync:ref:refs/heads/main";
    let cases: [(Value, &[&str]); 5] = [
        (
            json!({"iss": gh, "sub": sub, "aud": EXCHANGE, "exp": now - 60}),
            &["federation.expired"],
        ),
        (
            json!({"iss": gh, "sub": sub, "aud": EXCHANGE, "exp": now + 30}),
            &["federation.expires-soon"],
        ),
        (
            json!({"iss": gh, "sub": sub, "aud": EXCHANGE, "nbf": now + 3600, "exp": now + 7200}),
            &["federation.not-yet-valid"],
        ),
        (
            json!({"sub": sub, "exp": now + 600}),
            &["federation.missing-claim"],
        ),
        (
            json!({"iss": "https://login.microsoftonline.com/4fd3b6a2-9c1e-4f7b-8a5d-2e6c0b9d7a31/v2.0",
                   "sub": "0b1c8f4e", "aud": EXCHANGE, "exp": now + 600}),
            &["federation.entra-issued"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (claims, expected) in cases {
        let file = dir.path().join("token");
        std::fs::write(&file, signed(&claims)).unwrap();
        let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
            .env_clear()
            .env("AZURE_FEDERATED_TOKEN_FILE", &file)
            .args(["federation", "--no-graph", "-o", "json"])
            .output()
            .unwrap();
        let json = json_of(&String::from_utf8(output.stdout).unwrap());
        assert_eq!(json_finding_ids(&json), expected, "{claims}");
        assert_eq!(output.status.code(), Some(1));
    }
    // A national cloud expects its own audience.
    let file = dir.path().join("token");
    std::fs::write(
        &file,
        signed(&json!({"iss": gh, "sub": sub, "aud": EXCHANGE, "exp": now + 600})),
    )
    .unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
        .env_clear()
        .args([
            "federation",
            "--no-graph",
            "--cloud",
            "usgov",
            "-o",
            "json",
            "--assertion-file",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let json = json_of(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(json_finding_ids(&json), ["federation.audience"]);
}

#[tokio::test]
async fn graph_reads_flexible_credentials_from_beta_and_names_a_missing_app() {
    let server = MockServer::start().await;
    let app = "bc142390-0e9f-4cb0-bab3-92d64fca9c9c";
    let list = |with_expression: bool| {
        let mut item = json!({"id": "1", "name": "branches",
            "issuer": "https://token.actions.githubusercontent.com",
            "subject": null, "audiences": [EXCHANGE]});
        if with_expression {
            item["claimsMatchingExpression"] = json!({
                "value": "claims['sub'] matches 'repo:contoso/inventory-sync:ref:refs/heads/*'",
                "languageVersion": 1});
        }
        json!({"value": [item]})
    };
    Mock::given(method("GET"))
        .and(path(format!(
            "/v1.0/applications(appId='{app}')/federatedIdentityCredentials"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(false)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/beta/applications(appId='{app}')/federatedIdentityCredentials"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(true)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "Request_ResourceNotFound",
            "message": "Resource 'x' does not exist or one of its queried reference-property objects are not present."}})))
        .mount(&server)
        .await;
    let client =
        entra_doctor::auth::TokenClient::new(entra_doctor::auth::ClientOptions::default()).unwrap();
    let token = entra_doctor::Secret::new("graph-token");
    let read = graph::read(&client, &server.uri(), &token, app)
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(
        read[0]
            .claims_matching_expression
            .as_ref()
            .map(|e| e.value.as_str()),
        Some("claims['sub'] matches 'repo:contoso/inventory-sync:ref:refs/heads/*'")
    );
    let missing = graph::read(
        &client,
        &server.uri(),
        &token,
        "00000000-0000-0000-0000-000000000002",
    )
    .await;
    assert!(matches!(
        missing,
        Err(entra_doctor::consent::ReadFailure::NotFound { .. })
    ));
    let smuggled = graph::read(&client, &server.uri(), &token, "x')/../../users?").await;
    assert!(smuggled.is_err());
}

#[test]
fn hostile_claims_are_printed_escaped() {
    let now = chrono::Utc::now().timestamp();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let claims = json!({"iss": "https://token.actions.githubusercontent.com\u{1b}[2J",
        "sub": "repo:o/r:pull_request\u{202e}txt.exe\u{7}", "aud": EXCHANGE, "exp": now + 600});
    std::fs::write(&file, signed(&claims)).unwrap();
    for format in ["text", "json"] {
        let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
            .env_clear()
            .env("AZURE_FEDERATED_TOKEN_FILE", &file)
            .args(["federation", "--no-graph", "-o", format])
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        for hidden in ['\u{1b}', '\u{202e}', '\u{7}'] {
            assert!(
                !stdout.contains(hidden),
                "{format}: {hidden:?} printed raw: {stdout}"
            );
        }
        assert!(stdout.contains("txt.exe"), "{format}: {stdout}");
    }
}
