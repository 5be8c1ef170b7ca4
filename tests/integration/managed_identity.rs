//! Managed identity against wiremock on loopback: every source (IMDS, App Service, Azure Arc)
//! and every finding, with the services' real error bodies (the URL where each was seen is
//! beside it). IMDS is always moved to loopback (`AZURE_POD_IDENTITY_AUTHORITY_HOST`, or a
//! [`Source`] naming a loopback URL): no test ever connects to 169.254.169.254.
//!
//! Retries never sleep for real: the back-off is zero and a 429 says `Retry-After: 0`.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use entra_doctor::auth::managed_identity::{
    self, ArcKeys, IdentitySelector, ManagedIdentityRequest, Source, SourceKind,
};
use entra_doctor::auth::{ClientOptions, ScopeSet};
use entra_doctor::diagnose::managed_identity::finding;
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;
use serde_json::json;
use url::Url;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assert_cli_snapshot;
use crate::fault_server::closed_port_uri;
use crate::support::v1_graph_token;

const USER_ASSIGNED: &str = "748967b5-5273-4e73-a3fa-1ee44af271de";
const IMDS_PATH: &str = "/metadata/identity/oauth2/token";
const HEADER_VALUE: &str = "4d3b1c1e2f0a4b6c8d9e0f1a2b3c4d5e";

/// IMDS's answer when the identity is not assigned, as seen in
/// https://github.com/Azure/aad-pod-identity/issues/778.
const IDENTITY_NOT_FOUND: &str =
    r#"{"error":"invalid_request","error_description":"Identity not found"}"#;
/// IMDS throttling, as seen in https://github.com/hashicorp/terraform-provider-azurerm/issues/20901.
const IMDS_THROTTLED: &str =
    r#"{"error":"invalid_request","error_description":"Temporarily throttled, too many requests"}"#;
/// App Service when the identity is not assigned, as seen in
/// https://github.com/Azure/azure-sdk-for-net/issues/43691.
const UNABLE_TO_LOAD: &str = r#"{"statusCode":400,"message":"Unable to load the proper Managed Identity.","correlationId":"bf68136a-73f7-4ca4-9903-9ee8af3ab2ee"}"#;

fn options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(5),
        backoff: Duration::ZERO,
        ..ClientOptions::default()
    }
}

fn request(identity: IdentitySelector) -> ManagedIdentityRequest {
    ManagedIdentityRequest::new(
        identity,
        &ScopeSet::parse(&["https://graph.microsoft.com/.default"]).unwrap(),
    )
}

fn imds_at(server: &str) -> Source {
    Source::Imds {
        endpoint: Url::parse(&format!("{server}{IMDS_PATH}")).unwrap(),
    }
}

fn app_service_at(server: &str) -> Source {
    Source::AppService {
        endpoint: Url::parse(&format!("{server}/msi/token")).unwrap(),
        header: Secret::new(HEADER_VALUE),
    }
}

async fn acquire(
    source: &Source,
    identity: IdentitySelector,
) -> entra_doctor::Result<managed_identity::ManagedToken> {
    let nowhere = ArcKeys::in_dir("/nonexistent-arc-tokens");
    managed_identity::acquire_from(source, &request(identity), &options(), &nowhere, Utc::now())
        .await
}

/// The managed identity failure inside a library error.
fn failure(error: &Error) -> &managed_identity::ManagedIdentityError {
    match error {
        Error::ManagedIdentity(failure) => failure,
        other => panic!("not a managed identity failure: {other}"),
    }
}

fn finding_json(error: &Error) -> String {
    let finding = finding(failure(error), Some("https://graph.microsoft.com"));
    serde_json::to_string_pretty(&finding).unwrap()
}

/// The IMDS sample answer of the docs (every number a string), for `resource`.
fn imds_token(resource: &str) -> serde_json::Value {
    let now = Utc::now().timestamp();
    json!({
        "access_token": v1_graph_token("mi"),
        "refresh_token": "",
        "expires_in": "86399",
        "expires_on": (now + 86_399).to_string(),
        "not_before": (now - 300).to_string(),
        "resource": resource,
        "token_type": "Bearer",
    })
}

#[tokio::test]
async fn imds_gives_a_token_for_the_resource_of_the_scope() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(IMDS_PATH))
        .and(header("Metadata", "true"))
        .and(query_param("api-version", "2018-02-01"))
        .and(query_param("resource", "https://graph.microsoft.com"))
        .and(query_param("client_id", USER_ASSIGNED))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(imds_token("https://graph.microsoft.com")),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Detected from the environment, the way an SDK on an AKS node with pod identity finds it.
    let vars: HashMap<String, String> =
        [("AZURE_POD_IDENTITY_AUTHORITY_HOST".to_owned(), server.uri())].into();
    let token = managed_identity::acquire(
        &request(IdentitySelector::ClientId(USER_ASSIGNED.into())),
        &options(),
        &vars,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(token.source, SourceKind::Imds);
    assert_eq!(
        token.resource.as_deref(),
        Some("https://graph.microsoft.com")
    );
    let left = (token.expires_on - Utc::now()).num_seconds();
    assert!((86_000..=86_400).contains(&left), "{left}");
    // It flows on like a token from Entra ID.
    let as_served = token.into_served(Utc::now());
    let decoded = entra_doctor::token::decode(as_served.token.expose()).unwrap();
    assert_eq!(
        decoded.claims.aud.map(|a| a.joined()).as_deref(),
        Some("https://graph.microsoft.com")
    );
}

