//! entra-doctor: why a Microsoft Entra ID daemon app cannot get a token or call an API.
//!
//! The domain lives here and knows nothing about terminals: [`auth`] acquires app-only tokens
//! with the client credentials flow, [`token`] decodes them, [`cache`] keeps them, and
//! [`demo`] is a local Entra ID that fails in the instructive ways;
//! [`walkthrough`] leads through the seven steps of a working daemon app. The CLI
//! ([`cli`]) and the TUI are thin shells over these calls, so anything the TUI shows the CLI can
//! print as JSON. CI proves the boundary with `cargo check --lib --no-default-features`.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod consent;
pub mod demo;
pub mod diagnose;
pub mod error;
pub mod federation;
pub mod files;
pub mod probe;
pub mod profile;
pub mod scrub;
pub mod secret;
pub mod token;
pub mod transport;
#[cfg(feature = "tui")]
pub mod tui;
pub mod walkthrough;

pub use error::{Error, Result};
pub use secret::Secret;
