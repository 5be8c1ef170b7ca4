//! The one error type of the demo tenant: loading a tenant model, reading its keys, writing the
//! handed-out credential files, binding the port and setting up TLS. Every message says what to do
//! next. Token-endpoint failures are not errors of this kind: they are HTTP answers (see `sts`).

use std::path::PathBuf;

/// A `Result` whose error is the demo tenant's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Why the demo tenant could not be loaded or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tenant file could not be read.
    #[error(
        "cannot read the demo tenant file {path}: {source}; check the path given to --tenant-file"
    )]
    ReadTenantFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The tenant file is not valid TOML, or has fields the model does not know.
    #[error(
        "the demo tenant file {origin} is not a valid tenant model: {message}; compare it with assets/demo/tenant.toml"
    )]
    ParseTenantFile { origin: String, message: String },
    /// The tenant model parsed but contradicts itself (a grant names an unknown role, ...).
    #[error("the demo tenant model {origin} is inconsistent: {message}; fix the tenant file")]
    InvalidModel { origin: String, message: String },
    /// A key or certificate named by the tenant model could not be read or used.
    #[error(
        "cannot use {what} {file} of the demo tenant: {message}; it must be an unencrypted PEM file"
    )]
    KeyMaterial {
        what: &'static str,
        file: String,
        message: String,
    },
    /// The loopback port could not be bound.
    #[error(
        "cannot listen on 127.0.0.1:{port}: {source}; choose another --port, or 0 for a free one"
    )]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// The https certificate or the TLS configuration could not be made.
    #[error("cannot set up https for the demo tenant: {0}; run without --tls to serve plain http")]
    Tls(String),
    /// The credential files (PEM, PFX, CA certificate) could not be written.
    #[error(
        "cannot write the demo credential files under {path}: {source}; check that the temp directory is writable (TMPDIR)"
    )]
    WriteCredentials {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A PFX file could not be built from the handed-out certificate and key.
    #[error("cannot build the PFX file for demo app {scenario}: {message}")]
    Pfx { scenario: String, message: String },
    /// `--scenario` named a scenario that the tenant model does not have.
    #[error("the demo tenant has no scenario {name:?}; the scenarios are: {known}")]
    UnknownScenario { name: String, known: String },

    /// A change to the running tenant (a walkthrough fix) could not apply.
    #[error("cannot change the demo tenant: {0}")]
    Change(String),

    /// What the command prints (URLs, credentials, scenarios) could not be written.
    #[error("cannot write to standard output: {0}; nothing a script could read was printed")]
    Output(#[source] std::io::Error),
}
