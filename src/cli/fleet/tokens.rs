//! One token request per credential in a fleet: apps with the same authority, tenant, client id,
//! scopes and credential (the same secret value, the same certificate file and password) share
//! the token the first of them asked for — a single flight, the others wait for its answer, a
//! refusal included. A fleet of 100,000 entries of one app makes one token request, not 100,000.
//!
//! The key is a SHA-256 of those parts with a salt made for this run, so no secret is kept (or
//! could be printed) in clear, and a key means nothing outside the run. The map holds at most
//! [`MAX_KEYS`] credentials, oldest forgotten first: a fleet of 100,000 different apps keeps a
//! few thousand tokens at most, not one each. A shared token is used until 5 minutes before it
//! expires; then the next app asks again.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::error::Error;
use crate::secret::Secret;

/// Credentials remembered at once; past this the oldest is forgotten (its apps, if any come
/// later, ask again).
const MAX_KEYS: usize = 1024;

/// How long before its expiry a shared token is no longer handed out.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// Which credential a token is for: a salted hash, never the secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(in crate::cli) struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// A token one app acquired for every app with its credential.
#[derive(Clone)]
pub(in crate::cli) struct Issued {
    pub(in crate::cli) token: Secret,
    at: Instant,
    lifetime: Duration,
}

impl Issued {
    pub(in crate::cli) fn new(token: Secret, lifetime: Duration) -> Self {
        Self {
            token,
            at: Instant::now(),
            lifetime,
        }
    }

    fn is_fresh(&self) -> bool {
        self.at.elapsed() + EXPIRY_MARGIN < self.lifetime
    }
}

/// What the single flight came to: the token, or the error every sharing app reports.
pub(in crate::cli) type Answer = Result<Issued, Arc<Error>>;

type Slot = Arc<OnceCell<Answer>>;

#[derive(Default)]
struct Slots {
    by_key: HashMap<TokenKey, Slot>,
    order: VecDeque<TokenKey>,
}

/// The fleet's token single flight.
pub(in crate::cli) struct TokenShare {
    salt: [u8; 16],
    slots: Mutex<Slots>,
    /// Token requests actually sent, for the closing count.
    requests: std::sync::atomic::AtomicUsize,
}

impl TokenShare {
    pub(in crate::cli) fn new() -> Self {
        Self {
            salt: *uuid::Uuid::new_v4().as_bytes(),
            slots: Mutex::new(Slots::default()),
            requests: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The key of a credential from its parts, each length-prefixed so `("ab", "c")` and
    /// `("a", "bc")` differ.
    pub(in crate::cli) fn key(&self, parts: &[&[u8]]) -> TokenKey {
        let mut hash = Sha256::new();
        hash.update(self.salt);
        for part in parts {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        TokenKey(hash.finalize().into())
    }

    /// How many token requests the fleet sent.
    pub(in crate::cli) fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The shared answer for `key`: the first caller runs `acquire`, the others wait for it. A
    /// token past its freshness is asked for again (once, by whoever sees it first).
    pub(in crate::cli) async fn get_or_acquire<F, Fut>(&self, key: TokenKey, acquire: F) -> Answer
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        let mut slot = self.slot(key, None);
        if let Some(Ok(issued)) = slot.get()
            && !issued.is_fresh()
        {
            slot = self.slot(key, Some(&slot));
        }
        slot.get_or_init(|| async {
            self.requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            acquire().await
        })
        .await
        .clone()
    }

    /// The slot for `key`, made when missing; with `stale`, a new one replaces it if it is
    /// still the one in the map.
    fn slot(&self, key: TokenKey, stale: Option<&Slot>) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let Slots { by_key, order } = &mut *slots;
        match by_key.get(&key) {
            Some(current) if stale.is_some_and(|stale| Arc::ptr_eq(stale, current)) => {
                // Replaced in place: the key keeps its place in the order.
                let slot: Slot = Arc::new(OnceCell::new());
                by_key.insert(key, Arc::clone(&slot));
                return slot;
            }
            Some(current) => return Arc::clone(current),
            None => {}
        }
        let slot: Slot = Arc::new(OnceCell::new());
        by_key.insert(key, Arc::clone(&slot));
        order.push_back(key);
        while by_key.len() > MAX_KEYS {
            let Some(oldest) = order.pop_front() else {
                break;
            };
            by_key.remove(&oldest);
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // an `Answer`, as the single flight takes
    fn issued(lifetime: u64) -> Answer {
        Ok(Issued::new(
            Secret::new("token-value"),
            Duration::from_secs(lifetime),
        ))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn many_apps_with_one_credential_make_one_request() {
        let share = Arc::new(TokenShare::new());
        let key = share.key(&[b"tenant", b"client", b"secret"]);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let share = Arc::clone(&share);
            tasks.spawn(async move {
                share
                    .get_or_acquire(key, || async {
                        tokio::task::yield_now().await;
                        issued(3600)
                    })
                    .await
                    .is_ok()
            });
        }
        while let Some(ok) = tasks.join_next().await {
            assert!(ok.unwrap());
        }
        assert_eq!(share.requests(), 1);
    }

    #[tokio::test]
    async fn another_secret_or_a_stale_token_asks_again_and_a_refusal_is_shared() {
        let share = TokenShare::new();
        let right = share.key(&[b"client", b"right"]);
        let wrong = share.key(&[b"client", b"wrong"]);
        assert_ne!(right, wrong);
        assert_ne!(share.key(&[b"ab", b"c"]), share.key(&[b"a", b"bc"]));
        assert!(
            share
                .get_or_acquire(right, || async { issued(3600) })
                .await
                .is_ok()
        );
        let refused = || async {
            Err(Arc::new(Error::MissingCredential {
                hint: "refused".into(),
            }))
        };
        assert!(share.get_or_acquire(wrong, refused).await.is_err());
        assert!(
            share
                .get_or_acquire(wrong, || async { issued(3600) })
                .await
                .is_err()
        );
        assert_eq!(share.requests(), 2);
        // A token within the margin of its expiry is not handed out again.
        let short = share.key(&[b"short"]);
        assert!(
            share
                .get_or_acquire(short, || async { issued(60) })
                .await
                .is_ok()
        );
        assert!(
            share
                .get_or_acquire(short, || async { issued(3600) })
                .await
                .is_ok()
        );
        assert_eq!(share.requests(), 4);
        assert_eq!(format!("{right:?}"), "TokenKey(..)");
    }

    #[tokio::test]
    async fn the_map_forgets_the_oldest_credentials_past_its_bound() {
        let share = TokenShare::new();
        for i in 0..(MAX_KEYS + 10) {
            let key = share.key(&[&i.to_le_bytes()]);
            let _ = share.get_or_acquire(key, || async { issued(3600) }).await;
        }
        let slots = share.slots.lock().unwrap();
        assert_eq!(
            (slots.by_key.len(), slots.order.len()),
            (MAX_KEYS, MAX_KEYS)
        );
    }
}
