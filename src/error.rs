//! The library's one error type.
//!
//! Every variant says what went wrong and what to do next, and keeps the facts the diagnosis
//! layer matches on (AADSTS code, HTTP status) as typed fields. No variant ever holds a secret:
//! messages are built from ids, paths and server text only.

use std::path::PathBuf;

use crate::auth::EntraError;
use crate::auth::ManagedIdentityError;
use crate::auth::net_failure::NetworkFault;
use crate::token::DecodeError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an error is, which is also the CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The identity provider or the API said no (exit 1).
    Refused,
    /// Bad usage or input, caught before anything was sent (exit 2).
    Input,
    /// Network or server failure: the answer never came or made no sense (exit 3).
    Network,
}

impl Failure {
    pub fn exit_code(self) -> u8 {
        match self {
            Failure::Refused => 1,
            Failure::Input => 2,
            Failure::Network => 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("tenant {tenant:?} is not usable: {reason}")]
    InvalidTenant { tenant: String, reason: String },

    #[error("authority host {value:?} is not usable: {reason}")]
    InvalidAuthority { value: String, reason: String },

    #[error(
        "refusing to send credentials over plain http to {url}: use https (plain http is allowed \
         only to a loopback address such as the demo tenant on 127.0.0.1)"
    )]
    InsecureAuthority { url: String },

    #[error("scope {scope:?} is not usable: {reason}")]
    InvalidScope { scope: String, reason: String },

    #[error(
        "the scopes name two resources, {first:?} and {second:?}: one token is for one resource, \
         so request them one at a time"
    )]
    ScopesNameTwoResources { first: String, second: String },

    #[error("no credential: {hint}")]
    MissingCredential { hint: String },

    /// Inputs a token request cannot do without, all of them at once.
    #[error("missing {}: {}", .summary, .how.join("; "))]
    MissingInputs {
        /// "the tenant, the client id and the scope".
        summary: String,
        /// The finding id of each input missing alone.
        ids: Vec<&'static str>,
        /// How to give each, in the words of the surface the operator types into.
        how: Vec<String>,
    },

    #[error("{what} is not usable: {reason}")]
    InvalidInput { what: String, reason: String },

    #[error("certificate {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },

    #[error(
        "the private key in {key} does not belong to the certificate in {certificate}: Entra ID \
         would reject every assertion it signs (AADSTS700027); use the key the certificate was \
         issued for"
    )]
    KeyMismatch { certificate: PathBuf, key: PathBuf },

    #[error(
        "cannot open PFX {path}: the password (from {source_name}) is wrong, or the file is \
         damaged; check the password, or export the PFX again"
    )]
    PfxPassword { path: PathBuf, source_name: String },

    #[error("cannot read {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Decode(#[from] DecodeError),

    #[error("{0}")]
    Entra(Box<EntraError>),

    /// A managed identity endpoint (IMDS, App Service, Azure Arc) could not give a token.
    #[error("{0}")]
    ManagedIdentity(Box<ManagedIdentityError>),

    #[error(
        "{url} answered HTTP {status} with {content_type} that is not a token response: \
         {snippet:?}; {}",
        unexpected_advice(*.status)
    )]
    UnexpectedResponse {
        url: String,
        status: u16,
        content_type: String,
        snippet: String,
    },

    #[error(
        "{url} is throttling this app (HTTP 429){}; an app \
         that asks for a new token on every run gets throttled, so reuse tokens until they \
         near expiry (--persist-cache keeps them between runs)",
        retry_after_text(.retry_after.as_deref())
    )]
    Throttled {
        url: String,
        retry_after: Option<String>,
    },

    /// Microsoft Graph kept answering 429 (or 503) after the retries the tool waits out itself.
    #[error(
        "Microsoft Graph throttled the read of {url} {attempts} time(s) in a row{}; Graph limits \
         each app per tenant, so run again in a few minutes, or outside busy hours",
        retry_after_text(.retry_after.as_deref())
    )]
    GraphThrottled {
        url: String,
        retry_after: Option<String>,
        attempts: u32,
    },

    /// Microsoft Graph refused a read the command cannot do without (401/403).
    #[error(
        "Microsoft Graph answered {status} to GET {url} ({detail}): the Graph token lacks \
         {permission} (an application permission); {how}"
    )]
    GraphDenied {
        url: String,
        status: u16,
        detail: String,
        permission: String,
        how: String,
    },

    #[error(
        "{url} answered HTTP {status} with a redirect to {location:?}: entra-doctor does not \
         follow redirects with credentials (that would hand them to whoever answered); a proxy \
         or a wrong host sent it: point --authority-host (or --token-endpoint) at the real \
         token endpoint"
    )]
    Redirected {
        url: String,
        status: u16,
        location: String,
    },

    /// A connection not made within `--connect-timeout`, or the command's `--timeout` deadline
    /// reached (see [`crate::auth::deadline`]).
    #[error("{phase} to {url} timed out: {limit}: {hint}")]
    Timeout {
        url: String,
        phase: &'static str,
        limit: crate::auth::deadline::TimeLimit,
        hint: &'static str,
    },

    #[error("{fault} {url} ({detail}): {hint}")]
    Network {
        url: String,
        fault: NetworkFault,
        detail: String,
        hint: String,
    },

    #[error("the server's TLS certificate at {url} is not trusted: {reason}; {hint}")]
    UntrustedCertificate {
        url: String,
        reason: String,
        hint: String,
    },

    #[error("token cache {path}: {reason}")]
    Cache { path: PathBuf, reason: String },

    /// A number from the network that no real server sends: it is refused before any date
    /// arithmetic, where it would overflow.
    #[error(
        "{from} sent {field} = {value}, which is not a token lifetime in seconds ({reason}); the \
         token was not used: Entra ID sends whole seconds such as 3599, so a proxy or a wrong \
         --authority-host / --token-endpoint answered; check what the URL points at"
    )]
    ImplausibleLifetime {
        from: String,
        field: &'static str,
        value: String,
        reason: String,
    },

    /// Input longer than the command reads; a silent cut would diagnose half of it.
    #[error(
        "{what} is larger than {limit_mib} MiB, the most {command} reads: give only the part to \
         look at (the response body, the token), not a whole log"
    )]
    InputTooLarge {
        what: String,
        command: &'static str,
        limit_mib: u64,
    },

    /// Standard output or an output file could not be written (a full disk, a closed device).
    #[error("cannot write {what}: {source}")]
    Output {
        what: String,
        source: std::io::Error,
    },
}

