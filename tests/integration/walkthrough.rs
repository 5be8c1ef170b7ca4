//! The walkthrough's step logic against every demo scenario (which step fails first, with which
//! finding), and each fix applied in the demo tenant until every step passes.

use chrono::Utc;
use entra_doctor::demo::RunningDemo;
use entra_doctor::walkthrough::{
    self, DemoFix, Session, Status, StepId, StepReport, demo_setup, first_failure,
};
use pretty_assertions::assert_eq;

use crate::support::start_demo;

async fn run(setup: walkthrough::Setup) -> (Vec<StepReport>, walkthrough::Setup) {
    let mut session = Session::new(setup).unwrap();
    let reports = session.run_all(Utc::now()).await;
    (reports, session.into_setup())
}

/// Where each lesson's path breaks first, and the finding that says why.
const FIRST_FAILURE: &[(&str, Option<(StepId, &str)>)] = &[
    ("healthy", None),
    ("no-consent", Some((StepId::Role, "token.no-roles"))),
    ("wrong-scope", Some((StepId::Scope, "scope.delegated"))),
    (
        "trailing-slash",
        Some((StepId::Scope, "scope.trailing-slash-audience")),
    ),
    (
        "expired-secret",
        Some((StepId::Credential, "AADSTS7000222")),
    ),
    (
        "unregistered-certificate",
        Some((StepId::Credential, "AADSTS700027")),
    ),
    (
        "delegated-instead-of-application",
        Some((StepId::Role, "token.no-roles")),
    ),
    (
        "federated-subject-mismatch",
        Some((StepId::Credential, "AADSTS700213")),
    ),
    (
        "federated-issuer-slash",
        Some((StepId::Credential, "AADSTS700211")),
    ),
];

