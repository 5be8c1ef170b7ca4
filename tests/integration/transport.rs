//! Reaching servers: the demo tenant over https with a throw-away CA stands in for a server behind
//! a TLS-inspecting proxy (untrusted without the CA; trusted with `--ca-file` or
//! `SSL_CERT_FILE`), and a small CONNECT proxy on loopback shows `HTTPS_PROXY` used, loopback
//! never proxied, and `NO_PROXY` honoured. Variables are set on the child process only.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use entra_doctor::demo::{self, DemoOptions, RunningDemo, TenantModel};
use entra_doctor::transport::{Proxies, Transport};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::assert_cli_snapshot;
use crate::cli::entra_doctor;
use crate::support::fixture;

async fn tls_demo() -> RunningDemo {
    let mut options = DemoOptions::new(TenantModel::builtin().unwrap());
    options.tls = true;
    demo::start(options).await.unwrap()
}

fn token_args(demo: &RunningDemo, authority_host: &str) -> Vec<String> {
    let app = demo.app("healthy").unwrap();
    [
        "token",
        "--tenant",
        demo.tenant_id(),
        "--client-id",
        &app.client_id,
        "--scope",
        &app.scope,
        "--authority-host",
        authority_host,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// `token` for the demo's healthy app against `authority_host`, secret in the environment.
fn token(demo: &RunningDemo, authority_host: &str) -> assert_cmd::Command {
    let mut command = entra_doctor();
    command.args(token_args(demo, authority_host)).env(
        "AZURE_CLIENT_SECRET",
        demo.app("healthy")
            .unwrap()
            .secret
            .as_ref()
            .unwrap()
            .expose(),
    );
    command
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A CONNECT proxy on loopback that records each request line and tunnels every CONNECT to
/// `upstream`, whatever host it names (nothing ever leaves the machine).
pub async fn recording_proxy(upstream: SocketAddr) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut first = String::new();
                client.read_line(&mut first).await.unwrap();
                record.lock().unwrap().push(first.trim_end().to_owned());
                let mut line = String::new();
                while client.read_line(&mut line).await.unwrap() > 2 {
                    line.clear();
                }
                let mut client = client.into_inner();
                if !first.starts_with("CONNECT ") {
                    let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
                    return;
                }
                let mut server = TcpStream::connect(upstream).await.unwrap();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_chain_says_so_and_a_ca_file_fixes_it() {
    let demo = tls_demo().await;
    let host = demo.authority_host().to_owned();
    let ca = demo.ca_file().unwrap();

    let untrusted = token(&demo, &host).output().unwrap();
    assert_eq!(untrusted.status.code(), Some(3), "{}", stderr(&untrusted));
    let message = stderr(&untrusted).replace(&host, "https://127.0.0.1:[port]");
    assert_cli_snapshot!("token_untrusted_certificate", message);

    let json = token(&demo, &host).args(["-o", "json"]).output().unwrap();
    let document: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        document["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is not trusted")),
        "{document}"
    );

    // The probe says the same of an API behind the same chain.
    let probe = entra_doctor()
        .args(["probe", "--url", &format!("{host}/graph/v1.0/users")])
        .args(["--token", &crate::support::v1_graph_token("probe")])
        .output()
        .unwrap();
    assert_eq!(probe.status.code(), Some(3), "{}", stderr(&probe));
    assert!(
        stderr(&probe).contains("is not trusted"),
        "{}",
        stderr(&probe)
    );

    let with_flag = token(&demo, &host)
        .arg("--ca-file")
        .arg(ca)
        .output()
        .unwrap();
    assert!(with_flag.status.success(), "{}", stderr(&with_flag));

    // Given before the command, too (the flag is global).
    let before = entra_doctor()
        .arg("--ca-file")
        .arg(ca)
        .args(token_args(&demo, &host))
        .env(
            "AZURE_CLIENT_SECRET",
            demo.app("healthy")
                .unwrap()
                .secret
                .as_ref()
                .unwrap()
                .expose(),
        )
        .output()
        .unwrap();
    assert!(before.status.success(), "{}", stderr(&before));

    let with_variable = token(&demo, &host)
        .env("SSL_CERT_FILE", ca)
        .output()
        .unwrap();
    assert!(with_variable.status.success(), "{}", stderr(&with_variable));
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bundle_of_several_certificates_is_read_whole() {
    let demo = tls_demo().await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    let mut text = std::fs::read_to_string(fixture("daemon.crt.pem")).unwrap();
    text.push_str(&std::fs::read_to_string(demo.ca_file().unwrap()).unwrap());
    std::fs::write(&bundle, text).unwrap();
    let output = token(&demo, demo.authority_host())
        .arg("--ca-file")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));

    // The wrong CA: the message says the bundle did not help, and names it.
    let wrong = token(&demo, demo.authority_host())
        .arg("--ca-file")
        .arg(fixture("daemon.crt.pem"))
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(3));
    let message = stderr(&wrong);
    assert!(
        message.contains("is not trusted") && message.contains("daemon.crt.pem"),
        "{message}"
    );
    demo.shutdown().await;
}

