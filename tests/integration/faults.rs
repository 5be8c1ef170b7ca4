//! Network faults at the probe: a huge body is read up to its cap, a redirect is reported and
//! not followed with the token, transport failures and timeouts are named with advice, and
//! whatever the API answered (5xx, 429, HTML, odd bodies) is reported and explained.

use std::time::Duration;

use chrono::Utc;
use entra_doctor::Secret;
use entra_doctor::auth::ClientOptions;
use entra_doctor::diagnose::{Finding, FixContext, api};
use entra_doctor::probe::{MAX_BODY_BYTES, ProbeReport, ProbeRequest, Prober};
use pretty_assertions::assert_eq;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fault_server::{Fault, FaultServer, FullBacklog, INVALID_HOST, closed_port_uri};

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
        message.contains("the command's 1 s deadline") && message.contains("raise --timeout"),
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

fn assert_says(error: &entra_doctor::Error, parts: &[&str]) {
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    assert!(!message.contains("kind:"), "a Debug dump: {message}");
    assert_eq!(error.failure().exit_code(), 3);
}

#[tokio::test]
async fn transport_faults_name_what_happened_and_what_to_try() {
    let closed = format!("{}/v1.0/users", closed_port_uri());
    let error = prober(Duration::from_secs(5))
        .send(&request(&closed))
        .await
        .unwrap_err();
    assert_says(
        &error,
        &["connection refused by", "nothing listens there", "--url"],
    );

    let unknown = format!("{INVALID_HOST}/v1.0/users");
    let error = prober(Duration::from_secs(5))
        .send(&request(&unknown))
        .await
        .unwrap_err();
    assert_says(
        &error,
        &[
            "DNS lookup failed for https://login.entra-doctor.invalid/",
            "--url",
            "VPN",
        ],
    );

    let reset = FaultServer::start(Fault::ResetMidBody);
    let error = prober(Duration::from_secs(5))
        .send(&request(&reset.uri()))
        .await
        .unwrap_err();
    assert_says(
        &error,
        &["connection broken mid-answer from", "reset", "try again"],
    );
}

#[tokio::test]
async fn a_tls_handshake_with_a_server_that_speaks_no_tls_is_named() {
    let plain = MockServer::start().await;
    let error = prober(Duration::from_secs(5))
        .send(&request(&plain.uri().replace("http://", "https://")))
        .await
        .unwrap_err();
    assert_says(
        &error,
        &["TLS handshake failed with https://127.0.0.1:", "--url"],
    );
}

#[tokio::test]
async fn timeouts_say_which_phase_stalled() {
    let backlog = FullBacklog::new();
    let error = Prober::new(&ClientOptions {
        connect_timeout: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
        ..ClientOptions::default()
    })
    .unwrap()
    .send(&request(&backlog.uri()))
    .await
    .unwrap_err();
    assert_says(&error, &["connecting to", "raise --connect-timeout"]);

    let silent = FaultServer::start(Fault::Silent);
    let error = prober(Duration::from_millis(150))
        .send(&request(&silent.uri()))
        .await
        .unwrap_err();
    assert_says(&error, &["the request to", "did not answer in time"]);

    let stalled = FaultServer::start(Fault::StallMidBody);
    let error = prober(Duration::from_millis(150))
        .send(&request(&stalled.uri()))
        .await
        .unwrap_err();
    assert_says(&error, &["reading the answer to", "then stalled"]);
}

async fn probe(template: ResponseTemplate) -> (ProbeReport, Vec<Finding>) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(template)
        .mount(&server)
        .await;
    let report = prober(Duration::from_secs(5))
        .send(&request(&server.uri()))
        .await
        .unwrap();
    let findings = api::explain(&report.answer(), None, Utc::now(), &FixContext::default());
    // Whatever came back, the text output must be printable.
    let _ = report.pretty_body();
    (report, findings)
}

fn only(findings: &[Finding]) -> &Finding {
    assert_eq!(findings.len(), 1, "{findings:#?}");
    &findings[0]
}

#[tokio::test]
async fn server_errors_are_the_apis_side_even_as_an_html_page() {
    for status in [500, 502, 503] {
        let (report, findings) = probe(ResponseTemplate::new(status).set_body_raw(
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
        ))
        .await;
        assert_eq!(report.status, status);
        let finding = only(&findings);
        assert_eq!(finding.id, "api.server-error");
        assert!(finding.cause.contains("gateway, proxy or load balancer"));
        assert_eq!(
            finding.evidence,
            [format!(
                "HTTP {status}: an HTML page titled \"502 Bad Gateway\""
            )]
        );
    }
    let (_, findings) = probe(ResponseTemplate::new(503)).await;
    assert_eq!(only(&findings).evidence, ["HTTP 503: (empty body)"]);
}

#[tokio::test]
async fn throttling_reads_retry_after_in_both_forms() {
    let (_, findings) = probe(ResponseTemplate::new(429).insert_header("retry-after", "30")).await;
    let finding = only(&findings);
    assert_eq!(finding.id, "throttled");
    assert!(
        finding.fixes[0].starts_with("Wait 30 seconds"),
        "{:?}",
        finding.fixes
    );

    let at = (Utc::now() + chrono::TimeDelta::seconds(90))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let (_, findings) =
        probe(ResponseTemplate::new(429).insert_header("retry-after", at.as_str())).await;
    let finding = only(&findings);
    assert_eq!(finding.evidence, [format!("Retry-After: {at}")]);
    assert!(
        finding.fixes[0].starts_with(&format!("Wait until {at} (")),
        "{:?}",
        finding.fixes
    );

    let (_, findings) = probe(ResponseTemplate::new(429)).await;
    assert_eq!(only(&findings).evidence, ["Retry-After: not given"]);
}

#[tokio::test]
async fn odd_bodies_are_reported_as_they_came() {
    for (template, body) in [
        (ResponseTemplate::new(200), ""),
        (
            ResponseTemplate::new(200).set_body_raw(r#"{"value": ["#, "application/json"),
            r#"{"value": ["#,
        ),
        (
            ResponseTemplate::new(200).set_body_raw(r#"{"value": []}"#, "text/plain"),
            r#"{"value": []}"#,
        ),
    ] {
        let (report, findings) = probe(template).await;
        assert_eq!((report.status, report.body.as_str()), (200, body));
        assert!(findings.is_empty(), "{findings:#?}");
    }
}

#[tokio::test]
async fn an_html_page_from_an_api_is_pointed_out() {
    let (report, findings) = probe(ResponseTemplate::new(200).set_body_raw(
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>",
        "text/html; charset=utf-8",
    ))
    .await;
    assert!(report.is_success());
    let finding = only(&findings);
    assert_eq!(finding.id, "api.html-answer");
    assert_eq!(
        finding.evidence,
        ["HTTP 200: an HTML page titled \"Sign in to your account\""]
    );
}

#[tokio::test]
async fn a_redirect_is_explained() {
    let (_, findings) = probe(
        ResponseTemplate::new(302).insert_header("location", "https://elsewhere.example/login"),
    )
    .await;
    let finding = only(&findings);
    assert_eq!(finding.id, "api.redirect");
    assert_eq!(
        finding.evidence,
        ["Location: https://elsewhere.example/login"]
    );
}
