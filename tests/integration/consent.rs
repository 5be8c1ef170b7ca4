//! Issue 9, consent audit: `entra-doctor consent` against the demo tenant's Graph directory
//! routes (delegated instead of application, consent missing, no Graph access), and the audit's
//! rows and findings from fixtures (consent granted after the token was issued).

use chrono::{TimeZone, Utc};
use entra_doctor::consent::{Directory, audit};
use entra_doctor::demo::RunningDemo;
use entra_doctor::diagnose::{FixContext, Severity, consent};
use entra_doctor::token::decode;
use serde_json::{Value, json};

use crate::support::{CLIENT_ID, TENANT_ID, json_finding_ids, jwt, start_demo};

fn consent_json(
    demo: &RunningDemo,
    scenario: &str,
    admin: Option<&str>,
    extra: &[&str],
) -> (Option<i32>, Value, String) {
    let app = demo.app(scenario).unwrap();
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command
        .env_clear()
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args([
            "consent",
            "--authority-host",
            demo.authority_host(),
            "--tenant",
            demo.tenant_id(),
        ])
        .args(["--client-id", &app.client_id, "-o", "json"])
        .args(["--graph-url", &format!("{}/graph", demo.authority_host())]);
    if let Some(admin) = admin {
        let admin_app = demo.app(admin).unwrap();
        command
            .args(["--admin-client-id", &admin_app.client_id])
            .env(
                "ENTRA_DOCTOR_ADMIN_SECRET",
                admin_app.secret.as_ref().unwrap().expose(),
            );
    }
    let output = command.args(extra).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(!stdout.contains(secret.expose()), "secret leaked");
        }
    }
    assert!(
        !stdout.contains("eyJ0eX") && !stdout.contains("eyJhbG"),
        "raw token leaked"
    );
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), json, stdout)
}

