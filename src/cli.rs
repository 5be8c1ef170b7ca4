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
pub mod redact;
pub mod render;
mod token_arg;
mod token_cmd;
pub mod walkthrough_cmd;

use std::io::Write;

use serde_json::json;

pub use args::{Cli, Command, OutputFormat};
pub use config::Environment;

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

/// Runs a parsed command line; returns the process exit code.
pub async fn run(cli: Cli, env: Environment) -> u8 {
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
                    return walkthrough_ui(&args, &env).await;
                }
                walkthrough_cmd::run(&args, &env, format, now, &mut report).await
            }
            Command::Demo(args) if args.walkthrough && !args::walkthrough_opens_tui(format) => {
                walkthrough_cmd::demo(&args, format, &mut report).await
            }
            Command::Demo(mut args) if args.export_svg.is_some() || args.play.is_some() => {
                args.output = format;
                return Box::pin(scripted(args)).await;
            }
            Command::Demo(mut args) => {
                args.output = format;
                if args.serve
                    || args.list_scenarios
                    || format == OutputFormat::Json
                    || !cfg!(feature = "tui")
                {
                    return demo::run(args).await;
                }
                return ui(Some(args), &env, ca_file).await;
            }
            Command::Ui => return ui(None, &env, ca_file).await,
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
    match emit(&report) {
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
    }
}

/// Opens the TUI: on the demo tenant (`demo`), on the operator's profile or `AZURE_*`
/// variables, or — with neither — on the demo tenant, which beats an empty form.
#[cfg(feature = "tui")]
async fn ui(
    demo_args: Option<demo::DemoArgs>,
    env: &Environment,
    ca_file: Option<std::path::PathBuf>,
) -> u8 {
    use std::io::IsTerminal as _;

    use crate::tui::{Launch, run};
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "error: the terminal UI needs an interactive terminal; in scripts use a command \
             (entra-doctor --help), or entra-doctor demo --serve for the demo tenant"
        );
        return 2;
    }
    let own = if demo_args.is_none() {
        Launch::from_environment(env).0
    } else {
        None
    };
    let launch = if let Some(launch) = own {
        launch
    } else {
        match demo_launch(demo_args.unwrap_or_default()).await {
            Ok(launch) => launch,
            Err((message, code)) => {
                say_error(&message);
                return code;
            }
        }
    };
    let launch = match launch.with_network(ca_file, env) {
        Ok(launch) => launch,
        Err(error) => {
            say_error(&error);
            return error.failure().exit_code();
        }
    };
    match run(launch).await {
        Ok(()) => 0,
        Err(e) => {
            say_error(&e);
            3
        }
    }
}

#[cfg(feature = "tui")]
async fn walkthrough_ui(args: &args::WalkthroughArgs, env: &Environment) -> u8 {
    let launch = crate::tui::Launch::for_walkthrough(args, env).and_then(|launch| {
        launch
            .with_network(args.credential.ca_file.clone(), env)
            .map_err(|e| e.to_string())
    });
    match launch {
        Ok(launch) => match crate::tui::run(launch).await {
            Ok(()) => 0,
            Err(e) => {
                say_error(&e);
                3
            }
        },
        Err(message) => {
            say_error(&message);
            2
        }
    }
}

#[cfg(not(feature = "tui"))]
async fn walkthrough_ui(_args: &args::WalkthroughArgs, _env: &Environment) -> u8 {
    2
}

