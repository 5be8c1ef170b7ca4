//! Network faults at the token client: each names what happened and what to try, retries only
//! what may pass (at most twice), and leaves the cache as it was.
//!
//! Retries never sleep for real: the client's back-off is zero, and servers that ask to wait
//! say `Retry-After: 0` or a date in the past. Timeouts are the only waits, at 100–200 ms.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use entra_doctor::auth::net_failure::NetworkFault;
use entra_doctor::auth::{
    Authority, AuthorityHost, ClientOptions, Credential, RetryNotice, ScopeSet, Tenant,
    TokenClient, TokenRequest,
};
use entra_doctor::cache::TokenCache;
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::fault_server::{Fault, FaultServer, FullBacklog, INVALID_HOST, closed_port_uri};
use crate::support::{CLIENT_ID, TENANT_ID, token_body, v1_graph_token};

/// A secret-credential token request against `host` (shared with the hostile-numbers tests).
pub(crate) fn request_to(host: &str) -> TokenRequest {
    TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(host).unwrap(),
            Tenant::parse(TENANT_ID).unwrap(),
        ),
        token_endpoint: None,
        client_id: CLIENT_ID.into(),
        scopes: ScopeSet::parse(&["api://a/.default"]).unwrap(),
        credential: Credential::Secret(Secret::new("x")),
        claims: None,
    }
}

/// A client with this timeout (connect and total) and no back-off, and the retry notices it
/// gave.
fn client(timeout: Duration, retries: u32) -> (TokenClient, Arc<Mutex<Vec<String>>>) {
    client_with(timeout, timeout, retries)
}

fn client_with(
    connect_timeout: Duration,
    timeout: Duration,
    retries: u32,
) -> (TokenClient, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = notices.clone();
    let client = TokenClient::new(ClientOptions {
        connect_timeout,
        timeout,
        retries,
        backoff: Duration::ZERO,
        ..ClientOptions::default()
    })
    .unwrap()
    .on_retry(Arc::new(move |notice: &RetryNotice| {
        seen.lock().unwrap().push(notice.to_string());
    }));
    (client, notices)
}

async fn acquire(host: &str, timeout: Duration, retries: u32) -> (Error, Vec<String>) {
    let (client, notices) = client(timeout, retries);
    let error = client
        .acquire(&request_to(host), Utc::now())
        .await
        .unwrap_err();
    let notices = notices.lock().unwrap().clone();
    (error, notices)
}

fn assert_says(error: &Error, parts: &[&str]) {
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    assert!(
        !message.contains("reqwest::Error") && !message.contains("kind:"),
        "a Debug dump: {message}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_named_and_not_retried() {
    let (error, notices) = acquire(&closed_port_uri(), Duration::from_secs(5), 2).await;
    assert!(
        matches!(
            error,
            Error::Network {
                fault: NetworkFault::Refused,
                ..
            }
        ),
        "{error:?}"
    );
    assert_says(
        &error,
        &[
            "connection refused by http://127.0.0.1:",
            "nothing listens there",
            "--authority-host",
        ],
    );
    assert_eq!(error.failure().exit_code(), 3);
    assert!(notices.is_empty(), "{notices:?}");
}

#[tokio::test]
async fn an_unknown_host_names_dns_the_host_and_what_to_check() {
    let (error, notices) = acquire(INVALID_HOST, Duration::from_secs(5), 2).await;
    assert!(
        matches!(
            error,
            Error::Network {
                fault: NetworkFault::Dns,
                ..
            }
        ),
        "{error:?}"
    );
    assert_says(
        &error,
        &[
            "DNS lookup failed for https://login.entra-doctor.invalid/",
            "--authority-host",
            "proxy",
            "VPN",
        ],
    );
    assert!(
        notices.is_empty(),
        "an unknown host is not retried: {notices:?}"
    );
}

#[tokio::test]
async fn a_connect_timeout_is_retried_twice_then_named() {
    let backlog = FullBacklog::new();
    let (client, notices) = client_with(Duration::from_millis(100), Duration::from_secs(5), 2);
    let error = client
        .acquire(&request_to(&backlog.uri()), Utc::now())
        .await
        .unwrap_err();
    let notices = notices.lock().unwrap().clone();
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: "connecting",
                ..
            }
        ),
        "{error:?}"
    );
    assert_says(&error, &["raise --connect-timeout"]);
    assert_eq!(
        notices,
        [
            "connecting timed out; retrying (1/2) in 0 s",
            "connecting timed out; retrying (2/2) in 0 s"
        ]
    );
}

