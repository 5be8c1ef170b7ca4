//! `entra-doctor explain [FILE|-|CODE]`.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::args::ExplainArgs;
use super::{OutputFormat, Report, findings};
use crate::diagnose::explain::{Extra, explain};
use crate::diagnose::{self, FixContext};
use crate::error::{Error, Result};
use crate::token::decode;

const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

pub fn run(
    args: &ExplainArgs,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let text = input(&args.input)?;
    let token = args
        .token
        .as_deref()
        .map(|t| {
            decode(t).map_err(|e| Error::InvalidInput {
                what: "--token".into(),
                reason: e.to_string(),
            })
        })
        .transpose()?;
    let scope = args.scope.as_deref();
    let context = FixContext {
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        resource: scope.map(|s| crate::auth::scope::resource_of(s).to_owned()),
        scope: args.scope.clone(),
        role: None,
    };
    let extra = Extra {
        scope,
        url: args.url.as_deref(),
        token: token.as_ref(),
        context,
    };
    let (_, found) = explain(&text, &extra, now).map_err(|reason| Error::InvalidInput {
        what: "the input".into(),
        reason,
    })?;
    report.stdout = match format {
        OutputFormat::Json => format!("{}\n", diagnose::to_json(&found)),
        OutputFormat::Text => findings::text(&found),
    };
    Ok(())
}

/// The argument as a file, standard input, or the text itself.
fn input(argument: &str) -> Result<String> {
    let read_limited = |reader: &mut dyn std::io::Read, what: &str| -> Result<String> {
        let bytes = super::read_input(reader, MAX_INPUT_BYTES, what, "explain")?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    if argument == "-" {
        return read_limited(&mut std::io::stdin(), "standard input");
    }
    let path = Path::new(argument);
    if path.is_dir() {
        return Err(Error::InvalidInput {
            what: argument.into(),
            reason: "is a directory; give a file".into(),
        });
    }
    if path.is_file() {
        let mut file = std::fs::File::open(path).map_err(|e| Error::file(path, e))?;
        return read_limited(&mut file, argument);
    }
    Ok(argument.to_owned())
}
