//! Issue 15, workload identity federation in the demo tenant: the external issuers (discovery,
//! JWKS, minting), federated assertions accepted or refused with Entra ID's codes (70021,
//! 700211, 700212, 700213, 7002138, 700024), Graph's federatedIdentityCredentials (v1.0 and
//! beta), and the walkthrough's change that adds a credential.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_doctor::demo::TenantChange;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sha1::Digest as _;

use super::support::{Fixture, GRAPH, assert_aadsts, asset, claims, der, start};

const GITHUB_PR: &str = "repo:contoso/inventory-sync:pull_request";
const GITHUB_MAIN: &str = "repo:contoso/inventory-sync:ref:refs/heads/main";
const EXCHANGE: &str = "api://AzureADTokenExchange";

fn issuer_url(fx: &Fixture, name: &str) -> String {
    format!("{}/issuers/{name}", fx.demo.authority_host())
}

/// A token of a demo issuer, signed with its key from `assets/demo`, with `claims` over the
/// defaults (valid for ten minutes from now).
fn external(fx: &Fixture, issuer: &str, file: &str, claims: &Value) -> String {
    let cert = asset(&format!("{file}.crt.pem"));
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(der(&cert))));
    let now = chrono::Utc::now().timestamp();
    let mut body =
        json!({"iss": issuer, "aud": EXCHANGE, "iat": now, "nbf": now, "exp": now + 600});
    for (k, v) in claims.as_object().unwrap() {
        body[k] = v.clone();
    }
    let _ = fx;
    let key = EncodingKey::from_rsa_pem(asset(&format!("{file}.key.pem")).as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &body, &key).unwrap()
}

fn github(fx: &Fixture, claims: &Value) -> String {
    external(
        fx,
        &issuer_url(fx, "github-actions"),
        "github-actions-issuer",
        claims,
    )
}

async fn exchange(fx: &Fixture, scenario: &str, assertion: &str) -> super::support::Answer {
    let client_id = fx.app(scenario).client_id.clone();
    fx.with_assertion(&client_id, assertion).await
}

