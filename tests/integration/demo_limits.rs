//! Issue 14, the demo tenant's connection limits: idle connections are closed by the
//! header-read timeout and by the idle timeout, and at the connection cap the quietest one is
//! closed so that a real request is still served. No sleeps: each test waits for the server to
//! close a connection, with timeouts of 200 ms and the other limits at an hour, so only the one
//! under test can close it. The 20,000-connection case is measured by
//! `tests/benches/bench-demo-flood.sh`.

use std::time::Duration;

use entra_doctor::demo::{self, DemoOptions, RunningDemo, ServeLimits, TenantModel};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

async fn start(limits: ServeLimits) -> RunningDemo {
    demo::start(DemoOptions {
        limits,
        ..DemoOptions::new(TenantModel::builtin().unwrap())
    })
    .await
    .unwrap()
}

const HOUR: Duration = Duration::from_secs(3600);

/// Reads until the server closes the connection; the bytes it sent before.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0_u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// A connection that sends nothing, or half a request head, is closed once the header-read
/// timeout passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_head_must_arrive_within_the_header_read_timeout() {
    let demo = start(ServeLimits {
        max_connections: 16,
        header_read_timeout: Duration::from_millis(200),
        idle_timeout: HOUR,
    })
    .await;
    let mut silent = TcpStream::connect(demo.local_addr()).await.unwrap();
    let mut slow = TcpStream::connect(demo.local_addr()).await.unwrap();
    slow.write_all(b"GET /error HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    until_closed(&mut silent).await;
    until_closed(&mut slow).await;
}

/// A connection that moves no byte for the idle timeout is closed, whatever hyper waits for.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_moves_no_byte_is_closed_after_the_idle_timeout() {
    let demo = start(ServeLimits {
        max_connections: 16,
        header_read_timeout: HOUR,
        idle_timeout: Duration::from_millis(200),
    })
    .await;
    let mut silent = TcpStream::connect(demo.local_addr()).await.unwrap();
    until_closed(&mut silent).await;
}

/// At the cap, each new connection closes the quietest open one: idle connections cannot keep
/// a real client out, and the server holds no more than the cap.
#[tokio::test(flavor = "multi_thread")]
async fn at_the_cap_the_quietest_connection_makes_room_and_requests_are_served() {
    let demo = start(ServeLimits {
        max_connections: 2,
        header_read_timeout: HOUR,
        idle_timeout: HOUR,
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(demo.local_addr()).await.unwrap());
    }
    let url = format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        demo.authority_host(),
        demo.tenant_id()
    );
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let answer = client.get(&url).send().await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    // The first four idle connections were closed to make room, in the order they came.
    for (index, stream) in idle.iter_mut().take(4).enumerate() {
        assert_eq!(until_closed(stream).await, b"", "idle connection {index}");
    }
}
