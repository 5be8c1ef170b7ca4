//! The application token cache: lookup rules, sealing, the file on disk (private, atomic, shared
//! by two processes without a lost entry, set aside when corrupt, left alone when newer or not a
//! cache at all, never through a link).

use chrono::{DateTime, TimeDelta, Utc};
use entra_doctor::auth::{Authority, AuthorityHost, Credential, ScopeSet, Tenant, TokenResponse};
use entra_doctor::cache::{CacheKey, Miss, TokenCache};
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;

use crate::support::{CLIENT_ID, TENANT_ID, names_in};

const TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.eyJjYW5hcnkiOiJDQU5BUlktdG9rZW4ifQ.c2ln";

fn key(scope: &str) -> CacheKey {
    let authority = Authority::new(
        AuthorityHost::parse("https://login.microsoftonline.com").unwrap(),
        Tenant::parse(TENANT_ID).unwrap(),
    );
    CacheKey::new(&authority, CLIENT_ID, &ScopeSet::parse(&[scope]).unwrap())
}

fn response(expires_in: u64, refresh_in: Option<u64>) -> TokenResponse {
    TokenResponse {
        token_type: "Bearer".into(),
        expires_in,
        ext_expires_in: Some(expires_in),
        refresh_in,
        access_token: Secret::new(TOKEN),
    }
}

fn sealing(secret: &str, key: &CacheKey) -> [u8; 32] {
    *Credential::Secret(Secret::new(secret)).sealing_key(&key.id())
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_608_000, 0).unwrap()
}

#[test]
fn served_until_five_minutes_before_expiry() {
    let mut cache = TokenCache::in_memory();
    let key = key("https://graph.microsoft.com/.default");
    let seal = sealing("s", &key);
    cache
        .store(
            key.clone(),
            "https://graph.microsoft.com",
            &response(3600, None),
            &seal,
            "secret",
            t0(),
        )
        .unwrap();
    let at = |minutes| t0() + TimeDelta::minutes(minutes);
    assert_eq!(
        cache
            .lookup(&key, &seal, at(0))
            .unwrap()
            .access_token
            .expose(),
        TOKEN
    );
    assert!(cache.lookup(&key, &seal, at(54)).is_ok());
    assert_eq!(
        cache.lookup(&key, &seal, at(55)).unwrap_err(),
        Miss::ExpiresSoon
    );
    assert_eq!(
        cache.lookup(&key, &seal, at(90)).unwrap_err(),
        Miss::ExpiresSoon
    );
}

#[test]
fn refresh_in_ends_serving_early() {
    let mut cache = TokenCache::in_memory();
    let key = key("https://graph.microsoft.com/.default");
    let seal = sealing("s", &key);
    cache
        .store(
            key.clone(),
            "r",
            &response(86_400, Some(3600)),
            &seal,
            "secret",
            t0(),
        )
        .unwrap();
    assert!(
        cache
            .lookup(&key, &seal, t0() + TimeDelta::minutes(59))
            .is_ok()
    );
    assert_eq!(
        cache
            .lookup(&key, &seal, t0() + TimeDelta::minutes(60))
            .unwrap_err(),
        Miss::RefreshDue
    );
}

#[test]
fn keys_separate_slashes_and_credentials() {
    let mut cache = TokenCache::in_memory();
    let single = key("https://database.windows.net/.default");
    let double = key("https://database.windows.net//.default");
    let seal = sealing("s", &single);
    cache
        .store(
            single.clone(),
            "r",
            &response(3600, None),
            &seal,
            "secret",
            t0(),
        )
        .unwrap();
    assert_eq!(
        cache
            .lookup(&double, &sealing("s", &double), t0())
            .unwrap_err(),
        Miss::Absent
    );
    assert_eq!(
        cache
            .lookup(&single, &sealing("rotated secret", &single), t0())
            .unwrap_err(),
        Miss::CredentialChanged
    );
}

