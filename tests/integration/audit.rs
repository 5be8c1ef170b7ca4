//! Issue 17, `entra-doctor audit`: every check against the demo tenant (text snapshot, JSON
//! lines, the Markdown report, exit codes, paging and the 429 retry, the missing permission),
//! and hostile Graph answers from wiremock (escape codes, a nextLink to another host, absurd
//! dates, a huge page, missing fields) through the domain's API.

use std::sync::atomic::{AtomicU64, Ordering};

use entra_doctor::audit::{self, AppAudit, Settings};
use entra_doctor::auth::{ClientOptions, TokenClient};
use entra_doctor::demo::{self, DemoOptions, Listings, RunningDemo, TenantModel};
use entra_doctor::secret::Secret;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::NOW_RFC3339;

async fn demo(throttle_once: bool) -> RunningDemo {
    demo::start(DemoOptions {
        listings: Listings {
            clock: Some(
                chrono::DateTime::parse_from_rfc3339(NOW_RFC3339)
                    .unwrap()
                    .into(),
            ),
            synthetic_apps: 0,
            throttle_once,
        },
        ..DemoOptions::new(TenantModel::builtin().unwrap())
    })
    .await
    .unwrap()
}

/// `audit` as `scenario`'s app, the clock fixed to the demo's.
fn audit_cmd(demo: &RunningDemo, scenario: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let app = demo.app(scenario).unwrap();
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
        .env_clear()
        .env("ENTRA_DOCTOR_NOW", NOW_RFC3339)
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args([
            "audit",
            "--authority-host",
            demo.authority_host(),
            "--tenant",
            demo.tenant_id(),
        ])
        .args(["--client-id", &app.client_id])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(!stdout.contains(secret.expose()), "secret leaked");
            assert!(!stderr.contains(secret.expose()), "secret leaked");
        }
    }
    (output.status.code(), stdout, stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn text_table_names_every_check_and_exits_1() {
    let demo = demo(false).await;
    let (code, stdout, stderr) = audit_cmd(&demo, "healthy", &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    for id in [
        "expired 513 days ago",
        "expired 3 days ago",
        "expires in 12 days",
        "expires in 20 days",
        "last sign-in 200 days ago",
        "no sign-in recorded",
        "no owner",
        "holds Directory.ReadWrite.All",
        "delegated permission User.Read ",
        "multi-tenant (AzureADMultipleOrgs) with no service principal",
    ] {
        assert!(stdout.contains(id), "{id} missing:\n{stdout}");
    }
    crate::assert_cli_snapshot!("audit_demo_text", stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_lines_page_through_a_429_and_end_with_the_summary() {
    let demo = demo(true).await;
    let (code, stdout, stderr) = audit_cmd(&demo, "healthy", &["-o", "json"]);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, apps) = lines.split_last().unwrap();
    let summary = &summary["summary"];
    assert_eq!(apps.len() as u64, summary["apps"].as_u64().unwrap());
    assert_eq!(summary["throttled_retries"], 1, "{summary:#}");
    assert!(summary["pages"].as_u64().unwrap() > 4, "paged: {summary:#}");
    assert!(stderr.contains("HTTP 429"), "{stderr}");
    let payroll = apps
        .iter()
        .find(|a| a["display_name"] == "contoso-payroll-export")
        .unwrap();
    assert_eq!(payroll["issues"][0]["id"], "audit.secret-expiring");
    assert_eq!(
        payroll["issues"][0]["fix"][0],
        "az ad app credential reset --id 2b7e5c1a-8f3d-4a6b-9c2e-5d1f7a3b9e04 --append --display-name 'payroll-export 2025 (renewed)' --years 1"
    );
    assert_eq!(
        payroll["credentials"][0]["expiry"],
        json!({"state": "expires_soon", "days_left": 12})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn report_is_markdown_written_private_and_never_through_a_link() {
    let demo = demo(false).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("audit.md");
    let (code, _, stderr) = audit_cmd(&demo, "healthy", &["--report", report.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.starts_with("# entra-doctor audit"), "{text}");
    assert!(text.contains("## contoso-legacy-reports — error"), "{text}");
    assert!(
        text.contains("```sh\n  az ad app owner add --id 7c4e2a9b-5f1d-4b3e-8a7c-9e6d2f4b1a87"),
        "{text}"
    );
    assert!(text.contains("## Summary"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&report).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A symbolic link where the report goes is refused, its target untouched.
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let (code, _, stderr) = audit_cmd(&demo, "healthy", &["--report", link.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_without_application_read_all_is_told_what_to_grant() {
    let demo = demo(false).await;
    let (code, stdout, stderr) = audit_cmd(&demo, "no-consent", &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("lacks Application.Read.All"), "{stderr}");
    assert!(stderr.contains("--admin-client-id"), "{stderr}");
}

/// The domain's audit against a hostile Graph on wiremock.
async fn audit_against(
    server: &MockServer,
) -> (
    Vec<AppAudit>,
    entra_doctor::error::Result<audit::TenantSummary>,
) {
    let client = TokenClient::new(ClientOptions::default()).unwrap();
    let settings = Settings {
        graph_url: server.uri(),
        warn_days: 30,
        unused_days: 90,
        now: chrono::DateTime::parse_from_rfc3339(NOW_RFC3339)
            .unwrap()
            .into(),
        page_size: 999,
    };
    let token = Secret::new("canary-token-value");
    let mut apps = Vec::new();
    let result = audit::audit(&client, &token, &settings, &mut |app| {
        apps.push(app);
        Ok(())
    })
    .await;
    (apps, result)
}

async fn graph_basics(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1.0/servicePrincipals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/reports/appCredentialSignInActivities"))
        // Graph's refusal when the token lacks the permission
        // (learn.microsoft.com/graph/errors: Authorization_RequestDenied).
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation."}})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn hostile_answers_are_judged_without_a_panic() {
    let server = MockServer::start().await;
    graph_basics(&server).await;
    let apps = json!({"value": [
        {"id": "o1", "appId": "11111111-1111-1111-1111-111111111111", "displayName": "evil\u{1b}[31mred\u{202e}",
         "passwordCredentials": [{"keyId": "k1", "endDateTime": "9999-12-31T23:59:59Z"}],
         "keyCredentials": [{"keyId": "k2", "endDateTime": "1601-01-01T00:00:00Z", "customKeyIdentifier": "!!"}]},
        {"displayName": "no ids at all"},
        {"id": "o3", "appId": "x'; rm -rf ~", "passwordCredentials": [{"keyId": "a b", "endDateTime": "+275760-09-13T00:00:00Z"}]},
        "not an object"
    ]});
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .respond_with(ResponseTemplate::new(200).set_body_json(apps))
        .mount(&server)
        .await;
    let (apps, result) = audit_against(&server).await;
    let summary = result.unwrap();
    assert_eq!(summary.apps, 2);
    assert_eq!(summary.skipped, 2);
    assert!(
        matches!(summary.sign_in_activity, audit::SignInActivity::Skipped { ref reason } if reason.contains("AuditLog.Read.All"))
    );
    assert_eq!(summary.expired, 1, "1601 is long past");
    // The fix quotes what came from the network.
    let hostile = &apps[1];
    assert!(
        hostile.issues.is_empty()
            || hostile
                .issues
                .iter()
                .all(|i| i.fix.iter().all(|f| f.contains("'x'\\''; rm -rf ~'")))
    );
    let expired = apps[0]
        .issues
        .iter()
        .find(|i| i.id == "audit.certificate-expired")
        .unwrap();
    assert!(expired.fix[1].contains("--key-id k2 --cert"), "{expired:?}");
}

#[tokio::test]
async fn a_next_link_to_another_host_stops_the_listing() {
    let server = MockServer::start().await;
    graph_basics(&server).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": "o", "appId": "a"}],
            "@odata.nextLink": "https://attacker.example/v1.0/applications?$skiptoken=2"})))
        .mount(&server)
        .await;
    let (apps, result) = audit_against(&server).await;
    let error = result.unwrap_err().to_string();
    assert!(error.contains("attacker.example"), "{error}");
    assert!(error.contains("token is sent nowhere else"), "{error}");
    // The page came from Graph's own host and is judged; its link is not followed.
    assert_eq!(apps.len(), 1, "the page before the link is handed out");
}

#[tokio::test]
async fn a_page_of_100000_items_streams_each_app() {
    let server = MockServer::start().await;
    graph_basics(&server).await;
    let items: Vec<Value> = (0..100_000)
        .map(|i| json!({"id": format!("o{i}"), "appId": format!("a{i}")}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": items})))
        .mount(&server)
        .await;
    let seen = AtomicU64::new(0);
    let client = TokenClient::new(ClientOptions::default()).unwrap();
    let settings = Settings {
        graph_url: server.uri(),
        warn_days: 30,
        unused_days: 90,
        now: chrono::Utc::now(),
        page_size: 999,
    };
    let result = audit::audit(&client, &Secret::new("t"), &settings, &mut |_| {
        seen.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })
    .await;
    match result {
        Ok(summary) => assert_eq!(summary.apps, 100_000),
        // A page larger than the reader's cap is refused whole, with words, not cut.
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}
