//! Panics while the TUI owns the terminal: in a background task, reported in the UI and the
//! TUI goes on; anywhere else (rendering, update), the terminal is restored and the operator
//! is told where the log is.
//!
//! A panic hook cannot tell a tokio task from the render loop by itself, so the tasks the
//! runtime spawns mark the thread while they are polled (`Marked`); the hook reads the mark.

use std::cell::Cell;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::action::Action;
use super::state::RequestId;

thread_local! {
    /// True while this thread polls a task the runtime spawned.
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Set once a panic outside a marked task has restored the terminal: nothing may draw again.
static CRASHED: AtomicBool = AtomicBool::new(false);

/// Whether a panic has already restored the terminal (the loop must stop drawing).
pub fn has_crashed() -> bool {
    CRASHED.load(Ordering::SeqCst)
}

/// Installs the hook around the one in place, which must be ratatui's (it restores the
/// terminal, then prints the panic): so call it right after `ratatui::try_init`.
pub fn install_hook(log: Option<PathBuf>) {
    let restore_and_print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!("panic: {info}\n{backtrace}");
        if IN_TASK.get() {
            // The runtime turns it into an error in the UI; the terminal stays as it is.
            return;
        }
        CRASHED.store(true, Ordering::SeqCst);
        restore_and_print(info);
        eprintln!("{}", crash_note(log.as_deref()));
    }));
}

/// What the operator reads after a crash on standard error.
pub fn crash_note(log: Option<&Path>) -> String {
    format!(
        "entra-doctor hit a bug; please report it at {}/issues: {}.",
        env!("CARGO_PKG_REPOSITORY"),
        log_note(log)
    )
}

/// Where the details of a bug are.
pub fn log_note(log: Option<&Path>) -> String {
    match log {
        Some(path) => format!(
            "the details are in the log {} (attach it; secrets are never logged)",
            path.display()
        ),
        None => "no log file could be written; run with --log-file PATH to keep one".to_owned(),
    }
}

/// Runs `work` in a tokio task and sends its result; a panic in it is sent as
/// [`Action::TaskPanicked`], an abort (cancel, quit) sends nothing.
pub fn supervise<F>(
    id: RequestId,
    work: F,
    tx: UnboundedSender<Action>,
    log: Option<PathBuf>,
) -> AbortHandle
where
    F: Future<Output = Option<Action>> + Send + 'static,
{
    let task = tokio::spawn(Marked(Box::pin(work)));
    let handle = task.abort_handle();
    tokio::spawn(async move {
        let action = match task.await {
            Ok(action) => action,
            Err(error) if error.is_panic() => Some(Action::TaskPanicked {
                id,
                message: panic_text(&*error.into_panic()),
                log_note: log_note(log.as_deref()),
            }),
            Err(_) => None,
        };
        if let Some(action) = action {
            let _ = tx.send(action);
        }
    });
    handle
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// A future that marks its thread as "in a task" while it is polled.
struct Marked<F>(Pin<Box<F>>);

impl<F: Future> Future for Marked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let outer = IN_TASK.replace(true);
        // Reset on the way out, by return or by unwinding, so the thread is clean for the next.
        let _reset = Reset(outer);
        self.0.as_mut().poll(cx)
    }
}

struct Reset(bool);

impl Drop for Reset {
    fn drop(&mut self) {
        IN_TASK.set(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_log() {
        let note = crash_note(Some(Path::new(
            "/home/op/.cache/entra-doctor/entra-doctor.log",
        )));
        assert!(
            note.contains("/home/op/.cache/entra-doctor/entra-doctor.log"),
            "{note}"
        );
        assert!(note.contains("/issues"), "{note}");
        assert!(crash_note(None).contains("--log-file"));
    }

    #[tokio::test]
    async fn a_panicking_task_is_reported_and_the_mark_is_only_inside() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let log = Some(PathBuf::from("/tmp/entra-doctor.log"));
        supervise(
            7,
            async {
                assert!(IN_TASK.get(), "polled with the mark");
                None::<Action>
            },
            tx.clone(),
            log.clone(),
        );
        supervise(8, async { panic!("boom") }, tx, log);
        let Some(Action::TaskPanicked {
            id,
            message,
            log_note,
        }) = rx.recv().await
        else {
            panic!("expected TaskPanicked");
        };
        assert_eq!((id, message.as_str()), (8, "boom"));
        assert!(log_note.contains("/tmp/entra-doctor.log"));
        assert!(!IN_TASK.get(), "the test's own thread is not marked");
        assert!(rx.recv().await.is_none(), "the quiet task sent nothing");
    }

    #[tokio::test]
    async fn an_aborted_task_sends_nothing() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let handle = supervise(
            9,
            async {
                std::future::pending::<()>().await;
                None
            },
            tx,
            None,
        );
        handle.abort();
        assert!(rx.recv().await.is_none());
    }
}
