//! The doctor's credential step: the credential in use matched to its app registration (read
//! with `--admin-client-id`, or the daemon's own Graph token), its expiry on the checklist, and
//! its findings; an AADSTS7000222 refusal is told which secret expired.

use chrono::{DateTime, Utc};

use super::{Checklist, Outcome};
use crate::auth::Deadline;
use crate::cli::args::DoctorArgs;
use crate::cli::consent_cmd;
use crate::diagnose::{FixContext, expiry};
use crate::environment::Environment;
use crate::registration::lookup::{self, Lookup};
use crate::registration::{DEFAULT_WARN_DAYS, Expiry};
use crate::secret::Secret;
use crate::setup::Prepared;

/// Where the credential step may read Graph from.
pub(super) struct Reach<'a> {
    /// The daemon's token, when it got one.
    pub(super) token: Option<&'a Secret>,
    /// A fleet: the daemon's own Graph token is not asked for each app (only an admin app reads).
    pub(super) in_fleet: bool,
}

pub(super) async fn credential_step(
    list: &mut Checklist,
    args: &DoctorArgs,
    env: &Environment,
    prepared: &Prepared,
    reach: Reach<'_>,
    (now, deadline): (DateTime<Utc>, Deadline),
) {
    let request = &prepared.request;
    let admin =
        match consent_cmd::admin_app(&args.graph, &args.credential.certificate_password_env, env) {
            Ok(admin) => admin,
            Err(error) => {
                list.step("credential", Outcome::Skipped, error.to_string());
                return;
            }
        };
    let daemon = args.credential.spec().ok();
    let graph_url = args.graph.graph_url.as_deref().map_or_else(
        || crate::consent::default_graph_url(&request.authority.host),
        str::to_owned,
    );
    // The daemon's own token stands in when it is a Graph token already.
    let own_graph_token = reach.token.filter(|_| {
        request.scopes.resource().trim_end_matches('/')
            == crate::consent::graph_scope(&graph_url).trim_end_matches("/.default")
    });
    let lookup = Lookup {
        request,
        options: &prepared.options,
        daemon: daemon.as_ref().filter(|_| !reach.in_fleet),
        admin: admin.as_ref(),
        graph_url: Some(&graph_url),
        token: own_graph_token,
        refused: reach.token.is_none(),
    };
    let looked_up = tokio::time::timeout_at(
        deadline.instant(),
        lookup::look_up(&lookup, env, now, DEFAULT_WARN_DAYS),
    )
    .await;
    let Ok(in_use) = looked_up else {
        list.step(
            "credential",
            Outcome::Skipped,
            format!(
                "not finished: the command's {} s deadline was reached reading the registration",
                deadline.budget().as_secs()
            ),
        );
        return;
    };
    let outcome = match in_use.expiry() {
        Some(Expiry::Expired { .. }) => Outcome::Failed,
        Some(_) => Outcome::Passed,
        None => Outcome::Skipped,
    };
    list.step("credential", outcome, expiry::summary(&in_use));
    let context = FixContext::for_request(request);
    expiry::apply(&mut list.findings, &in_use, &context, now);
    list.credential = Some(in_use);
}
