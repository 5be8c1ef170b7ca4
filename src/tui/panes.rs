//! One file per pane; each draws from the state into its area and nothing else.

pub mod cache;
pub mod credentials;
pub mod findings;
pub mod help;
pub mod probe;
pub mod token;
pub mod walkthrough;

/// Escapes control characters of attacker-shaped text (claims, bodies) before it is drawn.
pub fn clean(text: &str) -> String {
    crate::cli::render::clean(text)
}