#[tokio::test]
async fn imds_identity_not_found_is_not_assigned_for_system_and_wrong_id_for_a_named_one() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(IMDS_PATH))
        .respond_with(
            ResponseTemplate::new(400).set_body_raw(IDENTITY_NOT_FOUND, "application/json"),
        )
        .mount(&server)
        .await;
    let system = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(failure(&system).id(), "managed-identity.not-assigned");
    assert_eq!(system.failure(), entra_doctor::error::Failure::Refused);
    assert_cli_snapshot!("managed_identity_imds_not_assigned", finding_json(&system));

    let named = acquire(
        &imds_at(&server.uri()),
        IdentitySelector::ClientId(USER_ASSIGNED.into()),
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&named).id(), "managed-identity.wrong-client-id");
    assert_cli_snapshot!(
        "managed_identity_imds_wrong_client_id",
        finding_json(&named)
    );
}

#[tokio::test]
async fn imds_429_is_retried_with_retry_after_then_named() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(IMDS_PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_raw(IMDS_THROTTLED, "application/json"),
        )
        .expect(3) // the first attempt and the two retries
        .mount(&server)
        .await;
    let error = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.throttled");
    assert_cli_snapshot!("managed_identity_imds_throttled", finding_json(&error));
}

#[tokio::test]
async fn a_retry_after_too_long_to_wait_is_not_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3600")
                .set_body_raw(IMDS_THROTTLED, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert!(matches!(
        failure(&error),
        managed_identity::ManagedIdentityError::Throttled { attempts: 1, retry_after: Some(v), .. } if v == "3600"
    ));
}

#[tokio::test]
async fn nothing_listening_at_imds_means_not_on_azure() {
    let error = acquire(
        &imds_at(&closed_port_uri()),
        IdentitySelector::SystemAssigned,
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.not-on-azure");
    assert_eq!(error.failure(), entra_doctor::error::Failure::Network);
    assert_cli_snapshot!("managed_identity_not_on_azure", finding_json(&error));
}

#[tokio::test]
async fn an_entra_refusal_passed_on_by_imds_is_explained_as_entra_s() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_resource",
            "error_description": "AADSTS500011: The resource principal named https://nope.example was not found in the tenant named Contoso Demo.",
        })))
        .mount(&server)
        .await;
    let error = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    let Error::Entra(entra) = &error else {
        panic!("{error}")
    };
    assert_eq!(entra.code(), Some(500_011));
}

#[tokio::test]
async fn an_answer_that_is_not_a_token_is_unexpected() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<html>proxy login</html>", "text/html"),
        )
        .mount(&server)
        .await;
    let error = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.unexpected-response");
    // A lifetime no token has is not believed either.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": v1_graph_token("x"), "expires_in": "99999999999999", "token_type": "Bearer",
        })))
        .mount(&server)
        .await;
    let error = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.unexpected-response");
}

#[tokio::test]
async fn app_service_sends_its_header_and_names_identities_its_way() {
    let server = MockServer::start().await;
    let now = Utc::now().timestamp();
    Mock::given(method("GET"))
        .and(path("/msi/token"))
        .and(header("X-IDENTITY-HEADER", HEADER_VALUE))
        .and(query_param("api-version", "2019-08-01"))
        .and(query_param("principal_id", USER_ASSIGNED))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": v1_graph_token("app-service"),
            "expires_on": (now + 3600).to_string(),
            "resource": "https://graph.microsoft.com",
            "token_type": "Bearer",
            "client_id": "5E29463D-71DA-4FE0-8E69-999B57DB23B0",
        })))
        .expect(1)
        .mount(&server)
        .await;
    let vars: HashMap<String, String> = [
        (
            "IDENTITY_ENDPOINT".to_owned(),
            format!("{}/msi/token", server.uri()),
        ),
        ("IDENTITY_HEADER".to_owned(), HEADER_VALUE.to_owned()),
    ]
    .into();
    let token = managed_identity::acquire(
        &request(IdentitySelector::ObjectId(USER_ASSIGNED.into())),
        &options(),
        &vars,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(token.source, SourceKind::AppService);
    assert_eq!(token.expires_on.timestamp(), now + 3600);
    assert_eq!(
        token.client_id.as_deref(),
        Some("5E29463D-71DA-4FE0-8E69-999B57DB23B0")
    );
}

