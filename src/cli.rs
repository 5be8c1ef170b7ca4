//! The command-line shell over the library: parse, validate, call the domain, print.
//!
//! Commands build their output as a [`Report`] and never touch the terminal themselves; [`run`]
//! prints it, maps failures to exit codes (0 ok, 1 refused, 2 input, 3 network) and, with
//! `--output json`, prints failures as one JSON document too. Output that cannot be written
//! (`> /dev/full`) is a failure too (exit 2); a closed pipe (`| head`) is not.

pub mod args;
mod cache_cmd;
pub mod config;
pub(crate) mod consent_cmd;
mod decode_cmd;
pub mod demo;
mod doctor_cmd;
mod explain_cmd;
mod federation_cmd;
mod findings;
mod fleet;
mod probe_cmd;
pub mod render;
mod token_arg;
mod token_cmd;
pub mod walkthrough_cmd;

use std::io::Write;

use serde_json::json;

pub use crate::environment::Environment;
pub use args::{Cli, Command, OutputFormat};

use crate::error::{Error, Failure};
use crate::scrub;

/// What a command has to say: standard output, and remarks for standard error.
#[derive(Debug, Default)]
pub struct Report {
    pub stdout: String,
    pub stderr: Vec<String>,
    /// Standard output is JSON: hidden characters are escaped the JSON way.
    pub json: bool,
    /// Standard output is a secret the operator asked for (`token --raw`): not scrubbed.
    pub stdout_is_requested_secret: bool,
    /// Exit code of a command that ran but found a problem (`doctor`, `probe`): 1 refused,
    /// 3 network or server. 0 when all is well.
    pub exit: u8,
}

impl Report {
    /// Prints one line of standard output now, through the same choke point as the rest, instead
    /// of keeping it for the end: a long run (a fleet, a tenant audit) shows each result as it
    /// finishes and holds none of them. A closed pipe (`| head`) is not an error; any other
    /// failure to write is, so the run stops instead of working for nobody.
    pub fn stream_line(&self, line: &str) -> crate::error::Result<()> {
        let style = if self.json {
            scrub::Style::Json
        } else {
            scrub::LINES
        };
        let mut text = scrub::printable(line.trim_end_matches('\n'), style);
        text.push('\n');
        write_output(&mut std::io::stdout().lock(), text.as_bytes()).map_err(|e| {
            Error::InvalidInput {
                what: "standard output".into(),
                reason: format!("cannot write to it ({e}); the lines before this one were written"),
            }
        })
    }
}

/// What a command line leaves to the binary: an exit code, or the terminal UI to open (the
/// CLI and the TUI are siblings; the binary composes them).
#[derive(Debug)]
pub enum Outcome {
    Exit(u8),
    Ui(Box<UiRequest>),
}