#[test]
fn file_is_private_sealed_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/tokens.json");
    let key = key("https://graph.microsoft.com/.default");
    let seal = sealing("s", &key);
    {
        let (mut cache, warnings) = TokenCache::open(&path).unwrap();
        assert!(warnings.is_empty() && cache.is_empty());
        cache
            .store(
                key.clone(),
                "https://graph.microsoft.com",
                &response(3600, None),
                &seal,
                "secret",
                t0(),
            )
            .unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains(TOKEN) && !text.contains("CANARY"),
        "the token is sealed: {text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let lock = path.with_file_name("tokens.json.lock");
        assert_eq!(
            std::fs::metadata(&lock).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        names_in(path.parent().unwrap()),
        ["tokens.json", "tokens.json.lock"],
        "no temporary file left behind"
    );
    let (mut cache, _) = TokenCache::open(&path).unwrap();
    assert_eq!(
        cache
            .lookup(&key, &seal, t0())
            .unwrap()
            .access_token
            .expose(),
        TOKEN
    );
    assert_eq!(cache.clear().unwrap(), 1);
    assert!(TokenCache::open(&path).unwrap().0.is_empty());
}

/// The backups beside `tokens.json` (not the file, not its lock).
fn backups_in(dir: &std::path::Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with("tokens.json.corrupt-"))
        .collect()
}

fn store_one(cache: &mut TokenCache, scope: &str) -> entra_doctor::Result<()> {
    let key = key(scope);
    let seal = sealing("s", &key);
    cache
        .store(key, "r", &response(3600, None), &seal, "secret", t0())
        .map(|_| ())
}

#[test]
fn corrupt_file_is_set_aside_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    // Recognisably a cache (its own start), damaged past that.
    std::fs::write(&path, b"{\"version\": 1, \"entries\": [ this is not json").unwrap();
    let (cache, warnings) = TokenCache::open(&path).unwrap();
    assert!(cache.is_empty());
    assert_eq!(warnings.len(), 1);
    let backups = backups_in(dir.path());
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(
        warnings[0].contains(&backups[0]),
        "the warning names the backup: {}",
        warnings[0]
    );
    assert_eq!(
        std::fs::read(dir.path().join(&backups[0])).unwrap(),
        b"{\"version\": 1, \"entries\": [ this is not json",
        "nothing lost"
    );
}

#[test]
fn truncated_file_is_set_aside_and_the_next_save_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let (mut cache, _) = TokenCache::open(&path).unwrap();
    store_one(&mut cache, "api://a/.default").unwrap();
    let whole = std::fs::read(&path).unwrap();
    let cut = &whole[..whole.len() / 2];
    std::fs::write(&path, cut).unwrap();

    let (reopened, warnings) = TokenCache::open(&path).unwrap();
    assert!(reopened.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("cut short"), "{}", warnings[0]);
    let backups = backups_in(dir.path());
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(std::fs::read(dir.path().join(&backups[0])).unwrap(), cut);

    // A process that opened the cache before the damage sets it aside on its next save too.
    std::fs::write(&path, cut).unwrap();
    store_one(&mut cache, "api://b/.default").unwrap();
    assert_eq!(backups_in(dir.path()).len(), 2);
    let (after, warnings) = TokenCache::open(&path).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(after.len(), 1, "only the entry stored after the damage");
}

#[test]
fn a_newer_format_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let newer = br#"{"version": 2, "tokens": {"something": "new"}}"#;

    // Opened before the newer version wrote it: the save is refused, the file untouched.
    let (mut cache, _) = TokenCache::open(&path).unwrap();
    std::fs::write(&path, newer).unwrap();
    let error = store_one(&mut cache, "api://a/.default").unwrap_err();
    let message = error.to_string();
    for part in [
        "newer entra-doctor",
        "format version 2",
        "reads version 1",
        "left as it is",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    assert!(matches!(error, Error::Cache { .. }), "{error:?}");
    assert_eq!(std::fs::read(&path).unwrap(), newer);

    // Opened after: refused the same way, and nothing set aside or written.
    let error = TokenCache::open(&path).unwrap_err();
    assert_eq!(error.to_string(), message);
    assert!(cache.clear().is_err());
    assert_eq!(std::fs::read(&path).unwrap(), newer);
    assert_eq!(
        names_in(dir.path()),
        ["tokens.json"],
        "not even a lock beside it"
    );
}

