//! The `entra-doctor` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

use clap::Parser as _;
use entra_doctor::cli::{self, Cli, Environment};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The TUI owns the screen: its logs go to a file, never to the terminal, and always, so a
    // crash can point at its details.
    let log_file = cli
        .log_file
        .clone()
        .or_else(|| cli.opens_tui().then(cli::default_log_file).flatten());
    if let Err(message) = cli::init_logging(cli.verbose, log_file.as_deref()) {
        entra_doctor::cli::say_error(&message);
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(cli::run(cli, Environment::capture()));
    // A DNS lookup runs on a blocking thread that cannot be cancelled: after Ctrl-C it must not
    // hold the exit for its whole timeout.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::from(code)
}
