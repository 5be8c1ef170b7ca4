//! Issue 14, tried as an attacker would: `decode --verify` fails closed (a self-minted token
//! naming a key server on loopback, metadata naming keys elsewhere, a nonce on a token that is
//! not Graph's, keys that cannot be reached), tokens come off the command line (`-`, `@FILE`,
//! a warning for a plain argument), `consent --secret-stdin` reads its secret once, and
//! `decode --verify` goes through `--ca-file` and the proxy like every other request.

use std::process::Output;

use base64::Engine as _;
use chrono::Utc;
use entra_doctor::demo::{self, DemoOptions, RunningDemo, TenantModel};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TENANT_ID, json_finding_ids, jwt, start_demo, v1_graph_token};

/// The binary with a clean environment and the real clock: the demo tenant and these tokens
/// are dated now.
fn entra_doctor() -> assert_cmd::Command {
    let mut command = crate::cli::entra_doctor();
    command.env_remove("ENTRA_DOCTOR_NOW");
    command
}

/// A token with these claims (and a header `nonce` when given), signed with a key of the demo
/// assets under `kid`.
fn signed(key_file: &str, kid: &str, nonce: Option<&str>, claims: &Value) -> String {
    let path = format!("{}/assets/demo/{key_file}", env!("CARGO_MANIFEST_DIR"));
    let key = EncodingKey::from_rsa_pem(&std::fs::read(path).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let header = match nonce {
        None => serde_json::to_value(&header).unwrap(),
        Some(nonce) => {
            let mut value = serde_json::to_value(&header).unwrap();
            value["nonce"] = json!(nonce);
            value
        }
    };
    // jsonwebtoken's Header has no nonce field: sign the segments by hand.
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let message = format!("{}.{}", b64(&header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::RS256).unwrap();
    format!("{message}.{signature}")
}

/// The demo tenant's published key set, and the kid in it (the key of `tenant-signing.key.pem`).
async fn demo_keys(demo: &RunningDemo) -> (Value, String) {
    let keys: Value = reqwest::get(demo.jwks_uri())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = keys["keys"][0]["kid"].as_str().unwrap().to_owned();
    (keys, kid)
}

fn claims(iss: &str, aud: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({"aud": aud, "iss": iss, "tid": TENANT_ID, "ver": "1.0", "iat": now, "nbf": now,
           "exp": now + 3600, "appid": "9999d1be-e182-4efa-8b0d-029e5af3dbcf", "idtyp": "app",
           "roles": ["Directory.ReadWrite.All"]})
}

/// An attacker's key server on loopback: OIDC metadata for any tenant naming `keys_at` as
/// `jwks_uri` and `issuer` as issuer, and `keys` at `/keys`.
async fn key_server(issuer: Option<&str>, keys: &Value, keys_at: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let issuer = issuer.map_or_else(|| format!("{}/{TENANT_ID}/", server.uri()), str::to_owned);
    let jwks_uri = keys_at.map_or_else(|| format!("{}/keys", server.uri()), str::to_owned);
    Mock::given(method("GET"))
        .and(path_regex("openid-configuration$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"issuer": issuer, "jwks_uri": jwks_uri})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(keys))
        .mount(&server)
        .await;
    server
}

/// `decode - --verify -o json` with the token on standard input.
fn decode_verify(token: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let output = entra_doctor()
        .args(["decode", "-", "--verify", "-o", "json"])
        .args(extra)
        .write_stdin(token.to_owned())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "the token is never printed"
    );
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (output.status.code(), json, stderr)
}

fn outcome(json: &Value) -> &str {
    json["verification"]["outcome"].as_str().unwrap_or("(none)")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_minted_token_naming_its_own_key_server_is_refused_unfetched() {
    let demo = start_demo().await;
    let (keys, kid) = demo_keys(&demo).await;
    let attacker = key_server(None, &keys, None).await;
    let iss = format!("{}/{TENANT_ID}/", attacker.uri());
    let forged = signed(
        "tenant-signing.key.pem",
        &kid,
        None,
        &claims(&iss, "api://payments"),
    );

    // The setup is sound: an operator who names that authority gets its keys, and they match.
    let (code, json, _) = decode_verify(&forged, &["--authority-host", &attacker.uri()]);
    assert_eq!((code, outcome(&json)), (Some(0), "verified"), "{json:#}");
    let fetched = attacker.received_requests().await.unwrap().len();
    assert_eq!(fetched, 2, "metadata and keys");

    // Named by nobody but the token itself, that server is never asked, --tenant or not.
    for extra in [&[][..], &["--tenant", TENANT_ID][..]] {
        let (code, json, stderr) = decode_verify(&forged, extra);
        assert_eq!(code, Some(1), "{extra:?}: {json:#}");
        assert_eq!(outcome(&json), "untrusted-issuer", "{json:#}");
        assert!(json_finding_ids(&json).contains(&"token.untrusted-issuer"));
        assert!(
            stderr.contains("not verified") && stderr.contains("not a known Entra ID authority"),
            "{stderr}"
        );
    }
    assert_eq!(attacker.received_requests().await.unwrap().len(), fetched);

    // In text too: the reason, and never a "verified".
    let text = entra_doctor()
        .args(["decode", "-", "--verify"])
        .write_stdin(forged.clone())
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(stdout.contains("token.untrusted-issuer"), "{stdout}");
    assert!(!stdout.contains("Signature verified"), "{stdout}");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_naming_keys_off_the_authoritys_host_is_refused() {
    let demo = start_demo().await;
    let (keys, kid) = demo_keys(&demo).await;
    let elsewhere = key_server(None, &keys, None).await;
    let iss = format!("https://sts.windows.net/{TENANT_ID}/");
    // The named authority answers, but sends the keys to another server.
    let authority = key_server(
        Some(&iss),
        &json!({"keys": []}),
        Some(&format!("{}/keys", elsewhere.uri())),
    )
    .await;
    let forged = signed(
        "tenant-signing.key.pem",
        &kid,
        None,
        &claims(&iss, "api://payments"),
    );
    let (code, json, stderr) = decode_verify(&forged, &["--authority-host", &authority.uri()]);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(outcome(&json), "untrusted-keys", "{json:#}");
    assert!(stderr.contains("not verified"), "{stderr}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nonce_excuses_only_a_graph_token_and_never_passes() {
    let demo = start_demo().await;
    let (_, kid) = demo_keys(&demo).await;
    let iss = format!("https://sts.windows.net/{}/", demo.tenant_id());
    let host = ["--authority-host", demo.authority_host()];

    // Forged (another key under the tenant's kid), for an API, with a nonce: checked, and caught.
    let mut api_claims = claims(&iss, "api://payments");
    api_claims["tid"] = json!(demo.tenant_id());
    let forged = signed("healthy.key.pem", &kid, Some("abc"), &api_claims);
    let (code, json, _) = decode_verify(&forged, &host);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(outcome(&json), "bad-signature", "{json:#}");
    assert!(!json_finding_ids(&json).contains(&"token.graph-nonce"));

    // A Graph token is not verifiable by design: said so, and still not a pass.
    let (code, json, stderr) = decode_verify(&v1_graph_token("nonce"), &host);
    assert_eq!(code, Some(1), "{json:#}");
    assert_eq!(outcome(&json), "graph-nonce", "{json:#}");
    assert!(stderr.contains("not verified"), "{stderr}");
    let text = json["findings"].to_string();
    assert!(text.contains("by design"), "{text}");
    assert!(!text.contains("token.verified"), "{text}");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_keys_fail_closed_with_a_network_exit_code() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let token = jwt(
        &json!({"alg": "RS256", "kid": "k"}),
        &claims(
            &format!("https://sts.windows.net/{TENANT_ID}/"),
            "api://payments",
        ),
    );
    let (code, json, stderr) = decode_verify(
        &token,
        &["--authority-host", &format!("http://127.0.0.1:{closed}")],
    );
    assert_eq!(code, Some(3), "{json:#}");
    assert!(
        json_finding_ids(&json).contains(&"token.not-verified"),
        "{json:#}"
    );
    assert!(json["verification"].is_null());
    assert!(stderr.contains("not verified"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_does_not_pass_a_graph_token_it_cannot_verify() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let output = entra_doctor()
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args(["doctor", "--authority-host", demo.authority_host()])
        .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
        .args([
            "--scope",
            "https://graph.microsoft.com/.default",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let verify = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "verify")
        .unwrap();
    assert_eq!(verify["outcome"], "skipped", "{json:#}");
    demo.shutdown().await;
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn tokens_come_from_standard_input_or_a_file_and_a_plain_one_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let token = v1_graph_token("file");
    let file = dir.path().join("token.txt");
    std::fs::write(&file, format!("Bearer {token}\n")).unwrap();
    let at_file = format!("@{}", file.display());
    let probe = |value: &str, stdin: &str| {
        entra_doctor()
            .args([
                "probe",
                "--url",
                "https://graph.microsoft.com/v1.0/users",
                "--no-send",
            ])
            .args(["--token", value])
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    };
    for (value, stdin, warned) in [
        (at_file.as_str(), "", false),
        ("-", token.as_str(), false),
        (token.as_str(), "", true),
    ] {
        let output = probe(value, stdin);
        let stderr = stderr_of(&output);
        assert_eq!(
            stderr.contains("visible to other users"),
            warned,
            "{value:.12}: {stderr}"
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        // The token was read whole: its claims were checked (the fixture's time is long past).
        assert!(
            stdout.contains("token.expired"),
            "{value:.12}: {stdout}{stderr}"
        );
    }

    let explain = |args: &[&str], stdin: &str| {
        entra_doctor()
            .arg("explain")
            .args(args)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    };
    let from_file = explain(&["AADSTS500011", "--token", &at_file], "");
    assert!(from_file.status.success(), "{}", stderr_of(&from_file));
    assert!(!stderr_of(&from_file).contains("visible to other users"));
    let from_stdin = explain(&["AADSTS500011", "--token", "-"], &token);
    assert!(from_stdin.status.success(), "{}", stderr_of(&from_stdin));
    let plain = explain(&["AADSTS500011", "--token", &token], "");
    assert!(
        stderr_of(&plain).contains("--token @FILE"),
        "{}",
        stderr_of(&plain)
    );
    // The error and the token cannot both come from standard input.
    let both = explain(&["--token", "-"], "AADSTS500011");
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr_of(&both).contains("cannot both read standard input"));

    // decode takes a plain token without a word (it sends nothing), and @FILE.
    for value in [token.as_str(), at_file.as_str()] {
        let output = entra_doctor().args(["decode", value]).output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        assert!(stderr_of(&output).is_empty(), "{}", stderr_of(&output));
    }
    let missing = entra_doctor()
        .args(["decode", &format!("@{}", dir.path().join("nope").display())])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr_of(&missing).contains("nope"),
        "{}",
        stderr_of(&missing)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn consent_reads_a_secret_from_standard_input_once() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let secret = app.secret.as_ref().unwrap().expose().to_owned();
    let consent = |extra: &[&str], stdin: &str| {
        entra_doctor()
            .args(["consent", "--authority-host", demo.authority_host()])
            .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
            .args(["--graph-url", &format!("{}/graph", demo.authority_host())])
            .args(["--secret-stdin", "-o", "json"])
            .args(extra)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap()
    };
    // Another resource than Graph: the Graph token is a second request with the same secret.
    let output = consent(
        &[
            "--scope",
            "api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default",
        ],
        &format!("{secret}\n"),
    );
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = stderr_of(&output);
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert!(json["error"].is_null(), "{json:#}");
    assert_eq!(
        json["resource"]["app_id"], "0580fc27-5a59-4256-bb3c-fa881957fdd7",
        "{json:#}"
    );

    // A plain --token is warned about; --token - cannot share standard input with the secret.
    let plain = consent(&["--token", &v1_graph_token("consent")], &secret);
    assert!(
        stderr_of(&plain).contains("visible to other users"),
        "{}",
        stderr_of(&plain)
    );
    let both = consent(&["--token", "-"], &secret);
    assert_eq!(both.status.code(), Some(2));
    assert!(stderr_of(&both).contains("cannot both read standard input"));
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn decode_verify_uses_the_ca_file_and_the_proxy() {
    let mut options = DemoOptions::new(TenantModel::builtin().unwrap());
    options.tls = true;
    let demo = demo::start(options).await.unwrap();
    let app = demo.app("healthy").unwrap();
    let ca = demo.ca_file().unwrap().to_str().unwrap().to_owned();
    let token = entra_doctor()
        .env("AZURE_CLIENT_SECRET", app.secret.as_ref().unwrap().expose())
        .args([
            "--ca-file",
            &ca,
            "token",
            "--raw",
            "--authority-host",
            demo.authority_host(),
        ])
        .args(["--tenant", demo.tenant_id(), "--client-id", &app.client_id])
        .args(["--scope", "https://database.windows.net//.default"])
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", stderr_of(&token));
    let raw = String::from_utf8(token.stdout).unwrap();
    let host = ["--authority-host", demo.authority_host()];

    let (code, json, _) = decode_verify(&raw, &host);
    assert_eq!(
        code,
        Some(3),
        "without the CA the keys are not trusted: {json:#}"
    );
    assert!(
        json["findings"].to_string().contains("is not trusted"),
        "{json:#}"
    );
    let (code, json, _) = decode_verify(&raw, &[&host[..], &["--ca-file", &ca][..]].concat());
    assert_eq!((code, outcome(&json)), (Some(0), "verified"), "{json:#}");
    let with_variable = entra_doctor()
        .env("SSL_CERT_FILE", &ca)
        .args(["decode", "-", "--verify", "-o", "json"])
        .args(host)
        .write_stdin(raw.clone())
        .output()
        .unwrap();
    assert_eq!(
        with_variable.status.code(),
        Some(0),
        "{}",
        stderr_of(&with_variable)
    );

    // Through the proxy: a name only the proxy knows reaches the demo through its tunnel.
    let (proxy, seen) = crate::transport::recording_proxy(demo.local_addr()).await;
    let port = demo.local_addr().port();
    let far = format!("https://login.entra-doctor.test:{port}");
    let output = entra_doctor()
        .env("HTTPS_PROXY", &proxy)
        .args([
            "decode",
            "-",
            "--verify",
            "--authority-host",
            &far,
            "--ca-file",
            &ca,
        ])
        .write_stdin(raw)
        .output()
        .unwrap();
    assert_ne!(output.status.code(), Some(0));
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("CONNECT login.entra-doctor.test:{port} HTTP/1.1")]
    );
    demo.shutdown().await;
}
