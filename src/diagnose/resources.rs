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

    /// True when the service accepts `aud` exactly as it is.
    pub fn accepts_audience(&self, aud: &str) -> bool {
        self.audiences.iter().any(|a| a.eq_ignore_ascii_case(aud))
    }

    /// The route `method path` matches, with `{id}` segments matching anything. A query string
    /// is ignored, and the route may sit under a prefix (a gateway, the demo tenant's `/graph`).
    pub fn route(&self, method: &str, path: &str) -> Option<&Route> {
        let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
        let wanted: Vec<&str> = path.split('/').collect();
        self.routes.iter().find(|route| {
            let pattern: Vec<&str> = route.path.trim_end_matches('/').split('/').collect();
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
        RESOURCES.get_or_init(|| Resources::parse(SOURCE).unwrap_or(Resources { all: Vec::new() }))
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
