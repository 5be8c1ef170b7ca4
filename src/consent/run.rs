//! The consent audit from start to end, for the CLI's `consent` and the TUI's `g`: the daemon's
//! token for the resource, a token for Microsoft Graph (the daemon's own, or an admin app's),
//! the three reads, and the findings.

use chrono::{DateTime, Utc};

use super::{Directory, PermissionRow, ReadFailure};
use crate::auth::client::RetryObserver;
use crate::auth::tenant::is_guid;
use crate::auth::{AuthorityHost, ClientOptions, TokenClient};
use crate::cache::TokenCache;
use crate::diagnose::{self, Finding, FixContext, Resources, preflight};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::setup::{self, CredentialSpec, Spec};
use crate::token::decode;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// What to audit, and as whom.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// The daemon; its scope names the resource to audit (Microsoft Graph when it names none).
    pub daemon: Spec,
    /// Microsoft Graph's base URL; the authority's cloud's Graph when `None`.
    pub graph_url: Option<String>,
    /// Read Graph as this app (it needs Application.Read.All) instead of the daemon.
    pub admin: Option<AdminApp>,
    /// The token the daemon holds: its roles and issue time are what staleness is judged on.
    /// Without it a fresh token is acquired.
    pub token: Option<Secret>,
}

/// An app that may read app registrations, with its credential.
#[derive(Debug, Clone)]
pub struct AdminApp {
    pub client_id: String,
    pub credential: CredentialSpec,
}

/// What the audit found.
#[derive(Debug, Clone)]
pub struct Audit {
    pub client_id: String,
    pub graph_url: String,
    pub directory: Option<Directory>,
    pub rows: Vec<PermissionRow>,
    /// Sorted, most important first.
    pub findings: Vec<Finding>,
}

