//! entra-doctor: why a Microsoft Entra ID daemon app cannot get a token or call an API.
//!
//! The domain lives here and knows nothing about terminals: [`setup`] turns what the operator
//! said (flags, `AZURE_*` variables, the saved profile or the TUI's form, in one precedence) into
//! a token request — how a credential becomes a token request is that one file; [`auth`]
//! acquires app-only tokens with the client credentials flow (or from a managed identity
//! endpoint, [`auth::managed_identity`]), [`token`] decodes them, [`cache`]
//! keeps them, [`consent`] audits admin consent through Microsoft Graph, and [`demo`] is a local
//! Entra ID that fails in the instructive ways; [`walkthrough`] leads through the seven steps of
//! a working daemon app; [`scrub`] is the choke point every printed line passes through, and
//! [`logging`] the redacting log. The CLI ([`cli`]) and the TUI are thin sibling shells over these
//! calls that never import each other (the binary opens the TUI when a command asks for it), so
//! anything the TUI shows the CLI can print as JSON. CI proves the boundary with
//! `cargo check --lib --no-default-features`.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod consent;
pub mod demo;
pub mod diagnose;
pub mod environment;
pub mod error;
pub mod federation;
pub mod files;
pub mod graph;
pub mod logging;
pub mod probe;
pub mod profile;
pub mod registration;
pub mod scrub;
pub mod secret;
pub mod setup;
pub mod shell;
pub mod signins;
pub mod token;
pub mod transport;
#[cfg(feature = "tui")]
pub mod tui;
pub mod walkthrough;

pub use error::{Error, Result};
pub use secret::Secret;
