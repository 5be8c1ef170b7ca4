//! The `entra-doctor` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

use clap::Parser as _;
use entra_doctor::cli::{self, Cli, Environment};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The TUI owns the screen: its logs go to a file, never to the terminal.
    let log_file = cli.log_file.clone().or_else(|| {
        let wants_logs = cli.verbose > 0 || std::env::var_os("RUST_LOG").is_some();
        (wants_logs && cli.opens_tui())
            .then(cli::default_log_file)
            .flatten()
    });
    if let Err(message) = cli::init_logging(cli.verbose, log_file.as_deref()) {
        eprintln!("error: {message}");
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
    ExitCode::from(runtime.block_on(cli::run(cli, Environment::capture())))
}
