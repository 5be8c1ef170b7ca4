//! Client-credentials scopes, and how Entra ID reads a resource out of them.
//!
//! An app-only token is for one resource and carries every application permission granted on
//! it, so the only valid scope is `<resource>/.default`. Entra ID takes the resource to be
//! everything before the *last* `/` of the scope: `https://database.windows.net/.default` asks for
//! `https://database.windows.net` (no slash), `https://database.windows.net//.default` for
//! `https://database.windows.net/` — the trailing-slash audience of MSAL.NET issue #747.

use serde::Serialize;

use super::tenant::is_guid;
use crate::error::{Error, Result};

const DEFAULT_SUFFIX: &str = "/.default";
const GRAPH: &str = "https://graph.microsoft.com";

/// Resources whose APIs accept only the audience *with* its trailing slash.
const SLASHED_AUDIENCES: &[(&str, &str)] = &[
    ("https://database.windows.net/", "Azure SQL"),
    ("https://batch.core.windows.net/", "Azure Batch"),
    ("https://datalake.azure.net/", "Azure Data Lake"),
];

/// The resource Entra ID reads from a scope: everything before the last `/`.
///
/// A scope without `/` (`User.Read`) names a permission of Microsoft Graph, so its resource is
/// Graph, as Entra ID reads it.
pub fn resource_of(scope: &str) -> &str {
    match scope.rfind('/') {
        Some(index) => &scope[..index],
        None => GRAPH,
    }
}

/// A preflight remark about one scope: a stable id, what Entra ID will make of it, a fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeAdvice {
    pub id: &'static str,
    pub scope: String,
    pub message: String,
    pub suggestion: Option<String>,
}

/// What to tell the operator about a scope before it is sent. Empty when all is well.
pub fn lint(scope: &str) -> Vec<ScopeAdvice> {
    let advice = |id, message: String, suggestion: Option<String>| ScopeAdvice {
        id,
        scope: scope.to_owned(),
        message,
        suggestion,
    };
    let mut found = Vec::new();
    if let Some(resource) = scope.strip_suffix(DEFAULT_SUFFIX) {
        if let Some((slashed, name)) = slashed_audience_missing(resource) {
            found.push(advice(
                "scope.trailing-slash-audience",
                format!(
                    "Entra ID will read the resource as {resource} — {name} accepts only tokens \
                     whose aud is {slashed}; use {slashed}/.default"
                ),
                Some(format!("{slashed}/.default")),
            ));
        }
        return found;
    }
    let lower = scope.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "openid" | "profile" | "email" | "offline_access"
    ) {
        found.push(advice(
            "scope.delegated",
            format!(
                "{scope} is a sign-in scope for a user; an app-only token has no user, so Entra \
                 ID refuses it (AADSTS1002012); ask for the API's /.default scope instead"
            ),
            None,
        ));
    } else if is_resource_like(scope) {
        let resource = scope;
        found.push(advice(
            "scope.missing-default",
            format!(
                "{scope} names a resource but not /.default; client credentials must ask for \
                 <resource>/.default (Entra ID answers AADSTS1002012 otherwise)"
            ),
            Some(format!("{resource}{DEFAULT_SUFFIX}")),
        ));
    } else {
        let resource = resource_of(scope);
        let permission = scope.rsplit('/').next().unwrap_or(scope);
        found.push(advice(
            "scope.delegated",
            format!(
                "{scope} asks for the single permission {permission:?} of {resource}; an app-only \
                 token cannot ask for permissions one by one — it carries every application \
                 permission granted to the app by admin consent (Entra ID answers \
                 AADSTS1002012); ask for {resource}/.default"
            ),
            Some(format!("{resource}{DEFAULT_SUFFIX}")),
        ));
    }
    found
}

/// A URI or GUID with no permission name after it: `https://graph.microsoft.com`,
/// `https://database.windows.net/`, `api://…`, or a bare application id.
fn is_resource_like(scope: &str) -> bool {
    if is_guid(&scope.to_ascii_lowercase()) {
        return true;
    }
    let Some((_, rest)) = scope.split_once("://") else {
        return false;
    };
    // A path whose last segment looks like a permission (`User.Read.All`) is a permission.
    let last = rest
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(rest);
    !rest.trim_end_matches('/').contains('/') || !last.contains('.')
}

fn slashed_audience_missing(resource: &str) -> Option<(&'static str, &'static str)> {
    SLASHED_AUDIENCES
        .iter()
        .find(|(slashed, _)| slashed.trim_end_matches('/').eq_ignore_ascii_case(resource))
        .copied()
}

/// The scopes of one token request: at least one, no blanks, one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSet {
    scopes: Vec<String>,
}

impl ScopeSet {
    pub fn parse<S: AsRef<str>>(inputs: &[S]) -> Result<Self> {
        let mut scopes: Vec<String> = Vec::new();
        for input in inputs {
            // `--scope "a b"` is how a space-separated list arrives from scripts: accept it.
            for scope in input.as_ref().split_whitespace() {
                if !scopes.iter().any(|s| s == scope) {
                    scopes.push(scope.to_owned());
                }
            }
            if input.as_ref().trim().is_empty() {
                return Err(Error::InvalidScope {
                    scope: input.as_ref().to_owned(),
                    reason: "it is empty; pass --scope <resource>/.default".into(),
                });
            }
        }
        let Some(first) = scopes.first() else {
            return Err(Error::InvalidScope {
                scope: String::new(),
                reason: "no scope given; pass --scope <resource>/.default, e.g. \
                         https://graph.microsoft.com/.default"
                    .into(),
            });
        };
        let first_resource = resource_of(first);
        if let Some(other) = scopes
            .iter()
            .find(|s| !resource_of(s).eq_ignore_ascii_case(first_resource))
        {
            return Err(Error::ScopesNameTwoResources {
                first: first_resource.to_owned(),
                second: resource_of(other).to_owned(),
            });
        }
        Ok(Self { scopes })
    }