#[tokio::test]
async fn app_service_failures_are_named_and_never_show_the_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("X-IDENTITY-HEADER", HEADER_VALUE))
        .respond_with(ResponseTemplate::new(400).set_body_raw(UNABLE_TO_LOAD, "application/json"))
        .mount(&server)
        .await;
    let error = acquire(
        &app_service_at(&server.uri()),
        IdentitySelector::SystemAssigned,
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.not-assigned");
    let named = acquire(
        &app_service_at(&server.uri()),
        IdentitySelector::ClientId(USER_ASSIGNED.into()),
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&named).id(), "managed-identity.wrong-client-id");

    let refusing = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&refusing)
        .await;
    let error = acquire(
        &app_service_at(&refusing.uri()),
        IdentitySelector::SystemAssigned,
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.app-service-header");
    let shown = format!("{error} {error:?} {}", finding_json(&error));
    assert!(!shown.contains(HEADER_VALUE), "{shown}");
    assert_cli_snapshot!("managed_identity_app_service_header", finding_json(&error));
}

#[tokio::test]
async fn a_redirect_is_never_followed_so_the_header_goes_nowhere_else() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/steal", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    let error = acquire(
        &app_service_at(&server.uri()),
        IdentitySelector::SystemAssigned,
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.unexpected-response");
    assert!(error.to_string().contains("not followed"), "{error}");
}

/// An Arc agent on wiremock: 401 with the challenge naming `key`, then a token for the right
/// `Authorization`.
async fn arc_agent(key_path: &std::path::Path, key: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("Authorization", format!("Basic {key}").as_str()))
        .and(query_param("api-version", "2020-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": v1_graph_token("arc"),
            "expires_in": "3599",
            "resource": "https://graph.microsoft.com",
            "token_type": "Bearer",
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("Metadata", "true"))
        .respond_with(ResponseTemplate::new(401).insert_header(
            "WWW-Authenticate",
            format!("Basic realm={}", key_path.display()),
        ))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

fn arc_at(server: &MockServer) -> Source {
    Source::AzureArc {
        endpoint: Url::parse(&format!("{}{IMDS_PATH}", server.uri())).unwrap(),
    }
}

/// The system-assigned identity, asked of the Arc agent `server` with `keys` as the agent's
/// token directory.
async fn ask_arc(
    server: &MockServer,
    keys: &std::path::Path,
) -> Result<managed_identity::ManagedToken, Error> {
    managed_identity::acquire_from(
        &arc_at(server),
        &request(IdentitySelector::SystemAssigned),
        &options(),
        &ArcKeys::in_dir(keys),
        Utc::now(),
    )
    .await
}

#[tokio::test]
async fn arc_answers_the_challenge_with_the_key_from_the_agent_directory() {
    let tokens = tempfile::tempdir().unwrap();
    let key_path = tokens.path().join("0f2e.key");
    std::fs::write(&key_path, "a-key-only-root-can-read\n").unwrap();
    let server = arc_agent(&key_path, "a-key-only-root-can-read").await;
    let token = ask_arc(&server, tokens.path()).await.unwrap();
    assert_eq!(token.source, SourceKind::AzureArc);
}

#[tokio::test]
async fn arc_refuses_a_key_outside_the_agent_directory_and_sends_nothing() {
    let tokens = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let planted = elsewhere.path().join("id_rsa.key");
    std::fs::write(&planted, "not-for-the-agent").unwrap();
    let server = arc_agent(&planted, "not-for-the-agent").await;
    let error = ask_arc(&server, tokens.path()).await.unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.arc-challenge");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "the key was never sent");
    assert!(requests[0].headers.get("authorization").is_none());
    let json = finding_json(&error)
        .replace(&elsewhere.path().display().to_string(), "[elsewhere]")
        .replace(&tokens.path().display().to_string(), "[agent tokens]");
    assert_cli_snapshot!("managed_identity_arc_challenge", json);
}

#[tokio::test]
async fn arc_serves_only_the_system_assigned_identity() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let error = acquire(
        &arc_at(&server),
        IdentitySelector::ClientId(USER_ASSIGNED.into()),
    )
    .await
    .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.arc-system-only");
}

#[tokio::test]
async fn imds_is_asked_without_any_header_but_metadata() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header_exists("X-IDENTITY-HEADER"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(imds_token("https://graph.microsoft.com")),
        )
        .mount(&server)
        .await;
    acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_huge_answer_is_read_only_up_to_the_cap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(vec![b'a'; 3 * 1024 * 1024], "application/json"),
        )
        .mount(&server)
        .await;
    let error = acquire(&imds_at(&server.uri()), IdentitySelector::SystemAssigned)
        .await
        .unwrap_err();
    assert_eq!(failure(&error).id(), "managed-identity.unexpected-response");
    assert!(
        error.to_string().len() < 2_000,
        "the message quotes a snippet, not the body"
    );
}
