//! Logging: `-v` debug, `-vv` trace, to standard error or a file, every line redacted
//! ([`redact`]). The TUI logs to a file always, so a crash can point at its details.

pub mod redact;

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
    // Nothing to install (and no filter to parse) when nothing would be logged anywhere.
    if log_file.is_none() && verbose == 0 && std::env::var_os("RUST_LOG").is_none() {
        return Ok(());
    }
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
