//! `entra-doctor decode [TOKEN|-|@FILE] [--verify]`.
//!
//! `--verify` passes (exit 0) only when the signature was verified: an unknown key, a forged
//! signature, a Graph token, an issuer that is no known Entra authority, keys that could not be
//! fetched all exit non-zero, with the reason on standard error and in the findings.

use serde_json::json;

use super::args::DecodeArgs;
use super::config::cloud_of;
use super::render::{token_json, token_text};
use super::{OutputFormat, Report, findings, token_arg};
use crate::auth::{AuthorityHost, ClientOptions, Deadline, TokenClient};
use crate::diagnose::{self, signature, token_version};
use crate::environment::Environment;
use crate::error::Result;
use crate::setup::transport;
use crate::token::{Verifier, VerifyTarget, decode};

pub async fn run(
    args: &DecodeArgs,
    env: &Environment,
    format: OutputFormat,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut Report,
) -> Result<()> {
    // A plain argument is fine here: decode is made for pasting, and --verify sends nothing.
    let (input, _) = token_arg::read(&args.token)?;
    let decoded = decode(&input)?;
    if !args.verify {
        report.stdout = match format {
            OutputFormat::Json => format!("{}\n", token_json(&decoded, now)),
            OutputFormat::Text => token_text(&decoded, now),
        };
        return Ok(());
    }
    let target = target(args)?;
    // The keys are fetched the way every other request goes: --ca-file, SSL_CERT_FILE, proxies.
    let defaults = ClientOptions::default();
    let options = ClientOptions {
        transport: transport(args.ca_file.as_deref(), env)?,
        // Discovery and keys share one deadline, as every command's requests do.
        deadline: Some(Deadline::after(defaults.timeout)),
        ..defaults
    };
    let verifier = Verifier::new(TokenClient::new(options)?);
    let checked = signature::check(&verifier, &input, &decoded, &target, now).await;
    let mut found = vec![checked.finding.clone()];
    found.extend(token_version::check(&decoded, None));
    diagnose::sort(&mut found);
    report.exit = match checked.failure {
        Some(failure) => {
            let title = &checked.finding.title;
            report.stderr.push(format!(
                "error: the signature was not verified ({}): {}",
                checked.finding.id,
                title.strip_prefix("Not verified: ").unwrap_or(title)
            ));
            failure.exit_code()
        }
        None => u8::from(
            found
                .iter()
                .any(|f| f.severity == diagnose::Severity::Error),
        ),
    };
    report.stdout = match format {
        OutputFormat::Json => {
            let mut value = token_json(&decoded, now);
            if let Some(map) = value.as_object_mut() {
                map.insert("verification".into(), json!(checked.outcome));
                map.insert("findings".into(), json!(found));
            }
            format!("{value}\n")
        }
        OutputFormat::Text => format!("{}\n{}", token_text(&decoded, now), findings::text(&found)),
    };
    Ok(())
}

/// Where the keys are: the authority the options name; else `None`, and the verifier takes the
/// known Entra authority of the token's `iss`, or refuses.
fn target(args: &DecodeArgs) -> Result<VerifyTarget> {
    let host = match (&args.authority_host, args.cloud) {
        (Some(host), _) => Some(AuthorityHost::parse(host)?),
        (None, Some(cloud)) => Some(AuthorityHost::parse(cloud_of(cloud).host())?),
        (None, None) => None,
    };
    Ok(VerifyTarget {
        host,
        tenant: args.tenant.clone(),
        app_id: args.appid.clone(),
    })
}
