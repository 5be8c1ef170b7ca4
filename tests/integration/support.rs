//! Shared test helpers: fixtures, fake tokens, a form-checking wiremock matcher, snapshots.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wiremock::{Match, Request};

pub const TENANT_ID: &str = "7a1b2c3d-0000-4000-8000-00000000aaaa";
pub const CLIENT_ID: &str = "11111111-2222-4333-8444-555555555555";
pub const CANARY_SECRET: &str = "CANARY-do-not-print-0123456789";
pub const CANARY_PFX_PASSWORD: &str = "CANARY-pfx-password-9876";

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// An unsigned-looking JWT with these header and claims (the signature is junk bytes).
pub fn jwt(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(FAKE_SIGNATURE)
    )
}

/// As long as a real RS256 signature (a shorter one reads as a token cut off), but not one.
pub const FAKE_SIGNATURE: [u8; 256] = [0x5a; 256];

/// 2026-11-25T12:00:00Z, the fixed "now" of snapshots.
pub const NOW: i64 = 1_795_608_000;
pub const NOW_RFC3339: &str = "2026-11-25T12:00:00Z";

/// A v1 app-only token as Microsoft Graph gets it (with the header `nonce`).
pub fn v1_graph_token(marker: &str) -> String {
    jwt(
        &json!({"typ":"JWT","nonce":"abc123","alg":"RS256","x5t":"kid-1","kid":"kid-1"}),
        &json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{TENANT_ID}/"),
            "iat": NOW - 300, "nbf": NOW - 300, "exp": NOW + 3600,
            "app_displayname": "contoso-daemon",
            "appid": CLIENT_ID, "appidacr": "1",
            "idp": format!("https://sts.windows.net/{TENANT_ID}/"),
            "idtyp": "app",
            "oid": "99999999-8888-4777-8666-555555555555",
            "roles": ["User.Read.All", "Group.Read.All"],
            "sub": "99999999-8888-4777-8666-555555555555",
            "tid": TENANT_ID, "uti": marker, "ver": "1.0",
        }),
    )
}

/// A v2 app-only token for a custom API, with no roles granted.
pub fn v2_api_token() -> String {
    jwt(
        &json!({"typ":"JWT","alg":"RS256","kid":"kid-2"}),
        &json!({
            "aud": "3c4d5e6f-0000-4000-8000-000000000bbb",
            "iss": format!("https://login.microsoftonline.com/{TENANT_ID}/v2.0"),
            "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW - 30,
            "azp": CLIENT_ID, "azpacr": "2",
            "idtyp": "app",
            "oid": "99999999-8888-4777-8666-555555555555",
            "sub": "99999999-8888-4777-8666-555555555555",
            "tid": TENANT_ID, "ver": "2.0",
        }),
    )
}

pub fn token_body(access_token: &str, expires_in: u64) -> Value {
    json!({"token_type":"Bearer","expires_in":expires_in,"ext_expires_in":expires_in,"access_token":access_token})
}

pub fn form_of(request: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

/// Matches a form-encoded body with exactly these fields (and any `client_assertion` value
/// when `client_assertion` is given as `*`).
pub struct FormIs(pub Vec<(&'static str, String)>);

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let form = form_of(request);
        form.len() == self.0.len()
            && self
                .0
                .iter()
                .all(|(k, v)| form.get(*k).is_some_and(|got| v == "*" || got == v))
    }
}

/// Asserts a snapshot into the top-level `snapshots/` folder, with run-specific parts scrubbed.
#[macro_export]
macro_rules! assert_cli_snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/cli"),
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:[port]"),
                (r"/tmp/[^\s\x22]+", "[tmp]"),
            ],
        }, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

/// Everything random in a frame: ports, the demo's random request, trace and correlation ids,
/// clock times.
#[macro_export]
macro_rules! assert_frame {
    ($name:expr, $frame:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/tui"),
            prepend_module_to_snapshot => false,
            filters => vec![
                // Same-width stand-ins keep the frames' borders aligned. A port cut at a pane's
                // edge is cut at a fixed column, so it is replaced the same way every run.
                (r"127\.0\.0\.1:\d{1,5}", "127.0.0.1:PORT5"),
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "YYYY-MM-DDTHH:MM:SS"),
                // Ids the demo draws at random per request (request, trace and correlation
                // ids), where they stand: after their label, or at the start of the next line
                // when the label filled its line. Every other GUID (tenant, client, key ids) is
                // the demo's own and stays, so a frame naming the wrong app fails.
                (r"(?i)((?:client-request-id|request-id|trace id|correlation id|correlation)\x22?[:=]?\s+\x22?)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "${1}xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
                (r"(?i)((?:client-request-id|request-id|trace id|correlation id|correlation):[^\n]*\n\x22?│)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "${1}xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
                (r"\d\d:\d\d:\d\d UTC", "HH:MM:SS UTC"),
                // Entra ID's error timestamp (`2026-12-01 01:45:26Z`), as a frame shows it.
                (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", "YYYY-MM-DD HH:MM:SSZ"),
                (r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", "Www, DD Mmm YYYY HH:MM:SS GMT"),
                // Elapsed times vary in width: drop the padding after them too.
                (r"in \d+ ms([^│]*?) *│", "in N ms$1 │"),
                (r"in \d+ ms\. +", "in N ms. "),
                (r"/tmp/entra-doctor-demo-[0-9a-f]+", "[tmp]"),
                // A demo secret's far-off end date counted from the real clock (2099: five
                // digits of days); a same-width stand-in keeps the borders aligned.
                (r"expires in \d{5}\b", "expires in NNNNN"),
                // The expired demo secret's age, counted from the real clock in the demos.
                (r"expired \d{3}\b", "expired NNN"),
            ],
        }, {
            insta::assert_snapshot!($name, $frame);
        });
    };
}

/// A token endpoint that answers `first` once, then a token (marked `marker`) to every later
/// request: a transient failure that a retry gets past.
pub async fn fails_once_then_issues(
    first: wiremock::ResponseTemplate,
    marker: &str,
) -> wiremock::MockServer {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token(marker), 3599)),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

/// The finding ids of a command's JSON output (`{"findings":[{"id":…},…]}`), in order.
pub fn json_finding_ids(json: &Value) -> Vec<&str> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect()
}

/// File names in `dir`, sorted.
pub fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The embedded demo tenant on its built-in model, on a random loopback port.
pub async fn start_demo() -> entra_doctor::demo::RunningDemo {
    use entra_doctor::demo::{self, DemoOptions, TenantModel};
    demo::start(DemoOptions::new(TenantModel::builtin().unwrap()))
        .await
        .unwrap()
}

/// The binary with a clean environment and the real clock (the demo tenant checks times for
/// real; `cli::entra_doctor` fixes the clock instead).
pub fn real_clock_binary() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command.env_clear();
    command
}