fn description(answer: &super::support::Answer) -> String {
    answer.body["error_description"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_issuers_publish_discovery_and_keys_and_mint_tokens() {
    let fx = start().await;
    let aks = format!("{}/", issuer_url(&fx, "aks/contoso-cluster"));
    let discovery: Value = fx
        .get(
            "/issuers/aks/contoso-cluster/.well-known/openid-configuration",
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["issuer"],
        json!(aks),
        "AKS issuer URLs end with a slash"
    );
    let jwks_path = discovery["jwks_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches(fx.demo.authority_host())
        .to_owned();
    let jwks: Value = fx.get(&jwks_path, None).await.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");

    let minted: Value = fx
        .get(
            &format!("/issuers/github-actions/token?sub={GITHUB_PR}"),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let token = minted["value"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["iss"], json!(issuer_url(&fx, "github-actions")));
    assert_eq!(c["sub"], GITHUB_PR);
    assert_eq!(c["aud"], EXCHANGE);
    assert_eq!(c["event_name"], "pull_request");
    let missing = fx.get("/issuers/github-actions/token", None).await;
    assert_eq!(missing.status().as_u16(), 400);

    // The handed-out file holds the same kind of token.
    let file = fx
        .app("federated-issuer-slash")
        .assertion_file
        .clone()
        .unwrap();
    let handed = std::fs::read_to_string(file).unwrap();
    assert_eq!(claims(&handed)["iss"], json!(aks));
    assert_eq!(
        claims(&handed)["sub"],
        "system:serviceaccount:orders:orders-api"
    );
}

#[tokio::test]
async fn the_lessons_fail_with_700213_and_700211() {
    let fx = start().await;
    for (scenario, code, words) in [
        (
            "federated-subject-mismatch",
            700_213,
            format!(
                "presented assertion subject '{GITHUB_PR}'. Check your federated identity credential"
            ),
        ),
        (
            "federated-issuer-slash",
            700_211,
            format!(
                "presented assertion issuer '{}/'. Please check",
                issuer_url(&fx, "aks/contoso-cluster")
            ),
        ),
    ] {
        let file = fx.app(scenario).assertion_file.clone().unwrap();
        let token = std::fs::read_to_string(file).unwrap();
        let answer = exchange(&fx, scenario, &token).await;
        assert_aadsts(&answer, 401, "invalid_client", code);
        assert!(
            description(&answer).contains(&words),
            "{}",
            description(&answer)
        );
    }
}

#[tokio::test]
async fn subject_case_audience_time_and_a_registration_without_credentials() {
    let fx = start().await;
    let case = github(
        &fx,
        &json!({"sub": GITHUB_MAIN.replace("contoso", "Contoso")}),
    );
    let answer = exchange(&fx, "federated-subject-mismatch", &case).await;
    assert_aadsts(&answer, 401, "invalid_client", 7_002_138);
    assert!(description(&answer).contains("matches with case-insensitive comparison"));

    let audience = github(
        &fx,
        &json!({"sub": GITHUB_MAIN, "aud": "https://github.com/contoso"}),
    );
    let answer = exchange(&fx, "federated-subject-mismatch", &audience).await;
    assert_aadsts(&answer, 401, "invalid_client", 700_212);
    assert!(description(&answer).contains("assertion audience 'https://github.com/contoso'"));

    let now = chrono::Utc::now().timestamp();
    let expired = github(
        &fx,
        &json!({"sub": GITHUB_MAIN, "nbf": now - 4000, "exp": now - 3600}),
    );
    let answer = exchange(&fx, "federated-subject-mismatch", &expired).await;
    assert_aadsts(&answer, 401, "invalid_client", 700_024);

    let none = github(&fx, &json!({"sub": GITHUB_MAIN}));
    let answer = exchange(&fx, "healthy", &none).await;
    assert_aadsts(&answer, 400, "invalid_request", 70021);
    assert!(description(&answer).contains(&format!("Assertion Subject: '{GITHUB_MAIN}'")));

    // Signed by the other issuer's key: refused, never accepted.
    let forged = external(
        &fx,
        &issuer_url(&fx, "github-actions"),
        "aks-issuer",
        &json!({"sub": GITHUB_MAIN}),
    );
    let answer = exchange(&fx, "federated-subject-mismatch", &forged).await;
    assert_aadsts(&answer, 401, "invalid_client", 700_027);
}

#[tokio::test]
async fn a_matching_token_signs_in_and_the_added_credential_fixes_the_lesson() {
    let fx = start().await;
    let main = github(&fx, &json!({"sub": GITHUB_MAIN}));
    let answer = exchange(&fx, "federated-subject-mismatch", &main).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token = answer.body["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["roles"], json!(["User.Read.All"]));

    // The flexible credential: any release branch.
    let release = github(
        &fx,
        &json!({"sub": "repo:contoso/inventory-sync:ref:refs/heads/release/2.1"}),
    );
    let answer = exchange(&fx, "federated-subject-mismatch", &release).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let feature = github(
        &fx,
        &json!({"sub": "repo:contoso/inventory-sync:ref:refs/heads/feature/x"}),
    );
    let answer = exchange(&fx, "federated-subject-mismatch", &feature).await;
    assert_aadsts(&answer, 401, "invalid_client", 700_213);

    let app = fx.app("federated-subject-mismatch");
    let applied = fx
        .demo
        .control()
        .apply(&TenantChange::AddFederatedCredential {
            client_id: app.client_id.clone(),
            name: "pull-requests".into(),
            issuer: issuer_url(&fx, "github-actions"),
            subject: GITHUB_PR.into(),
            audiences: vec![EXCHANGE.into()],
        })
        .unwrap();
    assert!(
        applied
            .summary
            .starts_with("Added the federated credential pull-requests")
    );
    let file = app.assertion_file.clone().unwrap();
    let pr = std::fs::read_to_string(file).unwrap();
    let answer = exchange(&fx, "federated-subject-mismatch", &pr).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let bad = fx
        .demo
        .control()
        .apply(&TenantChange::AddFederatedCredential {
            client_id: app.client_id.clone(),
            name: "a b".into(),
            issuer: "x".into(),
            subject: "y".into(),
            audiences: vec![EXCHANGE.into()],
        });
    assert!(bad.is_err());
}

#[tokio::test]
async fn graph_lists_federated_credentials_in_v1_and_beta_to_readers_only() {
    let fx = start().await;
    let admin = fx.access_token("healthy", GRAPH).await;
    let app = fx.app("federated-issuer-slash").client_id.clone();
    let path =
        |v: &str| format!("/graph/{v}/applications(appId='{app}')/federatedIdentityCredentials");
    let v1: Value = fx
        .get(&path("v1.0"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let item = &v1["value"][0];
    assert_eq!(item["name"], "orders-api");
    assert_eq!(
        item["issuer"],
        json!(issuer_url(&fx, "aks/contoso-cluster"))
    );
    assert_eq!(item["subject"], "system:serviceaccount:orders:orders-api");
    assert_eq!(item["audiences"], json!([EXCHANGE]));
    assert!(
        item.get("claimsMatchingExpression").is_none(),
        "v1.0 has no expressions"
    );
    let beta: Value = fx
        .get(&path("beta"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(beta["value"][0]["claimsMatchingExpression"], Value::Null);

    // A flexible credential: null subject in v1.0, its expression in beta.
    let github_app = fx.app("federated-subject-mismatch").client_id.clone();
    let flexible = |v: &str| {
        format!("/graph/{v}/applications(appId='{github_app}')/federatedIdentityCredentials")
    };
    let v1: Value = fx
        .get(&flexible("v1.0"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v1["value"][1]["subject"], Value::Null);
    let beta: Value = fx
        .get(&flexible("beta"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        beta["value"][1]["claimsMatchingExpression"],
        json!({"value": "claims['sub'] matches 'repo:contoso/inventory-sync:ref:refs/heads/release/*'", "languageVersion": 1})
    );

    let unknown = fx
        .get(
            "/graph/v1.0/applications(appId='00000000-0000-0000-0000-000000000001')/federatedIdentityCredentials",
            Some(&admin),
        )
        .await;
    assert_eq!(unknown.status().as_u16(), 404);
    let reader = fx.access_token("no-consent", GRAPH).await;
    let denied = fx.get(&path("v1.0"), Some(&reader)).await;
    assert_eq!(denied.status().as_u16(), 403);
}

#[tokio::test]
async fn graph_adds_a_federated_credential_for_a_writer_only() {
    let fx = start().await;
    let app = fx.app("federated-issuer-slash").client_id.clone();
    let url = format!(
        "{}/graph/v1.0/applications(appId='{app}')/federatedIdentityCredentials",
        fx.demo.authority_host()
    );
    let issuer = format!("{}/", issuer_url(&fx, "aks/contoso-cluster"));
    let body = json!({"name": "orders-api-slash", "issuer": issuer,
        "subject": "system:serviceaccount:orders:orders-api", "audiences": [EXCHANGE]});
    let post = |token: String, body: Value| {
        let request = fx.http.post(&url).bearer_auth(token).json(&body);
        async move { request.send().await.unwrap() }
    };
    // Application.Read.All reads; only Application.ReadWrite.All writes.
    let reader = fx.access_token("healthy", GRAPH).await;
    assert_eq!(post(reader, body.clone()).await.status().as_u16(), 403);
    fx.demo
        .control()
        .apply(&TenantChange::GrantRole {
            client_id: fx.app("healthy").client_id.clone(),
            resource: "https://graph.microsoft.com".into(),
            path: None,
            candidates: vec!["Application.ReadWrite.All".into()],
        })
        .unwrap();
    let writer = fx.access_token("healthy", GRAPH).await;
    let bad = post(writer.clone(), json!({"name": "x y", "issuer": issuer})).await;
    assert_eq!(bad.status().as_u16(), 400);
    let refusal: Value = bad.json().await.unwrap();
    assert_eq!(refusal["error"]["code"], "Request_BadRequest");
    let created = post(writer, body).await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["name"], "orders-api-slash");

    let file = fx
        .app("federated-issuer-slash")
        .assertion_file
        .clone()
        .unwrap();
    let token = std::fs::read_to_string(file).unwrap();
    let answer = exchange(&fx, "federated-issuer-slash", &token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}
