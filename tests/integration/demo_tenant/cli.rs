//! `entra-doctor demo` output: `--serve --output json` prints one JSON line with what a client
//! needs (the credential files exist), `--list-scenarios` names every lesson, and an unknown
//! `--scenario` is an error that lists the known ones.

use entra_doctor::cli::demo::{DemoArgs, OutputFormat, run_with};
use serde_json::Value;

const SCENARIOS: [&str; 9] = [
    "healthy",
    "no-consent",
    "wrong-scope",
    "trailing-slash",
    "expired-secret",
    "unregistered-certificate",
    "delegated-instead-of-application",
    "federated-subject-mismatch",
    "federated-issuer-slash",
];

#[tokio::test]
async fn serve_json_is_one_line_with_every_app() {
    let args = DemoArgs {
        serve: true,
        output: OutputFormat::Json,
        ..DemoArgs::default()
    };
    let mut out = Vec::new();
    // The shutdown future is ready: print, then stop.
    run_with(args, &mut out, async {}).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(
        doc["authority_host"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(doc["ca_file"].is_null());
    for key in ["tenant_id", "tenant_domain"] {
        assert!(doc[key].is_string(), "{key}");
    }
    let apps = doc["apps"].as_array().unwrap();
    let names: Vec<&str> = apps
        .iter()
        .map(|a| a["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(names, SCENARIOS);
    let healthy = &apps[0];
    for key in [
        "client_id",
        "secret",
        "certificate_pem",
        "certificate_pfx",
        "pfx_password",
        "scope",
        "probe_url",
        "teaches",
    ] {
        assert!(healthy[key].is_string(), "{key}");
    }
    // A federated app hands out a token file, and its doctor command uses it.
    let federated = &apps[7];
    let file = federated["assertion_file"].as_str().unwrap();
    assert!(
        federated["doctor_command"]
            .as_str()
            .unwrap()
            .contains(&format!("--assertion-file '{file}'"))
    );
    assert!(federated["secret"].is_null());
    let no_consent = &apps[1];
    assert!(no_consent["certificate_pem"].is_null() && no_consent["pfx_password"].is_null());
    assert!(apps[5]["secret"].is_null());
    // Stopped: the credential files are gone again.
    assert!(!std::path::Path::new(healthy["certificate_pem"].as_str().unwrap()).exists());
}

#[tokio::test]
async fn list_scenarios_says_what_each_teaches() {
    let args = DemoArgs {
        list_scenarios: true,
        ..DemoArgs::default()
    };
    let mut out = Vec::new();
    run_with(args, &mut out, async {}).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    for name in SCENARIOS {
        assert!(
            text.contains(&format!("\n{name}\n  teaches ")),
            "{name} in {text}"
        );
    }
    assert!(text.contains("https://database.windows.net//.default"));
}

#[tokio::test]
async fn an_unknown_scenario_names_the_known_ones() {
    let args = DemoArgs {
        scenario: Some("nope".into()),
        list_scenarios: true,
        ..DemoArgs::default()
    };
    let error = run_with(args, &mut Vec::new(), async {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no scenario \"nope\"") && error.contains("trailing-slash"),
        "{error}"
    );
}

#[tokio::test]
async fn one_scenario_as_json() {
    let args = DemoArgs {
        list_scenarios: true,
        scenario: Some("trailing-slash".into()),
        output: OutputFormat::Json,
        ..DemoArgs::default()
    };
    let mut out = Vec::new();
    run_with(args, &mut out, async {}).await.unwrap();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["scenarios"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["scenarios"][0]["scope"],
        "https://database.windows.net/.default"
    );
}

#[tokio::test]
async fn debug_output_never_shows_a_demo_credential() {
    let demo = entra_doctor::demo::start(entra_doctor::demo::DemoOptions::new(
        entra_doctor::demo::TenantModel::builtin().unwrap(),
    ))
    .await
    .unwrap();
    let debug = format!(
        "{demo:?} {:?}",
        entra_doctor::demo::TenantModel::builtin().unwrap()
    );
    for app in demo.apps() {
        for secret in [&app.secret, &app.pfx_password].into_iter().flatten() {
            assert!(!debug.contains(secret.expose()), "{} leaks", app.scenario);
        }
    }
    assert!(!debug.contains("PRIVATE KEY"));
}

/// Why the demo refuses `tenant` as a tenant file (written into `dir`).
fn refusal_of(dir: &std::path::Path, tenant: &str) -> String {
    let path = dir.join("tenant.toml");
    std::fs::write(&path, tenant).unwrap();
    entra_doctor::demo::TenantModel::from_toml_file(&path)
        .unwrap_err()
        .to_string()
}

#[test]
fn an_inconsistent_tenant_file_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = include_str!("../../../assets/demo/tenant.toml");
    let broken = shipped.replacen(
        "roles = [\"User.Read.All\", \"AuditLog.Read.All\", \"Application.Read.All\"]",
        "roles = [\"Mail.Send\"]",
        1,
    );
    let error = refusal_of(dir.path(), &broken);
    assert!(
        error.contains("is granted \"Mail.Send\", which Microsoft Graph does not define"),
        "{error}"
    );
    let missing = entra_doctor::demo::TenantModel::from_toml_file(&dir.path().join("nope.toml"));
    assert!(missing.unwrap_err().to_string().contains("--tenant-file"));
}

#[test]
fn a_database_route_that_asks_for_an_app_role_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = include_str!("../../../assets/demo/tenant.toml");
    // SQL reads no roles: a role on its route could never be met the way the real one decides.
    let broken = shipped
        .replacen(
            "app_roles = []",
            "app_roles = [{ value = \"Db.Read\", id = \"e73ff673-7bab-4ddc-8302-3b67305d682a\" }]",
            1,
        )
        .replacen(
            "path = \"/sql/databases/orders/tables\"",
            "path = \"/sql/databases/orders/tables\"\nany_role = [\"Db.Read\"]",
            1,
        );
    let error = refusal_of(dir.path(), &broken);
    assert!(
        error.contains("admits apps through database users"),
        "{error}"
    );
}
