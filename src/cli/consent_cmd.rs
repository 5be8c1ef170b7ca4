//! `entra-doctor consent`: the admin-consent audit of one app on one resource, read from
//! Microsoft Graph with the daemon's own token or a second (admin) credential.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::args::ConsentArgs;
use super::config::{Environment, prepare};
use super::probe_cmd::stdin_reader;
use super::token_cmd::acquire;
use super::{OutputFormat, Report, findings, token_arg};
use crate::auth::tenant::is_guid;
use crate::cache::TokenCache;
use crate::consent::{self, PermissionRow, ReadFailure};
use crate::diagnose::{self, Finding, FixContext, Resources, Severity, preflight};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token::decode;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// What the audit found.
#[derive(Debug, Clone)]
pub struct Audit {
    pub client_id: String,
    pub graph_url: String,
    pub directory: Option<consent::Directory>,
    pub rows: Vec<PermissionRow>,
    /// Sorted, most important first.
    pub findings: Vec<Finding>,
}

pub async fn run(
    args: &ConsentArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    if let Some(token) = args.token.as_deref() {
        report.stderr.extend(token_arg::warning(token, "--token"));
    }
    let audit = audit(args, env, now).await?;
    let found = &audit.findings;
    report.exit = u8::from(found.iter().any(|f| f.severity != Severity::Info));
    report.stdout = match format {
        OutputFormat::Json => format!(
            "{}\n",
            json!({
                "client_id": audit.client_id,
                "graph_url": audit.graph_url,
                "resource": audit.directory.as_ref().map(|d| json!({"app_id": d.resource_app_id, "name": d.resource_name})),
                "permissions": audit.rows,
                "findings": found,
            })
        ),
        OutputFormat::Text => text(&audit),
    };
    Ok(())
}

/// Runs the audit: the daemon's token for the resource, a Graph token, the three reads.
pub async fn audit(args: &ConsentArgs, env: &Environment, now: DateTime<Utc>) -> Result<Audit> {
    let mut daemon_args = args.credential.clone();
    if daemon_args.scopes.is_empty() {
        daemon_args.scopes = vec![GRAPH_SCOPE.to_owned()];
    }
    if args.credential.secret_stdin && token_arg::is_stdin(args.token.as_deref()) {
        return Err(token_arg::stdin_taken("--secret-stdin", "--token -"));
    }
    // Standard input is read once: the Graph token request prepares the credential again, and
    // must get the same secret, not an empty stream.
    let mut read = stdin_reader();
    let mut kept: Option<Secret> = None;
    let mut stdin = move || -> std::io::Result<String> {
        if kept.is_none() {
            kept = Some(Secret::new(read()?));
        }
        Ok(kept
            .as_ref()
            .map(|s| s.expose().to_owned())
            .unwrap_or_default())
    };
    let prepared = prepare(&daemon_args, env, &mut stdin, now)?;
    let request = &prepared.request;
    let context = FixContext::for_request(request);
    let resource_app_id = resource_app_id(request.scopes.resource())?;
    let mut cache = TokenCache::in_memory();
    // A given token is the one that matters for staleness: a fresh one has every current role.
    let given = match args.token.as_deref() {
        Some(value) => Some(token_arg::read(value)?.0),
        None => None,
    };
    let own = match given {
        Some(token) => Secret::new(token),
        None => {
            acquire(
                request,
                &super::token_cmd::cli_client(prepared.options.clone())?,
                &mut cache,
                true,
                now,
            )
            .await?
            .token
        }
    };
    let decoded = decode(own.expose()).ok();
    let graph_token = graph_token(
        args,
        env,
        (&daemon_args, &mut stdin),
        request,
        args.token.is_none().then_some(&own),
        &mut cache,
        now,
    )
    .await?;
    let graph_url = args
        .graph_url
        .clone()
        .unwrap_or_else(|| default_graph_url(&request.authority.host));
    let client = crate::auth::TokenClient::new(prepared.options.clone())?;
    let read = consent::read(
        &client,
        &graph_url,
        &graph_token,
        &request.client_id,
        &resource_app_id,
    )
    .await;
    let (directory, rows, found) = match read {
        Ok(directory) => {
            let rows = consent::audit(&directory, decoded.as_ref());
            let found = diagnose::consent::findings(&directory, &rows, &context);
            (Some(directory), rows, found)
        }
        Err(ReadFailure::Denied {
            url,
            status,
            detail,
        }) => (
            None,
            Vec::new(),
            vec![diagnose::consent::denied(status, &detail, &url, &context)],
        ),
        Err(ReadFailure::NotFound { what }) => {
            (None, Vec::new(), vec![diagnose::consent::not_found(&what)])
        }
        Err(ReadFailure::Failed(error)) => {
            (None, Vec::new(), vec![preflight::error(&error, &context)])
        }
    };
    let mut found: Vec<Finding> = found;
    diagnose::sort(&mut found);
    Ok(Audit {
        client_id: request.client_id.clone(),
        graph_url,
        directory,
        rows,
        findings: found,
    })
}