#[tokio::test]
async fn a_server_that_never_answers_uses_the_whole_deadline_in_one_attempt() {
    // --timeout is the command's deadline, not a limit per attempt (issue 16, point 13; more in
    // deadline.rs): no time is left for the retry.
    let server = FaultServer::start(Fault::Silent);
    let (error, notices) = acquire(&server.uri(), Duration::from_millis(150), 1).await;
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
    assert_says(
        &error,
        &[
            "did not answer in time",
            "raise --timeout",
            "after 1 attempt",
        ],
    );
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(server.connections(), 1, "no retry past the deadline");
}

#[tokio::test]
async fn a_stall_mid_body_is_a_read_timeout() {
    let server = FaultServer::start(Fault::StallMidBody);
    let (error, _) = acquire(&server.uri(), Duration::from_millis(150), 0).await;
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: "reading the answer",
                ..
            }
        ),
        "{error:?}"
    );
    assert_says(
        &error,
        &["sent part of its answer, then stalled", "raise --timeout"],
    );
}

#[tokio::test]
async fn a_reset_mid_body_says_the_connection_broke() {
    let server = FaultServer::start(Fault::ResetMidBody);
    let (error, notices) = acquire(&server.uri(), Duration::from_secs(5), 2).await;
    assert!(
        matches!(
            error,
            Error::Network {
                fault: NetworkFault::Interrupted,
                ..
            }
        ),
        "{error:?}"
    );
    assert_says(
        &error,
        &["connection broken mid-answer from", "reset", "try again"],
    );
    assert!(notices.is_empty(), "{notices:?}");
}

