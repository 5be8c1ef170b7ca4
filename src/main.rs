//! The `entra-doctor` binary: parse the command line, run it, exit with its code. The CLI and
//! the terminal UI are siblings that never import each other: a command that opens the TUI
//! returns a [`UiRequest`] and this file opens it.

use std::process::ExitCode;

use clap::Parser as _;
use entra_doctor::cli::{self, Cli, Environment, Outcome, UiRequest};
use entra_doctor::logging;
#[cfg(feature = "tui")]
use entra_doctor::{setup::Spec, tui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The TUI owns the screen: its logs go to a file, never to the terminal, and always, so a
    // crash can point at its details.
    let log_file = cli
        .log_file
        .clone()
        .or_else(|| cli.opens_tui().then(logging::default_log_file).flatten());
    if let Err(message) = logging::init_logging(cli.verbose, log_file.as_deref()) {
        cli::say_error(&message);
        return ExitCode::from(2);
    }
    let mut builder = if cli.is_sequential() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    if !cli.is_offline() {
        builder.enable_all();
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let env = Environment::capture();
    let code = runtime.block_on(async {
        match cli::run(cli, env.clone()).await {
            Outcome::Exit(code) => code,
            Outcome::Ui(request) => open_ui(*request, &env).await,
        }
    });
    // A DNS lookup runs on a blocking thread that cannot be cancelled: after Ctrl-C it must not
    // hold the exit for its whole timeout.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::from(code)
}

#[cfg(not(feature = "tui"))]
async fn open_ui(_request: UiRequest, _env: &Environment) -> u8 {
    eprintln!(
        "error: this build has no terminal UI (built without the `tui` feature); use a command, see --help"
    );
    2
}

#[cfg(feature = "tui")]
async fn open_ui(request: UiRequest, env: &Environment) -> u8 {
    match request {
        UiRequest::Home { ca_file } => ui(None, env, ca_file).await,
        UiRequest::Demo { args, ca_file } => ui(Some(args), env, ca_file).await,
        UiRequest::Walkthrough { spec, probe, admin } => {
            walkthrough_ui(spec, probe.as_deref(), admin.as_deref(), env).await
        }
        UiRequest::Scripted(args) => Box::pin(scripted(args)).await,
    }
}

/// Opens the TUI: on the demo tenant (`demo`), on the operator's profile or `AZURE_*`
/// variables, or — with neither — on the demo tenant, which beats an empty form.
#[cfg(feature = "tui")]
async fn ui(
    demo_args: Option<cli::demo::DemoArgs>,
    env: &Environment,
    ca_file: Option<std::path::PathBuf>,
) -> u8 {
    use std::io::IsTerminal as _;

    use tui::{Launch, run};
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
                cli::say_error(&message);
                return code;
            }
        }
    };
    let launch = match launch.with_network(ca_file, env) {
        Ok(launch) => launch,
        Err(error) => {
            cli::say_error(&error);
            return error.failure().exit_code();
        }
    };
    match run(launch).await {
        Ok(()) => 0,
        Err(e) => {
            cli::say_error(&e);
            3
        }
    }
}

#[cfg(feature = "tui")]
async fn walkthrough_ui(
    spec: Spec,
    probe: Option<&str>,
    admin: Option<&entra_doctor::consent::AdminApp>,
    env: &Environment,
) -> u8 {
    let ca_file = spec.network.ca_file.clone();
    let launch = tui::Launch::for_walkthrough(spec, probe, admin, env)
        .and_then(|launch| launch.with_network(ca_file, env).map_err(|e| e.to_string()));
    match launch {
        Ok(launch) => match tui::run(launch).await {
            Ok(()) => 0,
            Err(e) => {
                cli::say_error(&e);
                3
            }
        },
        Err(message) => {
            cli::say_error(&message);
            2
        }
    }
}

/// `demo --export-svg DIR` and `demo --play NAME`.
#[cfg(feature = "tui")]
async fn scripted(args: cli::demo::DemoArgs) -> u8 {
    use tui::demos;
    if let Some(dir) = &args.export_svg {
        // One demo tenant per scripted demo, started up front: the export then runs them in turn.
        let mut launches = Vec::new();
        for script in demos::all().unwrap_or_default() {
            match demo_launch(cli::demo::DemoArgs {
                scenario: Some(script.scenario.clone()),
                ..cli::demo::DemoArgs::default()
            })
            .await
            {
                Ok(launch) => launches.push((script.scenario.clone(), launch)),
                Err((message, code)) => {
                    cli::say_error(&message);
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
        return match Box::pin(demos::export_svg(dir, take)).await {
            Ok(written) => {
                let line = format!("Wrote {} SVG frames to {}\n", written.len(), dir.display());
                match cli::write_output(&mut std::io::stdout(), line.as_bytes()) {
                    Ok(()) => 0,
                    Err(e) => {
                        eprintln!("error: cannot write to standard output: {e}");
                        2
                    }
                }
            }
            Err(message) => {
                cli::say_error(&message);
                2
            }
        };
    }
    let Some(name) = &args.play else { return 2 };
    let script = match demos::find(name) {
        Ok(script) => script,
        Err(message) => {
            cli::say_error(&message);
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
    match demo_launch(cli::demo::DemoArgs {
        scenario: Some(script.scenario.clone()),
        ..cli::demo::DemoArgs::default()
    })
    .await
    {
        Ok(launch) => match Box::pin(demos::play(launch, &script)).await {
            Ok(()) => 0,
            Err(e) => {
                cli::say_error(&e);
                3
            }
        },
        Err((message, code)) => {
            cli::say_error(&message);
            code
        }
    }
}

/// Starts the embedded demo tenant for the TUI; errors carry their exit code.
#[cfg(feature = "tui")]
async fn demo_launch(args: cli::demo::DemoArgs) -> Result<tui::Launch, (String, u8)> {
    let model = args.model().map_err(|e| (e.to_string(), 2))?;
    let running = entra_doctor::demo::start(entra_doctor::demo::DemoOptions::new(model))
        .await
        .map_err(|e| (e.to_string(), 3))?;
    if let Some(name) = &args.scenario
        && running.app(name).is_none()
        && !running
            .managed_identities()
            .iter()
            .any(|identity| identity.scenario == *name)
    {
        return Err((
            format!("no demo scenario {name:?}; see entra-doctor demo --list-scenarios"),
            2,
        ));
    }
    let launch = tui::Launch::demo(running, args.scenario.as_deref());
    Ok(if args.walkthrough {
        launch.on_walkthrough()
    } else {
        launch
    })
}
