//! Temporary entry point for trying `entra-doctor demo`; the foundation's CLI replaces it.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "entra-doctor", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The embedded demo tenant.
    Demo(entra_doctor::cli::demo::DemoArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => entra_doctor::cli::demo::run(args).await,
    }
}
