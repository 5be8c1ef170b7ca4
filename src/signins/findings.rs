//! What sign-in log entries (or their absence, or Graph's refusal to show them) mean: each
//! failure's AADSTS code explained through the catalog, a Conditional Access block by name, the
//! log's delay, and the permission or licence the read lacks.

use super::{AppliedPolicy, DOCS, Query, READ_PERMISSION, SignIn};
use crate::diagnose::{Catalog, Finding, FixContext, Severity};

/// Graph's code when the reading app lacks the permission. Source: a real 403 from
/// `auditLogs/signIns`' sibling read, microsoftgraph/microsoft-graph-explorer-v4#2731
/// (`"code": "Authentication_MSGraphPermissionMissing", "message": "Calling principal does not
/// have required MSGraph permissions AuditLog.Read.All"`).
pub const PERMISSION_MISSING: &str = "Authentication_MSGraphPermissionMissing";
/// Graph's code when the tenant has no Entra ID P1/P2. Source: microsoftgraph/
/// microsoft-graph-docs-contrib#3033 and msgraph-sdk-dotnet#1006 (`"message": "Neither tenant
/// is B2C or tenant doesn't have premium license"`).
pub const NO_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

/// Where the licence requirement is written.
const LICENSE_DOC: &str =
    "https://learn.microsoft.com/entra/identity/monitoring-health/concept-sign-ins";
/// Conditional Access for workload identities: what it blocks, and its failure reason.
const CA_DOC: &str =
    "https://learn.microsoft.com/entra/identity/conditional-access/workload-identity";

/// The findings for the entries `query` found.
pub fn findings(entries: &[SignIn], query: &Query, context: &FixContext) -> Vec<Finding> {
    let mut found = Vec::new();
    if entries.is_empty() {
        found.push(none_yet(query));
    }
    let catalog = Catalog::builtin();
    for entry in entries {
        found.extend(entry.blocking_policies().into_iter().map(blocked));
        if let Some(code) = entry.error_code() {
            // The fixes are for the app that failed to sign in, not the one reading the log.
            let mut own = context.clone();
            own.client_id = entry
                .app_id
                .clone()
                .filter(|id| crate::auth::tenant::is_guid(&id.to_ascii_lowercase()));
            let mut finding = catalog.finding(code, &own);
            if let Some(reason) = entry
                .status
                .as_ref()
                .and_then(|s| s.failure_reason.as_deref())
            {
                finding = finding.evidence(format!(
                    "sign-in log, {}: {reason}",
                    entry.created_date_time.as_deref().unwrap_or("-")
                ));
            }
            found.push(finding);
        }
    }
    if !entries.is_empty() && found.is_empty() {
        found.push(
            Finding::new(
                "signins.succeeded",
                Severity::Info,
                format!(
                    "{} sign-in{} found, every one succeeded",
                    entries.len(),
                    if entries.len() == 1 { "" } else { "s" }
                ),
            )
            .cause("Entra ID issued the token: a failure after this is the API's (probe it)"),
        );
    }
    if entries
        .iter()
        .any(|e| e.applied_conditional_access_policies.is_none())
    {
        found.push(
            Finding::new(
                "signins.conditional-access-hidden",
                Severity::Info,
                "Graph did not say which Conditional Access policies applied",
            )
            .cause(
                "appliedConditionalAccessPolicies is returned only to callers that may read \
                 Conditional Access data (the reading app also needs Policy.Read.All)",
            )
            .doc("https://learn.microsoft.com/graph/api/resources/appliedconditionalaccesspolicy"),
        );
    }
    crate::diagnose::sort(&mut found);
    found
}

/// Nothing in the log (yet) for the query.
fn none_yet(query: &Query) -> Finding {
    let what = match (&query.correlation_id, &query.app_id) {
        (Some(id), _) => format!("correlation id {id}"),
        (None, Some(app)) => format!("app {app}"),
        (None, None) => "this query".to_owned(),
    };
    Finding::new(
        "signins.none-yet",
        Severity::Warning,
        format!("No service-principal sign-in in the log for {what} (yet)"),
    )
    .cause(
        "sign-ins reach the log minutes after they happen; the log keeps 7 days (Entra ID \
         P1/P2: 30); and a request refused before Entra ID knew the tenant or the app (a \
         wrong tenant, an unknown client id) may not be in this tenant's log",
    )
    .fix("Run the lookup again in a few minutes")
    .fix("Check the tenant: the sign-in is logged in the tenant the token was requested from")
    .doc(DOCS)
}

/// A Conditional Access policy that blocked the sign-in.
fn blocked(policy: &AppliedPolicy) -> Finding {
    let name = policy.display_name.as_deref().unwrap_or("(unnamed)");
    Finding::new(
        "signins.blocked-by-conditional-access",
        Severity::Error,
        format!("Blocked by Conditional Access policy '{name}'"),
    )
    .cause(
        "a Conditional Access policy for workload identities applies to this service \
         principal and blocked the token request (such policies block only: by \
         location, outside the allowed IP ranges, or by service principal risk)",
    )
    .evidence(format!(
        "policy {} ({}): result failure{}",
        name,
        policy.id.as_deref().unwrap_or("-"),
        if policy.enforced_grant_controls.is_empty() {
            String::new()
        } else {
            format!(", grant controls {}", policy.enforced_grant_controls.join(", "))
        }
    ))
    .fix("Request the token from an allowed location (the sign-in's IP is in the entry), or have a Conditional Access Administrator exclude this service principal or add its IP range to the policy's named location")
    .fix("Portal: Entra admin center › Protection › Conditional Access › Policies")
    .doc(CA_DOC)
}

/// Graph refused the read: which permission, licence or role is missing, by Graph's own code.
pub fn denied(status: u16, detail: &str, url: &str, reader: &str) -> Finding {
    let evidence = format!("GET {url}: HTTP {status} {detail}");
    if detail.starts_with(NO_PREMIUM) {
        return Finding::new(
            "signins.tenant-not-premium",
            Severity::Error,
            "The tenant has no Microsoft Entra ID P1 or P2 licence: Graph does not serve its sign-in logs",
        )
        .cause(
            "reading sign-in logs through Microsoft Graph needs Entra ID P1 or P2 in the tenant, \
             whatever the permissions; the Entra admin center still shows them",
        )
        .evidence(evidence)
        .fix("Look the sign-in up in the Entra admin center: Entra ID › Monitoring & health › Sign-in logs › Service principal sign-ins")
        .fix("Or license the tenant with Microsoft Entra ID P1 or P2")
        .doc(LICENSE_DOC)
        .doc(DOCS);
    }
    Finding::new(
        "signins.permission-missing",
        Severity::Error,
        format!("The reading app lacks {READ_PERMISSION} (application permission, admin consent)"),
    )
    .cause(format!(
        "Graph refused app {reader} the sign-in log: its token carries no {READ_PERMISSION} \
         role. An app needs the permission only, no directory role (a signed-in user would also \
         need Reports Reader, Security Reader, Security Administrator or Global Reader)"
    ))
    .evidence(evidence)
    .fix(format!(
        "Grant app {reader} the Microsoft Graph application permission {READ_PERMISSION} and admin consent, then read again with a new token"
    ))
    .fix(format!(
        "az: az ad app permission add --id {reader} --api 00000003-0000-0000-c000-000000000000 --api-permissions b0afded3-3588-46d8-8b3d-9842eff778da=Role && az ad app permission admin-consent --id {reader}"
    ))
    .fix("Or read as another app that holds it: --admin-client-id <its id> (its secret in ENTRA_DOCTOR_ADMIN_SECRET)")
    .doc(DOCS)
}
