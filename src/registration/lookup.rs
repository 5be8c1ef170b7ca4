//! Reading the app registration of the credential in use, for `doctor`, the TUI and the
//! walkthrough: with an admin app's Graph token, a Graph token already held, or the daemon's
//! own. A daemon whose sign-in fails cannot read anything: the admin app is then the only way.

use chrono::{DateTime, Utc};

use super::in_use::{InUse, Presented};
use crate::auth::{ClientOptions, TokenClient, TokenRequest};
use crate::cache::TokenCache;
use crate::consent::{AUDIT_PERMISSION, AdminApp};
use crate::environment::Environment;
use crate::error::Result;
use crate::graph::ReadFailure;
use crate::secret::Secret;
use crate::setup::{self, Spec};

/// What may read Graph for the credential in use.
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// The daemon's request: its credential, tenant, authority and client id.
    pub request: &'a TokenRequest,
    /// Its client options: the Graph read and any token request share their transport.
    pub options: &'a ClientOptions,
    /// The daemon as specified, for a Graph token of its own; `None`: never ask one.
    pub daemon: Option<&'a Spec>,
    /// An app holding Application.Read.All, with its credential.
    pub admin: Option<&'a AdminApp>,
    /// Microsoft Graph's base URL; the authority's cloud's when `None`.
    pub graph_url: Option<&'a str>,
    /// A Graph token already held (the daemon's, when the resource it asked for is Graph).
    pub token: Option<&'a Secret>,
    /// The daemon's own sign-in was refused: it cannot read Graph either.
    pub refused: bool,
}

/// How to let the tool read an app registration, said wherever Graph could not be read.
pub const HOW_TO_READ: &str = "read it as an app that holds Application.Read.All: \
     --admin-client-id <its id> with its secret in ENTRA_DOCTOR_ADMIN_SECRET (CLI), or the \
     Admin app and Admin secret fields (TUI)";

/// The credential in use, matched to its app registration when Graph can be read. Never fails:
/// what could not be read is said in [`InUse::unread`].
pub async fn look_up(
    lookup: &Lookup<'_>,
    env: &Environment,
    now: DateTime<Utc>,
    warn_days: u32,
) -> InUse {
    let presented = Presented::of(&lookup.request.credential);
    let read = if presented.is_registered_kind() {
        read(lookup, env, now).await
    } else {
        Err(match presented {
            Presented::Federated => {
                "no end date (the external token it presents is short-lived)".to_owned()
            }
            _ => "Azure rotates its credential: nothing to renew".to_owned(),
        })
    };
    InUse::matched(
        &presented,
        read.as_ref().map_err(Clone::clone),
        now,
        warn_days,
    )
}

async fn read(
    lookup: &Lookup<'_>,
    env: &Environment,
    now: DateTime<Utc>,
) -> std::result::Result<super::AppCredentials, String> {
    let request = lookup.request;
    let graph_url = lookup.graph_url.map_or_else(
        || crate::consent::default_graph_url(&request.authority.host),
        str::to_owned,
    );
    let token = match (lookup.admin, lookup.token, lookup.daemon) {
        (Some(admin), _, _) => admin_token(lookup, admin, &graph_url, env, now)
            .await
            .map_err(|e| format!("the admin app {} got no Graph token: {e}", admin.client_id))?,
        (None, Some(token), _) => token.clone(),
        (None, None, _) if lookup.refused => {
            return Err(
                "the app's own sign-in was refused, so it cannot read its registration either"
                    .to_owned(),
            );
        }
        (None, None, Some(daemon)) => own_token(lookup, daemon, &graph_url, env, now)
            .await
            .map_err(|e| format!("the app got no Graph token of its own: {e}"))?,
        (None, None, None) => return Err("no app was given to read Graph with".to_owned()),
    };
    let client = TokenClient::new(lookup.options.clone()).map_err(|e| e.to_string())?;
    super::read(&client, &graph_url, &token, &request.client_id)
        .await
        .map_err(|failure| match failure {
            ReadFailure::Denied { status, .. } => format!(
                "Microsoft Graph answered {status}: the reading app lacks {AUDIT_PERMISSION} \
                 (application)"
            ),
            ReadFailure::NotFound { what } => format!("Microsoft Graph has no {what}"),
            ReadFailure::Failed(error) => format!("Microsoft Graph could not be read: {error}"),
        })
}

/// The admin app's Graph token, in the daemon's tenant and cloud.
async fn admin_token(
    lookup: &Lookup<'_>,
    admin: &AdminApp,
    graph_url: &str,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<Secret> {
    let request = lookup.request;
    let spec = Spec {
        tenant: request.known_tenant().map(ToString::to_string),
        client_id: Some(admin.client_id.clone()),
        scopes: vec![crate::consent::graph_scope(graph_url)],
        authority_host: Some(request.authority.host.to_string()),
        credential: admin.credential.clone(),
        ..lookup.daemon.cloned().unwrap_or_default()
    };
    // The admin app's credential is its own: the daemon's variables must not stand in.
    acquire(&spec, &env.network(), lookup.options, None, now).await
}

/// The daemon's own Graph token (it needs Application.Read.All to read its registration).
async fn own_token(
    lookup: &Lookup<'_>,
    daemon: &Spec,
    graph_url: &str,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<Secret> {
    let spec = Spec {
        scopes: vec![crate::consent::graph_scope(graph_url)],
        ..daemon.clone()
    };
    // A secret read from standard input was read once: the prepared request holds it.
    let known = match &lookup.request.credential {
        crate::auth::Credential::Secret(secret) => Some(secret.clone()),
        _ => None,
    };
    acquire(&spec, env, lookup.options, known, now).await
}

async fn acquire(
    spec: &Spec,
    env: &Environment,
    options: &ClientOptions,
    stdin: Option<Secret>,
    now: DateTime<Utc>,
) -> Result<Secret> {
    // Standard input, if the spec reads it, gives what it gave before (or nothing).
    let mut stdin = move || -> std::io::Result<String> {
        Ok(stdin
            .as_ref()
            .map(|s| s.expose().to_owned())
            .unwrap_or_default())
    };
    let mut prepared = setup::prepare(spec, env, &mut stdin, now)?;
    prepared.options.transport = options.transport.clone();
    prepared.options.deadline = options.deadline;
    let client = TokenClient::new(prepared.options)?;
    Ok(TokenCache::in_memory()
        .get_or_acquire(&client, &prepared.request, true, now)
        .await?
        .token)
}
