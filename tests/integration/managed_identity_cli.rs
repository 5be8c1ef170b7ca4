//! `--managed-identity` end to end through the binary: `token` and `doctor` against the demo's
//! IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST` moves IMDS to the demo on loopback) and against
//! wiremock. The token's own `tid` and `appid` are what the output names; no test connects to
//! 169.254.169.254.

use assert_cmd::Command;
use entra_doctor::demo::{self, DemoOptions, RunningDemo, TenantModel};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assert_cli_snapshot;
use crate::support::{CLIENT_ID, NOW, NOW_RFC3339, TENANT_ID, json_finding_ids, jwt};

const SCENARIO: &str = "managed-identity-not-assigned";
const GRAPH: &str = "https://graph.microsoft.com/.default";
const IMDS_PATH: &str = "/metadata/identity/oauth2/token";

/// The demo, with its orders identity assigned to the VM (as `az vm identity assign` does) or
/// not (the scenario as shipped).
async fn demo_with(assigned: bool) -> (RunningDemo, String) {
    let mut model = TenantModel::builtin().unwrap();
    let id = model.managed_identity(SCENARIO).unwrap().client_id.clone();
    if assigned {
        model
            .identity_host
            .as_mut()
            .unwrap()
            .assigned
            .push(id.clone());
    }
    (demo::start(DemoOptions::new(model)).await.unwrap(), id)
}

/// The binary on "the demo's VM": a clean environment whose IMDS is the demo, and a stray
/// client secret that a managed identity must never use.
fn on_vm(imds: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command
        .env_clear()
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", imds)
        .env("AZURE_CLIENT_SECRET", "stray-secret-never-used");
    command
}

fn stdout_of(command: &mut Command) -> (Option<i32>, String, String) {
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The lines of `token`'s text before the decoded claims: where the token came from.
fn head(text: &str) -> String {
    text.lines()
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| !line.trim_start().starts_with("expires"))
        .flat_map(|line| [line, "\n"])
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn token_from_the_demos_imds_names_its_source_and_the_tokens_own_ids() {
    let (demo, orders) = demo_with(true).await;
    let identity = format!("client-id={orders}");
    let args = ["token", "--managed-identity", &identity, "--scope", GRAPH];
    let (code, json, _) = stdout_of(on_vm(demo.authority_host()).args(args).args(["-o", "json"]));
    assert_eq!(code, Some(0), "{json}");
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["credential"]["kind"], "managed identity");
    assert_eq!(json["credential"]["managed_identity"]["source"], "imds");
    assert_eq!(json["tenant"], demo.tenant_id());
    assert_eq!(json["client_id"], orders.as_str());
    assert_eq!(json["cache"]["miss"], "managed-identity");
    // The token is decoded: the identity's app id, granted its role.
    let claims = json["token"]["claims"].to_string();
    assert!(claims.contains(&orders), "{claims}");
    assert!(claims.contains("User.Read.All"), "{claims}");

    let (code, text, _) = stdout_of(on_vm(demo.authority_host()).args(args));
    assert_eq!(code, Some(0));
    assert!(!text.contains("stray-secret"));
    let head = head(&text).replace(demo.tenant_id(), "[demo tenant]");
    assert_cli_snapshot!("managed_identity_token_demo_imds", head);
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_with_a_managed_identity_passes_and_shows_no_stand_in_id() {
    let (demo, orders) = demo_with(true).await;
    let probe = format!("{}/graph/v1.0/users", demo.authority_host());
    let identity = format!("client-id={orders}");
    let (code, json, stderr) = stdout_of(on_vm(demo.authority_host()).args([
        "doctor",
        "--managed-identity",
        &identity,
        "--scope",
        GRAPH,
        "--authority-host",
        demo.authority_host(),
        "--probe",
        &probe,
        "-o",
        "json",
    ]));
    let json: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(code, Some(0), "{json:#}");
    let steps: Vec<(&str, &str)> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    for (name, outcome) in &steps {
        assert!(
            ["passed", "skipped"].contains(outcome),
            "{name}: {outcome}: {json:#}"
        );
    }
    // A Graph token carries a header nonce: only Graph can check it, by design.
    assert!(steps.contains(&("verify", "skipped")), "{steps:?}");
    assert!(steps.contains(&("probe", "passed")), "{steps:?}");
    let consent = &json["steps"][6];
    assert_eq!(consent["name"], "consent");
    // The request's stand-ins for the unknown tenant and client id are never shown as ids.
    let all = json.to_string();
    assert!(!all.contains("from-token"), "{all}");
}

#[tokio::test(flavor = "multi_thread")]
async fn not_assigned_and_a_wrong_client_id_are_named_findings() {
    let (demo, orders) = demo_with(false).await;
    let doctor = |identity: &str| {
        let mut command = on_vm(demo.authority_host());
        command.args([
            "doctor",
            "--managed-identity",
            identity,
            "--scope",
            GRAPH,
            "--authority-host",
            demo.authority_host(),
        ]);
        command
    };
    let (code, json, _) = stdout_of(doctor("system").args(["-o", "json"]));
    assert_eq!(code, Some(1));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json_finding_ids(&json).first().copied(),
        Some("managed-identity.not-assigned")
    );
    let (code, text, _) = stdout_of(&mut doctor("system"));
    assert_eq!(code, Some(1));
    assert!(!text.contains("stray-secret"));
    assert_cli_snapshot!("managed_identity_doctor_not_assigned", text);

    let named = format!("client-id={orders}");
    let (code, json, _) = stdout_of(doctor(&named).args(["-o", "json"]));
    assert_eq!(code, Some(1));
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json_finding_ids(&json).first().copied(),
        Some("managed-identity.wrong-client-id")
    );
    let (code, _, stderr) = stdout_of(on_vm(demo.authority_host()).args([
        "token",
        "--managed-identity",
        &named,
        "--scope",
        GRAPH,
    ]));
    assert_eq!(code, Some(1));
    assert_cli_snapshot!("managed_identity_token_wrong_client_id", stderr);
}