#[test]
fn a_ca_file_that_cannot_be_used_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let der = dir.path().join("ca.cer");
    std::fs::write(&der, [0x30, 0x82, 0x01, 0x0a, 0x02]).unwrap();
    // The last case needs the certificates parsed: `--ca-file` is, at start-up; `SSL_CERT_FILE`
    // only with the platform's roots on the first https certificate, never for plain http.
    let cases: [(&Path, &str, bool); 4] = [
        (&dir.path().join("missing.pem"), "does not exist", true),
        (&der, "is not a PEM file", true),
        (
            &fixture("key-only.pem"),
            "holds no CERTIFICATE block (found: PRIVATE KEY)",
            true,
        ),
        (
            &fixture("not-a-certificate.pem"),
            "certificate #1 cannot be used as a CA",
            false,
        ),
    ];
    for (path, expected, checked_for_variable) in cases {
        let ways = if checked_for_variable {
            vec![(Some(path), None), (None, Some(path))]
        } else {
            vec![(Some(path), None)]
        };
        for (flag, variable) in ways {
            let mut command = entra_doctor();
            command.args([
                "token",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                crate::support::CLIENT_ID,
                "--scope",
                "api://x/.default",
                "--authority-host",
                "http://127.0.0.1:9",
            ]);
            command.env("AZURE_CLIENT_SECRET", "s");
            if let Some(path) = flag {
                command.arg("--ca-file").arg(path);
            }
            if let Some(path) = variable {
                command.env("SSL_CERT_FILE", path);
            }
            let output = command.output().unwrap();
            let message = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{message}");
            let source = if flag.is_some() {
                "--ca-file"
            } else {
                "SSL_CERT_FILE"
            };
            assert!(
                message.contains(source) && message.contains(expected),
                "{source} {expected:?} in {message}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn https_proxy_is_used_but_never_for_loopback() {
    let demo = tls_demo().await;
    let (proxy, seen) = recording_proxy(demo.local_addr()).await;
    let port = demo.local_addr().port();

    // A name only the proxy resolves (it tunnels every CONNECT to the demo tenant): the TLS
    // handshake reaches the demo through the tunnel, whose certificate names 127.0.0.1 only.
    let far = format!("https://login.entra-doctor.test:{port}");
    let output = token(&demo, &far)
        .arg("--ca-file")
        .arg(demo.ca_file().unwrap())
        .env("HTTPS_PROXY", &proxy)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("issued for another host name"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("CONNECT login.entra-doctor.test:{port} HTTP/1.1")]
    );

    // Loopback is always reached directly, whatever the proxy variables say.
    seen.lock().unwrap().clear();
    for variable in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"] {
        let output = token(&demo, demo.authority_host())
            .arg("--ca-file")
            .arg(demo.ca_file().unwrap())
            .env(variable, &proxy)
            .output()
            .unwrap();
        assert!(output.status.success(), "{variable}: {}", stderr(&output));
    }
    assert!(seen.lock().unwrap().is_empty());

    let bad = token(&demo, demo.authority_host())
        .env("HTTPS_PROXY", "http://user:CANARY-proxy-password@[::bad")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("HTTPS_PROXY"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains("CANARY"), "{}", stderr(&bad));
    demo.shutdown().await;
}

