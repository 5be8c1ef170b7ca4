//! Network faults at the probe: a huge body is read up to its cap, a redirect is reported and
//! not followed with the token, a slow API times out with advice, a refused port is named.

use std::time::Duration;

use entra_doctor::Secret;
use entra_doctor::auth::ClientOptions;
use entra_doctor::probe::{MAX_BODY_BYTES, ProbeRequest, Prober};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn request(url: &str) -> ProbeRequest {
    ProbeRequest {
        url: url::Url::parse(url).unwrap(),
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        token: Some(Secret::new("eyJ.token.x")),
    }
}

fn prober(timeout: Duration) -> Prober {
    Prober::new(&ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout,
        ..ClientOptions::default()
    })
    .unwrap()
}

#[tokio::test]
async fn a_20_mib_body_is_cut_at_the_cap() {
    let server = MockServer::start().await;
    let body = vec![b'x'; 20 * 1024 * 1024];
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/plain"))
        .mount(&server)
        .await;
    let report = prober(Duration::from_secs(30))
        .send(&request(&server.uri()))
        .await
        .unwrap();
    assert!(report.truncated);
    assert_eq!(report.body.len(), MAX_BODY_BYTES);
    assert!(report.body_bytes > MAX_BODY_BYTES);
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", "https://elsewhere.example/steal"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let report = prober(Duration::from_secs(30))
        .send(&request(&server.uri()))
        .await
        .unwrap();
    assert_eq!(report.status, 307);
    assert!(
        report
            .headers
            .iter()
            .any(|(k, v)| k == "location" && v.contains("elsewhere"))
    );
}

#[tokio::test]
async fn a_slow_api_times_out_with_its_limit_named() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let error = prober(Duration::from_secs(1))
        .send(&request(&server.uri()))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("timed out after 1 s") && message.contains("raise --timeout"),
        "{message}"
    );
    assert_eq!(error.failure().exit_code(), 3);
}

#[tokio::test]
async fn a_token_is_never_sent_over_plain_http_to_a_remote_host() {
    let error = prober(Duration::from_secs(5))
        .send(&request("http://example.com/v1.0/users"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("plain http"), "{error}");
}