    /// The scopes in the order given, as sent in the request.
    pub fn as_slice(&self) -> &[String] {
        &self.scopes
    }

    /// The `scope` form field: space separated.
    pub fn to_request_value(&self) -> String {
        self.scopes.join(" ")
    }

    /// The resource Entra ID will read from these scopes.
    pub fn resource(&self) -> &str {
        self.scopes.first().map_or(GRAPH, |s| resource_of(s))
    }

    /// Order- and case-insensitive form for cache keys, as MSAL keys its app token cache.
    /// Slashes are kept: `…/.default` and `…//.default` are different tokens.
    pub fn normalized(&self) -> String {
        let mut lower: Vec<String> = self.scopes.iter().map(|s| s.to_ascii_lowercase()).collect();
        lower.sort();
        lower.dedup();
        lower.join(" ")
    }

    pub fn lints(&self) -> Vec<ScopeAdvice> {
        self.scopes.iter().flat_map(|s| lint(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_is_everything_before_the_last_slash() {
        assert_eq!(
            resource_of("https://database.windows.net/.default"),
            "https://database.windows.net"
        );
        assert_eq!(
            resource_of("https://database.windows.net//.default"),
            "https://database.windows.net/"
        );
        assert_eq!(resource_of("api://1b3c/.default"), "api://1b3c");
        assert_eq!(resource_of("User.Read"), GRAPH);
    }

    #[test]
    fn good_scopes_have_no_advice() {
        for ok in [
            "https://graph.microsoft.com/.default",
            "https://database.windows.net//.default",
            "00000003-0000-0000-c000-000000000000/.default",
            "api://contoso-api/.default",
        ] {
            assert_eq!(lint(ok), vec![], "{ok}");
        }
    }

    #[test]
    fn trailing_slash_audience_is_explained() {
        let advice = lint("https://database.windows.net/.default");
        assert_eq!(advice.len(), 1);
        assert_eq!(advice[0].id, "scope.trailing-slash-audience");
        assert!(advice[0].message.starts_with(
            "Entra ID will read the resource as https://database.windows.net — Azure SQL"
        ));
        assert_eq!(
            advice[0].suggestion.as_deref(),
            Some("https://database.windows.net//.default")
        );
    }

    #[test]
    fn bare_resources_get_the_default_suffix() {
        for (scope, suggestion) in [
            (
                "https://graph.microsoft.com",
                "https://graph.microsoft.com/.default",
            ),
            (
                "https://database.windows.net/",
                "https://database.windows.net//.default",
            ),
            ("api://contoso-api", "api://contoso-api/.default"),
            (
                "1b3c2d4e-0000-4000-8000-000000000001",
                "1b3c2d4e-0000-4000-8000-000000000001/.default",
            ),
        ] {
            let advice = lint(scope);
            assert_eq!(advice[0].id, "scope.missing-default", "{scope}");
            assert_eq!(advice[0].suggestion.as_deref(), Some(suggestion), "{scope}");
        }
    }

    #[test]
    fn delegated_permissions_are_explained() {
        let advice = lint("User.Read");
        assert_eq!(advice[0].id, "scope.delegated");
        assert!(
            advice[0].message.contains("admin consent"),
            "{}",
            advice[0].message
        );
        assert_eq!(
            advice[0].suggestion.as_deref(),
            Some("https://graph.microsoft.com/.default")
        );
        let advice = lint("https://graph.microsoft.com/Mail.Send");
        assert_eq!(
            advice[0].suggestion.as_deref(),
            Some("https://graph.microsoft.com/.default")
        );
        assert_eq!(lint("openid")[0].id, "scope.delegated");
    }

    #[test]
    fn one_request_one_resource() {
        let err = ScopeSet::parse(&[
            "https://graph.microsoft.com/.default",
            "https://vault.azure.net/.default",
        ])
        .unwrap_err();
        assert!(matches!(err, Error::ScopesNameTwoResources { .. }), "{err}");
        assert!(ScopeSet::parse::<&str>(&[]).is_err());
        assert!(ScopeSet::parse(&["  "]).is_err());
    }

    #[test]
    fn normalized_keeps_slashes_and_ignores_order() {
        let a = ScopeSet::parse(&["https://database.windows.net/.default"]).unwrap();
        let b = ScopeSet::parse(&["https://database.windows.net//.default"]).unwrap();
        assert_ne!(a.normalized(), b.normalized());
        let c = ScopeSet::parse(&[
            "HTTPS://Graph.microsoft.com/.default https://graph.microsoft.com/.default",
        ])
        .unwrap();
        assert_eq!(c.normalized(), "https://graph.microsoft.com/.default");
        assert_eq!(c.as_slice().len(), 2, "sent as given");
    }
}
