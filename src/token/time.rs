//! Times as people read them: UTC, and relative ("expires in 59 min", "expired 3 h ago").

use chrono::{DateTime, TimeDelta, Utc};

/// `at` relative to `now`: "in 59 min", "3 h 5 min ago", "now".
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let delta = at - now;
    let span = human(delta.abs());
    if delta.num_seconds() == 0 {
        "now".into()
    } else if delta > TimeDelta::zero() {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// "expires in 59 min" or "expired 3 h ago".
pub fn relative_to_expiry(exp: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if exp > now {
        format!("expires {}", relative(exp, now))
    } else {
        format!("expired {}", relative(exp, now))
    }
}

fn human(delta: TimeDelta) -> String {
    let seconds = delta.num_seconds();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{minutes} min"),
        3600..86_400 if minutes == 0 => format!("{hours} h"),
        3600..86_400 => format!("{hours} h {minutes} min"),
        _ if days >= 365 => format!("{} y {} d", days / 365, days % 365),
        _ if hours == 0 => format!("{days} d"),
        _ => format!("{days} d {hours} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_person_would_say_it() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let at = |s: i64| now + TimeDelta::seconds(s);
        assert_eq!(
            relative_to_expiry(at(59 * 60 + 10), now),
            "expires in 59 min"
        );
        assert_eq!(relative_to_expiry(at(-3 * 3600), now), "expired 3 h ago");
        assert_eq!(
            relative_to_expiry(at(-(3 * 3600 + 300)), now),
            "expired 3 h 5 min ago"
        );
        assert_eq!(relative(at(42), now), "in 42 s");
        assert_eq!(relative(at(0), now), "now");
        assert_eq!(relative(at(-2 * 86_400 - 3600), now), "2 d 1 h ago");
        assert_eq!(relative(at(400 * 86_400), now), "in 1 y 35 d");
    }
}
