//! Findings of the consent audit: a permission never added, added as delegated instead of
//! application, never admin-consented, or consented after the token was issued; and, when Graph
//! cannot be read, the permission the audit itself needs.

use super::{Finding, FixContext, Severity};
use crate::consent::{AUDIT_PERMISSION, Directory, PermissionRow};

const PERMISSIONS_DOC: &str = "https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#application-permissions";
const CONSENT_DOC: &str =
    "https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent";

fn portal(context: &FixContext) -> String {
    context.render(
        "Portal: Entra admin center › App registrations › {client_id} › API permissions › Grant admin consent for the tenant",
    )
}

/// The findings for the audit's rows.
pub fn findings(
    directory: &Directory,
    rows: &[PermissionRow],
    context: &FixContext,
) -> Vec<Finding> {
    let mut found = Vec::new();
    let name = &directory.resource_name;
    // Only where an application permission of that name exists: delegated User.Read, which every
    // new registration gets, has no application twin and is no mistake.
    let delegated: Vec<&PermissionRow> = rows
        .iter()
        .filter(|r| r.delegated_only && directory.app_roles.iter().any(|(_, v)| *v == r.permission))
        .collect();
    if !delegated.is_empty() {
        let mut finding = Finding::new(
            "consent.delegated-only",
            Severity::Error,
            format!("{name} permissions were added as Delegated, not Application"),
        )
        .cause(
            "delegated permissions act for a signed-in user; a daemon has none, so admin consent on them never puts a \
             role in its token (the classic mistake: the token has no roles, the API answers 403)",
        )
        .evidence(format!(
            "requested as delegated only: {}",
            delegated.iter().map(|r| r.permission.as_str()).collect::<Vec<_>>().join(", ")
        ));
        for row in &delegated {
            if let Some((id, _)) = directory
                .app_roles
                .iter()
                .find(|(_, v)| *v == row.permission)
            {
                finding = finding.fix(context.render(&format!(
                    "az ad app permission add --id {{client_id}} --api {} --api-permissions {id}=Role",
                    directory.resource_app_id
                )));
            }
        }
        found.push(
            finding
                .fix(context.render("Then: az ad app permission admin-consent --id {client_id}"))
                .fix(context.render(
                    "Portal: App registrations › {client_id} › API permissions › Add a permission › (the API) › Application permissions",
                ))
                .fix("Then acquire a new token (entra-doctor token --force-refresh)")
                .doc(PERMISSIONS_DOC),
        );
    }
    found.extend(missing(directory, rows, context));
    let stale: Vec<&PermissionRow> = rows.iter().filter(|r| r.token_stale).collect();
    if !stale.is_empty() {
        let mut finding = Finding::new(
            "consent.token-stale",
            Severity::Warning,
            "Consent was granted after the current token was issued",
        )
        .cause("a token keeps the roles it was issued with: this one predates the consent, so it lacks the new roles")
        .fix("Acquire a new token: entra-doctor token --force-refresh (a daemon: drop its cached token, or wait for it to expire)");
        for row in stale {
            finding = finding.evidence(format!(
                "{}: consented {}, not in the token's roles",
                row.permission,
                row.consented_on.map(|t| t.to_string()).unwrap_or_default()
            ));
        }
        found.push(finding.doc(PERMISSIONS_DOC));
    }
    found
}

/// `consent.missing`: application permissions requested but not consented, or none requested.
fn missing(directory: &Directory, rows: &[PermissionRow], context: &FixContext) -> Option<Finding> {
    let name = &directory.resource_name;
    let missing: Vec<&PermissionRow> = rows
        .iter()
        .filter(|r| r.requested_as_application && !r.admin_consent)
        .collect();
    if missing.is_empty() && !rows.is_empty() {
        return None;
    }
    let (title, evidence) = if rows.is_empty() {
        (
            format!("The app requests no permission of {name}"),
            format!(
                "requiredResourceAccess has nothing for {}",
                directory.resource_app_id
            ),
        )
    } else {
        (
            format!("Admin consent is missing for {name} application permissions"),
            format!(
                "requested as application, not consented: {}",
                missing
                    .iter()
                    .map(|r| r.permission.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    let finding = Finding::new("consent.missing", Severity::Error, title)
        .cause(
            "an application permission reaches the token only once it is added to the app registration AND an \
             admin granted consent for the tenant",
        )
        .evidence(evidence);
    // Nothing requested: consent alone grants nothing; the permission must be added first.
    let finding = if rows.is_empty() {
        finding
            .fix(format!(
                "{} --api {} --api-permissions <app role id of the permission the API needs>=Role",
                context.render("az ad app permission add --id {client_id}"),
                directory.resource_app_id
            ))
            .fix(context.render("Then: az ad app permission admin-consent --id {client_id}"))
    } else {
        finding.fix(context.render("az ad app permission admin-consent --id {client_id}"))
    };
    Some(
        finding
            .fix(portal(context))
            .fix("Then acquire a new token (entra-doctor token --force-refresh)")
            .doc(CONSENT_DOC),
    )
}

/// Graph refused the audit's own reads.
pub fn denied(status: u16, detail: &str, url: &str, context: &FixContext) -> Finding {
    Finding::new(
        "consent.no-graph-access",
        Severity::Warning,
        format!("The consent audit cannot read the app registration: it needs {AUDIT_PERMISSION}"),
    )
    .cause(format!(
        "Microsoft Graph answered {status} to the audit: the Graph token carries neither {AUDIT_PERMISSION} nor \
         Directory.Read.All (application permissions)"
    ))
    .evidence(format!("GET {url}: {detail}"))
    .fix(format!(
        "Audit with a second app that holds {AUDIT_PERMISSION}: entra-doctor consent --admin-client-id <its id> \
         (its secret in ENTRA_DOCTOR_ADMIN_SECRET)"
    ))
    .fix(context.render(&format!(
        "Or grant the daemon {AUDIT_PERMISSION} (application) — only if it may read every app registration"
    )))
    .fix(portal(context))
}

/// The app or a service principal is not where the audit looked.
pub fn not_found(what: &str) -> Finding {
    Finding::new(
        "consent.not-found",
        Severity::Error,
        "The consent audit found no such object in the tenant",
    )
    .cause(format!("Graph has no {what}"))
    .fix("Check --tenant and --client-id, and that the resource's service principal exists in the tenant")
}
