//! The highly privileged Microsoft Graph application permissions the audit names: each lets an
//! app grant itself (or anyone) more, or rewrite the directory. Matched by value through Graph's
//! own service principal (`appRoles`), so the ids below are documentation and a cross-check, not
//! what the audit trusts.
//!
//! Ids from the Microsoft Graph permissions reference
//! (<https://learn.microsoft.com/graph/permissions-reference>), the same as CISA ScubaGear's
//! `RiskyPermissions.json`. The reference warns that permissions which allow granting
//! authorization (RoleManagement.ReadWrite.Directory, AppRoleAssignment.ReadWrite.All) let an app
//! grant additional privileges to itself, other applications, or any user.

/// One privileged application permission of Microsoft Graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privileged {
    pub value: &'static str,
    /// The app role id on Microsoft Graph's service principal.
    pub id: &'static str,
    /// Why it is privileged, in a few words.
    pub why: &'static str,
}

/// The catalog: at most 64 entries, so a set of them fits one `u64` bitset.
pub const PRIVILEGED: &[Privileged] = &[
    Privileged {
        value: "Directory.ReadWrite.All",
        id: "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
        why: "reads and writes the whole directory",
    },
    Privileged {
        value: "RoleManagement.ReadWrite.Directory",
        id: "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
        why: "assigns directory roles, Global Administrator included, to anyone (itself too)",
    },
    Privileged {
        value: "Application.ReadWrite.All",
        id: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        why: "adds credentials to any app, so it can act as any app in the tenant",
    },
    Privileged {
        value: "AppRoleAssignment.ReadWrite.All",
        id: "06b708a9-e830-4db3-a914-8e69da51d44f",
        why: "grants any application permission to any app, itself included",
    },
];

/// The catalog index of a permission value (case-insensitive, as Graph compares them).
pub fn index_of(value: &str) -> Option<usize> {
    PRIVILEGED
        .iter()
        .position(|p| p.value.eq_ignore_ascii_case(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_fits_a_bitset_and_names_the_issue_four() {
        assert!(PRIVILEGED.len() <= 64);
        for value in [
            "Directory.ReadWrite.All",
            "RoleManagement.ReadWrite.Directory",
            "Application.ReadWrite.All",
            "AppRoleAssignment.ReadWrite.All",
        ] {
            assert!(index_of(value).is_some(), "{value}");
        }
        assert!(
            PRIVILEGED
                .iter()
                .all(|p| crate::auth::tenant::is_guid(p.id))
        );
        assert_eq!(index_of("User.Read.All"), None);
    }
}