/// A token for Microsoft Graph: the admin app's, or the daemon's own (reused when the audited
/// resource is Graph itself).
pub(super) async fn graph_token(
    args: &ConsentArgs,
    env: &Environment,
    // The daemon's options, and standard input as it was read for them (once).
    (daemon_args, stdin): (
        &super::args::CredentialArgs,
        &mut (dyn FnMut() -> std::io::Result<String> + Send),
    ),
    request: &crate::auth::TokenRequest,
    // The daemon's fresh token, reusable when the audited resource is Graph itself.
    own: Option<&crate::secret::Secret>,
    cache: &mut TokenCache,
    now: DateTime<Utc>,
) -> Result<crate::secret::Secret> {
    let graph_scope = args
        .graph_url
        .as_deref()
        .map_or_else(|| GRAPH_SCOPE.to_owned(), graph_scope);
    let token = if let Some(admin) = &args.admin_client_id {
        let secret = match &args.admin_certificate {
            Some(_) => "",
            None => env
                .get(&args.admin_secret_env)
                .ok_or_else(|| Error::MissingCredential {
                    hint: format!(
                        "--admin-client-id needs its client secret in {} (or --admin-certificate)",
                        args.admin_secret_env
                    ),
                })?,
        };
        let mut admin_args = args.credential.clone();
        admin_args.client_id = Some(admin.clone());
        admin_args.scopes = vec![graph_scope];
        admin_args.tenant = Some(request.authority.tenant.to_string());
        admin_args.authority_host = Some(request.authority.host.to_string());
        admin_args.cloud = None;
        admin_args.secret_stdin = false;
        admin_args.certificate.clone_from(&args.admin_certificate);
        admin_args.private_key = None;
        admin_args.assertion_file = None;
        let password_var = admin_args.certificate_password_env.clone();
        let password = env.get(&password_var).unwrap_or_default();
        let admin_env = Environment::from_pairs([
            ("AZURE_CLIENT_SECRET", secret),
            (password_var.as_str(), password),
        ]);
        let admin = prepare(&admin_args, &admin_env, stdin, now)?;
        acquire(
            &admin.request,
            &super::token_cmd::cli_client(admin.options)?,
            cache,
            true,
            now,
        )
        .await?
        .token
    } else if let Some(own) = own.filter(|_| {
        request.scopes.resource().trim_end_matches('/') == graph_scope.trim_end_matches("/.default")
    }) {
        own.clone()
    } else {
        let mut graph_args = daemon_args.clone();
        graph_args.scopes = vec![graph_scope];
        let graph = prepare(&graph_args, env, stdin, now)?;
        acquire(
            &graph.request,
            &super::token_cmd::cli_client(graph.options)?,
            cache,
            true,
            now,
        )
        .await?
        .token
    };
    Ok(token)
}

/// The resource's app id: a well-known resource's, a GUID, or the GUID of `api://{guid}`.
fn resource_app_id(resource: &str) -> Result<String> {
    if let Some(known) = Resources::builtin().by_identifier(resource) {
        return Ok(known.app_id.clone());
    }
    let bare = resource.trim_end_matches('/');
    let candidate = bare
        .strip_prefix("api://")
        .unwrap_or(bare)
        .to_ascii_lowercase();
    if is_guid(&candidate) {
        return Ok(candidate);
    }
    Err(Error::InvalidInput {
        what: format!("resource {resource:?}"),
        reason: "is not a well-known API and names no app id; audit it with --scope api://<its app id>/.default"
            .into(),
    })
}

/// Microsoft Graph of the authority's cloud; the demo tenant serves its Graph under `/graph`.
pub fn default_graph_url(host: &crate::auth::AuthorityHost) -> String {
    let text = host.as_str();
    match host.url().host_str().unwrap_or_default() {
        "login.microsoftonline.us" => "https://graph.microsoft.us".to_owned(),
        "login.partner.microsoftonline.cn" | "login.chinacloudapi.cn" => {
            "https://microsoftgraph.chinacloudapi.cn".to_owned()
        }
        "127.0.0.1" | "localhost" | "[::1]" => format!("{text}/graph"),
        _ => "https://graph.microsoft.com".to_owned(),
    }
}

/// Graph's own scope for a national Graph host, the public one otherwise (also for the demo).
fn graph_scope(graph_url: &str) -> String {
    url::Url::parse(graph_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|host| {
            Resources::builtin()
                .by_host(host)
                .is_some_and(|r| r.id == "graph")
        })
        .map_or_else(
            || GRAPH_SCOPE.to_owned(),
            |host| format!("https://{host}/.default"),
        )
}

fn mark(value: bool) -> &'static str {
    if value { "✓" } else { "✗" }
}

fn text(audit: &Audit) -> String {
    let (client_id, directory, rows, found, graph_url) = (
        &audit.client_id,
        audit.directory.as_ref(),
        &audit.rows,
        &audit.findings,
        &audit.graph_url,
    );
    let mut out = String::new();
    if let Some(d) = directory {
        let _ = writeln!(
            out,
            "Consent audit of {client_id} on {} ({}), read from {graph_url}\n",
            d.resource_name, d.resource_app_id
        );
        let _ = writeln!(
            out,
            "  {:<24} {:<12} {:<15} {:<27} in token",
            "permission", "application", "delegated only", "admin consent"
        );
        for row in rows {
            let consent = match (row.admin_consent, row.consented_on) {
                (true, Some(on)) => format!("✓ {}", on.format("%Y-%m-%d %H:%M UTC")),
                (granted, _) => mark(granted).to_owned(),
            };
            let _ = writeln!(
                out,
                "  {:<24} {:<12} {:<15} {:<27} {}",
                super::render::clean(&row.permission),
                mark(row.requested_as_application),
                if row.delegated_only { "✗ yes" } else { "-" },
                consent,
                row.in_token.map_or("-", mark)
            );
        }
        if rows.is_empty() {
            out.push_str("  (no permission requested or granted)\n");
        }
        out.push('\n');
    }
    out.push_str(&findings::text(found));
    out
}
