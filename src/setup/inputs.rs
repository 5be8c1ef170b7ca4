//! The inputs a token request cannot do without, and how to give each on the command line or
//! in the TUI's form: the words of the one error that names every missing input at once.

use super::Surface;
use crate::error::Error;

/// An input a token request cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Tenant,
    ClientId,
    /// No credential chosen and none in the environment.
    Credential,
    Secret,
    Certificate,
    AssertionFile,
    Scope,
}

impl Input {
    /// The finding id of this input missing alone.
    pub fn finding_id(self) -> &'static str {
        match self {
            Input::Tenant => "tenant.missing",
            Input::ClientId => "client-id.missing",
            Input::Credential | Input::Secret | Input::Certificate | Input::AssertionFile => {
                "credential.missing"
            }
            Input::Scope => "scope.missing",
        }
    }

    /// What it is, in a sentence's words.
    pub fn name(self) -> &'static str {
        match self {
            Input::Tenant => "the tenant",
            Input::ClientId => "the client id",
            Input::Credential => "a credential",
            Input::Secret => "the secret",
            Input::Certificate => "the certificate file",
            Input::AssertionFile => "the assertion file",
            Input::Scope => "the scope",
        }
    }

    /// How to give it, on `surface`.
    pub fn how(self, surface: Surface) -> &'static str {
        match (self, surface) {
            (Input::Tenant, Surface::CommandLine) => {
                "pass --tenant (or set AZURE_TENANT_ID) with the Directory (tenant) ID from the \
                 app registration's Overview page"
            }
            (Input::Tenant, Surface::Form) => {
                "Tenant: the Directory (tenant) ID from the app registration's Overview page"
            }
            (Input::ClientId, Surface::CommandLine) => {
                "pass --client-id (or set AZURE_CLIENT_ID) with the Application (client) ID from \
                 the same page"
            }
            (Input::ClientId, Surface::Form) => {
                "Client id: the Application (client) ID from the app registration's Overview page"
            }
            (Input::Credential, _) => {
                "set AZURE_CLIENT_SECRET, or pass --secret-stdin, --certificate PATH or \
                 --assertion-file PATH (a secret is never taken as an argument: it would land in \
                 shell history and ps)"
            }
            (Input::Secret, Surface::CommandLine) => "pipe the secret to --secret-stdin",
            (Input::Secret, Surface::Form) => {
                "Secret: the secret's Value, shown once when it is added under Certificates & \
                 secrets (or choose another credential kind)"
            }
            (Input::Certificate, Surface::CommandLine) => "pass --certificate PATH",
            (Input::Certificate, Surface::Form) => {
                "Certificate: the path of a PEM (certificate and private key) or PFX file"
            }
            (Input::AssertionFile, Surface::CommandLine) => "pass --assertion-file PATH",
            (Input::AssertionFile, Surface::Form) => {
                "Assertion: the path of the file holding the federated token"
            }
            (Input::Scope, Surface::CommandLine) => {
                "pass --scope <resource>/.default, e.g. https://graph.microsoft.com/.default"
            }
            (Input::Scope, Surface::Form) => {
                "Scope: <resource>/.default, e.g. https://graph.microsoft.com/.default"
            }
        }
    }
}

/// The error for missing inputs: all of them, each with how to give it.
pub fn missing_error(missing: &[Input], surface: Surface) -> Error {
    let names: Vec<&str> = missing.iter().map(|m| m.name()).collect();
    let summary = match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    Error::MissingInputs {
        summary,
        ids: missing.iter().map(|m| m.finding_id()).collect(),
        how: missing.iter().map(|m| m.how(surface).to_owned()).collect(),
    }
}
