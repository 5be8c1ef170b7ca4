//! The application token cache: one entry per authority host + tenant + client id + scopes.
//!
//! Lookup follows MSAL: a token is served until five minutes before `exp`, or until its
//! `refresh_in` has passed when the response gave one. Tokens are sealed with a key derived from
//! the credential that obtained them ([`crate::auth::Credential::sealing_key`]), in memory and on
//! disk alike, so the cache file holds no usable token and a changed credential is a miss.
//! Persistence is opt-in; the file is written atomically with mode 0600 under a lock that lets
//! several processes share it without losing entries, a corrupt one is set aside with a warning,
//! and one from a newer entra-doctor is refused and left alone (see [`file`]).

mod file;
mod seal;
mod serve;

pub use serve::Served;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::{Authority, ScopeSet, TokenResponse};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// MSAL's buffer: a token with less than this left is treated as expired.
pub const EXPIRY_BUFFER: TimeDelta = TimeDelta::minutes(5);

/// What identifies a cached token.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CacheKey {
    pub authority_host: String,
    pub tenant: String,
    pub client_id: String,
    /// [`ScopeSet::normalized`]: sorted, lower-case, slashes kept.
    pub scopes: String,
}

impl CacheKey {
    pub fn new(authority: &Authority, client_id: &str, scopes: &ScopeSet) -> Self {
        Self {
            authority_host: authority.host.as_str().to_ascii_lowercase(),
            tenant: authority.tenant.as_str().to_ascii_lowercase(),
            client_id: client_id.trim().to_ascii_lowercase(),
            scopes: scopes.normalized(),
        }
    }

    /// One string naming the entry; also the context sealing binds each token to.
    pub fn id(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.authority_host, self.tenant, self.client_id, self.scopes
        )
    }
}

/// One cached token: everything about it in the clear, the token itself sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    #[serde(flatten)]
    pub key: CacheKey,
    /// The resource Entra ID read from the scopes.
    pub resource: String,
    pub token_type: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_on: DateTime<Utc>,
    #[serde(default)]
    pub refresh_on: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ext_expires_on: Option<DateTime<Utc>>,
    /// What obtained it: secret, certificate, assertion, or `managed identity (imds)` (and
    /// `app-service`, `azure-arc`), whose entry holds no token.
    pub source: String,
    /// base64 nonce + ciphertext; see the module docs.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub sealed_token: String,
}

impl CacheEntry {
    pub fn time_left(&self, now: DateTime<Utc>) -> TimeDelta {
        self.expires_on - now
    }

    /// Why this entry cannot be served at `now`, if it cannot.
    pub fn stale_reason(&self, now: DateTime<Utc>) -> Option<Miss> {
        // `now` near the last representable date has no "five minutes later": stale, then.
        if now
            .checked_add_signed(EXPIRY_BUFFER)
            .is_none_or(|soon| soon >= self.expires_on)
        {
            Some(Miss::ExpiresSoon)
        } else if self.refresh_on.is_some_and(|refresh_on| now >= refresh_on) {
            Some(Miss::RefreshDue)
        } else {
            None
        }
    }
}

/// Why a lookup found nothing to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Miss {
    Absent,
    /// Less than five minutes left (or already expired).
    ExpiresSoon,
    /// The response's `refresh_in` has passed.
    RefreshDue,
    /// The token was sealed with another credential (the secret or certificate changed).
    CredentialChanged,
    /// `--force-refresh`.
    ForceRefresh,
    /// A managed identity: its endpoint is asked each time (it keeps its own cache), and the
    /// cache keeps the entry without the token (nothing secret would seal it).
    ManagedIdentity,
}

impl Miss {
    pub fn describe(self) -> &'static str {
        match self {
            Miss::Absent => "no cached token",
            Miss::ExpiresSoon => "the cached token expires within 5 minutes",
            Miss::RefreshDue => "the cached token is past its refresh_in",
            Miss::CredentialChanged => "the cached token was obtained with a different credential",
            Miss::ForceRefresh => "--force-refresh skips the cache",
            Miss::ManagedIdentity => {
                "a managed identity's token is asked of its endpoint each time; the entry is kept \
                 without the token"
            }
        }
    }
}

/// A token served from the cache.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub access_token: Secret,
    pub entry: CacheEntry,
}

#[derive(Debug, Default)]
pub struct TokenCache {
    entries: BTreeMap<String, CacheEntry>,
    path: Option<PathBuf>,
}

/// What one save changes in the file: the rest of it is whatever other processes put there.
enum Change {
    Store(Box<CacheEntry>),
    Clear,
}