/// `NO_PROXY` in the library: the name is pinned to the demo's address in the client, so the
/// direct path needs no DNS, and only the proxied request shows up at the proxy.
#[tokio::test(flavor = "multi_thread")]
async fn no_proxy_names_go_direct() {
    let demo = tls_demo().await;
    let (proxy, seen) = recording_proxy(demo.local_addr()).await;
    let url = format!(
        "https://login.entra-doctor.test:{}/",
        demo.local_addr().port()
    );
    let get = |no_proxy: &str| {
        let transport = Transport {
            ca_bundles: Vec::new(),
            proxies: Proxies {
                https: Some(Proxies::parse_url("HTTPS_PROXY", &proxy).unwrap()),
                http: None,
                no_proxy: no_proxy.to_owned(),
            },
        };
        let client = transport
            .client_builder()
            .unwrap()
            .resolve("login.entra-doctor.test", demo.local_addr())
            .build()
            .unwrap();
        let url = url.clone();
        async move { client.get(url).send().await }
    };
    // Both fail the same way (the demo's certificate names 127.0.0.1, and no CA is trusted);
    // what matters is which one went through the proxy.
    assert!(get("").await.is_err());
    assert_eq!(seen.lock().unwrap().len(), 1);
    for no_proxy in ["entra-doctor.test", ".entra-doctor.test", "*"] {
        assert!(get(no_proxy).await.is_err());
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "NO_PROXY hosts go direct");
    demo.shutdown().await;
}

#[test]
fn proxy_variables_are_read_as_curl_reads_them() {
    use entra_doctor::environment::Environment;
    use entra_doctor::setup::transport;
    let env = Environment::from_pairs([
        ("https_proxy", "http://lower.example:1"),
        ("HTTPS_PROXY", "http://upper.example:2"),
        ("ALL_PROXY", "all.example:3"),
        ("no_proxy", "corp.example"),
    ]);
    let read = transport(None, &env).unwrap();
    let shown = |url: Option<url::Url>| url.map(String::from);
    assert_eq!(
        (
            shown(read.proxies.https),
            shown(read.proxies.http),
            read.proxies.no_proxy
        ),
        (
            Some("http://upper.example:2/".into()),
            Some("http://all.example:3/".into()),
            "corp.example".into()
        )
    );
    assert_eq!(
        transport(None, &Environment::default()).unwrap(),
        Transport::default()
    );
}

/// Issue 17: no start-up work a command does not need. A plain http token request to loopback
/// reads no CA roots, and neither it nor `decode` parses a catalog; an https request reads the
/// roots and `explain` parses the AADSTS catalog (the controls: the log lines are real).
#[tokio::test(flavor = "multi_thread")]
async fn issue_17_plain_http_reads_no_roots_and_decode_parses_no_catalog() {
    use entra_doctor::diagnose::PARSED;
    use entra_doctor::transport::roots::LOADED;

    let demo = demo::start(DemoOptions::new(TenantModel::builtin().unwrap()))
        .await
        .unwrap();
    let host = demo.authority_host().to_owned();
    assert!(host.starts_with("http://"), "{host}");
    // SSL_CERT_FILE names the store the roots come from (often the platform's own bundle of
    // ~145): checked for existence at start-up, parsed only for https.
    let bundle = fixture("not-a-certificate.pem");
    let http = token(&demo, &host)
        .arg("-v")
        .env("SSL_CERT_FILE", &bundle)
        .output()
        .unwrap();
    assert!(http.status.success(), "{}", stderr(&http));
    for needless in [LOADED, PARSED] {
        assert!(!stderr(&http).contains(needless), "{}", stderr(&http));
    }

    let raw = token(&demo, &host).arg("--raw").output().unwrap();
    assert!(raw.status.success(), "{}", stderr(&raw));
    let decoded = entra_doctor()
        .args(["-v", "decode", "-"])
        .write_stdin(raw.stdout)
        .output()
        .unwrap();
    assert!(decoded.status.success(), "{}", stderr(&decoded));
    for needless in [LOADED, PARSED] {
        assert!(!stderr(&decoded).contains(needless), "{}", stderr(&decoded));
    }
    demo.shutdown().await;

    let tls = tls_demo().await;
    let https = token(&tls, tls.authority_host())
        .arg("-v")
        .arg("--ca-file")
        .arg(tls.ca_file().unwrap())
        .output()
        .unwrap();
    assert!(https.status.success(), "{}", stderr(&https));
    assert!(stderr(&https).contains(LOADED), "{}", stderr(&https));
    tls.shutdown().await;

    let explained = entra_doctor()
        .args(["-v", "explain", "AADSTS70011"])
        .output()
        .unwrap();
    assert!(
        stderr(&explained).contains(&format!("{PARSED} assets/aadsts.toml")),
        "{}",
        stderr(&explained)
    );
}
