//! `entra-doctor probe --url URL`: call an API with a token and explain its answer.

use std::fmt::Write as _;
use std::io::Read as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use url::Url;

use super::args::ProbeArgs;
use super::config::prepare;
use super::token_cmd::acquire;
use super::{OutputFormat, Report, findings};
use crate::auth::{ClientOptions, Deadline};
use crate::cache::TokenCache;
use crate::diagnose::{self, Finding, FixContext, Resources, Severity, api, token_checks};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::probe::{self, ProbeReport, ProbeRequest};
use crate::secret::Secret;
use crate::token::{DecodedToken, decode};

pub async fn run(
    args: &ProbeArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let url = parse_url(&args.url)?;
    // One deadline for the token request and the call.
    let deadline = Deadline::after(Duration::from_secs(args.credential.timeout));
    let resource = url.host_str().and_then(|h| Resources::builtin().by_host(h));
    let mut context = FixContext::default();
    let token = if let Some(given) = &args.token {
        let (token, warning) = super::token_arg::read_warning(given, "--token")?;
        report.stderr.extend(warning);
        Secret::new(token)
    } else {
        {
            let mut credential_args = args.credential.clone();
            if credential_args.scopes.is_empty()
                && let Some((scope, api)) = scope_of_url(&url, resource)
            {
                report.stderr.push(format!(
                    "note: no --scope given: asking for {scope}, the scope of {api}, which the \
                     URL names"
                ));
                credential_args.scopes.push(scope);
            }
            let mut stdin = stdin_reader();
            let mut prepared = prepare(&credential_args, env, &mut stdin, now)?;
            prepared.options.deadline = Some(deadline);
            report
                .stderr
                .extend(prepared.warnings.iter().map(findings::one_line));
            context = FixContext::for_request(&prepared.request);
            let mut cache = TokenCache::in_memory();
            acquire(
                &prepared.request,
                &super::token_cmd::cli_client(prepared.options)?,
                &mut cache,
                false,
                now,
            )
            .await?
            .token
        }
    };
    let decoded = decode(token.expose()).ok();
    let mut found = pre_send(decoded.as_ref(), resource);
    let sent = if args.no_send {
        None
    } else {
        let request = ProbeRequest {
            url,
            method: args.method.clone(),
            headers: parse_headers(&args.headers)?,
            body: args
                .body
                .as_ref()
                .map(|p| std::fs::read(p).map_err(|e| Error::file(p, e)))
                .transpose()?,
            token: Some(token),
        };
        let options = ClientOptions {
            deadline: Some(deadline),
            ..super::config::client_options(&args.credential, env)?
        };
        let http = probe::Prober::new(&options)?;
        let sent = http.send(&request).await?;
        found.extend(api::explain(
            &sent.answer(),
            decoded.as_ref(),
            now,
            &context,
        ));
        Some(sent)
    };
    if let Some(token) = &decoded {
        found.extend(token_checks::check(token, now, None, &context));
    }
    diagnose::sort(&mut found);
    report.exit = exit_code(sent.as_ref(), &found);
    report.stdout = match format {
        OutputFormat::Json => format!("{}\n", json!({"response": sent, "findings": found})),
        OutputFormat::Text => text(sent.as_ref(), &found),
    };
    Ok(())
}

/// The scope of the API a URL names, and the API's name: a well-known API by its host, or one
/// of the demo tenant's APIs by its route on the demo's loopback address.
fn scope_of_url(url: &Url, known: Option<&diagnose::Resource>) -> Option<(String, String)> {
    known
        .map(|r| (r.scope.clone(), r.name.clone()))
        .or_else(|| crate::demo::local_urls::scope_for(url))
}

/// Before sending: does the token's audience fit the well-known API?
fn pre_send(token: Option<&DecodedToken>, resource: Option<&diagnose::Resource>) -> Vec<Finding> {
    token
        .zip(resource)
        .and_then(|(t, r)| diagnose::audience::against_resource(t, r))
        .into_iter()
        .collect()
}

fn exit_code(sent: Option<&ProbeReport>, found: &[Finding]) -> u8 {
    match sent.map(|s| s.status) {
        Some(status) if status >= 500 => 3,
        Some(status) if status >= 400 => 1,
        _ if found.iter().any(|f| f.severity == Severity::Error) => 1,
        _ => 0,
    }
}

fn text(sent: Option<&ProbeReport>, found: &[Finding]) -> String {
    let mut out = String::new();
    match sent {
        Some(sent) => {
            let _ = writeln!(
                out,
                "{} {} → {} {} ({} ms)",
                sent.method, sent.url, sent.status, sent.reason, sent.elapsed_ms
            );
            for (name, value) in &sent.headers {
                let _ = writeln!(out, "  {name}: {}", super::render::clean(value));
            }
            let body = sent.pretty_body();
            if !body.is_empty() {
                let _ = writeln!(out, "\n{}", super::render::clean_multiline(&body));
            }
            if sent.truncated {
                let _ = writeln!(out, "(body cut at 1 MiB of {} bytes)", sent.body_bytes);
            }
        }
        None => out.push_str("Not sent (--no-send).\n"),
    }
    if !found.is_empty() {
        out.push_str("\nFindings\n");
        out.push_str(&findings::text(found));
    }
    out
}

fn parse_url(value: &str) -> Result<Url> {
    let url = Url::parse(value.trim()).map_err(|e| Error::InvalidInput {
        what: format!("--url {value:?}"),
        reason: format!("is not a URL ({e}); give the full https:// address of the API"),
    })?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::InvalidInput {
            what: format!("--url {value:?}"),
            reason: "is not an http(s) URL".into(),
        });
    }
    Ok(url)
}

fn parse_headers(headers: &[String]) -> Result<Vec<(String, String)>> {
    headers
        .iter()
        .map(|h| {
            let (name, value) = h.split_once(':').ok_or_else(|| Error::InvalidInput {
                what: format!("--header {h:?}"),
                reason: "must be Name: value".into(),
            })?;
            let name = name.trim();
            if name.is_empty() || name.eq_ignore_ascii_case("authorization") {
                return Err(Error::InvalidInput {
                    what: format!("--header {name:?}"),
                    reason: "needs a name, and cannot be Authorization (the probe sends the token itself)".into(),
                });
            }
            Ok((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

pub(super) fn stdin_reader() -> impl FnMut() -> std::io::Result<String> {
    || {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map(|_| text)
    }
}
