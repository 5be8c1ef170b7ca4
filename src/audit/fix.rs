//! The `az` command that fixes each issue, with the app's own ids. Every value that came from
//! the network is quoted for a POSIX shell unless it is a plain id (letters, digits, `-`), so a
//! hostile display name or key id pasted into a terminal runs nothing.
//!
//! Syntax from the Azure CLI reference: `az ad app credential reset|delete`
//! (<https://learn.microsoft.com/cli/azure/ad/app/credential>), `az ad app owner add`
//! (<https://learn.microsoft.com/cli/azure/ad/app/owner>), `az ad app permission delete`
//! (<https://learn.microsoft.com/cli/azure/ad/app/permission>), `az ad sp create` and
//! `az ad app update --sign-in-audience`; the grant's removal is Graph's
//! `DELETE /servicePrincipals/{resource id}/appRoleAssignedTo/{id}`
//! (<https://learn.microsoft.com/graph/api/serviceprincipal-delete-approleassignedto>) sent with
//! `az rest`.

/// A value as one shell word: as it is when it is a plain id, else in single quotes.
pub fn arg(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// A new secret beside the old one, then the old one deleted.
pub fn renew_secret(app_id: &str, key_id: &str, name: &str) -> Vec<String> {
    vec![
        format!(
            "az ad app credential reset --id {} --append --display-name {} --years 1",
            arg(app_id),
            arg(name)
        ),
        format!(
            "az ad app credential delete --id {} --key-id {}",
            arg(app_id),
            arg(key_id)
        ),
    ]
}

/// A new certificate beside the old one, then the old one deleted.
pub fn renew_certificate(app_id: &str, key_id: &str) -> Vec<String> {
    vec![
        format!(
            "az ad app credential reset --id {} --cert @new-cert.pem --append",
            arg(app_id)
        ),
        format!(
            "az ad app credential delete --id {} --key-id {} --cert",
            arg(app_id),
            arg(key_id)
        ),
    ]
}

/// A credential nothing signs in with, removed (after checking nothing holds it).
pub fn delete_credential(app_id: &str, key_id: &str, certificate: bool) -> Vec<String> {
    vec![format!(
        "az ad app credential delete --id {} --key-id {}{}",
        arg(app_id),
        arg(key_id),
        if certificate { " --cert" } else { "" }
    )]
}

pub fn add_owner(app_id: &str) -> Vec<String> {
    vec![format!(
        "az ad app owner add --id {} --owner-object-id <object id of a user or service principal>",
        arg(app_id)
    )]
}

pub fn remove_grant(graph_url: &str, resource_sp_id: &str, assignment_id: &str) -> Vec<String> {
    vec![format!(
        "az rest --method DELETE --uri {}",
        arg(&format!(
            "{}/v1.0/servicePrincipals/{resource_sp_id}/appRoleAssignedTo/{assignment_id}",
            graph_url.trim_end_matches('/')
        ))
    )]
}

pub fn remove_delegated(app_id: &str, resource_app_id: &str, scope_id: &str) -> String {
    format!(
        "az ad app permission delete --id {} --api {} --api-permissions {}",
        arg(app_id),
        arg(resource_app_id),
        arg(scope_id)
    )
}

pub fn service_principal(app_id: &str) -> Vec<String> {
    vec![
        format!("az ad sp create --id {}", arg(app_id)),
        format!(
            "az ad app update --id {} --sign-in-audience AzureADMyOrg",
            arg(app_id)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_values_are_quoted_unless_plain() {
        assert_eq!(
            arg("9999d1be-e182-4efa-8b0d-029e5af3dbcf"),
            "9999d1be-e182-4efa-8b0d-029e5af3dbcf"
        );
        assert_eq!(arg("a b"), "'a b'");
        assert_eq!(arg("x'; rm -rf ~; '"), "'x'\\''; rm -rf ~; '\\'''");
        assert_eq!(arg("$(id)"), "'$(id)'");
        assert_eq!(arg(""), "''");
        let fix = renew_secret("app", "key", "orders sync");
        assert_eq!(
            fix[0],
            "az ad app credential reset --id app --append --display-name 'orders sync' --years 1"
        );
    }
}