/// What to try after an answer that is not a token response, by its status.
fn unexpected_advice(status: u16) -> &'static str {
    match status {
        500..=599 => {
            "a 5xx is a failure on the server's side (or a proxy's), not in the request: try \
             again in a few minutes; if it persists, check the Azure status page and any proxy \
             in between"
        }
        _ => "a proxy or a wrong --authority-host / --token-endpoint is the usual cause",
    }
}

fn retry_after_text(retry_after: Option<&str>) -> String {
    retry_after.map_or_else(
        || ": wait a minute, then try again".to_owned(),
        |value| format!(" and asks to wait (Retry-After: {value}): wait that long, then try again"),
    )
}

impl Error {
    pub fn failure(&self) -> Failure {
        match self {
            Error::Entra(_) | Error::GraphDenied { .. } => Failure::Refused,
            Error::ManagedIdentity(error) => error.failure(),
            Error::UnexpectedResponse { .. }
            | Error::Throttled { .. }
            | Error::GraphThrottled { .. }
            | Error::Redirected { .. }
            | Error::Timeout { .. }
            | Error::Network { .. }
            | Error::UntrustedCertificate { .. }
            | Error::ImplausibleLifetime { .. } => Failure::Network,
            Error::InvalidTenant { .. }
            | Error::InvalidAuthority { .. }
            | Error::InsecureAuthority { .. }
            | Error::InvalidScope { .. }
            | Error::ScopesNameTwoResources { .. }
            | Error::MissingCredential { .. }
            | Error::MissingInputs { .. }
            | Error::InvalidInput { .. }
            | Error::Certificate { .. }
            | Error::KeyMismatch { .. }
            | Error::PfxPassword { .. }
            | Error::File { .. }
            | Error::Decode(_)
            | Error::Cache { .. }
            | Error::InputTooLarge { .. }
            | Error::Output { .. } => Failure::Input,
        }
    }

    pub(crate) fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn certificate(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Certificate {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
