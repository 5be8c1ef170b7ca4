//! Issue 14, files and exit codes: the cache commands leave a file that is not a cache exactly
//! as it is (exit 2); reports, SVG exports and logs are owner-only and never written through a
//! symbolic link; output that cannot be written (`> /dev/full`) is a failure, a closed pipe is
//! not; input larger than a command reads is refused by name, never cut silently.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CLIENT_ID, TENANT_ID, names_in, token_body, v1_graph_token};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_entra-doctor"));
    command.env_clear().stdin(Stdio::null());
    command
}

/// Runs `command` with standard output going to `/dev/full`; its exit code and stderr.
#[cfg(target_os = "linux")]
fn into_dev_full(command: &mut Command) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = command
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/bin/false\n";

#[test]
fn cache_commands_refuse_a_file_that_is_not_a_cache_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let passwd = dir.path().join("passwd");
    std::fs::write(&passwd, PASSWD).unwrap();
    for action in ["list", "clear"] {
        let output = binary()
            .args(["cache", action, "--cache-file"])
            .arg(&passwd)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{action}: {stderr}");
        assert!(
            stderr.contains("is not an entra-doctor token cache")
                && stderr.contains("left exactly as it is"),
            "{stderr}"
        );
        assert_eq!(std::fs::read_to_string(&passwd).unwrap(), PASSWD);
        assert_eq!(names_in(dir.path()), ["passwd"], "no rename, no lock");
    }
}

/// An Entra ID error answer, so `doctor` runs its checklist quickly and writes its report.
async fn refusing_endpoint() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
            "error_codes": [7_000_215],
        })))
        .mount(&server)
        .await;
    server
}

fn doctor(server: &MockServer, report: &Path) -> std::process::Output {
    binary()
        .env("AZURE_CLIENT_SECRET", "x")
        .args(["doctor", "--tenant", TENANT_ID, "--client-id", CLIENT_ID])
        .args([
            "--scope",
            "api://a/.default",
            "--authority-host",
            &server.uri(),
        ])
        .arg("--report")
        .arg(report)
        .output()
        .unwrap()
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn reports_are_private_and_never_written_through_a_link() {
    let server = refusing_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("new/report.md");
    let output = doctor(&server, &report);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(mode(&report), 0o600, "the report");
    assert_eq!(
        mode(&dir.path().join("new")),
        0o700,
        "the directory it made"
    );

    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("link.md");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let output = doctor(&server, &link);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write the report") && stderr.contains("symbolic link"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
}

#[cfg(unix)]
#[test]
fn log_files_are_private_and_never_opened_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run.log");
    let output = binary()
        .arg("--log-file")
        .arg(&log)
        .args(["explain", "AADSTS70011"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(mode(&log), 0o600);

    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let output = binary()
        .arg("--log-file")
        .arg(&link)
        .args(["explain", "AADSTS70011"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

async fn issuing_endpoint() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("full"), 3599)),
        )
        .mount(&server)
        .await;
    server
}

/// Issue 14: `token --raw > /dev/full`, `doctor -o json > /dev/full` and `decode > /dev/full`
/// exited 0, so a script got an empty token file and success.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn output_that_cannot_be_written_fails_with_exit_2() {
    let server = issuing_endpoint().await;
    let credential = |command: &mut Command| {
        command
            .env("AZURE_CLIENT_SECRET", "x")
            .args(["--tenant", TENANT_ID, "--client-id", CLIENT_ID])
            .args(["--scope", "https://graph.microsoft.com/.default"])
            .args(["--authority-host", &server.uri()]);
    };
    let mut token = binary();
    token.args(["token", "--raw"]);
    credential(&mut token);
    let mut decode = binary();
    decode.args(["decode", &v1_graph_token("full")]);
    let refusing = refusing_endpoint().await;
    let mut doctor_json = binary();
    doctor_json
        .env("AZURE_CLIENT_SECRET", "x")
        .args(["doctor", "-o", "json", "--tenant", TENANT_ID])
        .args(["--client-id", CLIENT_ID, "--scope", "api://a/.default"])
        .args(["--authority-host", &refusing.uri()]);
    let mut explain = binary();
    explain.args(["explain", "AADSTS70011"]);
    for (name, command, expected) in [
        ("token --raw", &mut token, 2),
        ("decode", &mut decode, 2),
        ("explain", &mut explain, 2),
        // doctor found a problem (exit 1) and says so; the lost output is reported too.
        ("doctor -o json", &mut doctor_json, 1),
    ] {
        let (code, stderr) = into_dev_full(command);
        assert_eq!(code, Some(expected), "{name}: {stderr}");
        assert!(
            stderr.contains("cannot write the output to standard output")
                && stderr.contains("No space left on device"),
            "{name}: {stderr}"
        );
    }
}

/// A closed pipe (`| head`) is the reader's choice: no error, no message, exit 0.
#[test]
fn a_closed_pipe_is_a_quiet_clean_exit() {
    // Claims larger than a pipe's buffer, so the write surely meets the closed end.
    let big = "x".repeat(256 * 1024);
    let token = crate::support::jwt(&json!({"alg": "none"}), &json!({"big": big}));
    let mut child = binary()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), token.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
}

/// Issue 14: standard input past 1 MiB (decode) or 4 MiB (explain) was cut without a word.
#[test]
fn input_larger_than_a_command_reads_is_refused_by_name() {
    for (command, limit_mib, reader) in [
        ("decode", 1, "entra-doctor reads for a token"),
        ("explain", 4, "explain"),
    ] {
        let mut child = binary()
            .args([command, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = vec![b'a'; limit_mib * 1024 * 1024 + 1];
        // The command stops reading at the limit: the rest may meet a closed pipe.
        let _ = std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "standard input is larger than {limit_mib} MiB, the most {reader} reads"
            )),
            "{stderr}"
        );
    }
}
