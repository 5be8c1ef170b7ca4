//! The one Graph reader (`entra_doctor::graph`): pages followed to the end, throttling waited
//! out as Graph asks, and a hostile page unable to take the bearer token elsewhere or to loop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_doctor::auth::{ClientOptions, RetryNotice, TokenClient};
use entra_doctor::graph::{self, Pages, ReadFailure};
use entra_doctor::{Error, Secret};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client() -> (TokenClient, Arc<Mutex<Vec<String>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = notices.clone();
    let client = TokenClient::new(ClientOptions {
        backoff: Duration::ZERO,
        ..ClientOptions::default()
    })
    .unwrap()
    .on_retry(Arc::new(move |notice: &RetryNotice| {
        seen.lock().unwrap().push(notice.to_string());
    }));
    (client, notices)
}

fn token() -> Secret {
    Secret::new("graph-reader-test-token")
}

async fn read_all(client: &TokenClient, first: &str) -> Result<Vec<Value>, ReadFailure> {
    let token = token();
    let mut pages = Pages::new(client, &token, first);
    let mut items = Vec::new();
    while let Some(page) = pages.next_page().await {
        items.extend(page?);
    }
    Ok(items)
}

fn page(items: &[u32], next: Option<String>) -> ResponseTemplate {
    let mut body = json!({"value": items.iter().map(|i| json!({"n": i})).collect::<Vec<_>>()});
    if let Some(next) = next {
        body["@odata.nextLink"] = json!(next);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn every_page_is_read_in_order_with_the_bearer_token() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(method("GET"))
        .and(path("/v1.0/applications"))
        .and(query_param_is_missing("$skiptoken"))
        .and(header("authorization", "Bearer graph-reader-test-token"))
        .respond_with(page(
            &[1, 2],
            Some(format!("{uri}/v1.0/applications?$skiptoken=p2")),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("$skiptoken", "p2"))
        .respond_with(page(
            &[3],
            Some(format!("{uri}/v1.0/applications?$skiptoken=p3")),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("$skiptoken", "p3"))
        .respond_with(page(&[4, 5], None))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client();
    let items = read_all(&client, &format!("{uri}/v1.0/applications?$top=2"))
        .await
        .unwrap();
    let numbers: Vec<u64> = items.iter().filter_map(|i| i["n"].as_u64()).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_next_link_to_another_host_never_gets_the_token() {
    let graph = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(page(&[1], Some(format!("{}/steal?x=1", elsewhere.uri()))))
        .mount(&graph)
        .await;
    Mock::given(method("GET"))
        .respond_with(page(&[], None))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let (client, _) = client();
    let token = token();
    let mut pages = Pages::new(
        &client,
        &token,
        &format!("{}/v1.0/applications", graph.uri()),
    );
    // The page is handed out; the listing stops at its link, without following it.
    let first = pages.next_page().await.unwrap().unwrap();
    assert_eq!(first.len(), 1);
    let refused = pages.next_page().await.unwrap();
    let Err(ReadFailure::Failed(Error::InvalidInput { what, reason })) = refused else {
        panic!("the bad link must be refused: {refused:?}");
    };
    assert!(what.contains("nextLink"), "{what}");
    assert!(reason.contains("not to the Graph host"), "{reason}");
    assert!(pages.next_page().await.is_none());
}

#[tokio::test]
async fn a_next_link_to_the_same_page_is_a_loop_not_forever() {
    let server = MockServer::start().await;
    let first = format!("{}/v1.0/applications?$top=1", server.uri());
    Mock::given(method("GET"))
        .respond_with(page(&[1], Some(first.clone())))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client();
    let failure = read_all(&client, &first).await.unwrap_err();
    let ReadFailure::Failed(Error::InvalidInput { reason, .. }) = failure else {
        panic!("{failure:?}");
    };
    assert!(reason.contains("loop"), "{reason}");
}

#[tokio::test]
async fn throttling_is_waited_out_as_graph_asks_and_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(page(&[7], None))
        .expect(1)
        .mount(&server)
        .await;
    let (client, notices) = client();
    let value = graph::get(
        &client,
        &format!("{}/v1.0/applications", server.uri()),
        &token(),
    )
    .await
    .unwrap();
    assert_eq!(value["value"][0]["n"], 7);
    let notices = notices.lock().unwrap().clone();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].contains("Microsoft Graph answered HTTP 429"),
        "{notices:?}"
    );
}

#[tokio::test]
async fn endless_throttling_ends_with_graphs_words_and_the_count() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .expect(u64::from(graph::MAX_THROTTLE_RETRIES) + 1)
        .mount(&server)
        .await;
    let (client, _) = client();
    let failure = graph::get(
        &client,
        &format!("{}/v1.0/applications", server.uri()),
        &token(),
    )
    .await
    .unwrap_err();
    let ReadFailure::Failed(error @ Error::GraphThrottled { .. }) = failure else {
        panic!("{failure:?}");
    };
    let message = error.to_string();
    assert!(message.contains("6 time(s) in a row"), "{message}");
    assert!(message.contains("Retry-After: 0"), "{message}");
}

#[tokio::test]
async fn a_retry_after_beyond_what_is_waited_is_not_slept_on() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "86400"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, notices) = client();
    let failure = graph::get(
        &client,
        &format!("{}/v1.0/applications", server.uri()),
        &token(),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        failure,
        ReadFailure::Failed(Error::GraphThrottled { attempts: 1, .. })
    ));
    assert!(notices.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refusal_keeps_graphs_own_words() {
    let server = MockServer::start().await;
    // Graph's 403 body shape (learn.microsoft.com/graph/errors).
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation."}})))
        .mount(&server)
        .await;
    let (client, _) = client();
    let failure = graph::get(
        &client,
        &format!("{}/v1.0/applications", server.uri()),
        &token(),
    )
    .await
    .unwrap_err();
    let ReadFailure::Denied { status, detail, .. } = failure else {
        panic!("{failure:?}");
    };
    assert_eq!(status, 403);
    assert_eq!(
        detail,
        "Authorization_RequestDenied: Insufficient privileges to complete the operation."
    );
}
