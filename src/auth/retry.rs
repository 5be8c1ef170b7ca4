//! When and how long to retry a token request.
//!
//! Bounded: at most [`MAX_RETRIES`] more attempts, on the answers that mean "try again" — a
//! timeout, 429, 500, 502, 503, 504 (a refused connection or an unknown host is not retried, as
//! MSAL does not: it fails the same way a second later) — waiting what `Retry-After`
//! says (seconds or an HTTP date) up to [`MAX_WAIT`], or backing off 1 s, 2 s. A longer
//! `Retry-After` is not waited out: the error is returned with it, so the operator decides.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Retries after the first attempt, at most.
pub const MAX_RETRIES: u32 = 2;
/// The longest `Retry-After` the tool waits for by itself.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A retry about to happen, for the CLI's stderr and the TUI's status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryNotice {
    /// The retry's number: 1 or 2.
    pub attempt: u32,
    pub of: u32,
    pub wait: Duration,
    /// What went wrong: "HTTP 503", "connection refused", ….
    pub reason: String,
}

impl std::fmt::Display for RetryNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; retrying ({}/{}) in {} s",
            self.reason,
            self.attempt,
            self.of,
            self.wait.as_secs()
        )
    }
}

/// Whether an HTTP status is worth another attempt.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// How long to wait before retry number `retry` (1-based): `Retry-After` when the server gave
/// one, else `backoff` doubled each time. `None` when `Retry-After` asks for more than
/// [`MAX_WAIT`].
pub fn delay(
    retry: u32,
    backoff: Duration,
    retry_after: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    match retry_after.map(str::trim) {
        Some(value) => {
            let wait = parse_retry_after(value, now)?;
            (wait <= MAX_WAIT).then_some(wait)
        }
        None => Some(backoff.saturating_mul(1 << retry.saturating_sub(1).min(4))),
    }
}

/// `Retry-After` as seconds or an HTTP date; a date in the past means now.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_both_forms_and_capped() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let second = Duration::from_secs(1);
        assert_eq!(
            delay(1, second, Some("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            delay(1, second, Some("Wed, 25 Nov 2026 12:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            delay(1, second, Some("Wed, 25 Nov 2026 11:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            delay(1, second, Some("120"), now),
            None,
            "longer than 60 s is not waited out"
        );
        assert_eq!(delay(1, second, Some("soon"), now), None);
        assert_eq!(delay(1, second, None, now), Some(second));
        assert_eq!(delay(2, second, None, now), Some(Duration::from_secs(2)));
        assert!(is_retryable_status(503) && is_retryable_status(429) && !is_retryable_status(400));
    }
}
