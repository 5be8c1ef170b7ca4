//! A hostile token endpoint and API that quote back everything they were sent — every form field,
//! the client assertion, the `Authorization` header — in JSON, plain text and HTML, with terminal
//! escape sequences around it. Every command at trace level, its report and its log: none of
//! the run's secrets and no hidden character may come out.

use std::path::Path;

use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::cli::{entra_doctor, token_args};
use crate::support::{CANARY_PFX_PASSWORD, CANARY_SECRET, fixture, v1_graph_token};

/// OSC 52 (write the clipboard), OSC 0 (window title), CSI 2J (clear), a C1 CSI, a bidi
/// override, DEL, an isolate and a zero-width space: what a hostile server would send.
pub(crate) const ESCAPES: &str =
    "\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}2J\u{7f}\u{202e}\u{200b}\u{2066}";

#[derive(Clone, Copy)]
pub(crate) enum Dialect {
    Json,
    Text,
    Html,
}

/// Quotes the request back: the form body, each field, and the Authorization header.
struct Echo(Dialect);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let said = format!(
            "{ESCAPES}Invalid client secret provided: {} secret: {} client_secret : {} assertion {} you sent {body} with {authorization}{ESCAPES}",
            field("client_secret"),
            field("client_secret"),
            field("client_secret"),
            field("client_assertion"),
        );
        let status = if request.method.as_str() == "POST" {
            401
        } else {
            403
        };
        match self.0 {
            Dialect::Json => ResponseTemplate::new(status).set_body_json(serde_json::json!({
                "error": "invalid_client",
                "error_description": format!("AADSTS7000215: {said}"),
                "error_codes": [7_000_215],
                "message": said,
            })),
            Dialect::Text => ResponseTemplate::new(status)
                .insert_header("content-type", "text/plain")
                .set_body_string(said),
            Dialect::Html => ResponseTemplate::new(status)
                .insert_header("content-type", "text/html")
                .set_body_string(format!(
                    "<html><title>{ESCAPES}Denied</title><body><p>{said}</p><form>\
                     <input type=\"hidden\" name=\"client_secret\" value=\"{}\">\
                     <input value='{}' name='client_assertion'></form></body></html>",
                    field("client_secret"),
                    field("client_assertion"),
                )),
        }
    }
}

pub(crate) async fn echo_server(dialect: Dialect) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Echo(dialect))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/v1.0/"))
        .respond_with(Echo(dialect))
        .mount(&server)
        .await;
    server
}

fn run(dir: &Path, server: &MockServer) -> Vec<(String, Vec<u8>)> {
    let log = dir.join("trace.log");
    let report = dir.join("report.md");
    let assertion = dir.join("federated.jwt");
    std::fs::write(&assertion, v1_graph_token("federated-canary")).unwrap();
    let api = format!("{}/v1.0/users", server.uri());
    let mut outputs = Vec::new();
    for format in ["text", "json"] {
        let base = |command: &str| {
            let mut cmd = entra_doctor();
            let mut args = token_args(server);
            args[0] = command.into();
            cmd.args(args)
                .args(["-o", format, "-vv", "--log-file"])
                .arg(&log)
                .env("RUST_LOG", "trace");
            cmd
        };
        let mut commands: Vec<(&str, assert_cmd::Command)> = Vec::new();
        let mut secret = base("token");
        secret.env("AZURE_CLIENT_SECRET", CANARY_SECRET);
        commands.push(("token secret", secret));
        let mut stdin = base("token");
        stdin.arg("--secret-stdin").write_stdin(CANARY_SECRET);
        commands.push(("token secret stdin", stdin));
        let mut pfx = base("token");
        pfx.arg("--certificate")
            .arg(fixture("daemon.pfx"))
            .env("AZURE_CLIENT_CERTIFICATE_PASSWORD", CANARY_PFX_PASSWORD);
        commands.push(("token pfx", pfx));
        let mut federated = base("token");
        federated.arg("--assertion-file").arg(&assertion);
        commands.push(("token federated", federated));
        let mut doctor = base("doctor");
        doctor
            .args(["--probe", &api, "--report"])
            .arg(&report)
            .env("AZURE_CLIENT_SECRET", CANARY_SECRET);
        commands.push(("doctor", doctor));
        let mut probe = entra_doctor();
        probe
            .args(["probe", "-o", format, "-vv", "--url", &api, "--token", "-"])
            .write_stdin(v1_graph_token("probe-canary"));
        commands.push(("probe", probe));
        for (name, mut command) in commands {
            let output = command.output().unwrap();
            outputs.push((format!("{name} -o {format} stdout"), output.stdout));
            outputs.push((format!("{name} -o {format} stderr"), output.stderr));
        }
    }
    for file in [log, report] {
        outputs.push((
            file.display().to_string(),
            std::fs::read(&file).unwrap_or_default(),
        ));
    }
    outputs
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_echoes_every_secret_and_escape_code_gets_neither_out() {
    for dialect in [Dialect::Json, Dialect::Text, Dialect::Html] {
        let server = echo_server(dialect).await;
        let dir = tempfile::tempdir().unwrap();
        let outputs = run(dir.path(), &server);
        // What the server was sent: the secrets it could quote.
        let requests = server.received_requests().await.unwrap();
        let mut canaries: Vec<String> = vec![
            CANARY_SECRET.into(),
            CANARY_PFX_PASSWORD.into(),
            v1_graph_token("federated-canary"),
            v1_graph_token("probe-canary"),
        ];
        for request in &requests {
            for (name, value) in url::form_urlencoded::parse(&request.body) {
                if name == "client_assertion" {
                    canaries.push(value.into_owned());
                }
            }
        }
        assert!(canaries.len() > 4, "a signed client assertion was sent");
        assert!(
            requests
                .iter()
                .any(|r| String::from_utf8_lossy(&r.body).contains(CANARY_SECRET)),
            "the secret reached the server, so the echo had it to quote"
        );
        let mut leaks = 0;
        for (what, bytes) in &outputs {
            let text = String::from_utf8_lossy(bytes);
            for canary in &canaries {
                if text.contains(canary.as_str()) {
                    leaks += 1;
                    eprintln!("LEAK in {what}: {canary}\n{text}");
                }
            }
            if let Some(c) = text
                .chars()
                .find(|c| entra_doctor::scrub::is_hidden(*c) && *c != '\n')
            {
                leaks += 1;
                eprintln!("HIDDEN {c:?} in {what}:\n{text:?}");
            }
        }
        assert_eq!(
            leaks,
            0,
            "leaks with a {} echo",
            match dialect {
                Dialect::Json => "JSON",
                Dialect::Text => "text",
                Dialect::Html => "HTML",
            }
        );
        assert!(
            outputs
                .iter()
                .any(|(what, bytes)| what.ends_with("trace.log") && !bytes.is_empty()),
            "the trace log was written"
        );
        // Only secrets are scrubbed: the public assertion type the server quoted stays readable
        // (a JSON error is quoted whole; text and HTML bodies only by their start or title).
        assert!(
            !matches!(dialect, Dialect::Json)
                || outputs
                    .iter()
                    .any(|(_, bytes)| String::from_utf8_lossy(bytes).contains(
                        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                    )),
            "the public client_assertion_type was scrubbed as if it were a secret"
        );
    }
}
