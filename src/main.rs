//! The `entra-doctor` binary: parse the command line, run it, exit with its code.

use std::process::ExitCode;

use clap::Parser as _;
use entra_doctor::cli::{self, Cli, Environment};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(message) = cli::init_logging(cli.verbose, cli.log_file.as_deref()) {
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
