//! Issue 16, point 13: `--timeout` is the deadline of a command's whole network work, retries
//! included, not a limit per attempt. A server that never answers gets one attempt that uses
//! the whole budget; a retry never starts, nor sleeps, past the deadline; requests made with
//! the same options share it; the error says the deadline was reached and after how many
//! attempts. Nothing here measures time: the tests count requests and read messages.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use entra_doctor::Error;
use entra_doctor::auth::deadline::TimeLimit;
use entra_doctor::auth::{ClientOptions, Deadline, RetryNotice, TokenClient};
use entra_doctor::probe::{ProbeRequest, Prober};
use pretty_assertions::assert_eq;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::cli::entra_doctor;
use crate::fault_server::{Fault, FaultServer};
use crate::token_faults::request_to;

/// A client with this total budget, a connect limit of 5 s, two retries without back-off, and
/// the retry notices it gave.
fn client(timeout: Duration) -> (TokenClient, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = notices.clone();
    let client = TokenClient::new(ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout,
        retries: 2,
        backoff: Duration::ZERO,
        ..ClientOptions::default()
    })
    .unwrap()
    .on_retry(Arc::new(move |notice: &RetryNotice| {
        seen.lock().unwrap().push(notice.to_string());
    }));
    (client, notices)
}

fn attempts_of(error: &Error) -> Option<u32> {
    match error {
        Error::Timeout {
            limit: TimeLimit::Deadline { attempts, .. },
            ..
        } => Some(*attempts),
        _ => None,
    }
}

#[tokio::test]
async fn a_server_that_never_answers_gets_one_attempt_for_the_whole_deadline() {
    let server = FaultServer::start(Fault::Silent);
    let (client, notices) = client(Duration::from_millis(500));
    let error = client
        .acquire(&request_to(&server.uri()), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(attempts_of(&error), Some(1), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(
            "timed out: the command's 500 ms deadline (--timeout, for all its requests and \
             retries) was reached after 1 attempt"
        ),
        "{message}"
    );
    assert_eq!(server.connections(), 1, "no retry starts past the deadline");
    assert!(notices.lock().unwrap().is_empty());
    assert_eq!(error.failure().exit_code(), 3);
}

#[tokio::test]
async fn retries_share_the_deadline_and_the_error_counts_them() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    // The third attempt meets a server that stalls past any deadline.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_secs(120)))
        .mount(&server)
        .await;
    let (client, notices) = client(Duration::from_secs(3));
    let error = client
        .acquire(&request_to(&server.uri()), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(attempts_of(&error), Some(3), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("the command's 3 s deadline (--timeout, for all its requests and retries) was reached after 3 attempts"),
        "{error}"
    );
    assert_eq!(
        *notices.lock().unwrap(),
        [
            "HTTP 503; retrying (1/2) in 0 s",
            "HTTP 503; retrying (2/2) in 0 s"
        ]
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_retry_never_sleeps_past_the_deadline() {
    // Retry-After 30 s is within what the tool waits out by itself (60 s), but not within a
    // 1 s deadline: the answer is returned at once instead of sleeping 30 s.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "30"))
        .mount(&server)
        .await;
    let (client, notices) = client(Duration::from_secs(1));
    let error = client
        .acquire(&request_to(&server.uri()), Utc::now())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::UnexpectedResponse { status: 503, .. }),
        "{error:?}"
    );
    assert!(notices.lock().unwrap().is_empty(), "no retry was announced");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn requests_with_the_same_options_share_one_deadline() {
    // A command whose earlier requests used the whole budget sends nothing more.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let options = ClientOptions {
        deadline: Some(Deadline::after(Duration::ZERO)),
        ..ClientOptions::default()
    };
    let probe = Prober::new(&options)
        .unwrap()
        .send(&ProbeRequest {
            url: format!("{}/v1.0/users", server.uri()).parse().unwrap(),
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            token: None,
        })
        .await
        .unwrap_err();
    assert_eq!(attempts_of(&probe), Some(0), "{probe:?}");
    assert!(
        probe.to_string().contains("reached before it was sent"),
        "{probe}"
    );
    let token = TokenClient::new(options)
        .unwrap()
        .acquire(&request_to(&server.uri()), Utc::now())
        .await
        .unwrap_err();
    assert_eq!(attempts_of(&token), Some(0), "{token:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn the_cli_names_the_whole_command_deadline() {
    let server = FaultServer::start(Fault::Silent);
    let output = crate::cli_faults::token(&server.uri(), &["--timeout", "1"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(
            "the command's 1 s deadline (--timeout, for all its requests and retries) was \
             reached after 1 attempt"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("retrying"), "{stderr}");
    assert_eq!(server.connections(), 1);
}

#[test]
fn help_says_timeout_covers_the_whole_command() {
    let output = entra_doctor().args(["token", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("retries included") && help.contains("per connection"),
        "{help}"
    );
}