/// `demo --export-svg DIR` and `demo --play NAME`.
#[cfg(feature = "tui")]
async fn scripted(args: demo::DemoArgs) -> u8 {
    use crate::tui::demos;
    if let Some(dir) = &args.export_svg {
        // One demo tenant per scripted demo, started up front: the export then runs them in turn.
        let mut launches = Vec::new();
        for script in demos::all().unwrap_or_default() {
            match demo_launch(demo::DemoArgs {
                scenario: Some(script.scenario.clone()),
                ..demo::DemoArgs::default()
            })
            .await
            {
                Ok(launch) => launches.push((script.scenario.clone(), launch)),
                Err((message, code)) => {
                    say_error(&message);
                    return code;
                }
            }
        }
        let launches = std::sync::Mutex::new(launches);
        let take = |scenario: &str| {
            let mut launches = launches
                .lock()
                .map_err(|_| "internal lock poisoned".to_owned())?;
            let index = launches
                .iter()
                .position(|(s, _)| s == scenario)
                .ok_or_else(|| format!("no launch for {scenario}"))?;
            Ok(launches.swap_remove(index).1)
        };
        return match demos::export_svg(dir, take).await {
            Ok(written) => {
                let line = format!("Wrote {} SVG frames to {}\n", written.len(), dir.display());
                match write_output(&mut std::io::stdout(), line.as_bytes()) {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("error: cannot write to standard output: {e}");
                        2
                    }
                }
            }
            Err(message) => {
                say_error(&message);
                2
            }
        };
    }
    let Some(name) = &args.play else { return 2 };
    let script = match demos::find(name) {
        Ok(script) => script,
        Err(message) => {
            say_error(&message);
            return 2;
        }
    };
    if !std::io::IsTerminal::is_terminal(&std::io::stdout())
        || !std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        eprintln!(
            "error: --play needs an interactive terminal; --export-svg DIR renders the demos without one"
        );
        return 2;
    }
    match demo_launch(demo::DemoArgs {
        scenario: Some(script.scenario.clone()),
        ..demo::DemoArgs::default()
    })
    .await
    {
        Ok(launch) => match demos::play(launch, &script).await {
            Ok(()) => 0,
            Err(e) => {
                say_error(&e);
                3
            }
        },
        Err((message, code)) => {
            say_error(&message);
            code
        }
    }
}

#[cfg(not(feature = "tui"))]
async fn scripted(_args: demo::DemoArgs) -> u8 {
    eprintln!("error: this build has no terminal UI (built without the `tui` feature)");
    2
}

/// Starts the embedded demo tenant for the TUI; errors carry their exit code.
#[cfg(feature = "tui")]
async fn demo_launch(args: demo::DemoArgs) -> Result<crate::tui::Launch, (String, u8)> {
    let model = args.model().map_err(|e| (e.to_string(), 2))?;
    let running = crate::demo::start(crate::demo::DemoOptions::new(model))
        .await
        .map_err(|e| (e.to_string(), 3))?;
    if let Some(name) = &args.scenario
        && running.app(name).is_none()
    {
        return Err((
            format!("no demo scenario {name:?}; see entra-doctor demo --list-scenarios"),
            2,
        ));
    }
    let launch = crate::tui::Launch::demo(running, args.scenario.as_deref());
    Ok(if args.walkthrough {
        launch.on_walkthrough()
    } else {
        launch
    })
}

#[cfg(not(feature = "tui"))]
async fn ui(
    _demo_args: Option<demo::DemoArgs>,
    _env: &Environment,
    _ca_file: Option<std::path::PathBuf>,
) -> u8 {
    eprintln!(
        "error: this build has no terminal UI (built without the `tui` feature); use a command, see --help"
    );
    2
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
pub(crate) fn write_output(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
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

/// Where the TUI writes its logs: the user's cache directory.
pub fn default_log_file() -> Option<std::path::PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "entra-doctor")?;
    // 0700 when the log creates it first: the token cache lives there too.
    crate::files::create_private_dir(dirs.cache_dir()).ok()?;
    Some(dirs.cache_dir().join("entra-doctor.log"))
}

/// The file logs go to, once [`init_logging`] opened one: the TUI's crash message names it.
static LOG_FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

pub fn log_file() -> Option<&'static std::path::Path> {
    LOG_FILE.get().map(std::path::PathBuf::as_path)
}

/// Installs logging: `-v` debug, `-vv` trace, to standard error or `--log-file`.
pub fn init_logging(verbose: u8, log_file: Option<&std::path::Path>) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "entra_doctor=debug",
        _ => "entra_doctor=trace,reqwest=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match log_file {
        Some(path) => {
            // Owner-only and never through a link: at trace level a log holds server answers.
            let file = crate::files::open_private(path, crate::files::Open::Append)
                .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
            let _ = LOG_FILE.set(path.to_path_buf());
            builder
                .with_ansi(false)
                .with_writer(redact::RedactingMakeWriter(std::sync::Mutex::new(file)))
                .init();
        }
        None if verbose > 0 || std::env::var_os("RUST_LOG").is_some() => {
            builder
                .with_writer(redact::RedactingMakeWriter(std::io::stderr))
                .init();
        }
        None => {}
    }
    Ok(())
}
