//! Step 3's word on the credential in use's end date: its app registration read through
//! Microsoft Graph (with an admin app, the daemon's Graph token, or a Graph token of its own),
//! the expiry and the app's other credentials as evidence, and the finding when it expired or
//! is about to. A managed identity has no credential of its own to renew, a federated one no
//! end date: for them nothing is said.

use chrono::{DateTime, Utc};

use super::Session;
use super::checks::Attempt;
use crate::consent::AdminApp;
use crate::diagnose::{Finding, FixContext, Severity, expiry};
use crate::environment::Environment;
use crate::registration::DEFAULT_WARN_DAYS;
use crate::registration::in_use::{InUse, Presented};
use crate::registration::lookup::{self, HOW_TO_READ, Lookup};
use crate::setup::Spec;

/// How step 3 may read the app registration of the credential in use.
#[derive(Debug, Clone, Default)]
pub struct GraphRead {
    /// An app holding Application.Read.All (`--admin-client-id`, the TUI's Admin fields): the
    /// only reader when the daemon's own sign-in is refused.
    pub admin: Option<AdminApp>,
    /// The daemon as specified, to ask a Graph token of its own; `None`: never ask one.
    pub daemon: Option<Spec>,
    /// Microsoft Graph's base URL; the authority's cloud's when `None`.
    pub graph_url: Option<String>,
    /// The variables the setup was prepared with (the daemon's credential may come from them).
    pub env: Environment,
}

/// The credential in use, matched to its registration; `None` for a managed identity (Azure
/// rotates its credential) and a federated credential (no end date; the token it presents is
/// short-lived and step 3 shows it): neither has an expiry to tell.
pub(super) async fn look_up(session: &Session, now: DateTime<Utc>) -> Option<InUse> {
    let setup = &session.setup;
    let request = &setup.request;
    if !Presented::of(&request.credential).is_registered_kind() {
        return None;
    }
    let graph = &setup.graph;
    let graph_url = graph
        .graph_url
        .clone()
        .unwrap_or_else(|| crate::consent::default_graph_url(&request.authority.host));
    let issued = match &session.attempt {
        Some(Attempt::Issued { raw, .. }) => Some(raw),
        _ => None,
    };
    // The daemon's token stands in when it is a Graph token already.
    let is_graph = request.scopes.resource().trim_end_matches('/')
        == crate::consent::graph_scope(&graph_url).trim_end_matches("/.default");
    let lookup = Lookup {
        request,
        options: &setup.options,
        daemon: graph.daemon.as_ref(),
        admin: graph.admin.as_ref(),
        graph_url: Some(&graph_url),
        token: issued.filter(|_| is_graph),
        refused: issued.is_none(),
    };
    Some(lookup::look_up(&lookup, &graph.env, now, DEFAULT_WARN_DAYS).await)
}

/// The evidence lines: the credential in use's expiry, the app's other credentials, and,
/// when the registration could not be read, how to let the tool read it.
pub(super) fn evidence(in_use: &InUse) -> Vec<String> {
    let summary = expiry::summary(in_use);
    if in_use.registration.is_none() && in_use.kind == "secret" {
        return vec![format!("expiry: {summary}; to see it, {HOW_TO_READ}")];
    }
    let mut lines = vec![format!("expiry: {summary}")];
    if let Some(registration) = &in_use.registration {
        lines.extend(
            registration
                .others
                .iter()
                .map(|other| format!("also registered: {}", expiry::describe(other))),
        );
    }
    lines
}

/// The finding of a step Entra ID let through: an expiring (or unregistered) credential is a
/// warning the operator should see now; a comfortable end date is only evidence.
pub(super) fn finding(in_use: &InUse, context: &FixContext, now: DateTime<Utc>) -> Option<Finding> {
    expiry::findings(in_use, context, now)
        .into_iter()
        .find(|f| f.severity != Severity::Info)
}
