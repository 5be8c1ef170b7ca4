//! `--timeout` as one deadline for a whole command's network work, retries included.
//!
//! A per-request timeout multiplies: with three attempts and 30 s each, a server that never
//! answers held a command for ~93 s while the message said "timed out after 30 s". A
//! [`Deadline`] is made once, when the command starts its network work, and every request of
//! that command (token attempts, discovery and keys, the probe) gets only the time left: a
//! request is not started, and a retry never sleeps, past it. `--connect-timeout` stays a limit
//! per connection.
//!
//! A client without a command's deadline (the library's default, the TUI's per-action clients)
//! gives each operation its own: one `acquire` with all its retries, one probe, one fetch.

use std::time::{Duration, Instant};

/// The moment a command's network work must be over, and the budget it was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    end: Instant,
    budget: Duration,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        let now = Instant::now();
        Self {
            // An absurd budget cannot overflow the clock: it is simply never reached.
            end: now
                .checked_add(budget)
                .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365)),
            budget,
        }
    }

    /// The time left; `None` once the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.end
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
    }

    /// Whether a wait of `wait` would end at or after the deadline.
    pub fn passed_by(&self, wait: Duration) -> bool {
        self.remaining().is_none_or(|left| wait >= left)
    }

    /// The budget the deadline was made from (the `--timeout` value).
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The deadline as tokio's instant, to bound a whole future with `timeout_at`.
    pub fn instant(&self) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.end)
    }
}

/// Which limit a timeout hit, for the message: the command's deadline or one connection's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// `--connect-timeout`: one connection was not made in time (each connection has its own).
    Connect { limit: Duration },
    /// `--timeout`: the command's whole network work ran out of time after `attempts` attempts
    /// of this request (0: it was reached before this request could be sent).
    Deadline { budget: Duration, attempts: u32 },
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeLimit::Connect { limit } => write!(
                f,
                "no connection within {} (--connect-timeout, per connection)",
                human(*limit)
            ),
            TimeLimit::Deadline {
                budget,
                attempts: 0,
            } => write!(
                f,
                "the command's {} deadline (--timeout, for all its requests and retries) was \
                 reached before it was sent",
                human(*budget)
            ),
            TimeLimit::Deadline { budget, attempts } => write!(
                f,
                "the command's {} deadline (--timeout, for all its requests and retries) was \
                 reached after {attempts} attempt{}",
                human(*budget),
                if *attempts == 1 { "" } else { "s" }
            ),
        }
    }
}

/// A limit as a person reads it: whole seconds, or milliseconds below one (the tests' limits).
fn human(limit: Duration) -> String {
    if limit >= Duration::from_secs(1) && limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_counts_down_and_names_its_budget() {
        let deadline = Deadline::after(Duration::from_secs(3600));
        assert!(deadline.remaining().is_some());
        assert!(!deadline.passed_by(Duration::from_secs(1)));
        assert!(deadline.passed_by(Duration::from_secs(7200)));
        let passed = Deadline::after(Duration::ZERO);
        assert_eq!(passed.remaining(), None);
        assert!(passed.passed_by(Duration::ZERO));
        assert!(Deadline::after(Duration::MAX).remaining().is_some());
    }

    #[test]
    fn limits_say_which_option_and_how_many_attempts() {
        let deadline = |attempts| TimeLimit::Deadline {
            budget: Duration::from_secs(5),
            attempts,
        };
        assert_eq!(
            deadline(3).to_string(),
            "the command's 5 s deadline (--timeout, for all its requests and retries) was reached \
             after 3 attempts"
        );
        assert!(deadline(1).to_string().ends_with("after 1 attempt"));
        assert!(deadline(0).to_string().ends_with("before it was sent"));
        assert_eq!(
            TimeLimit::Connect {
                limit: Duration::from_millis(100)
            }
            .to_string(),
            "no connection within 100 ms (--connect-timeout, per connection)"
        );
    }
}
