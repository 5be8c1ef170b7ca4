//! Issue 16's domain and CLI points, one test each (point 13, the deadline, is in deadline.rs):
//! 6 both thumbprints of a refused certificate, labelled as the portal labels them; 7 the
//! consent step says what the probe really learned; 10 the report names its app; 11 `--help`'s
//! env, one wording for expiry, `explain --token` fills the fixes; 12 the `iat` backdating
//! explained, nothing pointed at the demo tenant calls the internet, a demo URL names its scope,
//! and the walkthrough's role and the demo's `x` agree.

use chrono::Utc;
use entra_doctor::auth::{CertificateSource, ClientCertificate};
use entra_doctor::demo::RunningDemo;
use entra_doctor::walkthrough::{self, DemoFix, Session, StepId, demo_setup, first_failure};
use pretty_assertions::assert_eq;
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::cli::entra_doctor;
use crate::fault_server::closed_port_uri;
use crate::support::{CLIENT_ID, TENANT_ID, real_clock_binary, start_demo, v1_graph_token};

/// `doctor -o json` for a demo app, with its certificate or its secret, and `extra` options.
fn doctor(demo: &RunningDemo, scenario: &str, certificate: bool, extra: &[&str]) -> Value {
    let app = demo.app(scenario).unwrap();
    let mut command = real_clock_binary();
    command.args([
        "doctor",
        "-o",
        "json",
        "--authority-host",
        demo.authority_host(),
        "--tenant",
        demo.tenant_id(),
        "--client-id",
        &app.client_id,
        "--scope",
        &app.scope,
    ]);
    if certificate {
        command
            .arg("--certificate")
            .arg(app.certificate_pem.as_ref().unwrap());
    } else {
        command.env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose());
    }
    let output = command.args(extra).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn step<'a>(json: &'a Value, name: &str) -> &'a str {
    json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["detail"].as_str())
        .unwrap_or_else(|| panic!("no {name} step: {json}"))
}

fn evidence_of<'a>(json: &'a Value, id: &str) -> Vec<&'a str> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {json}"))["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn point_6_a_refused_certificate_shows_the_portals_sha1_and_entras_sha256() {
    let demo = start_demo().await;
    let app = demo.app("unregistered-certificate").unwrap();
    let local = ClientCertificate::load(&CertificateSource::Pem {
        path: app.certificate_pem.clone().unwrap(),
        key: None,
    })
    .unwrap()
    .info;
    let json = doctor(&demo, "unregistered-certificate", true, &[]);
    let evidence = evidence_of(&json, "AADSTS700027");
    assert!(
        evidence.contains(&format!(
            "Entra ID's \"Thumbprint of key used by client\": {} (SHA-256, from the assertion's \
             x5t#S256: the portal does not list this one)",
            local.thumbprint_sha256
        )
        .as_str()),
        "{evidence:#?}"
    );
    let subject = &local.subject;
    assert!(
        evidence.contains(
            &format!(
                "certificate in use ({subject}): Thumbprint {} (SHA-1, as Certificates & secrets › \
             Certificates lists it); SHA-256 {}: the key Entra ID did not find on the app",
                local.thumbprint_sha1, local.thumbprint_sha256
            )
            .as_str()
        ),
        "{evidence:#?}"
    );
    assert_eq!(local.thumbprint_sha1.len(), 40);
    assert_eq!(local.thumbprint_sha256.len(), 64);
}