async fn always(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn server_errors_after_two_retries_say_it_is_the_servers_side() {
    for status in [500, 502, 503] {
        let server = always(ResponseTemplate::new(status).set_body_raw(
            "<html><head><title>Service Unavailable</title></head></html>",
            "text/html",
        ))
        .await;
        let (error, notices) = acquire(&server.uri(), Duration::from_secs(5), 2).await;
        assert!(
            matches!(error, Error::UnexpectedResponse { status: s, .. } if s == status),
            "{error:?}"
        );
        assert_says(
            &error,
            &[
                &format!("HTTP {status} with text/html"),
                "Service Unavailable",
                "failure on the server's side",
                "try again in a few minutes",
            ],
        );
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn throttling_names_retry_after_in_both_forms() {
    // Seconds: waited (0 s) twice, then the error quotes it.
    let server = always(ResponseTemplate::new(429).insert_header("retry-after", "0")).await;
    let (error, notices) = acquire(&server.uri(), Duration::from_secs(5), 2).await;
    assert!(matches!(error, Error::Throttled { .. }), "{error:?}");
    assert_says(
        &error,
        &["throttling this app (HTTP 429)", "Retry-After: 0"],
    );
    assert_eq!(notices[0], "HTTP 429; retrying (1/2) in 0 s");

    // An HTTP date beyond 60 s: not waited out, returned at once with the date.
    let later = (Utc::now() + chrono::TimeDelta::minutes(5))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server =
        always(ResponseTemplate::new(429).insert_header("retry-after", later.as_str())).await;
    let (error, notices) = acquire(&server.uri(), Duration::from_secs(5), 2).await;
    assert_says(
        &error,
        &[&format!("Retry-After: {later}"), "wait that long"],
    );
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // An HTTP date in the past: retry now.
    let server = crate::support::fails_once_then_issues(
        ResponseTemplate::new(429).insert_header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        "late",
    )
    .await;
    let (client, notices) = client(Duration::from_secs(5), 2);
    client
        .acquire(&request_to(&server.uri()), Utc::now())
        .await
        .unwrap();
    assert_eq!(
        *notices.lock().unwrap(),
        ["HTTP 429; retrying (1/2) in 0 s"]
    );
}

#[tokio::test]
async fn bodies_that_are_not_a_token_are_named_with_their_type() {
    let cases = [
        (
            ResponseTemplate::new(200).set_body_raw("", "application/json"),
            vec!["HTTP 200 with application/json", "(empty body)"],
        ),
        (
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"access_token": "abc", "expires_in"#, "application/json"),
            // Quoted, with the token's value scrubbed: even a broken answer may carry one.
            vec![
                r#"{\"access_token\": \"[REDACTED]\", \"expires_in"#,
                "a proxy or a wrong --authority-host",
            ],
        ),
        (
            ResponseTemplate::new(200).set_body_raw("OK", "text/plain"),
            vec!["HTTP 200 with text/plain", "\"OK\""],
        ),
        (
            ResponseTemplate::new(200).set_body_raw(
                "<!DOCTYPE html><html><title>Sign in to the proxy</title></html>",
                "text/html",
            ),
            vec!["with text/html", "Sign in to the proxy"],
        ),
    ];
    for (template, parts) in cases {
        let server = always(template).await;
        let (error, notices) = acquire(&server.uri(), Duration::from_secs(5), 2).await;
        assert!(
            matches!(error, Error::UnexpectedResponse { status: 200, .. }),
            "{error:?}"
        );
        assert_says(&error, &parts);
        assert!(notices.is_empty(), "a 200 is not retried: {notices:?}");
    }
}

#[tokio::test]
async fn a_token_under_a_wrong_content_type_is_still_read() {
    // Some proxies relabel bodies; the JSON decides, not the label.
    let body = token_body(&v1_graph_token("relabelled"), 3599).to_string();
    let server = always(ResponseTemplate::new(200).set_body_raw(body, "text/plain")).await;
    let (client, _) = client(Duration::from_secs(5), 0);
    let token = client
        .acquire(&request_to(&server.uri()), Utc::now())
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), v1_graph_token("relabelled"));
}

#[tokio::test]
async fn a_20_mib_answer_is_read_only_up_to_the_cap() {
    let server =
        always(ResponseTemplate::new(200).set_body_raw(vec![b'x'; 20 * 1024 * 1024], "text/plain"))
            .await;
    let (error, _) = acquire(&server.uri(), Duration::from_secs(30), 0).await;
    let Error::UnexpectedResponse { snippet, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        snippet.chars().count(),
        201,
        "200 characters and an ellipsis"
    );
}

#[tokio::test]
async fn a_redirect_on_the_token_post_is_explained_not_followed() {
    for status in [301, 307, 308] {
        let server = always(
            ResponseTemplate::new(status).insert_header("location", "https://elsewhere.example/t"),
        )
        .await;
        let (error, notices) = acquire(&server.uri(), Duration::from_secs(5), 2).await;
        assert!(matches!(error, Error::Redirected { .. }), "{error:?}");
        assert_says(
            &error,
            &[
                &format!("HTTP {status} with a redirect to \"https://elsewhere.example/t\""),
                "does not follow redirects with credentials",
                "--authority-host",
            ],
        );
        assert!(notices.is_empty());
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_failed_acquire_leaves_the_cache_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.json");
    let healthy = always(
        ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("cached"), 3599)),
    )
    .await;
    let (client, _) = client(Duration::from_secs(5), 2);
    let (mut cache, _) = TokenCache::open(&path).unwrap();
    cache
        .get_or_acquire(&client, &request_to(&healthy.uri()), false, Utc::now())
        .await
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let listing = |dir: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let files_before = listing(dir.path());

    let unavailable = always(ResponseTemplate::new(503)).await;
    let endpoint = url::Url::parse(&format!("{}/token", unavailable.uri())).unwrap();
    // The cached token's own key, forced to refresh; and a key the cache does not hold.
    let mut other_scope = request_to(&healthy.uri());
    other_scope.scopes = ScopeSet::parse(&["api://b/.default"]).unwrap();
    for (mut request, force) in [(request_to(&healthy.uri()), true), (other_scope, false)] {
        request.token_endpoint = Some(endpoint.clone());
        let (mut cache, _) = TokenCache::open(&path).unwrap();
        let error = cache
            .get_or_acquire(&client, &request, force, Utc::now())
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::UnexpectedResponse { status: 503, .. }),
            "{error:?}"
        );
        assert_eq!(cache.len(), 1);
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "byte for byte");
    assert_eq!(listing(dir.path()), files_before, "no file added");
}
