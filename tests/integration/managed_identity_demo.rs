//! Managed identity against the demo tenant's IMDS and App Service endpoints: the
//! `managed-identity-not-assigned` scenario fails as its lesson says, and once the identity is
//! assigned (as `az vm identity assign` would), its token carries the identity's granted roles
//! and the demo's Graph answers 200.

use std::collections::HashMap;

use chrono::Utc;
use entra_doctor::auth::managed_identity::{self, IdentitySelector, ManagedIdentityRequest};
use entra_doctor::auth::{ClientOptions, ScopeSet};
use entra_doctor::demo::{self, DemoOptions, IdentityEndpoint, RunningDemo, TenantModel};
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;

const SCENARIO: &str = "managed-identity-not-assigned";

async fn demo_with(assigned: bool) -> RunningDemo {
    let mut model = TenantModel::builtin().unwrap();
    if assigned {
        let id = model.managed_identity(SCENARIO).unwrap().client_id.clone();
        model.identity_host.as_mut().unwrap().assigned.push(id);
    }
    demo::start(DemoOptions::new(model)).await.unwrap()
}

/// What a process on the demo's Azure host sees.
fn env_of(demo: &RunningDemo, endpoint: IdentityEndpoint) -> HashMap<String, String> {
    demo.managed_identity_env(endpoint)
        .into_iter()
        .map(|(name, value)| (name, value.expose().to_owned()))
        .collect()
}

async fn acquire(
    vars: &HashMap<String, String>,
    identity: IdentitySelector,
) -> entra_doctor::Result<managed_identity::ManagedToken> {
    let request = ManagedIdentityRequest::new(
        identity,
        &ScopeSet::parse(&["https://graph.microsoft.com/.default"]).unwrap(),
    );
    managed_identity::acquire(&request, &ClientOptions::default(), vars, Utc::now()).await
}

fn id_of(error: &Error) -> &'static str {
    match error {
        Error::ManagedIdentity(failure) => failure.id(),
        other => panic!("not a managed identity failure: {other}"),
    }
}

#[tokio::test]
async fn the_scenario_fails_as_its_lesson_says_on_both_endpoints() {
    let demo = demo_with(false).await;
    let identity = demo
        .managed_identities()
        .into_iter()
        .find(|m| m.scenario == SCENARIO)
        .unwrap();
    assert!(identity.teaches.contains("Identity not found"));
    for endpoint in [IdentityEndpoint::Imds, IdentityEndpoint::AppService] {
        let vars = env_of(&demo, endpoint);
        let system = acquire(&vars, IdentitySelector::SystemAssigned)
            .await
            .unwrap_err();
        assert_eq!(
            id_of(&system),
            "managed-identity.not-assigned",
            "{endpoint:?}"
        );
        let named = acquire(
            &vars,
            IdentitySelector::ClientId(identity.client_id.clone()),
        )
        .await
        .unwrap_err();
        assert_eq!(
            id_of(&named),
            "managed-identity.wrong-client-id",
            "{endpoint:?}"
        );
    }
}

