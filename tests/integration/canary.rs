//! The canary: every command, run with a known secret, PFX password and token at the most
//! verbose log level, and none of them appears in any output, file or log.

use std::path::Path;

use wiremock::MockServer;

use crate::cli::{entra_doctor, token_args, token_server};
use crate::support::{CANARY_PFX_PASSWORD, CANARY_SECRET, fixture, v1_graph_token};

fn assert_clean(what: &str, bytes: &[u8], canaries: &[&str]) {
    let text = String::from_utf8_lossy(bytes);
    for canary in canaries {
        assert!(
            !text.contains(canary),
            "{what} contains the canary {canary:?}:\n{text}"
        );
    }
}

// One list of every command the operator can run: long by design.
#[allow(clippy::too_many_lines)]
fn run_everything(server: &MockServer, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let cache = dir.join("tokens.json");
    let log = dir.join("entra-doctor.log");
    let mut outputs = Vec::new();
    let mut record = |name: &str, mut command: assert_cmd::Command| {
        let output = command.output().unwrap();
        outputs.push((format!("{name} stdout"), output.stdout));
        outputs.push((format!("{name} stderr"), output.stderr));
    };
    for format in ["text", "json"] {
        let verbose = ["-vv", "--log-file"];
        let mut secret_env = entra_doctor();
        secret_env
            .args(token_args(server))
            .args(["-o", format, "--persist-cache", "--cache-file"])
            .arg(&cache);
        secret_env
            .args(verbose)
            .arg(&log)
            .env("AZURE_CLIENT_SECRET", CANARY_SECRET);
        record("token secret env", secret_env);

        let mut secret_stdin = entra_doctor();
        secret_stdin.args(token_args(server)).args([
            "-o",
            format,
            "--force-refresh",
            "--secret-stdin",
            "-vv",
        ]);
        secret_stdin.write_stdin(CANARY_SECRET);
        record("token secret stdin (logs on stderr)", secret_stdin);

        let mut pfx = entra_doctor();
        pfx.args(token_args(server))
            .args(["-o", format, "--persist-cache", "--cache-file"])
            .arg(&cache);
        pfx.args(["--certificate"])
            .arg(fixture("daemon.pfx"))
            .args(verbose)
            .arg(&log);
        pfx.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", CANARY_PFX_PASSWORD);
        record("token pfx", pfx);

        let mut wrong_pfx = entra_doctor();
        wrong_pfx
            .args(token_args(server))
            .args(["-o", format, "--certificate"])
            .arg(fixture("daemon.pfx"));
        wrong_pfx.env("AZURE_CLIENT_CERTIFICATE_PASSWORD", CANARY_SECRET);
        record("token pfx with the wrong password", wrong_pfx);

        for action in ["list", "clear"] {
            let mut cache_command = entra_doctor();
            cache_command
                .args(["cache", action, "-o", format, "-vv", "--cache-file"])
                .arg(&cache);
            record("cache", cache_command);
        }
        let mut doctor = entra_doctor();
        let mut doctor_args = token_args(server);
        doctor_args[0] = "doctor".into();
        doctor
            .args(doctor_args)
            .args(["-o", format, "-vv", "--log-file"])
            .arg(&log);
        doctor
            .args([
                "--probe",
                &format!("{}/v1.0/users", server.uri()),
                "--report",
            ])
            .arg(dir.join("report.md"));
        doctor.env("AZURE_CLIENT_SECRET", CANARY_SECRET);
        record("doctor", doctor);

        let mut walk = entra_doctor();
        let mut walk_args = token_args(server);
        walk_args[0] = "walkthrough".into();
        walk.args(walk_args)
            .args(["-o", format, "-vv", "--log-file"])
            .arg(&log)
            .args(["--probe", &format!("{}/v1.0/users", server.uri())])
            .env("AZURE_CLIENT_SECRET", CANARY_SECRET);
        record("walkthrough", walk);

        let mut probe = entra_doctor();
        probe.args([
            "probe",
            "-o",
            format,
            "-vv",
            "--url",
            &format!("{}/v1.0/users", server.uri()),
            "--token",
            "-",
        ]);
        probe.write_stdin(v1_graph_token("cli"));
        record("probe", probe);

        let mut explain = entra_doctor();
        explain.args([
            "explain",
            "-o",
            format,
            "--token",
            &v1_graph_token("cli"),
            "AADSTS7000215",
        ]);
        record("explain", explain);

        // Every crate at trace level, HTTP internals included: the redacting writer still holds.
        let mut traced = entra_doctor();
        traced
            .args(token_args(server))
            .args(["-o", format, "--force-refresh", "--log-file"])
            .arg(&log);
        traced
            .env("RUST_LOG", "trace")
            .env("AZURE_CLIENT_SECRET", CANARY_SECRET);
        record("token at RUST_LOG=trace", traced);

        let mut decode = entra_doctor();
        decode
            .args(["decode", "-o", format, "-vv"])
            .write_stdin(v1_graph_token("decode"));
        record("decode", decode);
    }
    outputs.push(("log file".into(), std::fs::read(&log).unwrap_or_default()));
    outputs
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_ever_leaks() {
    // Eight commands' tokens, plus one Graph token per doctor run: its 403 calls for the
    // consent audit, whose Graph reads (and their bearer token) must not leak either; plus one
    // per walkthrough run, which finds the tenant through the discovery document.
    let server = token_server(14).await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path_regex(r"/v2\.0/\.well-known/openid-configuration$"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "issuer": format!("https://login.microsoftonline.com/{}/v2.0", crate::support::TENANT_ID),
            "token_endpoint": format!("{}/{}/oauth2/v2.0/token", server.uri(), crate::support::TENANT_ID),
            "jwks_uri": format!("{}/{}/discovery/v2.0/keys", server.uri(), crate::support::TENANT_ID),
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}
        })))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let outputs = run_everything(&server, dir.path());
    let token = v1_graph_token("cli");
    for (what, bytes) in &outputs {
        assert_clean(what, bytes, &[CANARY_SECRET, CANARY_PFX_PASSWORD, &token]);
    }
    let log = &outputs.last().unwrap().1;
    assert!(
        String::from_utf8_lossy(log).contains("token request"),
        "the log was written"
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        assert_clean(
            &path.display().to_string(),
            &std::fs::read(&path).unwrap(),
            &[CANARY_SECRET, CANARY_PFX_PASSWORD, &token],
        );
    }
    // The secret did reach the server, so the test ran what it claims to.
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(bodies.iter().any(|b| b.contains(CANARY_SECRET)));
}