/// Which terminal UI to open.
#[derive(Debug)]
pub enum UiRequest {
    /// The operator's own app (profile or `AZURE_*`), else the demo tenant.
    Home { ca_file: Option<std::path::PathBuf> },
    /// The demo tenant, on a scenario or with the picker open.
    Demo {
        args: demo::DemoArgs,
        ca_file: Option<std::path::PathBuf>,
    },
    /// The walkthrough tab on the operator's app.
    Walkthrough {
        spec: crate::setup::Spec,
        probe: Option<String>,
    },
    /// `demo --export-svg DIR` or `demo --play NAME`.
    Scripted(demo::DemoArgs),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli, env: Environment) -> Outcome {
    let format = cli.output;
    // Warnings gathered before a failure are printed with it: they often explain it.
    let mut report = Report {
        json: format == OutputFormat::Json,
        ..Report::default()
    };
    let ca_file = cli.ca_file.clone();
    let mut command = cli.command.unwrap_or(Command::Ui);
    match &mut command {
        Command::Token(args) => args.credential.ca_file.clone_from(&ca_file),
        Command::Probe(args) => args.credential.ca_file.clone_from(&ca_file),
        Command::Doctor(args) => args.credential.ca_file.clone_from(&ca_file),
        Command::Consent(args) => args.credential.ca_file.clone_from(&ca_file),
        Command::Federation(args) => args.credential.ca_file.clone_from(&ca_file),
        Command::Walkthrough(args) => args.credential.ca_file.clone_from(&ca_file),
        Command::Decode(args) => args.ca_file.clone_from(&ca_file),
        Command::Cache(_) | Command::Explain(_) | Command::Ui | Command::Demo(_) => {}
    }
    let result = match env.now() {
        Err(error) => Err(error),
        Ok(now) => match command {
            Command::Token(args) => token_cmd::run(&args, &env, format, now, &mut report).await,
            Command::Decode(args) => decode_cmd::run(&args, &env, format, now, &mut report).await,
            Command::Cache(args) => cache_cmd::run(&args, format, now, &mut report),
            Command::Probe(args) => probe_cmd::run(&args, &env, format, now, &mut report).await,
            Command::Explain(args) => explain_cmd::run(&args, format, now, &mut report),
            Command::Doctor(args) => doctor_cmd::run(&args, &env, format, now, &mut report).await,
            Command::Consent(args) => consent_cmd::run(&args, &env, format, now, &mut report).await,
            Command::Federation(args) => {
                federation_cmd::run(&args, &env, format, now, &mut report).await
            }
            Command::Walkthrough(args) => {
                if args::walkthrough_opens_tui(format) {
                    return match args.credential.spec() {
                        Ok(spec) => Outcome::Ui(Box::new(UiRequest::Walkthrough {
                            spec,
                            probe: args.probe.clone(),
                        })),
                        Err(error) => {
                            say_error(&error);
                            Outcome::Exit(error.failure().exit_code())
                        }
                    };
                }
                walkthrough_cmd::run(&args, &env, format, now, &mut report).await
            }
            Command::Demo(args) if args.walkthrough && !args::walkthrough_opens_tui(format) => {
                walkthrough_cmd::demo(&args, format, &mut report).await
            }
            Command::Demo(mut args) if args.export_svg.is_some() || args.play.is_some() => {
                args.output = format;
                return Outcome::Ui(Box::new(UiRequest::Scripted(args)));
            }
            Command::Demo(mut args) => {
                args.output = format;
                if args.serve
                    || args.list_scenarios
                    || format == OutputFormat::Json
                    || !cfg!(feature = "tui")
                {
                    return Outcome::Exit(demo::run(args).await);
                }
                return Outcome::Ui(Box::new(UiRequest::Demo { args, ca_file }));
            }
            Command::Ui => return Outcome::Ui(Box::new(UiRequest::Home { ca_file })),
        },
    };
    let code = match result {
        Ok(()) => report.exit,
        Err(error) => {
            let failure = error.failure();
            if format == OutputFormat::Json {
                report.stdout = format!("{}\n", error_json(&error, failure));
            }
            report.stderr.push(format!("error: {error}"));
            failure.exit_code()
        }
    };
    Outcome::Exit(match emit(&report) {
        Ok(()) => code,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot write the output to standard output: {error}; nothing (or only \
                 part of it) was written, so do not use what is there"
            );
            // The command's own failure, if it had one, says more; else this is the failure.
            if code == 0 {
                Failure::Input.exit_code()
            } else {
                code
            }
        }
    })
}

/// Prints a report through the choke point ([`crate::scrub`]): no secret of the run, no hidden
/// character. A closed pipe (`| head`) is a normal end, not an error; any other failure to write
/// standard output (a full disk, `> /dev/full`) is returned, so the exit code says it.
fn emit(report: &Report) -> std::io::Result<()> {
    let mut stderr = std::io::stderr().lock();
    for line in &report.stderr {
        let _ = writeln!(stderr, "{}", scrub::printable(line, scrub::LINES));
    }
    let stdout_text = if report.stdout_is_requested_secret {
        scrub::escape(&report.stdout, scrub::LINES)
    } else if report.json {
        scrub::printable(&report.stdout, scrub::Style::Json)
    } else {
        scrub::printable(&report.stdout, scrub::LINES)
    };
    write_output(&mut std::io::stdout().lock(), stdout_text.as_bytes())
}

/// Writes all of `bytes` and flushes. A closed pipe (`| head`) counts as written: the reader
/// took all it wanted, as ripgrep treats it. Any other failure is returned.
pub fn write_output(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Reads all of `reader` up to `limit` bytes. More than that is an error naming the limit, not
/// a silent cut: half a response (or a token) would be diagnosed as if it were whole.
pub(crate) fn read_input(
    reader: &mut dyn std::io::Read,
    limit: u64,
    what: &str,
    command: &'static str,
) -> crate::error::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::file(what, e))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(Error::InputTooLarge {
            what: what.to_owned(),
            command,
            limit_mib: limit / (1024 * 1024),
        });
    }
    Ok(bytes)
}

/// An error line on standard error, through the choke point.
pub fn say_error(message: &dyn std::fmt::Display) {
    eprintln!(
        "error: {}",
        scrub::printable(&message.to_string(), scrub::LINES)
    );
}

fn error_json(error: &Error, failure: Failure) -> serde_json::Value {
    let kind = match failure {
        Failure::Refused => "refused",
        Failure::Input => "input",
        Failure::Network => "network",
    };
    let mut body =
        json!({"kind": kind, "exit_code": failure.exit_code(), "message": error.to_string()});
    match error {
        Error::Entra(entra) => {
            body["entra"] = serde_json::to_value(entra).unwrap_or_default();
            body["aadsts"] = json!(entra.code());
        }
        Error::UnexpectedResponse {
            status,
            content_type,
            ..
        } => {
            body["http_status"] = json!(status);
            body["content_type"] = json!(content_type);
        }
        Error::Redirected {
            status, location, ..
        } => {
            body["http_status"] = json!(status);
            body["location"] = json!(location);
        }
        _ => {}
    }
    json!({ "error": body })
}
