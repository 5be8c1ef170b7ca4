//! `entra-doctor decode [TOKEN|-]`.

use std::io::Read as _;

use super::args::DecodeArgs;
use super::render::{token_json, token_text};
use super::{OutputFormat, Report};
use crate::error::{Error, Result};
use crate::token::decode;

/// Larger than any real token; stops `decode - < /dev/urandom` from eating memory.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

pub fn run(
    args: &DecodeArgs,
    format: OutputFormat,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut Report,
) -> Result<()> {
    let input = if args.token == "-" {
        read_stdin()?
    } else {
        args.token.clone()
    };
    let decoded = decode(&input)?;
    report.stdout = match format {
        OutputFormat::Json => format!("{}\n", token_json(&decoded, now)),
        OutputFormat::Text => token_text(&decoded, now),
    };
    Ok(())
}

fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::file("standard input", e))?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidInput {
        what: "standard input".into(),
        reason: "is not UTF-8 text; a JWT is ASCII".into(),
    })
}
