//! The walkthrough's step logic against every demo scenario (which step fails first, with which
//! finding), and each fix applied in the demo tenant until every step passes.

use chrono::Utc;
use entra_doctor::demo::{self, DemoOptions, RunningDemo, TenantModel};
use entra_doctor::walkthrough::{
    self, DemoFix, Session, Status, StepId, StepReport, demo_setup, first_failure,
};
use pretty_assertions::assert_eq;

async fn start() -> RunningDemo {
    demo::start(DemoOptions::new(TenantModel::builtin().unwrap()))
        .await
        .unwrap()
}

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
    ("expired-secret", Some((StepId::Credential, "AADSTS7000222"))),
    (
        "unregistered-certificate",
        Some((StepId::Credential, "AADSTS700027")),
    ),
    (
        "delegated-instead-of-application",
        Some((StepId::Role, "token.no-roles")),
    ),
];

#[tokio::test]
async fn every_scenario_fails_first_at_the_step_it_teaches() {
    let demo = start().await;
    assert_eq!(
        demo.apps().len(),
        FIRST_FAILURE.len(),
        "a new scenario needs its line here"
    );
    for (scenario, expected) in FIRST_FAILURE {
        let (reports, _) = run(demo_setup(&demo, scenario).unwrap()).await;
        let got = first_failure(&reports)
            .map(|r| (r.step, r.finding.as_ref().unwrap().id.clone()));
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
                assert!(fix.portal.is_some() && fix.az.is_some(), "{scenario}: {fix:?}");
            }
        }
    }
}

#[tokio::test]
async fn applying_each_fix_in_the_demo_tenant_turns_the_path_green() {
    let demo = start().await;
    let control = demo.control();
    let expected_fixes: &[(&str, &str)] = &[
        ("no-consent", "grant-role"),
        ("wrong-scope", "correct-scope"),
        ("trailing-slash", "correct-scope"),
        ("expired-secret", "add-secret"),
        ("unregistered-certificate", "register-certificate"),
        ("delegated-instead-of-application", "grant-role"),
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
        assert!(
            after.iter().all(|r| r.status == Status::Passed),
            "{scenario} after {kind}: {after:#?}"
        );
    }
}

#[tokio::test]
async fn the_scope_fixes_name_the_scope_that_works() {
    let demo = start().await;
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
    let demo = start().await;
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
    let demo = start().await;
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
    let first = start().await;
    let (reports, mut setup) = run(demo_setup(&first, "no-consent").unwrap()).await;
    let fix = first_failure(&reports).unwrap().fix.clone().unwrap();
    walkthrough::apply(&mut setup, &fix.apply.unwrap(), Some(&first.control())).unwrap();
    // A restarted tenant has forgotten the grant.
    let second = start().await;
    let (again, _) = run(demo_setup(&second, "no-consent").unwrap()).await;
    assert_eq!(first_failure(&again).unwrap().step, StepId::Role);
}

#[tokio::test]
async fn a_tenant_fix_needs_the_demo_tenant() {
    let demo = start().await;
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
    let demo = start().await;
    let mut session = Session::new(demo_setup(&demo, "expired-secret").unwrap()).unwrap();
    let now = Utc::now();
    assert_eq!(
        session.check(StepId::App, now).await.status,
        Status::Passed
    );
    let role = session.check(StepId::Role, now).await;
    assert_eq!(role.status, Status::NotYet);
    assert!(role.checked.contains("needs a token"), "{role:?}");
    let tenant = session.check(StepId::Tenant, now).await;
    assert_eq!(tenant.status, Status::Passed);
    assert!(tenant.evidence.iter().any(|e| e.starts_with("issuer: ")));
}

#[tokio::test]
async fn an_unknown_tenant_fails_the_first_step_with_aadsts90002() {
    let demo = start().await;
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
