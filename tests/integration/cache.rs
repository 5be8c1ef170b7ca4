//! The application token cache: lookup rules, sealing, the file on disk.

use chrono::{DateTime, TimeDelta, Utc};
use entra_doctor::auth::{Authority, AuthorityHost, Credential, ScopeSet, Tenant, TokenResponse};
use entra_doctor::cache::{CacheKey, Miss, TokenCache};
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;

use crate::support::{CLIENT_ID, TENANT_ID};

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
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
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

#[test]
fn corrupt_file_is_set_aside_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, b"{ this is not json").unwrap();
    let (cache, warnings) = TokenCache::open(&path).unwrap();
    assert!(cache.is_empty());
    assert_eq!(warnings.len(), 1);
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(backups.len(), 1);
    assert!(
        backups[0].starts_with("tokens.json.corrupt-"),
        "{backups:?}"
    );
    assert!(
        warnings[0].contains(&backups[0]),
        "the warning names the backup: {}",
        warnings[0]
    );
    assert_eq!(
        std::fs::read(dir.path().join(&backups[0])).unwrap(),
        b"{ this is not json",
        "nothing lost"
    );
}

#[test]
fn a_directory_is_not_a_cache_file() {
    let dir = tempfile::tempdir().unwrap();
    let error = TokenCache::open(dir.path()).unwrap_err();
    assert!(matches!(error, Error::Cache { .. }), "{error:?}");
    assert!(error.to_string().contains("is a directory"));
}