/// IMDS's answer as the docs' sample shows it (every number a string):
/// https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
fn imds_body(token: &str) -> Value {
    // A managed identity's token: v1, for the identity's app id, `xms_mirid` naming the resource
    // it is assigned to (the claim is listed in the access token claims reference).
    let token = if token.is_empty() {
        jwt(
            &json!({"typ":"JWT","alg":"RS256","kid":"kid-1"}),
            &json!({
                "aud": "https://management.azure.com",
                "iss": format!("https://sts.windows.net/{TENANT_ID}/"),
                "iat": NOW - 300, "nbf": NOW - 300, "exp": NOW + 3599,
                "appid": CLIENT_ID, "appidacr": "2", "idtyp": "app",
                "oid": "99999999-8888-4777-8666-555555555555",
                "sub": "99999999-8888-4777-8666-555555555555",
                "tid": TENANT_ID, "ver": "1.0",
                "xms_mirid": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
            }),
        )
    } else {
        token.to_owned()
    };
    json!({
        "access_token": token,
        "refresh_token": "",
        "expires_in": "3599",
        "expires_on": (NOW + 3599).to_string(),
        "not_before": (NOW - 1).to_string(),
        "resource": "https://management.azure.com",
        "token_type": "Bearer",
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn token_from_wiremock_imds_is_decoded_with_the_tokens_ids() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(IMDS_PATH))
        .and(header("Metadata", "true"))
        .and(query_param("resource", "https://management.azure.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(imds_body("")))
        .expect(1)
        .mount(&server)
        .await;
    let (code, text, stderr) = stdout_of(
        on_vm(&server.uri())
            .env("ENTRA_DOCTOR_NOW", NOW_RFC3339)
            .args([
                "token",
                "--managed-identity",
                "system",
                "--scope",
                "https://management.azure.com/.default",
            ]),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        text.contains(&format!("{TENANT_ID} (the token's tid)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{CLIENT_ID} (the token's appid)")),
        "{text}"
    );
    assert!(!text.contains("stray-secret"));
    assert_cli_snapshot!("managed_identity_token_wiremock", text);
}
