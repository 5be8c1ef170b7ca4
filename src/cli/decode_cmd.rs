//! `entra-doctor decode [TOKEN|-] [--verify]`.

use serde_json::json;

use super::args::DecodeArgs;
use super::config::cloud_of;
use super::render::{token_json, token_text};
use super::{OutputFormat, Report, findings};
use crate::auth::{AuthorityHost, ClientOptions, TokenClient};
use crate::diagnose::{self, signature, token_version};
use crate::error::{Error, Result};
use crate::token::verify::host_from_issuer;
use crate::token::{DecodedToken, Verifier, VerifyTarget, decode, strip_wrapping};

/// Larger than any real token; stops `decode - < /dev/urandom` from eating memory.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

pub async fn run(
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
    if !args.verify {
        report.stdout = match format {
            OutputFormat::Json => format!("{}\n", token_json(&decoded, now)),
            OutputFormat::Text => token_text(&decoded, now),
        };
        return Ok(());
    }
    let target = target(args, &decoded)?;
    let verifier = Verifier::new(TokenClient::new(ClientOptions::default())?);
    let raw = strip_wrapping(&input);
    let (outcome, finding) = signature::check(&verifier, &raw, &decoded, &target, now).await;
    let mut found = vec![finding];
    found.extend(token_version::check(&decoded, None));
    diagnose::sort(&mut found);
    if found
        .iter()
        .any(|f| f.severity == diagnose::Severity::Error)
    {
        report.exit = 1;
    }
    report.stdout = match format {
        OutputFormat::Json => {
            let mut value = token_json(&decoded, now);
            if let Some(map) = value.as_object_mut() {
                map.insert("verification".into(), json!(outcome));
                map.insert("findings".into(), json!(found));
            }
            format!("{value}\n")
        }
        OutputFormat::Text => format!("{}\n{}", token_text(&decoded, now), findings::text(&found)),
    };
    Ok(())
}

/// Where the keys are: the options given, else the cloud the token's `iss` names.
fn target(args: &DecodeArgs, token: &DecodedToken) -> Result<VerifyTarget> {
    let host = match (&args.authority_host, args.cloud) {
        (Some(host), _) => AuthorityHost::parse(host)?,
        (None, Some(cloud)) => AuthorityHost::parse(cloud_of(cloud).host())?,
        (None, None) => {
            let iss = token.claims.iss.as_deref().unwrap_or_default();
            let host = host_from_issuer(iss).ok_or_else(|| Error::InvalidInput {
                what: "the token's iss".into(),
                reason: "names no authority host; pass --cloud or --authority-host".into(),
            })?;
            AuthorityHost::parse(&host)?
        }
    };
    Ok(VerifyTarget {
        host,
        tenant: args.tenant.clone(),
        app_id: args.appid.clone(),
    })
}

fn read_stdin() -> Result<String> {
    let bytes = super::read_input(
        &mut std::io::stdin(),
        MAX_INPUT_BYTES,
        "standard input",
        "decode",
    )?;
    String::from_utf8(bytes).map_err(|_| Error::InvalidInput {
        what: "standard input".into(),
        reason: "is not UTF-8 text; a JWT is ASCII".into(),
    })
}
