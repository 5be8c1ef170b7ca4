//! A raw TCP server on loopback that fails the way networks fail, which wiremock cannot do: it
//! always sends a whole, well-formed answer. Each server runs on its own thread and runtime, so
//! sync tests (the CLI under assert_cmd) and async tests can use it alike; dropping it closes
//! every connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The start of a token answer: promised whole by `Content-Length`, never finished.
const PARTIAL_BODY: &str = r#"{"token_type":"Bearer","expires_in":3599,"access_tok"#;
const PROMISED_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Headers promising more body than is sent, part of it, then a TCP reset (`SO_LINGER` 0).
    ResetMidBody,
    /// Headers and part of the body, then silence, the connection held open.
    StallMidBody,
    /// Accepts the connection, reads the request, never answers.
    Silent,
}

pub struct FaultServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
}

impl FaultServer {
    pub fn start(fault: Fault) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let (stop, stopped) = oneshot::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                // Connections live in the set: when the server stops, they all close.
                let mut open = tokio::task::JoinSet::new();
                let accepting = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            return;
                        };
                        counted.fetch_add(1, Ordering::SeqCst);
                        open.spawn(misbehave(stream, fault));
                    }
                };
                tokio::select! {
                    () = accepting => {}
                    _ = stopped => {}
                }
            });
        });
        Self {
            port,
            connections,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:PORT`, as wiremock's `MockServer::uri`.
    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections were accepted: one per attempt of the client.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn misbehave(mut stream: TcpStream, fault: Fault) {
    read_request(&mut stream).await;
    if fault == Fault::Silent {
        std::future::pending::<()>().await;
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \
         {PROMISED_BYTES}\r\n\r\n{PARTIAL_BODY}"
    );
    if stream.write_all(head.as_bytes()).await.is_err() || stream.flush().await.is_err() {
        return;
    }
    match fault {
        Fault::ResetMidBody => {
            // Linger 0 makes close send RST instead of FIN: a reset, not a clean end. It is
            // deprecated because it can block on drop, which it cannot with a zero linger.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        Fault::StallMidBody | Fault::Silent => std::future::pending::<()>().await,
    }
}

/// Reads the head and the `Content-Length` body of one request, so the answer comes after it.
async fn read_request(stream: &mut TcpStream) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(read) = stream.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        request.extend_from_slice(&buffer[..read]);
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if request.len() >= end + 4 + length {
            return;
        }
    }
}

/// A loopback port whose accept queue is full, so a new connection is never completed: the
/// kernel drops its SYN, and the client's connect times out. Keep the value alive meanwhile.
pub struct FullBacklog {
    pub port: u16,
    _listener: tokio::net::TcpListener,
    _filler: std::net::TcpStream,
}

impl FullBacklog {
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        // A backlog of 0 holds one connection; the filler takes it and is never accepted.
        let listener = socket.listen(0).unwrap();
        let port = listener.local_addr().unwrap().port();
        let filler = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        Self {
            port,
            _listener: listener,
            _filler: filler,
        }
    }

    pub fn uri(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A loopback port nothing listens on: connecting to it is refused.
pub fn closed_port_uri() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A host under `.invalid` (RFC 6761): it never resolves, and entra-doctor answers that itself
/// without asking any DNS server.
pub const INVALID_HOST: &str = "https://login.entra-doctor.invalid";
