//! Well-known resources (`assets/resources.toml`): the audience each API accepts, its correct
//! scope, a harmless probe, and for Microsoft Graph the application permission each route needs.

use std::sync::OnceLock;

use serde::Deserialize;

const SOURCE: &str = include_str!("../../assets/resources.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub app_id: String,
    pub hosts: Vec<String>,
    pub audiences: Vec<String>,
    pub scope: String,
    #[serde(default)]
    pub needs_trailing_slash: bool,
    #[serde(default)]
    pub token_version: Option<u8>,
    #[serde(default)]
    pub probe: Option<String>,
    #[serde(default)]
    pub probe_permission: Vec<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub docs: Vec<String>,
    #[serde(default, rename = "route")]
    pub routes: Vec<Route>,
    /// How the service decides what an app may do once its token is accepted.
    #[serde(default)]
    pub authorization: Authorization,
}

/// Where a service looks for what an app may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Authorization {
    /// The token's `roles` claim: application permissions granted with admin consent.
    #[default]
    AppRoles,
    /// A user inside the database made for the app (`CREATE USER … FROM EXTERNAL PROVIDER`), as
    /// Azure SQL does: its service principal defines no application permission, so the token
    /// carries no `roles` and needs none.
    DatabaseUser,
}

impl Resource {
    /// True when `host` is one of the resource's hosts (`*.vault.azure.net` matches instances).
    pub fn serves_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => host == *pattern,
            })
    }

    /// True when the service accepts `aud` exactly as it is (`*` in a listed audience stands
    /// for one instance name, as in `https://*.documents.azure.com`).
    pub fn accepts_audience(&self, aud: &str) -> bool {
        self.audiences.iter().any(|a| matches_pattern(a, aud))
    }

    /// The route `method path` matches, with `{id}` segments matching anything. A query string
    /// is ignored, and the route may sit under a prefix (a gateway, the demo tenant's `/graph`).
    pub fn route(&self, method: &str, path: &str) -> Option<&Route> {
        let path = path.split('?').next().unwrap_or(path).trim_matches('/');
        let wanted: Vec<&str> = path.split('/').collect();
        self.routes.iter().find(|route| {
            let pattern: Vec<&str> = route.path.trim_matches('/').split('/').collect();
            route.method.eq_ignore_ascii_case(method)
                && pattern.len() <= wanted.len()
                && pattern.iter().rev().zip(wanted.iter().rev()).all(|(p, w)| {
                    (p.starts_with('{') && p.ends_with('}')) || p.eq_ignore_ascii_case(w)
                })
        })
    }
}

#[derive(Deserialize)]
struct File {
    resource: Vec<Resource>,
}

#[derive(Debug)]
pub struct Resources {
    all: Vec<Resource>,
}

impl Resources {
    /// The compiled-in list. A test proves it parses, so the fallback is never used.
    pub fn builtin() -> &'static Resources {
        static RESOURCES: OnceLock<Resources> = OnceLock::new();
        RESOURCES.get_or_init(|| {
            super::parsed("assets/resources.toml");
            Resources::parse(SOURCE).unwrap_or(Resources { all: Vec::new() })
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self { all: file.resource })
    }

    pub fn all(&self) -> &[Resource] {
        &self.all
    }

    pub fn by_host(&self, host: &str) -> Option<&Resource> {
        self.all.iter().find(|r| r.serves_host(host))
    }

    /// The resource a scope's resource part (or a token's `aud`) names, with or without its
    /// trailing slash, or by app id.
    pub fn by_identifier(&self, identifier: &str) -> Option<&Resource> {
        let bare = identifier.trim_end_matches('/');
        self.all.iter().find(|r| {
            r.app_id.eq_ignore_ascii_case(bare)
                || r.audiences
                    .iter()
                    .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(bare))
        })
    }
}

/// Case-insensitive match where each `*` stands for a run of characters without `/` or `.`
/// (one DNS label: an account, vault or cluster name).
fn matches_pattern(pattern: &str, value: &str) -> bool {
    let (pattern, value) = (pattern.to_ascii_lowercase(), value.to_ascii_lowercase());
    let Some((head, tail)) = pattern.split_once('*') else {
        return pattern == value;
    };
    let Some(rest) = value.strip_prefix(head) else {
        return false;
    };
    (0..=rest.len())
        .filter(|&i| rest.is_char_boundary(i))
        .any(|i| {
            let (label, after) = rest.split_at(i);
            !label.is_empty() && !label.contains(['/', '.']) && matches_pattern(tail, after)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_audiences_and_prefixed_routes() {
        assert!(matches_pattern(
            "https://*.documents.azure.com",
            "https://contoso.documents.azure.com"
        ));
        assert!(!matches_pattern(
            "https://*.documents.azure.com",
            "https://a.b.documents.azure.com"
        ));
        assert!(!matches_pattern(
            "https://*.documents.azure.com",
            "https://.documents.azure.com"
        ));
        assert!(matches_pattern(
            "https://vault.azure.net",
            "HTTPS://VAULT.AZURE.NET"
        ));
        let graph = Resources::builtin()
            .by_host("graph.microsoft.com")
            .expect("graph is listed");
        assert!(graph.route("GET", "/v1.0/users").is_some());
        assert!(graph.route("GET", "/graph/v1.0/users?$top=1").is_some());
        assert!(
            graph
                .route("POST", "/v1.0/users")
                .is_none_or(|r| r.method == "POST")
        );
    }

    #[test]
    fn shipped_data_is_complete() {
        let resources = Resources::parse(SOURCE).expect("assets/resources.toml parses");
        assert!(resources.all().len() >= 11);
        for resource in resources.all() {
            assert!(resource.scope.ends_with("/.default"), "{}", resource.id);
            assert!(
                !resource.hosts.is_empty() && !resource.audiences.is_empty(),
                "{}",
                resource.id
            );
            if resource.needs_trailing_slash {
                assert!(
                    resource.scope.ends_with("//.default"),
                    "{}: scope keeps the slash",
                    resource.id
                );
            }
        }
    }
}
