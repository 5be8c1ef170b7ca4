//! Serving the demo tenant's router with the limits any server on a shared machine needs: a cap
//! on open connections, a header-read timeout and an idle timeout.
//!
//! axum's own `serve` has neither: 20,000 connections that never sent a request held the demo
//! tenant at 558 MB, never released. Here each connection is served by hyper's http1 with a
//! header-read timeout (a client must send a whole request head within it, on a new connection
//! and between keep-alive requests alike); a connection whose reads and writes make no progress
//! for the idle timeout is closed; and at most `max_connections` are open. At the cap the
//! connection that has been quiet longest is closed to make room, rather than the new one
//! waiting: a flood of idle connections then cannot lock a real client out.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

/// The demo tenant's connection limits. [`Default`] suits an operator's laptop; tests set small
/// ones to see them act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Open connections at most; at the cap the quietest one is closed for a new one.
    pub max_connections: usize,
    /// Time a client has to send a whole request head (from connecting, or after a response).
    pub header_read_timeout: Duration,
    /// A connection whose reads and writes make no progress this long is closed.
    pub idle_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Serves `router` on `listener` within `limits` until `stop` resolves; then stops accepting,
/// lets requests in flight finish and closes idle connections.
pub(super) async fn serve<L>(
    mut listener: L,
    router: Router,
    limits: ServeLimits,
    stop: impl Future<Output = ()>,
) where
    L: Listener,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let open = Arc::new(Mutex::new(Open::default()));
    let epoch = Instant::now();
    let (stopping, stop_seen) = watch::channel(());
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        let (io, _peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let permit = if let Ok(permit) = Arc::clone(&permits).try_acquire_owned() {
            permit
        } else {
            lock(&open).close_quietest();
            tokio::select! {
                () = &mut stop => break,
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            }
        };
        let seen = Arc::new(AtomicU64::new(0));
        let (close, closed) = oneshot::channel::<()>();
        let id = lock(&open).add(Arc::clone(&seen), close);
        let slot = Slot {
            id,
            open: Arc::clone(&open),
            _permit: permit,
        };
        let io = Watched::new(io, limits.idle_timeout, seen, epoch);
        let service = TowerToHyperService::new(router.clone());
        let mut stop_seen = stop_seen.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(io), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                // Closed to make room (the sender was dropped): drop the connection.
                _ = closed => {}
                _ = stop_seen.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(stopping);
    while connections.join_next().await.is_some() {}
}

fn lock(open: &Mutex<Open>) -> std::sync::MutexGuard<'_, Open> {
    open.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The open connections: when each last moved a byte, and the handle that closes it.
#[derive(Default)]
struct Open {
    next: u64,
    connections: HashMap<u64, (Arc<AtomicU64>, oneshot::Sender<()>)>,
}

impl Open {
    fn add(&mut self, seen: Arc<AtomicU64>, close: oneshot::Sender<()>) -> u64 {
        self.next += 1;
        self.connections.insert(self.next, (seen, close));
        self.next
    }

    /// Closes the connection that moved no byte for the longest (the oldest of equals).
    fn close_quietest(&mut self) {
        let quietest = self
            .connections
            .iter()
            .min_by_key(|(id, (seen, _))| (seen.load(Ordering::Relaxed), **id))
            .map(|(id, _)| *id);
        if let Some(id) = quietest {
            // Dropping the sender ends the connection's task.
            self.connections.remove(&id);
        }
    }
}

/// A connection's place: freed (in the table and the cap) when its task ends, however it ends.
struct Slot {
    id: u64,
    open: Arc<Mutex<Open>>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.open).connections.remove(&self.id);
    }
}

/// A connection's I/O that notes when it last moved a byte, and fails once it has moved none
/// for the idle timeout (a peer that vanished, a client that stopped reading).
struct Watched<Io> {
    io: Io,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    /// Milliseconds since `epoch` of the last byte read or written.
    seen: Arc<AtomicU64>,
    epoch: Instant,
}

impl<Io> Watched<Io> {
    fn new(io: Io, idle: Duration, seen: Arc<AtomicU64>, epoch: Instant) -> Self {
        let mut watched = Self {
            io,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            seen,
            epoch,
        };
        watched.touch();
        watched
    }

    fn touch(&mut self) {
        let now = Instant::now();
        self.deadline.as_mut().reset(now + self.idle);
        let millis = u64::try_from(now.duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX);
        self.seen.store(millis, Ordering::Relaxed);
    }

    /// Pending, or the idle timeout's error once it has passed.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no byte moved within the idle timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.touch();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.pending(cx),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                if written > 0 {
                    this.touch();
                }
                Poll::Ready(Ok(written))
            }
            Poll::Pending => this.pending(cx),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Pending => this.pending(cx),
            done @ Poll::Ready(_) => done,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