/// Runs the audit. `stdin` is read at most once, for a daemon secret from standard input, and
/// `on_retry` hears of every retry.
pub async fn run(
    audit: &AuditRequest,
    env: &Environment,
    stdin: &mut (dyn FnMut() -> std::io::Result<String> + Send),
    now: DateTime<Utc>,
    on_retry: Option<RetryObserver>,
) -> Result<Audit> {
    let mut daemon = audit.daemon.clone();
    if daemon.scopes.iter().all(|s| s.trim().is_empty()) {
        daemon.scopes = vec![GRAPH_SCOPE.to_owned()];
    }
    let mut stdin_once = setup::read_once(stdin);
    let prepared = setup::prepare(&daemon, env, &mut stdin_once, now)?;
    let request = &prepared.request;
    no_app_registration(request)?;
    let context = FixContext::for_request(request);
    let resource_app_id = resource_app_id(request.scopes.resource())?;
    let client = |options: ClientOptions| -> Result<TokenClient> {
        let client = TokenClient::new(options)?;
        Ok(match &on_retry {
            Some(observer) => client.on_retry(observer.clone()),
            None => client,
        })
    };
    let mut cache = TokenCache::in_memory();
    let own = match &audit.token {
        Some(token) => token.clone(),
        None => {
            cache
                .get_or_acquire(&client(prepared.options.clone())?, request, true, now)
                .await?
                .token
        }
    };
    let decoded = decode(own.expose()).ok();
    let graph_url = audit
        .graph_url
        .clone()
        .unwrap_or_else(|| default_graph_url(&request.authority.host));
    let reading = Reading {
        daemon: &daemon,
        request,
        env,
        now,
        // A given token may be old; only a fresh one can stand in for Graph.
        own: audit.token.is_none().then_some(&own),
        deadline: prepared.options.deadline,
    };
    let graph_token = graph_token_of(
        &reading,
        audit.admin.as_ref(),
        &graph_url,
        &client,
        &mut cache,
        &mut stdin_once,
    )
    .await?;
    let read = super::read(
        &client(prepared.options.clone())?,
        &graph_url,
        &graph_token,
        &request.client_id,
        &resource_app_id,
    )
    .await;
    let (directory, rows, mut findings) = match read {
        Ok(directory) => {
            let rows = super::audit(&directory, decoded.as_ref());
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
    diagnose::sort(&mut findings);
    Ok(Audit {
        client_id: request.client_id.clone(),
        graph_url,
        directory,
        rows,
        findings,
    })
}

/// What choosing the Graph token needs to know of the daemon.
struct Reading<'a> {
    daemon: &'a Spec,
    request: &'a crate::auth::TokenRequest,
    env: &'a Environment,
    now: DateTime<Utc>,
    /// The daemon's token, when it was acquired now (not given): it can stand in when the
    /// audited resource is Graph itself.
    own: Option<&'a Secret>,
    /// The audit's one deadline: the Graph token's request shares it.
    deadline: Option<crate::auth::Deadline>,
}

/// A token for Microsoft Graph: the admin app's, or the daemon's own (reused when the audited
/// resource is Graph itself).
async fn graph_token_of(
    reading: &Reading<'_>,
    admin: Option<&AdminApp>,
    graph_url: &str,
    client: &(dyn Fn(ClientOptions) -> Result<TokenClient> + Sync),
    cache: &mut TokenCache,
    stdin: &mut (dyn FnMut() -> std::io::Result<String> + Send),
) -> Result<Secret> {
    let Reading {
        daemon,
        request,
        env,
        now,
        own,
        deadline,
    } = *reading;
    let graph_scope = graph_scope(graph_url);
    let (spec, env) = if let Some(admin) = admin {
        let spec = Spec {
            tenant: Some(request.authority.tenant.to_string()),
            client_id: Some(admin.client_id.clone()),
            scopes: vec![graph_scope],
            authority_host: Some(request.authority.host.to_string()),
            cloud: None,
            token_endpoint: None,
            credential: admin.credential.clone(),
            ..daemon.clone()
        };
        // The admin app's credential is its own: the daemon's variables must not stand in.
        (spec, env.network())
    } else if let Some(own) = own.filter(|_| {
        request.scopes.resource().trim_end_matches('/') == graph_scope.trim_end_matches("/.default")
    }) {
        return Ok(own.clone());
    } else {
        let spec = Spec {
            scopes: vec![graph_scope],
            ..daemon.clone()
        };
        (spec, env.clone())
    };
    let mut prepared = setup::prepare(&spec, &env, stdin, now)?;
    prepared.options.deadline = deadline;
    Ok(cache
        .get_or_acquire(&client(prepared.options)?, &prepared.request, true, now)
        .await?
        .token)
}

/// A token for reading `daemon`'s app registration from Microsoft Graph (the admin app's, or
/// the daemon's own), and the Graph URL it is for: what `federation` reads credentials with.
pub async fn graph_token(
    daemon: &Spec,
    admin: Option<&AdminApp>,
    graph_url: Option<&str>,
    env: &Environment,
    stdin: &mut (dyn FnMut() -> std::io::Result<String> + Send),
    now: DateTime<Utc>,
) -> Result<(Secret, String)> {
    let prepared = setup::prepare(daemon, env, stdin, now)?;
    let request = &prepared.request;
    let graph_url =
        graph_url.map_or_else(|| default_graph_url(&request.authority.host), str::to_owned);
    let reading = Reading {
        daemon,
        request,
        env,
        now,
        own: None,
        deadline: prepared.options.deadline,
    };
    let client = |options: ClientOptions| TokenClient::new(options);
    let mut cache = TokenCache::in_memory();
    let token =
        self::graph_token_of(&reading, admin, &graph_url, &client, &mut cache, stdin).await?;
    Ok((token, graph_url))
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
pub fn default_graph_url(host: &AuthorityHost) -> String {
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
pub fn graph_scope(graph_url: &str) -> String {
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

/// The audit reads an app registration, and a managed identity has none: its client id is
/// known only from its token, and Graph would be asked about a stand-in.
fn no_app_registration(request: &crate::auth::TokenRequest) -> Result<()> {
    if request.is_managed_identity() {
        return Err(crate::Error::InvalidInput {
            what: "the consent audit".into(),
            reason: "a managed identity has no app registration to audit: its permissions are \
                     app role assignments on its service principal (Graph: \
                     servicePrincipals/<its object id>/appRoleAssignments)"
                .into(),
        });
    }
    Ok(())
}