fn row<'a>(json: &'a Value, permission: &str) -> &'a Value {
    json["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["permission"] == permission)
        .unwrap_or_else(|| panic!("no row {permission}: {json:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn delegated_instead_of_application_is_named_with_the_fix() {
    let demo = start_demo().await;
    let (code, json, _) = consent_json(
        &demo,
        "delegated-instead-of-application",
        Some("healthy"),
        &[],
    );
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(
        json_finding_ids(&json),
        ["consent.delegated-only"],
        "{json:#}"
    );
    let user_read_all = row(&json, "User.Read.All");
    assert_eq!(user_read_all["delegated_only"], true);
    assert_eq!(user_read_all["requested_as_application"], false);
    assert_eq!(user_read_all["admin_consent"], false);
    assert_eq!(user_read_all["in_token"], false);
    // Delegated User.Read (every registration's default) has no application twin: no mistake.
    assert_eq!(row(&json, "User.Read")["delegated_only"], true);
    assert_eq!(
        json["findings"][0]["evidence"][0],
        "requested as delegated only: User.Read.All"
    );
    let fixes = json["findings"][0]["fixes"].to_string();
    let client_id = &demo
        .app("delegated-instead-of-application")
        .unwrap()
        .client_id;
    assert!(
        fixes.contains(&format!(
            "az ad app permission add --id {client_id} --api 00000003-0000-0000-c000-000000000000 --api-permissions df021288-bdef-4463-88db-98f22de89214=Role"
        )),
        "{fixes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_app_audits_itself_with_its_own_application_read_all() {
    let demo = start_demo().await;
    let (code, json, _) = consent_json(&demo, "healthy", None, &[]);
    assert_eq!(code, Some(0), "{json:#}");
    assert!(json_finding_ids(&json).is_empty(), "{json:#}");
    let granted = row(&json, "User.Read.All");
    assert_eq!(granted["requested_as_application"], true);
    assert_eq!(granted["admin_consent"], true);
    assert_eq!(granted["consented_on"], "2025-01-15T09:30:00Z");
    assert_eq!(granted["in_token"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_requested_is_consent_missing_with_the_exact_command() {
    let demo = start_demo().await;
    let (code, json, _) = consent_json(&demo, "no-consent", Some("healthy"), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(json_finding_ids(&json), ["consent.missing"], "{json:#}");
    let client_id = &demo.app("no-consent").unwrap().client_id;
    let fixes = json["findings"][0]["fixes"].to_string();
    assert!(fixes.contains(&format!(
        "az ad app permission admin-consent --id {client_id}"
    )));
    assert!(
        fixes.contains("API permissions › Grant admin consent"),
        "{fixes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_graph_access_the_audit_names_the_permission_it_needs() {
    let demo = start_demo().await;
    let (code, json, _) = consent_json(&demo, "no-consent", None, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        json_finding_ids(&json),
        ["consent.no-graph-access"],
        "{json:#}"
    );
    assert!(
        json["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Application.Read.All")
    );
}

fn directory() -> Directory {
    Directory {
        client_id: CLIENT_ID.into(),
        resource_app_id: "00000003-0000-0000-c000-000000000000".into(),
        resource_name: "Microsoft Graph".into(),
        app_roles: vec![
            (
                "df021288-bdef-4463-88db-98f22de89214".into(),
                "User.Read.All".into(),
            ),
            (
                "5b567255-7703-4780-807c-7be8301ae99b".into(),
                "Group.Read.All".into(),
            ),
            (
                "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30".into(),
                "Application.Read.All".into(),
            ),
        ],
        scopes: vec![],
        requested_roles: vec![
            "df021288-bdef-4463-88db-98f22de89214".into(),
            "5b567255-7703-4780-807c-7be8301ae99b".into(),
            "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30".into(),
        ],
        requested_scopes: vec![],
        granted: vec![
            (
                "df021288-bdef-4463-88db-98f22de89214".into(),
                Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
            ),
            // Consented an hour after the token below was issued.
            (
                "5b567255-7703-4780-807c-7be8301ae99b".into(),
                Some(Utc.with_ymd_and_hms(2026, 11, 25, 13, 0, 0).unwrap()),
            ),
        ],
    }
}

#[test]
fn consent_after_the_token_was_issued_recommends_a_force_refresh() {
    let token = decode(&jwt(
        &json!({"alg":"RS256","kid":"k"}),
        &json!({"ver":"1.0","appid":CLIENT_ID,"tid":TENANT_ID,"roles":["User.Read.All"],
                "iat": Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap().timestamp()}),
    ))
    .unwrap();
    let directory = directory();
    let rows = audit(&directory, Some(&token));
    let by = |p: &str| rows.iter().find(|r| r.permission == p).unwrap();
    assert!(by("User.Read.All").in_token == Some(true) && !by("User.Read.All").token_stale);
    assert!(by("Group.Read.All").token_stale);
    assert!(!by("Application.Read.All").admin_consent);
    let context = FixContext {
        client_id: Some(CLIENT_ID.into()),
        ..FixContext::default()
    };
    let found = consent::findings(&directory, &rows, &context);
    let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["consent.missing", "consent.token-stale"]);
    let stale = &found[1];
    assert_eq!(stale.severity, Severity::Warning);
    assert!(stale.fixes[0].contains("--force-refresh"));
    assert!(stale.evidence[0].starts_with("Group.Read.All: consented 2026-11-25 13:00:00 UTC"));
    assert!(found[0].evidence[0].contains("Application.Read.All"));
    assert!(found[0].fixes[0].contains(&format!(
        "az ad app permission admin-consent --id {CLIENT_ID}"
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_issued_before_the_consent_is_stale() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    // The daemon's cached token from 2024, before the admin consented (2025-01-15).
    let old = jwt(
        &json!({"alg":"RS256","kid":"k"}),
        &json!({"ver":"1.0","appid":app.client_id,"tid":demo.tenant_id(),
                "aud":"https://graph.microsoft.com","roles":["User.Read.All"],
                "iat": Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap().timestamp()}),
    );
    let (code, json, _) = consent_json(&demo, "healthy", None, &["--token", &old]);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(json_finding_ids(&json), ["consent.token-stale"], "{json:#}");
    assert_eq!(row(&json, "AuditLog.Read.All")["token_stale"], true);
    assert_eq!(row(&json, "User.Read.All")["in_token"], true);
    let fixes = json["findings"][0]["fixes"].to_string();
    assert!(fixes.contains("--force-refresh"), "{fixes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_credential_can_be_a_certificate() {
    let demo = start_demo().await;
    let admin = demo.app("healthy").unwrap();
    let pem = admin
        .certificate_pem
        .as_ref()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (code, json, _) = consent_json(
        &demo,
        "delegated-instead-of-application",
        None,
        &[
            "--admin-client-id",
            &admin.client_id,
            "--admin-certificate",
            &pem,
        ],
    );
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(
        json_finding_ids(&json),
        ["consent.delegated-only"],
        "{json:#}"
    );
}
