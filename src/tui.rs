//! The terminal UI: state, actions, a pure update, views, and the async runtime around them.
//!
//! The shape is the Elm architecture as STYLE.md describes it: [`state::State`] is plain data,
//! [`keys`] turns key events into [`action::Action`]s, [`update::update`] changes the state and
//! returns [`effect::Effect`]s without running them, [`view`] draws the state, and
//! [`runtime`] owns the terminal, the channel and the tokio tasks that run effects.

pub mod action;
pub mod crash;
pub mod demos;
mod derive;
pub mod effect;
pub mod form;
pub mod headless;
pub mod keys;
pub mod panes;
pub mod runtime;
pub mod state;
pub mod svg;
pub mod theme;
pub mod update;
pub mod view;

pub use runtime::{Launch, run};
