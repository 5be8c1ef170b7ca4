//! Command-line commands: clap arguments and text/JSON output, thin shells over the library.

pub mod demo;
