//! Criterion benchmarks of the domain's hot paths: JWT decode, explaining a token-endpoint
//! error body, the findings for a token plus a 403 answer, and a cache lookup among 10,000
//! entries. Numbers go in README's "Performance" section; nothing here is a test assertion.
//! Run: `cargo bench --bench domain`.

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use entra_doctor::Secret;
use entra_doctor::auth::{Authority, AuthorityHost, ScopeSet, Tenant, TokenResponse};
use entra_doctor::cache::{CacheKey, TokenCache};
use entra_doctor::diagnose::FixContext;
use entra_doctor::diagnose::api::{self, ApiAnswer};
use entra_doctor::diagnose::explain::{self, Extra};
use entra_doctor::token::decode;
use serde_json::json;

const TENANT: &str = "7a1b2c3d-0000-4000-8000-00000000aaaa";
const CLIENT: &str = "11111111-2222-4333-8444-555555555555";

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_608_000, 0)
        .single()
        .unwrap_or_default()
}

/// A v1 Microsoft Graph app-only token of realistic size (about 1.3 KB), junk signature.
fn graph_token(roles: &[&str]) -> String {
    let t = now().timestamp();
    let header = json!({"typ":"JWT","nonce":"abc123","alg":"RS256","x5t":"kid-1","kid":"kid-1"});
    let mut claims = json!({
        "aud": "https://graph.microsoft.com",
        "iss": format!("https://sts.windows.net/{TENANT}/"),
        "iat": t - 300, "nbf": t - 300, "exp": t + 3600,
        "aio": "E2NgYJjV8P7y8Xw3nV2Y8qJ7hH6d9aN5sVQ2k1vZl0c4BAAA=",
        "app_displayname": "contoso-daemon", "appid": CLIENT, "appidacr": "1",
        "idp": format!("https://sts.windows.net/{TENANT}/"), "idtyp": "app",
        "oid": "99999999-8888-4777-8666-555555555555",
        "rh": "0.AXwA3Sz6fjr8yUm8o0lzNn3Z7QMAAAAAAAAAwAAAAAAAAAC8AAA.",
        "sub": "99999999-8888-4777-8666-555555555555", "tenant_region_scope": "EU",
        "tid": TENANT, "uti": "v6ixq3l0x0KQnWmCkLkYAA", "ver": "1.0",
        "wids": ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"],
        "xms_tcdt": 1_600_000_000, "xms_tdbr": "EU",
    });
    if !roles.is_empty() {
        claims["roles"] = json!(roles);
    }
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/diagnose/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench_decode(c: &mut Criterion) {
    let token = graph_token(&["User.Read.All", "Group.Read.All"]);
    c.bench_function("decode/graph_v1_token", |b| {
        b.iter(|| decode(black_box(&token)));
    });
}

fn bench_explain(c: &mut Criterion) {
    let body = fixture("token-error-70011.json");
    let context = FixContext {
        tenant: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        ..FixContext::default()
    };
    let extra = Extra {
        scope: Some("https://graph.microsoft.com/User.Read.All"),
        context,
        ..Extra::default()
    };
    c.bench_function("explain/token_error_aadsts70011", |b| {
        b.iter(|| explain::explain(black_box(&body), &extra, now()));
    });
    // Log lines are read whole, with every rule of assets/api-errors.toml: the slow path.
    let real_world = |name: &str| {
        let path = format!(
            "{}/tests/fixtures/real-world/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let terraform = real_world("keyvault-403-forbidden-by-rbac-terraform-autorest.txt");
    c.bench_function("explain/terraform_log_line_keyvault", |b| {
        b.iter(|| explain::explain(black_box(&terraform), &Extra::default(), now()));
    });
    let unknown = "ERROR: upload failed: connection reset by peer ".repeat(200);
    c.bench_function("explain/unrecognised_10kb_log", |b| {
        b.iter(|| explain::explain(black_box(&unknown), &Extra::default(), now()));
    });
}

fn bench_findings(c: &mut Criterion) {
    let token = decode(&graph_token(&[])).unwrap_or_else(|e| panic!("{e}"));
    let answer = ApiAnswer {
        method: "GET".into(),
        url: Some("https://graph.microsoft.com/v1.0/users".into()),
        status: Some(403),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "request-id".into(),
                "4f2a9c1e-0d1d-4acb-b408-d5ca73121e90".into(),
            ),
        ],
        body: fixture("graph-403-authorization-request-denied.json"),
    };
    let context = FixContext {
        tenant: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        resource: Some("https://graph.microsoft.com".into()),
        scope: Some("https://graph.microsoft.com/.default".into()),
        ..FixContext::default()
    };
    c.bench_function("findings/token_plus_graph_403", |b| {
        b.iter(|| api::explain(black_box(&answer), Some(&token), now(), &context));
    });
}

fn bench_cache(c: &mut Criterion) {
    let host =
        AuthorityHost::parse("https://login.microsoftonline.com").unwrap_or_else(|e| panic!("{e}"));
    let authority = Authority::new(
        host,
        Tenant::parse(TENANT).unwrap_or_else(|e| panic!("{e}")),
    );
    let scopes = ScopeSet::parse(&["https://graph.microsoft.com/.default"])
        .unwrap_or_else(|e| panic!("{e}"));
    let sealing_key = [42u8; 32];
    let response = TokenResponse {
        token_type: "Bearer".into(),
        expires_in: 3599,
        ext_expires_in: Some(3599),
        refresh_in: None,
        access_token: Secret::new(graph_token(&["User.Read.All"])),
    };
    let mut cache = TokenCache::in_memory();
    let mut keys = Vec::new();
    for i in 0..10_000u32 {
        let client = format!("{i:08x}-2222-4333-8444-555555555555");
        let key = CacheKey::new(&authority, &client, &scopes);
        keys.push(key.clone());
        cache
            .store(
                key,
                "https://graph.microsoft.com",
                &response,
                &sealing_key,
                "secret",
                now(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let hit = keys[7_777].clone();
    let miss = CacheKey::new(&authority, CLIENT, &scopes);
    c.bench_function("cache/lookup_hit_10k_entries", |b| {
        b.iter(|| cache.lookup(black_box(&hit), &sealing_key, now()).is_ok());
    });
    c.bench_function("cache/lookup_miss_10k_entries", |b| {
        b.iter(|| cache.lookup(black_box(&miss), &sealing_key, now()).is_ok());
    });
}

criterion_group!(
    benches,
    bench_decode,
    bench_explain,
    bench_findings,
    bench_cache
);
criterion_main!(benches);
