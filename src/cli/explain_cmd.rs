//! `entra-doctor explain [FILE|-|CODE]`.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::args::ExplainArgs;
use super::{OutputFormat, Report, findings};
use crate::diagnose::explain::{Extra, Recognised, explain};
use crate::diagnose::extract;
use crate::diagnose::service_errors::ServiceErrors;
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
    if args.input == "-" && super::token_arg::is_stdin(args.token.as_deref()) {
        return Err(super::token_arg::stdin_taken("the input -", "--token -"));
    }
    let text = input(&args.input)?;
    let token = match args.token.as_deref() {
        Some(value) => {
            let (raw, warning) = super::token_arg::read_warning(value, "--token")?;
            report.stderr.extend(warning);
            Some(decode(&raw).map_err(|e| Error::InvalidInput {
                what: "--token".into(),
                reason: e.to_string(),
            })?)
        }
        None => None,
    };
    let scope = args.scope.as_deref();
    // The token names its app and tenant: the fixes use them where the options did not. Only a
    // GUID is taken, since a claim is attacker-shaped and lands in suggested commands.
    let claim = |value: Option<&str>| {
        value
            .filter(|v| crate::auth::tenant::is_guid(v))
            .map(str::to_owned)
    };
    let claims = token.as_ref().map(|t| &t.claims);
    let context = FixContext {
        tenant: args
            .tenant
            .clone()
            .or_else(|| claim(claims.and_then(|c| c.tid.as_deref()))),
        client_id: args
            .client_id
            .clone()
            .or_else(|| claim(claims.and_then(|c| c.client_id()))),
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
    let (kind, found) = explain(&text, &extra, now).map_err(|reason| Error::InvalidInput {
        what: "the input".into(),
        reason,
    })?;
    let read = read(&text, kind);
    let offer = read
        .sign_in
        .as_deref()
        .map(|id| crate::signins::offer(id, extra.context.client_id.as_deref()));
    report.stdout = match format {
        OutputFormat::Json => {
            let mut json = diagnose::to_json(&found);
            json["read"] = read.json;
            if let Some(command) = &offer {
                json["signins"] = serde_json::json!({"command": command});
            }
            format!("{json}\n")
        }
        OutputFormat::Text => {
            let log = offer
                .map(|command| format!("log:      {command}\n"))
                .unwrap_or_default();
            format!("read:     {}\n{log}\n{}", read.line, findings::text(&found))
        }
    };
    Ok(())
}

/// What explain found in the input, said back so the operator sees what it understood.
struct Read {
    line: String,
    json: serde_json::Value,
    /// The correlation id of a refused token request: its sign-in is in the tenant's log.
    sign_in: Option<String>,
}

fn read(text: &str, kind: Recognised) -> Read {
    // A bare code reads as the code it names: `70011` is AADSTS70011.
    let code;
    let text =
        if kind == Recognised::Code && !text.trim().to_ascii_uppercase().starts_with("AADSTS") {
            code = format!("AADSTS{}", text.trim());
            code.as_str()
        } else {
            text
        };
    let scan = extract::scan(text);
    let service = ServiceErrors::builtin().service_of(&scan.subject(text));
    let kind_name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut parts = vec![kind_name.replace('-', " ")];
    if let Some(service) = service {
        parts.push(format!("service {}", service.name));
    }
    parts.extend(scan.summary());
    let json = serde_json::json!({
        "kind": kind,
        "service": service.map(|s| &s.name),
        "status": scan.status(),
        "codes": scan.codes,
        "aadsts": scan.aadsts,
        "ids": scan.ids.iter().map(|(label, id)| serde_json::json!({"label": label, "id": id})).collect::<Vec<_>>(),
        "challenge": scan.challenge.is_some(),
    });
    // Only a token request is a sign-in: an API's own correlation id is not in the log.
    let sign_in = (!scan.aadsts.is_empty())
        .then(|| scan.ids.iter().find(|(label, _)| label == "correlation id"))
        .flatten()
        .map(|(_, id)| id.to_ascii_lowercase());
    Read {
        line: super::render::clean(&parts.join("; ")),
        json,
        sign_in,
    }
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
