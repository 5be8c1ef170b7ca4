//! The token client against wiremock: every form field, every answer shape, timeouts, redirects.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entra_doctor::auth::{
    Authority, AuthorityHost, ClientOptions, Credential, ScopeSet, Tenant, TokenClient,
    TokenRequest,
};
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CLIENT_ID, FormIs, TENANT_ID, token_body, v1_graph_token};

pub fn request(server: &MockServer, credential: Credential, scope: &str) -> TokenRequest {
    TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(&server.uri()).unwrap(),
            Tenant::parse(TENANT_ID).unwrap(),
        ),
        token_endpoint: None,
        client_id: CLIENT_ID.into(),
        scopes: ScopeSet::parse(&[scope]).unwrap(),
        credential,
        claims: None,
    }
}

pub fn token_path() -> String {
    format!("/{TENANT_ID}/oauth2/v2.0/token")
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// No back-off between retries: the tests stay fast.
fn client() -> TokenClient {
    TokenClient::new(ClientOptions {
        backoff: Duration::ZERO,
        ..ClientOptions::default()
    })
    .unwrap()
}

#[tokio::test]
async fn secret_request_sends_exactly_the_client_credentials_form() {
    let server = MockServer::start().await;
    let token = v1_graph_token("secret-flow");
    Mock::given(method("POST"))
        .and(path(token_path()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(FormIs(vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", CLIENT_ID.into()),
            ("scope", "https://graph.microsoft.com/.default".into()),
            ("client_secret", "s3cr&t+=value".into()),
        ]))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "refresh_in": 1800, "access_token": token,
        })))
        .expect(1)
        .mount(&server)
        .await;
    let request = request(
        &server,
        Credential::Secret(Secret::new("s3cr&t+=value")),
        "https://graph.microsoft.com/.default",
    );
    let response = client().acquire(&request, now()).await.unwrap();
    assert_eq!(response.token_type, "Bearer");
    assert_eq!(
        (
            response.expires_in,
            response.ext_expires_in,
            response.refresh_in
        ),
        (3599, Some(3599), Some(1800))
    );
    assert_eq!(response.access_token.expose(), token);
}

async fn answer(template: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    let request = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    client().acquire(&request, now()).await.unwrap_err()
}

#[tokio::test]
async fn entra_error_body_is_typed() {
    let body = json!({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-2222-4333-8444-555555555555'.\r\nTrace ID: 0b1c\r\nCorrelation ID: 2d3e\r\nTimestamp: 2026-11-25 12:00:00Z",
        "error_codes": [7_000_215],
        "timestamp": "2026-11-25 12:00:00Z",
        "trace_id": "0b1c",
        "correlation_id": "2d3e",
        "error_uri": "https://login.microsoftonline.com/error?code=7000215",
    });
    let Error::Entra(entra) = answer(ResponseTemplate::new(401).set_body_json(body)).await else {
        panic!("expected an Entra error");
    };
    assert_eq!(entra.status, 401);
    assert_eq!(entra.error, "invalid_client");
    assert_eq!(entra.code(), Some(7_000_215));
    assert_eq!(entra.trace_id.as_deref(), Some("0b1c"));
    assert_eq!(entra.correlation_id.as_deref(), Some("2d3e"));
    assert_eq!(
        entra.error_uri.as_deref(),
        Some("https://login.microsoftonline.com/error?code=7000215")
    );
    let message = Error::Entra(entra).to_string();
    assert!(message.starts_with("Entra ID refused the token request (HTTP 401, invalid_client, AADSTS7000215): AADSTS7000215: Invalid client secret provided."), "{message}");
    assert!(
        !message.contains("Correlation ID: 2d3e"),
        "only the first line: {message}"
    );
}

#[tokio::test]
async fn code_is_read_from_the_description_when_error_codes_is_missing() {
    let body = json!({"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' is not valid."});
    let Error::Entra(entra) = answer(ResponseTemplate::new(400).set_body_json(body)).await else {
        panic!("expected an Entra error");
    };
    assert_eq!((entra.status, entra.code()), (400, Some(70011)));
}

#[tokio::test]
async fn html_from_a_proxy_names_status_type_and_text() {
    let html = format!(
        "<html><head><title>Proxy Authentication Required</title></head><body>{}</body></html>",
        "x".repeat(500)
    );
    let error =
        answer(ResponseTemplate::new(407).set_body_raw(html, "text/html; charset=utf-8")).await;
    let Error::UnexpectedResponse {
        status,
        content_type,
        snippet,
        ..
    } = &error
    else {
        panic!("expected UnexpectedResponse, got {error:?}");
    };
    assert_eq!(*status, 407);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(snippet.starts_with("<html><head><title>Proxy Authentication Required"));
    assert_eq!(
        snippet.chars().count(),
        201,
        "200 characters and an ellipsis"
    );
    assert_eq!(error.failure().exit_code(), 3);
}

#[tokio::test]
async fn empty_body_is_named() {
    let error = answer(ResponseTemplate::new(502)).await;
    let message = error.to_string();
    assert!(
        message.contains("HTTP 502 with no content type"),
        "{message}"
    );
    assert!(message.contains("(empty body)"), "{message}");
}

