//! The `az` command that fixes each issue, with the app's own ids. Every value that came from
//! the network is one shell word ([`crate::shell::word`]), so a hostile display name or key id
//! pasted into a terminal runs nothing.
//!
//! Syntax from the Azure CLI reference: `az ad app credential reset|delete`
//! (<https://learn.microsoft.com/cli/azure/ad/app/credential>), `az ad app owner add`
//! (<https://learn.microsoft.com/cli/azure/ad/app/owner>), `az ad app permission delete`
//! (<https://learn.microsoft.com/cli/azure/ad/app/permission>), `az ad sp create` and
//! `az ad app update --sign-in-audience`; the grant's removal is Graph's
//! `DELETE /servicePrincipals/{resource id}/appRoleAssignedTo/{id}`
//! (<https://learn.microsoft.com/graph/api/serviceprincipal-delete-approleassignedto>) sent with
//! `az rest`.

use crate::shell::word;

/// A new secret beside the old one, then the old one deleted.
pub fn renew_secret(app_id: &str, key_id: &str, name: &str) -> Vec<String> {
    vec![
        format!(
            "az ad app credential reset --id {} --append --display-name {} --years 1",
            word(app_id),
            word(name)
        ),
        format!(
            "az ad app credential delete --id {} --key-id {}",
            word(app_id),
            word(key_id)
        ),
    ]
}

/// A new certificate beside the old one, then the old one deleted.
pub fn renew_certificate(app_id: &str, key_id: &str) -> Vec<String> {
    vec![
        format!(
            "az ad app credential reset --id {} --cert @new-cert.pem --append",
            word(app_id)
        ),
        format!(
            "az ad app credential delete --id {} --key-id {} --cert",
            word(app_id),
            word(key_id)
        ),
    ]
}

/// A credential nothing signs in with, removed (after checking nothing holds it).
pub fn delete_credential(app_id: &str, key_id: &str, certificate: bool) -> Vec<String> {
    vec![format!(
        "az ad app credential delete --id {} --key-id {}{}",
        word(app_id),
        word(key_id),
        if certificate { " --cert" } else { "" }
    )]
}

pub fn add_owner(app_id: &str) -> Vec<String> {
    vec![format!(
        "az ad app owner add --id {} --owner-object-id <object id of a user or service principal>",
        word(app_id)
    )]
}

pub fn remove_grant(graph_url: &str, resource_sp_id: &str, assignment_id: &str) -> Vec<String> {
    vec![format!(
        "az rest --method DELETE --uri {}",
        word(&format!(
            "{}/v1.0/servicePrincipals/{resource_sp_id}/appRoleAssignedTo/{assignment_id}",
            graph_url.trim_end_matches('/')
        ))
    )]
}

pub fn remove_delegated(app_id: &str, resource_app_id: &str, scope_id: &str) -> String {
    format!(
        "az ad app permission delete --id {} --api {} --api-permissions {}",
        word(app_id),
        word(resource_app_id),
        word(scope_id)
    )
}

pub fn service_principal(app_id: &str) -> Vec<String> {
    vec![
        format!("az ad sp create --id {}", word(app_id)),
        format!(
            "az ad app update --id {} --sign-in-audience AzureADMyOrg",
            word(app_id)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_quotes_a_name_with_a_space() {
        let fix = renew_secret("app", "key", "orders sync");
        assert_eq!(
            fix[0],
            "az ad app credential reset --id app --append --display-name 'orders sync' --years 1"
        );
    }
}