#[tokio::test]
async fn once_assigned_the_identity_s_token_reaches_the_api() {
    let demo = demo_with(true).await;
    let identity = demo
        .managed_identities()
        .into_iter()
        .find(|m| m.scenario == SCENARIO)
        .unwrap();
    let selectors = [
        IdentitySelector::SystemAssigned, // the only identity of the VM, so IMDS gives it
        IdentitySelector::ClientId(identity.client_id.clone()),
        IdentitySelector::ObjectId(identity.object_id.clone()),
        IdentitySelector::ResourceId(identity.resource_id.clone()),
    ];
    for endpoint in [IdentityEndpoint::Imds, IdentityEndpoint::AppService] {
        let vars = env_of(&demo, endpoint);
        for selector in selectors.clone() {
            let token = acquire(&vars, selector.clone())
                .await
                .unwrap_or_else(|e| panic!("{endpoint:?} {selector}: {e}"));
            let decoded = entra_doctor::token::decode(token.token.expose()).unwrap();
            assert_eq!(
                decoded.claims.appid.as_deref(),
                Some(identity.client_id.as_str())
            );
            assert_eq!(
                decoded.claims.oid.as_deref(),
                Some(identity.object_id.as_str())
            );
            assert_eq!(decoded.claims.roles, Some(vec!["User.Read.All".to_owned()]));
        }
    }
    let vars = env_of(&demo, IdentityEndpoint::Imds);
    let token = acquire(&vars, IdentitySelector::SystemAssigned)
        .await
        .unwrap();
    let answer = reqwest::Client::new()
        .get(&identity.probe_url)
        .bearer_auth(token.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn a_stale_identity_header_is_refused_by_the_demo_app_service() {
    let demo = demo_with(true).await;
    let mut vars = env_of(&demo, IdentityEndpoint::AppService);
    let real = Secret::new(vars["IDENTITY_HEADER"].clone());
    vars.insert("IDENTITY_HEADER".into(), "a-stale-copy".into());
    let error = acquire(&vars, IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(id_of(&error), "managed-identity.app-service-header");
    assert!(!error.to_string().contains(real.expose()));
}

#[tokio::test]
async fn the_demo_imds_wants_the_metadata_header_as_imds_does() {
    let demo = demo_with(true).await;
    let answer = reqwest::get(format!(
        "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://graph.microsoft.com",
        demo.authority_host()
    ))
    .await
    .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        body["error_description"],
        "Required metadata header not specified"
    );
}

#[tokio::test]
async fn demo_serve_prints_the_identity_and_the_host_s_environment() {
    use entra_doctor::cli::demo::{DemoArgs, OutputFormat, run_with};
    let args = DemoArgs {
        serve: true,
        output: OutputFormat::Json,
        scenario: Some(SCENARIO.into()),
        ..DemoArgs::default()
    };
    let mut out = Vec::new();
    run_with(args, &mut out, async {}).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["apps"].as_array().unwrap().len(), 0);
    assert_eq!(doc["managed_identities"][0]["scenario"], SCENARIO);
    let host = doc["authority_host"].as_str().unwrap();
    assert_eq!(
        doc["managed_identity_env"]["imds"]["AZURE_POD_IDENTITY_AUTHORITY_HOST"],
        host
    );
    assert_eq!(
        doc["managed_identity_env"]["app_service"]["IDENTITY_ENDPOINT"],
        format!("{host}/msi/token")
    );
    assert!(doc["managed_identity_env"]["app_service"]["IDENTITY_HEADER"].is_string());

    let args = DemoArgs {
        list_scenarios: true,
        ..DemoArgs::default()
    };
    let mut out = Vec::new();
    run_with(args, &mut out, async {}).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(&format!("\n{SCENARIO}\n  teaches ")),
        "{text}"
    );
}

#[tokio::test]
async fn the_identity_header_never_shows_in_debug() {
    let demo = demo_with(false).await;
    let header = env_of(&demo, IdentityEndpoint::AppService)["IDENTITY_HEADER"].clone();
    assert!(!format!("{demo:?}").contains(&header));
}

#[tokio::test]
async fn the_demo_imds_throttles_a_host_that_asks_too_often() {
    let mut model = TenantModel::builtin().unwrap();
    let id = model.managed_identity(SCENARIO).unwrap().client_id.clone();
    let host = model.identity_host.as_mut().unwrap();
    host.assigned.push(id);
    // One request an hour: the second one's Retry-After is far more than the client waits by
    // itself, so the test never sleeps.
    host.rate_limit = Some(entra_doctor::demo::RateLimit {
        requests: 1,
        window_seconds: 3600,
    });
    let demo = demo::start(DemoOptions::new(model)).await.unwrap();
    let vars = env_of(&demo, IdentityEndpoint::Imds);
    acquire(&vars, IdentitySelector::SystemAssigned)
        .await
        .unwrap();
    let error = acquire(&vars, IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(id_of(&error), "managed-identity.throttled");
    let Error::ManagedIdentity(failure) = &error else {
        unreachable!()
    };
    let finding = entra_doctor::diagnose::managed_identity::finding(failure, None);
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e.contains("Retry-After: 3")),
        "{:?}",
        finding.evidence
    );
}

#[tokio::test]
async fn assigning_the_identity_in_the_running_demo_fixes_the_scenario() {
    let demo = demo_with(false).await;
    let identity = demo
        .managed_identities()
        .into_iter()
        .find(|m| m.scenario == SCENARIO)
        .unwrap();
    let vars = env_of(&demo, IdentityEndpoint::Imds);
    let named = IdentitySelector::ClientId(identity.client_id.clone());
    assert_eq!(
        id_of(&acquire(&vars, named.clone()).await.unwrap_err()),
        "managed-identity.wrong-client-id"
    );
    let applied = demo
        .control()
        .apply(&entra_doctor::demo::TenantChange::AssignIdentity {
            client_id: identity.client_id.clone(),
        })
        .unwrap();
    assert!(
        applied.summary.contains("az vm identity assign"),
        "{}",
        applied.summary
    );
    acquire(&vars, named).await.unwrap();
}
