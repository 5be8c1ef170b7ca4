//! entra-doctor library (work in progress).

pub mod cli;
pub mod demo;