impl TokenCache {
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Opens (or starts) the cache file at `path`. Warnings say what was set aside.
    pub fn open(path: &Path) -> Result<(Self, Vec<String>)> {
        let (entries, warnings) = file::load(path)?;
        Ok((
            Self {
                entries,
                path: Some(path.to_owned()),
            },
            warnings,
        ))
    }

    /// A cache read from a cache file's bytes, kept in memory only; the error says why they are
    /// not a cache (where [`TokenCache::open`] would set the file aside).
    pub fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        let entries = file::parse(bytes).map_err(|e| e.to_string())?;
        Ok(Self {
            entries: entries.into_iter().map(|e| (e.key.id(), e)).collect(),
            path: None,
        })
    }

    /// The default location: the user's cache directory.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "entra-doctor")
            .map(|dirs| dirs.cache_dir().join("tokens.json"))
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn entries(&self) -> impl Iterator<Item = &CacheEntry> {
        self.entries.values()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The token for `key` if one can be served at `now` and opened with `sealing_key`.
    pub fn lookup(
        &self,
        key: &CacheKey,
        sealing_key: &[u8; 32],
        now: DateTime<Utc>,
    ) -> std::result::Result<CachedToken, Miss> {
        let id = key.id();
        let entry = self.entries.get(&id).ok_or(Miss::Absent)?;
        if let Some(miss) = entry.stale_reason(now) {
            return Err(miss);
        }
        let token =
            seal::open(&entry.sealed_token, sealing_key, &id).ok_or(Miss::CredentialChanged)?;
        Ok(CachedToken {
            access_token: token,
            entry: entry.clone(),
        })
    }

    /// Stores a fresh token, replacing any entry for `key`, and saves the file if persistent.
    pub fn store(
        &mut self,
        key: CacheKey,
        resource: &str,
        response: &TokenResponse,
        sealing_key: &[u8; 32],
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<CacheEntry> {
        let id = key.id();
        let sealed = seal::seal(&response.access_token, sealing_key, &id);
        self.insert(key, sealed, resource, response, source, now)
    }

    /// Keeps an entry for a token whose lifetime and source are worth listing but which is not
    /// kept itself: a managed identity's, for which no secret could seal it.
    pub fn record(
        &mut self,
        key: CacheKey,
        resource: &str,
        response: &TokenResponse,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<CacheEntry> {
        self.insert(key, String::new(), resource, response, source, now)
    }

    fn insert(
        &mut self,
        key: CacheKey,
        sealed_token: String,
        resource: &str,
        response: &TokenResponse,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<CacheEntry> {
        let id = key.id();
        // The client refuses absurd lifetimes; this is the backstop for a response built
        // elsewhere, so no number can overflow the date arithmetic.
        let after = |field: &'static str, seconds: u64| {
            i64::try_from(seconds)
                .ok()
                .and_then(TimeDelta::try_seconds)
                .and_then(|delta| now.checked_add_signed(delta))
                .ok_or_else(|| Error::ImplausibleLifetime {
                    from: "the token response".into(),
                    field,
                    value: seconds.to_string(),
                    reason: "past the last date a timestamp can hold".into(),
                })
        };
        let optional = |field: &'static str, seconds: Option<u64>| {
            seconds.map(|s| after(field, s)).transpose()
        };
        let entry = CacheEntry {
            sealed_token,
            key,
            resource: resource.to_owned(),
            token_type: response.token_type.clone(),
            acquired_at: now,
            expires_on: after("expires_in", response.expires_in)?,
            refresh_on: optional("refresh_in", response.refresh_in)?,
            ext_expires_on: optional("ext_expires_in", response.ext_expires_in)?,
            source: source.to_owned(),
        };
        self.entries.insert(id, entry.clone());
        self.save(Change::Store(Box::new(entry.clone())))?;
        Ok(entry)
    }

    /// Empties the cache (and its file); returns how many entries were dropped.
    pub fn clear(&mut self) -> Result<usize> {
        let dropped = self.entries.len();
        self.entries.clear();
        self.save(Change::Clear)?;
        Ok(dropped)
    }

    /// Applies `change` to the file as it is now on disk, under its lock, and takes the result
    /// as this cache's entries: what other processes stored since is kept, and seen.
    fn save(&mut self, change: Change) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let (entries, _warnings) = file::update(path, |entries| match change {
            Change::Clear => entries.clear(),
            Change::Store(entry) => {
                let id = entry.key.id();
                // Two processes refreshing the same entry: the newer token wins.
                let theirs_is_newer = entries
                    .get(&id)
                    .is_some_and(|theirs| theirs.acquired_at > entry.acquired_at);
                if !theirs_is_newer {
                    entries.insert(id, *entry);
                }
            }
        })?;
        self.entries = entries;
        Ok(())
    }
}