/// An API on loopback that answers every GET with `status`.
async fn api(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn point_7_the_consent_step_says_what_the_probe_learned() {
    let demo = start_demo().await;
    let probe_url = demo.app("healthy").unwrap().probe_url.clone();
    let consent =
        |extra: &[&str]| step(&doctor(&demo, "healthy", false, extra), "consent").to_owned();
    assert_eq!(
        consent(&["--probe", &probe_url]),
        "not needed: the API accepted the call with the token's roles User.Read.All, \
         AuditLog.Read.All, Application.Read.All"
    );
    let unauthorized = api(401).await;
    assert_eq!(
        consent(&["--probe", &unauthorized.uri()]),
        "not run: the API answered 401, so it did not accept the token itself (see the \
         finding); permissions matter once it does"
    );
    let missing = api(404).await;
    assert_eq!(
        consent(&["--probe", &missing.uri()]),
        "not run: the API answered 404, which is not a refusal of permissions"
    );
    assert_eq!(
        consent(&["--probe", &closed_port_uri()]),
        "not run: the API was not reached, so whether it accepts the token's roles \
         User.Read.All, AuditLog.Read.All, Application.Read.All is unknown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn point_10_the_report_names_its_app_and_its_time_to_the_second() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("healthy.md");
    doctor(
        &demo,
        "healthy",
        true,
        &["--report", report.to_str().unwrap()],
    );
    let markdown = std::fs::read_to_string(&report).unwrap();
    let lines: Vec<&str> = markdown.lines().collect();
    let generated = lines[2];
    let stamp = generated
        .strip_prefix("Generated ")
        .and_then(|rest| rest.strip_suffix(". Contains no secret and no raw token."))
        .unwrap_or_else(|| panic!("{generated}"));
    let parsed = chrono::DateTime::parse_from_rfc3339(stamp).unwrap();
    assert_eq!(
        stamp,
        parsed
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "RFC 3339 to the second, in UTC"
    );
    let thumbprint = ClientCertificate::load(&CertificateSource::Pem {
        path: app.certificate_pem.clone().unwrap(),
        key: None,
    })
    .unwrap()
    .info
    .thumbprint_sha1;
    assert_eq!(
        lines[4..9],
        [
            format!("- tenant: `{}`", demo.tenant_id()),
            format!("- client id: `{}`", app.client_id),
            "- scope: `https://graph.microsoft.com/.default`".to_owned(),
            format!(
                "- credential: certificate, Thumbprint {thumbprint} (SHA-1, as the portal lists it)"
            ),
            format!("- authority: `{}`", demo.authority_host()),
        ]
    );
    assert!(!markdown.contains("PRIVATE KEY"), "{markdown}");

    // A check that stopped at preflight still says what it was about.
    let stopped = dir.path().join("stopped.md");
    let output = real_clock_binary()
        .args([
            "doctor",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--client-id",
            CLIENT_ID,
            "--report",
            stopped.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    let markdown = std::fs::read_to_string(&stopped).unwrap();
    assert!(
        markdown.contains("- tenant: `contoso.onmicrosoft.com`")
            && markdown.contains(&format!("- client id: `{CLIENT_ID}`"))
            && markdown.contains("- scope: `not given`")
            && markdown.contains("- credential: not prepared (preflight failed)"),
        "{markdown}"
    );
}

#[test]
fn point_11_help_names_the_cache_variable_like_the_others() {
    for args in [["token", "--help"], ["cache", "--help"]] {
        let output = entra_doctor().args(args).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(!help.contains("ENTRA_DOCTOR_CACHE_FILE="), "{help}");
        assert!(help.contains("[env: ENTRA_DOCTOR_CACHE_FILE]"), "{help}");
    }
}

#[test]
fn point_11_explain_fills_the_fixes_from_the_tokens_appid_and_tid() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token.jwt");
    std::fs::write(&token, v1_graph_token("explain")).unwrap();
    let output = entra_doctor()
        .args(["explain", "AADSTS700016", "--token"])
        .arg(format!("@{}", token.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stdout.contains("<client-id>") && !stdout.contains("<tenant-id>"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("az ad sp show --id {CLIENT_ID}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Tenant {TENANT_ID} has no application")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn point_12_doctor_on_the_demo_never_probes_the_internet() {
    let demo = start_demo().await;
    // No --probe: the demo's own Graph route, with the app's token.
    let json = doctor(&demo, "no-consent", false, &[]);
    let probe = step(&json, "probe");
    assert!(
        probe.starts_with(&format!(
            "GET {}/graph/v1.0/users → 403",
            demo.authority_host()
        )),
        "{probe}"
    );
    assert!(
        !json
            .to_string()
            .contains("https://graph.microsoft.com/v1.0")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn point_12_a_demo_url_names_its_scope() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let output = real_clock_binary()
        .args([
            "probe",
            "--url",
            &app.probe_url,
            "--authority-host",
            demo.authority_host(),
            "--tenant",
            demo.tenant_id(),
            "--client-id",
            &app.client_id,
        ])
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "note: no --scope given: asking for https://graph.microsoft.com/.default, the \
             scope of Microsoft Graph, which the URL names"
        ),
        "{stderr}"
    );
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("→ 200 OK")
    );
}

#[tokio::test]
async fn point_12_the_walkthrough_names_the_role_x_grants() {
    let demo = start_demo().await;
    let mut setup = demo_setup(&demo, "no-consent").unwrap();
    let reports = Session::new(setup).unwrap().run_all(Utc::now()).await;
    let failed = first_failure(&reports).unwrap();
    assert_eq!(failed.step, StepId::Role);
    let fix = failed.fix.clone().unwrap();
    assert!(
        fix.summary.contains("User.ReadBasic.All"),
        "{}",
        fix.summary
    );
    assert!(
        fix.portal
            .as_deref()
            .unwrap()
            .contains("User.ReadBasic.All")
    );
    let apply = fix.apply.unwrap();
    assert!(matches!(apply, DemoFix::GrantRole { .. }), "{apply:?}");
    setup = demo_setup(&demo, "no-consent").unwrap();
    let outcome = walkthrough::apply(&mut setup, &apply, Some(&demo.control())).unwrap();
    assert!(
        outcome.summary.contains("User.ReadBasic.All"),
        "{}",
        outcome.summary
    );
    let after = Session::new(setup).unwrap().run_all(Utc::now()).await;
    assert_eq!(first_failure(&after).map(|r| r.step), None, "{after:#?}");
}
