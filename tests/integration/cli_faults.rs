//! Network faults as an operator meets them on the command line: `token` and `probe` exit 3 with
//! one clear line on standard error, show their retries as `note:` lines, and leave the cache
//! file as it was. Servers that ask to wait say 0 s, so nothing sleeps.

use std::process::Output;

use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::assert_cli_snapshot;
use crate::cli::{entra_doctor, token_server};
use crate::fault_server::{Fault, FaultServer, INVALID_HOST, closed_port_uri};
use crate::support::{CLIENT_ID, TENANT_ID, v1_graph_token};

/// `token` against `host` with a secret from the environment, and `extra` options.
pub(crate) fn token(host: &str, extra: &[&str]) -> Output {
    entra_doctor()
        .args([
            "token",
            "--tenant",
            TENANT_ID,
            "--client-id",
            CLIENT_ID,
            "--scope",
            "https://graph.microsoft.com/.default",
            "--authority-host",
            host,
        ])
        .args(extra)
        .env("AZURE_CLIENT_SECRET", "a-secret")
        .output()
        .unwrap()
}

fn probe(url: &str) -> Output {
    entra_doctor()
        .args(["probe", "--url", url, "--token", "-"])
        .write_stdin(v1_graph_token("probe"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Exit 3, nothing on standard output, and standard error as snapshotted.
fn assert_network_failure(name: &str, output: &Output) {
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "");
    assert_cli_snapshot!(name, text(&output.stderr));
}

async fn always(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template.clone())
        .mount(&server)
        .await;
    // The API's clock agrees with the CLI's fixed one: no skew finding.
    Mock::given(method("GET"))
        .respond_with(template.insert_header("date", "Wed, 25 Nov 2026 12:00:00 GMT"))
        .mount(&server)
        .await;
    server
}

#[test]
fn token_transport_faults() {
    assert_network_failure("token_connection_refused", &token(&closed_port_uri(), &[]));
    assert_network_failure("token_dns_failure", &token(INVALID_HOST, &[]));
    let reset = FaultServer::start(Fault::ResetMidBody);
    assert_network_failure("token_reset_mid_body", &token(&reset.uri(), &[]));
}

#[tokio::test(flavor = "multi_thread")]
async fn token_answers_that_are_not_a_token() {
    let unavailable = always(ResponseTemplate::new(503).insert_header("retry-after", "0")).await;
    assert_network_failure("token_503_retried_twice", &token(&unavailable.uri(), &[]));

    let html = always(ResponseTemplate::new(200).set_body_raw(
        "<!DOCTYPE html><html><head><title>Sign in to the proxy</title></head></html>",
        "text/html",
    ))
    .await;
    assert_network_failure("token_html_page", &token(&html.uri(), &[]));

    let redirect = always(
        ResponseTemplate::new(307).insert_header("location", "https://elsewhere.example/token"),
    )
    .await;
    assert_network_failure("token_redirect", &token(&redirect.uri(), &[]));

    let throttled = always(ResponseTemplate::new(429).insert_header("retry-after", "120")).await;
    assert_network_failure(
        "token_throttled_long_retry_after",
        &token(&throttled.uri(), &[]),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_a_past_date_is_retried_and_noted() {
    let server = crate::support::fails_once_then_issues(
        ResponseTemplate::new(429).insert_header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        "later",
    )
    .await;
    let output = token(&server.uri(), &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        "note: HTTP 429; retrying (1/2) in 0 s\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_refresh_leaves_the_cache_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.json");
    let cache_arg = cache.to_str().unwrap();
    let healthy = token_server(1).await;
    let first = token(
        &healthy.uri(),
        &["--persist-cache", "--cache-file", cache_arg],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before = std::fs::read(&cache).unwrap();
    // The cache file and its lock file.
    let files_before = std::fs::read_dir(dir.path()).unwrap().count();

    let unavailable = always(ResponseTemplate::new(503).insert_header("retry-after", "0")).await;
    let endpoint = format!("{}/token", unavailable.uri());
    let failed = token(
        &healthy.uri(),
        &[
            "--persist-cache",
            "--cache-file",
            cache_arg,
            "--force-refresh",
            "--token-endpoint",
            &endpoint,
        ],
    );
    assert_eq!(failed.status.code(), Some(3), "{}", text(&failed.stderr));
    assert_eq!(std::fs::read(&cache).unwrap(), before, "byte for byte");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        files_before,
        "no file added"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_faults() {
    assert_network_failure(
        "probe_connection_refused",
        &probe(&format!("{}/v1.0/users", closed_port_uri())),
    );
    assert_network_failure(
        "probe_dns_failure",
        &probe("https://graph.entra-doctor.invalid/v1.0/users"),
    );
    let reset = FaultServer::start(Fault::ResetMidBody);
    assert_network_failure("probe_reset_mid_body", &probe(&reset.uri()));

    // A token endpoint that is down stops the probe before it calls the API.
    let unavailable = always(ResponseTemplate::new(503).insert_header("retry-after", "0")).await;
    let output = entra_doctor()
        .args([
            "probe",
            "--url",
            &format!("{INVALID_HOST}/never-called"),
            "--tenant",
            TENANT_ID,
            "--client-id",
            CLIENT_ID,
            "--scope",
            "https://graph.microsoft.com/.default",
            "--authority-host",
            &unavailable.uri(),
        ])
        .env("AZURE_CLIENT_SECRET", "a-secret")
        .output()
        .unwrap();
    assert_network_failure("probe_token_endpoint_503", &output);
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_reports_what_the_api_answered() {
    let gateway = always(ResponseTemplate::new(502).set_body_raw(
        "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        "text/html",
    ))
    .await;
    let output = probe(&format!("{}/v1.0/users", gateway.uri()));
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    // The round trip varies from run to run.
    let stdout = regex::Regex::new(r"\(\d+ ms\)")
        .unwrap()
        .replace_all(&text(&output.stdout), "(N ms)")
        .into_owned();
    assert_cli_snapshot!("probe_502_html_page", stdout);

    let throttled = always(ResponseTemplate::new(429).insert_header("retry-after", "30")).await;
    let output = probe(&format!("{}/v1.0/users", throttled.uri()));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Wait 30 seconds (Retry-After)"), "{stdout}");
}