#[tokio::test]
async fn every_scenario_fails_first_at_the_step_it_teaches() {
    let demo = start_demo().await;
    assert_eq!(
        demo.apps().len(),
        FIRST_FAILURE.len(),
        "a new scenario needs its line here"
    );
    for (scenario, expected) in FIRST_FAILURE {
        let (reports, _) = run(demo_setup(&demo, scenario).unwrap()).await;
        let got = first_failure(&reports).map(|r| (r.step, r.finding.as_ref().unwrap().id.clone()));
        assert_eq!(
            got,
            expected.map(|(step, id)| (step, id.to_owned())),
            "{scenario}"
        );
        for report in &reports {
            let expected_status = match expected {
                None => Status::Passed,
                Some((failing, _)) if report.step < *failing => Status::Passed,
                Some((failing, _)) if report.step == *failing => Status::Failed,
                Some(_) => Status::NotYet,
            };
            assert_eq!(report.status, expected_status, "{scenario}: {report:?}");
            // Every failure says what to do, in the portal and with az.
            if report.status == Status::Failed {
                let fix = report.fix.as_ref().unwrap();
                assert!(
                    fix.portal.is_some() && fix.az.is_some(),
                    "{scenario}: {fix:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn applying_each_fix_in_the_demo_tenant_turns_the_path_green() {
    let demo = start_demo().await;
    let control = demo.control();
    let expected_fixes: &[(&str, &str)] = &[
        ("no-consent", "grant-role"),
        ("wrong-scope", "correct-scope"),
        ("trailing-slash", "correct-scope"),
        ("expired-secret", "add-secret"),
        ("unregistered-certificate", "register-certificate"),
        ("delegated-instead-of-application", "grant-role"),
        ("federated-subject-mismatch", "add-federated-credential"),
        ("federated-issuer-slash", "add-federated-credential"),
    ];
    for (scenario, kind) in expected_fixes {
        let (reports, mut setup) = run(demo_setup(&demo, scenario).unwrap()).await;
        let fix = first_failure(&reports)
            .and_then(|r| r.fix.as_ref())
            .and_then(|f| f.apply.clone())
            .unwrap_or_else(|| panic!("{scenario} offers no fix"));
        assert_eq!(
            serde_json::to_value(&fix).unwrap()["kind"],
            *kind,
            "{scenario}"
        );
        let outcome = walkthrough::apply(&mut setup, &fix, Some(&control)).unwrap();
        assert!(!outcome.summary.is_empty());
        let (after, _) = run(setup).await;
        // SQL reads no application roles: its step 6 has nothing to check.
        let skips_roles = *scenario == "trailing-slash";
        assert!(
            after.iter().all(|r| r.status == Status::Passed
                || (skips_roles && r.step == StepId::Role && r.status == Status::Skipped)),
            "{scenario} after {kind}: {after:#?}"
        );
    }
}

/// An app without a user in the SQL database: its token is right, SQL refuses the login, and
/// the fix is the T-SQL that makes the user, which `x` runs in the demo tenant.
#[tokio::test]
async fn a_sql_login_without_a_database_user_is_fixed_by_creating_one() {
    let demo = start_demo().await;
    let mut setup = demo_setup(&demo, "no-consent").unwrap();
    setup
        .use_scope("https://database.windows.net//.default")
        .unwrap();
    let sql = demo
        .app("no-consent")
        .unwrap()
        .probe_url
        .replace("/graph/v1.0/users", "/sql/databases/orders/tables");
    setup.probe = Some(url::Url::parse(&sql).unwrap());
    let (reports, mut setup) = run(setup).await;
    let statuses: Vec<(StepId, Status)> = reports.iter().map(|r| (r.step, r.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (StepId::Tenant, Status::Passed),
            (StepId::App, Status::Passed),
            (StepId::Credential, Status::Passed),
            (StepId::Scope, Status::Passed),
            (StepId::Token, Status::Passed),
            (StepId::Role, Status::Skipped),
            (StepId::Api, Status::Failed),
        ]
    );
    let failed = first_failure(&reports).unwrap();
    let finding = failed.finding.as_ref().unwrap();
    assert_eq!(finding.id, "sql.login-failed");
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e == "HTTP 401: 18456: Login failed for user '<token-identified principal>'."),
        "{finding:?}"
    );
    let fix = failed.fix.clone().unwrap();
    assert_eq!(
        fix.summary,
        "In the database, connected as a Microsoft Entra admin of the server: \
         CREATE USER [contoso-demo-no-consent-daemon] FROM EXTERNAL PROVIDER; \
         ALTER ROLE db_datareader ADD MEMBER [contoso-demo-no-consent-daemon];"
    );
    assert!(fix.portal.as_deref().unwrap().contains("Query editor"));
    let apply = fix.apply.unwrap();
    assert_eq!(
        apply,
        DemoFix::CreateDatabaseUser {
            resource: "https://database.windows.net/".to_owned()
        }
    );
    let outcome = walkthrough::apply(&mut setup, &apply, Some(&demo.control())).unwrap();
    assert!(
        outcome
            .summary
            .contains("CREATE USER [contoso-demo-no-consent-daemon] FROM EXTERNAL PROVIDER"),
        "{}",
        outcome.summary
    );
    let (after, _) = run(setup).await;
    assert_eq!(after[6].status, Status::Passed, "{after:#?}");
}

#[tokio::test]
async fn the_scope_fixes_name_the_scope_that_works() {
    let demo = start_demo().await;
    for (scenario, scope) in [
        ("wrong-scope", "https://graph.microsoft.com/.default"),
        ("trailing-slash", "https://database.windows.net//.default"),
    ] {
        let (reports, _) = run(demo_setup(&demo, scenario).unwrap()).await;
        let fix = first_failure(&reports).unwrap().fix.clone().unwrap();
        assert_eq!(
            fix.apply,
            Some(DemoFix::CorrectScope {
                scope: scope.to_owned()
            }),
            "{scenario}"
        );
    }
}

#[tokio::test]
async fn the_role_fix_names_the_operators_ids_and_the_role() {
    let demo = start_demo().await;
    let app = demo.app("no-consent").unwrap().client_id.clone();
    let (reports, _) = run(demo_setup(&demo, "no-consent").unwrap()).await;
    let fix = first_failure(&reports).unwrap().fix.clone().unwrap();
    let az = fix.az.unwrap();
    assert!(az.contains(&format!("--id {app}")), "{az}");
    assert!(
        az.contains("--api 00000003-0000-0000-c000-000000000000"),
        "{az}"
    );
    assert!(az.contains("admin-consent"), "{az}");
    let portal = fix.portal.unwrap();
    assert!(
        portal.contains("API permissions") && portal.contains("Application permissions"),
        "{portal}"
    );
    assert!(portal.contains("User.ReadBasic.All"), "{portal}");
}

#[tokio::test]
async fn a_certificate_step_shows_the_thumbprint_to_compare_with_the_portal() {
    let demo = start_demo().await;
    let (reports, _) = run(demo_setup(&demo, "unregistered-certificate").unwrap()).await;
    let credential = &reports[StepId::Credential.number() - 1];
    assert!(
        credential
            .evidence
            .iter()
            .any(|e| e.starts_with("certificate thumbprint ") && e.contains("portal")),
        "{credential:?}"
    );
}

#[tokio::test]
async fn a_change_lives_in_the_running_tenant_only() {
    let first = start_demo().await;
    let (reports, mut setup) = run(demo_setup(&first, "no-consent").unwrap()).await;
    let fix = first_failure(&reports).unwrap().fix.clone().unwrap();
    walkthrough::apply(&mut setup, &fix.apply.unwrap(), Some(&first.control())).unwrap();
    // A restarted tenant has forgotten the grant.
    let second = start_demo().await;
    let (again, _) = run(demo_setup(&second, "no-consent").unwrap()).await;
    assert_eq!(first_failure(&again).unwrap().step, StepId::Role);
}

#[tokio::test]
async fn a_tenant_fix_needs_the_demo_tenant() {
    let demo = start_demo().await;
    let (reports, mut setup) = run(demo_setup(&demo, "no-consent").unwrap()).await;
    let fix = first_failure(&reports).unwrap().fix.clone().unwrap();
    let error = walkthrough::apply(&mut setup, &fix.apply.unwrap(), None).unwrap_err();
    assert!(
        error.to_string().contains("only its embedded demo tenant"),
        "{error}"
    );
}

#[tokio::test]
async fn one_step_runs_alone_and_later_steps_wait_for_earlier_failures() {
    let demo = start_demo().await;
    let mut session = Session::new(demo_setup(&demo, "expired-secret").unwrap()).unwrap();
    let now = Utc::now();
    assert_eq!(session.check(StepId::App, now).await.status, Status::Passed);
    let role = session.check(StepId::Role, now).await;
    assert_eq!(role.status, Status::NotYet);
    assert!(role.checked.contains("needs a token"), "{role:?}");
    let tenant = session.check(StepId::Tenant, now).await;
    assert_eq!(tenant.status, Status::Passed);
    assert!(tenant.evidence.iter().any(|e| e.starts_with("issuer: ")));
}

#[tokio::test]
async fn an_unknown_tenant_fails_the_first_step_with_aadsts90002() {
    let demo = start_demo().await;
    let mut setup = demo_setup(&demo, "healthy").unwrap();
    setup.request.authority = entra_doctor::auth::Authority::new(
        entra_doctor::auth::AuthorityHost::parse(demo.authority_host()).unwrap(),
        entra_doctor::auth::Tenant::parse("fabrikam.onmicrosoft.com").unwrap(),
    );
    let (reports, _) = run(setup).await;
    let failure = first_failure(&reports).unwrap();
    assert_eq!(failure.step, StepId::Tenant);
    assert_eq!(failure.finding.as_ref().unwrap().id, "AADSTS90002");
}

// --- The commands: `walkthrough` with credential options, `demo --walkthrough`. ---

fn binary() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command.env_clear();
    command
}

fn walkthrough_command(demo: &RunningDemo, scenario: &str) -> assert_cmd::Command {
    let app = demo.app(scenario).unwrap();
    let mut command = binary();
    command
        .args(["walkthrough", "--authority-host", demo.authority_host()])
        .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
        .args(["--scope", &app.scope, "--probe", &app.probe_url])
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose());
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_prints_every_step_as_json_and_exits_1_on_a_failure() {
    let demo = start_demo().await;
    let output = walkthrough_command(&demo, "no-consent")
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["ok"], false);
    let statuses: Vec<(&str, &str)> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("tenant", "passed"),
            ("app", "passed"),
            ("credential", "passed"),
            ("scope", "passed"),
            ("token", "passed"),
            ("role", "failed"),
            ("api", "not-yet"),
        ]
    );
    let role = &json["steps"][5];
    assert_eq!(role["finding"]["id"], "token.no-roles");
    assert_eq!(role["fix"]["apply"]["kind"], "grant-role");
    assert!(
        role["fix"]["az"]
            .as_str()
            .unwrap()
            .contains("admin-consent")
    );
    let secret = demo.app("no-consent").unwrap().secret.as_ref().unwrap();
    assert!(!String::from_utf8_lossy(&output.stdout).contains(secret.expose()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_exits_0_when_every_step_passes() {
    let demo = start_demo().await;
    walkthrough_command(&demo, "healthy")
        .args(["-o", "json"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(r#""ok":true"#));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_the_command_prints_the_steps_as_text() {
    let demo = start_demo().await;
    let output = walkthrough_command(&demo, "expired-secret")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    let text = text
        .lines()
        .filter(|l| {
            !l.contains("trace id") && !l.contains("correlation id") && !l.contains("timestamp")
        })
        .collect::<Vec<_>>()
        .join("\n");
    crate::assert_cli_snapshot!("walkthrough_expired_secret", text);
}

#[test]
fn a_setup_that_cannot_be_prepared_fails_the_step_it_belongs_to() {
    let output = binary()
        .args(["walkthrough", "--tenant", "common", "--client-id"])
        .arg("9999d1be-e182-4efa-8b0d-029e5af3dbcf")
        .args(["-o", "json"])
        .env("AZURE_CLIENT_SECRET", "x")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["steps"][0]["status"], "failed");
    assert_eq!(json["steps"][0]["finding"]["id"], "tenant.not-allowed");
    assert_eq!(json["steps"][1]["status"], "not-yet");

    let output = binary()
        .args(["walkthrough", "--tenant", "contoso.onmicrosoft.com"])
        .args(["--client-id", "not-a-guid", "-o", "json"])
        .env("AZURE_CLIENT_SECRET", "x")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["steps"][1]["status"], "failed", "{json}");
    assert_eq!(json["steps"][0]["status"], "not-yet");
}

#[test]
fn demo_walkthrough_prints_a_scenarios_steps_without_a_terminal() {
    let output = binary()
        .args([
            "demo",
            "--walkthrough",
            "--scenario",
            "wrong-scope",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["steps"][3]["finding"]["id"], "scope.delegated");
    assert_eq!(
        json["steps"][3]["fix"]["apply"],
        serde_json::json!({"kind": "correct-scope", "scope": "https://graph.microsoft.com/.default"})
    );
    binary()
        .args(["demo", "--walkthrough", "--scenario", "nope", "-o", "json"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains("the scenarios are: healthy"));
}

// --- The TUI tab, driven headlessly as an operator drives it. ---

#[cfg(feature = "tui")]
mod tab {
    use entra_doctor::tui::Launch;
    use entra_doctor::tui::form::Field;
    use entra_doctor::tui::headless::Headless;
    use entra_doctor::tui::state::Pane;
    use entra_doctor::walkthrough::{Status, StepId};
    use pretty_assertions::assert_eq;

    use crate::support::start_demo;

    async fn open(scenario: &str) -> Headless {
        Headless::new(Launch::demo(start_demo().await, Some(scenario)).on_walkthrough())
    }

    fn text(driver: &Headless, width: u16, height: u16) -> String {
        let buffer = driver.render(width, height).unwrap();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    fn statuses(driver: &Headless) -> Vec<Status> {
        driver.state.walk.steps.iter().map(|r| r.status).collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn r_finds_the_trailing_slash_and_x_fixes_the_scope_in_the_form() {
        let mut driver = open("trailing-slash").await;
        assert_eq!(driver.state.focus, Pane::Walkthrough);
        driver.press_script("r").unwrap();
        driver.settle().await;
        assert_eq!(driver.state.walk.selected, StepId::Scope.number() - 1);
        crate::assert_frame!("walkthrough_trailing_slash_80x24", text(&driver, 80, 24));
        driver.press_script("x").unwrap();
        driver.settle().await;
        assert_eq!(
            driver.state.form.input(Field::Scope).unwrap().value(),
            "https://database.windows.net//.default"
        );
        // Azure SQL reads no application roles: step 6 has nothing to check.
        let mut expected = vec![Status::Passed; 7];
        expected[StepId::Role.number() - 1] = Status::Skipped;
        assert_eq!(statuses(&driver), expected);
        crate::assert_frame!(
            "walkthrough_trailing_slash_fixed_80x24",
            text(&driver, 80, 24)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn enter_checks_only_the_selected_step() {
        let mut driver = open("healthy").await;
        driver.press_script("jj<Enter>").unwrap();
        driver.settle().await;
        let mut expected = vec![Status::NotYet; 7];
        expected[2] = Status::Passed;
        assert_eq!(statuses(&driver), expected);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_new_secret_from_the_demo_tenant_replaces_the_expired_one_in_the_form() {
        let mut driver = open("expired-secret").await;
        let old = driver.state.form.secret.0.value().to_owned();
        driver.press_script("r").unwrap();
        driver.settle().await;
        driver.press_script("x").unwrap();
        driver.settle().await;
        let new = driver.state.form.secret.0.value().to_owned();
        assert_ne!(old, new);
        assert_eq!(new.len(), 40, "a secret shaped as the portal makes them");
        assert_eq!(statuses(&driver), vec![Status::Passed; 7]);
        // Neither secret is drawn: the form masks it, the walkthrough counts its characters.
        let frame = text(&driver, 120, 40);
        assert!(!frame.contains(&new) && !frame.contains(&old));
        let debug = format!("{:?}", driver.state);
        assert!(
            !debug.contains(&new) && !debug.contains(&old),
            "State's Debug shows a secret"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn without_the_demo_tenant_x_says_the_fix_is_the_operators_to_make() {
        let mut driver = open("no-consent").await;
        driver.services.demo = None;
        driver.press_script("r").unwrap();
        driver.settle().await;
        driver.press_script("x").unwrap();
        driver.settle().await;
        assert!(
            driver
                .state
                .status
                .contains("only its embedded demo tenant"),
            "{}",
            driver.state.status
        );
        assert_eq!(driver.state.walk.steps[5].status, Status::Failed);
        driver.press_script("c").unwrap();
        assert!(
            driver.state.status.contains("az command"),
            "{}",
            driver.state.status
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_fills_what_its_options_leave_out_from_the_saved_profile() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("entra-doctor");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("profile.toml"),
        format!(
            "tenant = {:?}\nclient_id = {:?}\nauthority_host = {:?}\ncredential_kind = \"secret\"\nscopes = [{:?}]\nprobe_url = {:?}\n",
            demo.tenant_id(),
            app.client_id,
            demo.authority_host(),
            app.scope,
            app.probe_url
        ),
    )
    .unwrap();
    binary()
        .args(["walkthrough", "-o", "json"])
        .env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .assert()
        .code(0)
        .stdout(predicates::str::contains(r#""ok":true"#));
}

#[cfg(feature = "tui")]
#[test]
fn the_command_opens_the_tab_with_its_options_in_the_form() {
    use clap::Parser as _;
    use entra_doctor::cli::{Cli, Command, Environment};
    use entra_doctor::tui::Launch;
    use entra_doctor::tui::form::{CredentialKind, Field};
    use entra_doctor::tui::state::Pane;

    let cli = Cli::try_parse_from([
        "entra-doctor",
        "walkthrough",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        "9999d1be-e182-4efa-8b0d-029e5af3dbcf",
        "--scope",
        "https://database.windows.net//.default",
        "--certificate",
        "/etc/daemon.pem",
        "--probe",
        "https://contoso.database.windows.net/",
    ])
    .unwrap();
    let Some(Command::Walkthrough(args)) = cli.command else {
        panic!("not the walkthrough")
    };
    let spec = args.credential.spec().unwrap();
    let launch =
        Launch::for_walkthrough(spec, args.probe.as_deref(), None, &Environment::default())
            .unwrap();
    let form = &launch.state.form;
    assert_eq!(launch.state.focus, Pane::Walkthrough);
    assert_eq!(form.kind, CredentialKind::Certificate);
    for (field, value) in [
        (Field::Tenant, "contoso.onmicrosoft.com"),
        (Field::ClientId, "9999d1be-e182-4efa-8b0d-029e5af3dbcf"),
        (Field::Scope, "https://database.windows.net//.default"),
        (Field::Certificate, "/etc/daemon.pem"),
        (Field::ProbeUrl, "https://contoso.database.windows.net/"),
    ] {
        assert_eq!(form.input(field).unwrap().value(), value, "{field:?}");
    }
    // Standard input is the keyboard in the TUI: a secret cannot come from it.
    let cli = Cli::try_parse_from(["entra-doctor", "walkthrough", "--secret-stdin"]).unwrap();
    let Some(Command::Walkthrough(args)) = cli.command else {
        panic!("not the walkthrough")
    };
    let spec = args.credential.spec().unwrap();
    let refused = Launch::for_walkthrough(spec, None, None, &Environment::default())
        .err()
        .unwrap();
    assert!(refused.contains("AZURE_CLIENT_SECRET"), "{refused}");
}
