//! One file per pane; each draws from the state into its area and nothing else.

pub mod cache;
pub mod consent;
pub mod credentials;
pub mod federation;
pub mod findings;
pub mod help;
pub mod probe;
pub mod signins;
pub mod tenant;
pub mod token;
pub mod walkthrough;
pub mod wrap;

/// Attacker-shaped text (claims, bodies, findings that quote them) through the one choke point:
/// scrubbed of the run's secrets, control, bidi and zero-width characters made visible.
pub use crate::scrub::printable_line as clean;
