//! The process environment, captured once: the `AZURE_*` variables of the Azure SDKs'
//! EnvironmentCredential, the network variables curl reads, and `ENTRA_DOCTOR_NOW`. Commands and
//! the TUI read variables only through an [`Environment`], so tests pass their own.

use std::collections::HashMap;
use std::ffi::OsString;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// The process environment, captured once so tests can pass their own.
#[derive(Clone, Default)]
pub struct Environment {
    vars: HashMap<String, String>,
}

/// Names only: the environment holds secrets (`AZURE_CLIENT_SECRET`).
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Environment")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

impl Environment {
    pub fn capture() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v): (OsString, OsString)| {
                Some((k.into_string().ok()?, v.into_string().ok()?))
            })
            .collect();
        Self { vars }
    }

    pub fn from_pairs<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        Self {
            vars: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The time to act at: now, or `ENTRA_DOCTOR_NOW` (RFC 3339) for reproducible demos and
    /// snapshots of relative times.
    pub fn now(&self) -> Result<DateTime<Utc>> {
        match self.get("ENTRA_DOCTOR_NOW") {
            None => Ok(Utc::now()),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| Error::InvalidInput {
                    what: format!("ENTRA_DOCTOR_NOW {text:?}"),
                    reason: format!("is not an RFC 3339 time such as 2026-11-25T12:00:00Z ({e})"),
                }),
        }
    }

    /// A copy that holds only some variables, each `(name in the copy, name here)`: a fleet app
    /// sees its own secret as `AZURE_CLIENT_SECRET` and none of the process's other credentials.
    #[must_use]
    pub fn pick(&self, names: &[(&str, &str)]) -> Self {
        let vars = names
            .iter()
            .filter_map(|(to, from)| Some(((*to).to_owned(), self.get(from)?.to_owned())))
            .collect();
        Self { vars }
    }

    /// Only the variables that say how to reach servers ([`NETWORK_VARS`]): what the TUI keeps
    /// from the environment it was started in.
    #[must_use]
    pub fn network(&self) -> Self {
        let pairs: Vec<(&str, &str)> = NETWORK_VARS.iter().map(|name| (*name, *name)).collect();
        self.pick(&pairs)
    }

    /// The network variables and the managed identity ones ([`MANAGED_IDENTITY_VARS`]): what
    /// the TUI keeps from the environment it was started in, so its managed identity is the
    /// one the CLI would use there.
    #[must_use]
    pub fn network_and_identity(&self) -> Self {
        let pairs: Vec<(&str, &str)> = NETWORK_VARS
            .iter()
            .chain(MANAGED_IDENTITY_VARS.iter())
            .map(|name| (*name, *name))
            .collect();
        self.pick(&pairs)
    }

    /// A copy with one more variable.
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A variable's value; an empty one counts as unset, as the Azure SDKs treat it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The variables managed identity detection reads ([`crate::auth::managed_identity::detect`]),
/// and `ProgramData`, where Windows keeps Azure Arc's key directory.
pub const MANAGED_IDENTITY_VARS: [&str; 9] = [
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT",
    "ProgramData",
    "PROGRAMDATA",
];

/// The variables [`crate::setup::transport`] reads.
pub const NETWORK_VARS: [&str; 9] = [
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Managed identity detection reads the same captured variables.
impl crate::auth::managed_identity::Variables for Environment {
    fn var(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}