/// Issue 14: `cache list --cache-file` renamed any file that was not a cache (a copy of
/// `/etc/passwd`) to `FILE.corrupt-<time>` and created a lock beside it.
#[test]
fn a_file_that_is_not_a_cache_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passwd");
    let passwd =
        b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
    for bytes in [&passwd[..], b"", b"{\"something\": \"else\"}", b"[1, 2]"] {
        std::fs::write(&path, bytes).unwrap();
        let error = TokenCache::open(&path).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("is not an entra-doctor token cache")
                && message.contains("left exactly as it is"),
            "{message}"
        );
        assert!(matches!(error, Error::Cache { .. }), "{error:?}");
        let (mut empty, _) = TokenCache::open(&dir.path().join("new.json")).unwrap();
        assert!(empty.is_empty());
        // A cache opened earlier at that path refuses to save over it, too.
        std::fs::remove_file(&path).unwrap();
        let (mut earlier, _) = TokenCache::open(&path).unwrap();
        std::fs::write(&path, bytes).unwrap();
        assert!(store_one(&mut earlier, "api://a/.default").is_err());
        assert!(earlier.clear().is_err());
        assert!(empty.clear().is_ok());
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(
            names_in(dir.path()),
            ["new.json", "new.json.lock", "passwd"],
            "nothing renamed, nothing created beside it"
        );
        std::fs::remove_file(dir.path().join("new.json")).unwrap();
        std::fs::remove_file(dir.path().join("new.json.lock")).unwrap();
    }
}

/// Issue 14: the cache file and its lock are never written through a symbolic link.
#[cfg(unix)]
#[test]
fn links_at_the_cache_file_or_its_lock_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    std::fs::write(&target, b"precious").unwrap();
    let link = dir.path().join("tokens.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let message = TokenCache::open(&link).unwrap_err().to_string();
    assert!(message.contains("symbolic link"), "{message}");

    let path = dir.path().join("real.json");
    let lock_target = dir.path().join("lock-target");
    std::os::unix::fs::symlink(&lock_target, dir.path().join("real.json.lock")).unwrap();
    let (mut cache, _) = TokenCache::open(&path).unwrap();
    let message = store_one(&mut cache, "api://a/.default")
        .unwrap_err()
        .to_string();
    assert!(message.contains("symbolic link"), "{message}");
    assert!(!lock_target.exists(), "the link's target was not created");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
}

/// Issue 14: a lifetime that overflows the date arithmetic is an error, not a panic, even for
/// a response the client did not check.
#[test]
fn absurd_lifetimes_are_refused_by_the_cache() {
    let mut cache = TokenCache::in_memory();
    for (expires_in, refresh_in) in [
        (u64::MAX, None),
        (10_000_000_000_000, None),
        (3600, Some(u64::MAX)),
    ] {
        let key = key("api://a/.default");
        let seal = sealing("s", &key);
        let error = cache
            .store(
                key,
                "r",
                &response(expires_in, refresh_in),
                &seal,
                "secret",
                t0(),
            )
            .unwrap_err();
        assert!(
            matches!(error, Error::ImplausibleLifetime { .. }),
            "{error:?}"
        );
        assert!(cache.is_empty());
    }
}

/// Two processes (this test binary, run again) each store 100 entries in one cache file at the
/// same time; with the lock, every save merges with what is on disk, so all 200 are there.
#[test]
fn two_processes_writing_at_once_lose_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let children: Vec<_> = ["first", "second"]
        .iter()
        .map(|prefix| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["cache::writer_child", "--exact", "--ignored", "--nocapture"])
                .env(WRITER_PATH, &path)
                .env(WRITER_PREFIX, prefix)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (cache, warnings) = TokenCache::open(&path).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(cache.len(), 2 * WRITES);
}

const WRITER_PATH: &str = "ENTRA_DOCTOR_TEST_CACHE_PATH";
const WRITER_PREFIX: &str = "ENTRA_DOCTOR_TEST_CACHE_PREFIX";
const WRITES: usize = 100;

/// The child of [`two_processes_writing_at_once_lose_no_entry`]; does nothing on its own.
#[test]
#[ignore = "run by two_processes_writing_at_once_lose_no_entry in a child process"]
fn writer_child() {
    let (Some(path), Some(prefix)) = (
        std::env::var_os(WRITER_PATH),
        std::env::var(WRITER_PREFIX).ok(),
    ) else {
        return;
    };
    let (mut cache, _) = TokenCache::open(std::path::Path::new(&path)).unwrap();
    for i in 0..WRITES {
        store_one(&mut cache, &format!("api://{prefix}-{i}/.default")).unwrap();
    }
}

#[test]
fn a_directory_is_not_a_cache_file() {
    let dir = tempfile::tempdir().unwrap();
    let error = TokenCache::open(dir.path()).unwrap_err();
    assert!(matches!(error, Error::Cache { .. }), "{error:?}");
    assert!(error.to_string().contains("is a directory"));
}
