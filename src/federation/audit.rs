//! The federation check from start to end, for the CLI's `federation` and the TUI: the external
//! token checked on its own, then set beside each federated credential of the app registration
//! read from Microsoft Graph (with an admin app's token, or the daemon's own).

use chrono::{DateTime, Utc};

use super::{Comparison, ExternalClaims, FederatedCredential, graph};
use crate::consent::{AdminApp, ReadFailure};
use crate::diagnose::{self, Finding, FixContext, preflight};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::setup::{self, CredentialSpec, Spec};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// What to check: the daemon (its spec names the token file, tenant and client id), and how to
/// read its credentials.
#[derive(Debug, Clone)]
pub struct FederationRequest {
    /// A spec whose credential is [`CredentialSpec::Assertion`] or
    /// [`CredentialSpec::AssertionToken`].
    pub daemon: Spec,
    /// The external token's text.
    pub token: Secret,
    /// Read Graph as this app instead of the daemon (whose exchange may be what fails).
    pub admin: Option<AdminApp>,
    pub graph_url: Option<String>,
    /// Only the local checks: Graph is not read.
    pub local_only: bool,
}

/// What the check found.
#[derive(Debug, Clone)]
pub struct FederationReport {
    pub claims: Option<ExternalClaims>,
    pub client_id: Option<String>,
    pub graph_url: Option<String>,
    pub comparison: Option<Comparison>,
    /// Sorted, most important first.
    pub findings: Vec<Finding>,
}

/// Checks the token, then compares it with the app's credentials when it can.
pub async fn examine(
    request: &FederationRequest,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<FederationReport> {
    let host = authority_host(&request.daemon, env);
    let inspection = super::inspect_for(
        request.token.expose(),
        Some(super::audience_for_authority(&host)),
        now,
    );
    let mut found = inspection.findings;
    let client_id = request
        .daemon
        .client_id
        .clone()
        .filter(|id| !id.trim().is_empty());
    let mut report = FederationReport {
        claims: inspection.claims.clone(),
        client_id: client_id.clone(),
        graph_url: None,
        comparison: None,
        findings: Vec::new(),
    };
    match (inspection.claims, client_id) {
        (Some(claims), Some(client_id)) if !request.local_only => {
            match credentials(request, &client_id, env, now).await? {
                Read::Credentials { list, graph_url } => {
                    let comparison = super::compare(&claims, &list);
                    found.extend(super::findings(&comparison, &client_id));
                    report.graph_url = Some(graph_url);
                    report.comparison = Some(comparison);
                }
                Read::Failed {
                    findings,
                    graph_url,
                } => {
                    found.extend(findings);
                    report.graph_url = graph_url;
                }
            }
        }
        (Some(_), None) if !request.local_only => found.push(graph::not_compared(
            "No client id names the app whose credentials to read.",
            "<client-id>",
        )),
        _ => {}
    }
    diagnose::sort(&mut found);
    report.findings = found;
    Ok(report)
}

/// The authority host the exchange goes to: its cloud decides the expected audience.
fn authority_host(daemon: &Spec, env: &Environment) -> String {
    match (&daemon.authority_host, daemon.cloud) {
        (Some(host), _) if !host.trim().is_empty() => host.clone(),
        (_, Some(cloud)) => cloud.host().to_owned(),
        _ => env
            .get("AZURE_AUTHORITY_HOST")
            .unwrap_or(crate::auth::Cloud::Public.host())
            .to_owned(),
    }
}

enum Read {
    Credentials {
        list: Vec<FederatedCredential>,
        graph_url: String,
    },
    Failed {
        findings: Vec<Finding>,
        graph_url: Option<String>,
    },
}

/// The app's federated credentials from Graph; failures the operator can act on are findings.
async fn credentials(
    request: &FederationRequest,
    client_id: &str,
    env: &Environment,
    now: DateTime<Utc>,
) -> Result<Read> {
    let mut daemon = request.daemon.clone();
    if !matches!(
        daemon.credential,
        CredentialSpec::Assertion { .. } | CredentialSpec::AssertionToken(_)
    ) {
        return Err(Error::InvalidInput {
            what: "the federation check".into(),
            reason: "needs the federated token file as the credential".into(),
        });
    }
    if daemon.scopes.is_empty() {
        daemon.scopes = vec![GRAPH_SCOPE.to_owned()];
    }
    let context = daemon.fix_context();
    let mut no_stdin = || Ok(String::new());
    let token = crate::consent::graph_token(
        &daemon,
        request.admin.as_ref(),
        request.graph_url.as_deref(),
        env,
        &mut no_stdin,
        now,
    )
    .await;
    let (token, graph_url) = match token {
        Ok(read) => read,
        // The daemon's own exchange failing is often the very problem: say so, and why the
        // credentials stay unread. An admin app's failure is the operator's setup: an error.
        Err(error)
            if request.admin.is_none() && error.failure() != crate::error::Failure::Input =>
        {
            return Ok(Read::Failed {
                findings: own_exchange_failed(&error, &context, client_id),
                graph_url: None,
            });
        }
        Err(error) => return Err(error),
    };
    let options = setup::client_options(&daemon.network, env)?;
    let client = crate::auth::TokenClient::new(options)?;
    Ok(
        match graph::read(&client, &graph_url, &token, client_id).await {
            Ok(list) => Read::Credentials { list, graph_url },
            Err(ReadFailure::Denied {
                url,
                status,
                detail,
            }) => Read::Failed {
                findings: vec![graph::denied(status, &detail, &url, client_id)],
                graph_url: Some(graph_url),
            },
            Err(ReadFailure::NotFound { what }) => Read::Failed {
                findings: vec![diagnose::consent::not_found(&what)],
                graph_url: Some(graph_url),
            },
            Err(ReadFailure::Failed(error)) => Read::Failed {
                findings: vec![preflight::error(&error, &context)],
                graph_url: Some(graph_url),
            },
        },
    )
}

/// The daemon's own sign-in failed: that finding, and why the credentials stay unread.
fn own_exchange_failed(error: &Error, context: &FixContext, client_id: &str) -> Vec<Finding> {
    let code = match error {
        Error::Entra(entra) => entra
            .error_codes
            .first()
            .map(|c| format!(" with AADSTS{c}"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let why = format!(
        "The app's own sign-in for a Graph token failed{code} (the finding above), so its \
         credentials could not be read with it; name an admin app that may read app \
         registrations."
    );
    vec![
        preflight::error(error, context),
        graph::not_compared(&why, client_id),
    ]
}