#[tokio::test]
async fn json_that_is_neither_token_nor_error() {
    let error = answer(ResponseTemplate::new(200).set_body_json(json!({"hello": "world"}))).await;
    assert!(
        matches!(error, Error::UnexpectedResponse { status: 200, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let error =
        answer(ResponseTemplate::new(302).insert_header("location", "https://evil.example/token"))
            .await;
    let Error::Redirected {
        status, location, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(
        (*status, location.as_str()),
        (302, "https://evil.example/token")
    );
    assert!(
        error
            .to_string()
            .contains("does not follow redirects with credentials")
    );
}

#[tokio::test]
async fn slow_server_times_out_with_advice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let options = ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_millis(200),
        retries: 0,
        backoff: Duration::ZERO,
        ..ClientOptions::default()
    };
    let request = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    let error = TokenClient::new(options)
        .unwrap()
        .acquire(&request, now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: "the request",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("raise --timeout"), "{error}");
    assert_eq!(error.failure().exit_code(), 3);
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let request = TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(&format!("http://127.0.0.1:{port}")).unwrap(),
            Tenant::parse(TENANT_ID).unwrap(),
        ),
        token_endpoint: None,
        client_id: CLIENT_ID.into(),
        scopes: ScopeSet::parse(&["api://a/.default"]).unwrap(),
        credential: Credential::Secret(Secret::new("x")),
        claims: None,
    };
    let error = client().acquire(&request, now()).await.unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error:?}");
    assert!(
        error.to_string().to_lowercase().contains("connect"),
        "{error}"
    );
}

#[tokio::test]
async fn plain_http_token_endpoint_to_a_remote_host_is_refused_before_sending() {
    let server = MockServer::start().await;
    let mut request = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    request.token_endpoint = Some(url::Url::parse("http://example.com/token").unwrap());
    let error = client().acquire(&request, now()).await.unwrap_err();
    assert!(
        matches!(error, Error::InsecureAuthority { .. }),
        "{error:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn discovery_reads_the_metadata_and_unknown_tenants() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/{TENANT_ID}/v2.0/.well-known/openid-configuration"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": format!("https://login.microsoftonline.com/{TENANT_ID}/v2.0"),
            "token_endpoint": format!("{}/{TENANT_ID}/oauth2/v2.0/token", server.uri()),
            "jwks_uri": format!("{}/{TENANT_ID}/discovery/v2.0/keys", server.uri()),
            "tenant_region_scope": "EU",
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/nowhere.example/v2.0/.well-known/openid-configuration",
        ))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_tenant",
            "error_description": "AADSTS90002: Tenant 'nowhere.example' not found.",
            "error_codes": [90002],
        })))
        .mount(&server)
        .await;
    let host = AuthorityHost::parse(&server.uri()).unwrap();
    let metadata = client()
        .discover(&Authority::new(
            host.clone(),
            Tenant::parse(TENANT_ID).unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(metadata.tenant_region_scope.as_deref(), Some("EU"));
    assert!(metadata.jwks_uri.ends_with("/discovery/v2.0/keys"));
    let error = client()
        .discover(&Authority::new(
            host,
            Tenant::parse("nowhere.example").unwrap(),
        ))
        .await
        .unwrap_err();
    let Error::Entra(entra) = error else {
        panic!("{error:?}")
    };
    assert_eq!(entra.code(), Some(90002));
}

#[tokio::test]
async fn v1_endpoint_answers_with_string_numbers_are_read() {
    let error_free = answer_ok(json!({"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","access_token":"abc"})).await;
    assert_eq!(error_free.expires_in, 3599);
    let _ = token_body("x", 1);
}

async fn answer_ok(body: serde_json::Value) -> entra_doctor::auth::TokenResponse {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let request = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    client().acquire(&request, now()).await.unwrap()
}

async fn flaky_server(first: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("retried"), 3599)),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried_at_most_twice() {
    for first in [
        ResponseTemplate::new(503),
        ResponseTemplate::new(502).set_body_raw("<html>Bad gateway</html>", "text/html"),
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
        ResponseTemplate::new(500).insert_header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
    ] {
        let server = flaky_server(first, 2).await;
        let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = notices.clone();
        let client = client().on_retry(std::sync::Arc::new(
            move |n: &entra_doctor::auth::RetryNotice| {
                seen.lock().unwrap().push(n.to_string());
            },
        ));
        let request = request(
            &server,
            Credential::Secret(Secret::new("x")),
            "api://a/.default",
        );
        let response = client.acquire(&request, now()).await.unwrap();
        assert_eq!(response.access_token.expose(), v1_graph_token("retried"));
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
        let notices = notices.lock().unwrap().clone();
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices[1].contains("retrying (2/2)"), "{notices:?}");
    }
}

#[tokio::test]
async fn a_third_failure_is_returned_and_long_retry_after_is_not_waited_out() {
    let server = flaky_server(ResponseTemplate::new(503), 3).await;
    let unavailable = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    let error = client().acquire(&unavailable, now()).await.unwrap_err();
    assert!(
        matches!(error, Error::UnexpectedResponse { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "one try and two retries"
    );

    let server = flaky_server(
        ResponseTemplate::new(429).insert_header("retry-after", "120"),
        1,
    )
    .await;
    let throttled = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    let error = client().acquire(&throttled, now()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Throttled { retry_after: Some(after), .. } if after == "120"),
        "{error:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "120 s is the operator's call"
    );
}

#[tokio::test]
async fn entra_refusals_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "invalid_client", "error_codes": [7_000_215]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let request = request(
        &server,
        Credential::Secret(Secret::new("x")),
        "api://a/.default",
    );
    assert!(matches!(
        client().acquire(&request, now()).await,
        Err(Error::Entra(_))
    ));
}
