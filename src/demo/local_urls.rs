//! The demo tenant's own API URLs, so a command pointed at it never calls the internet.
//!
//! The demo serves its resource APIs on its own loopback address, under the paths of its tenant
//! model's routes (`/graph/...`, `/sql/...`, `/api/...`). When the authority is a loopback host
//! (where only the demo tenant or a test server lives), a well-known resource's default probe
//! (`https://graph.microsoft.com/v1.0/organization`) would leave the machine with the demo's
//! token: the probe goes to the demo's route for that resource instead. The other way round, a
//! URL on the demo's address names its resource by its route, so the scope to ask for is known.
//! The shipped tenant model is the map; a tenant file of one's own may differ, and then nothing
//! is derived (the operator passes `--probe` / `--scope`).

use url::Url;

use super::model::{Resource, TenantModel};
use crate::auth::AuthorityHost;

/// The demo's URL to probe for `resource` (a scope's resource part) as app `client_id`: the
/// app's own probe path when it is a demo app of that resource, else the resource's first
/// route. `None` when the host is not loopback or the demo knows no such resource.
pub fn probe_url(host: &AuthorityHost, client_id: &str, resource: &str) -> Option<Url> {
    if !host.is_loopback() {
        return None;
    }
    let model = TenantModel::builtin().ok()?;
    let api = model.find_resource(resource)?;
    let path = model
        .application_by_client_id(client_id)
        .map(|app| app.probe_path.as_str())
        .filter(|path| api.routes.iter().any(|route| route.path == *path))
        .or_else(|| api.routes.first().map(|route| route.path.as_str()))?;
    Url::parse(&format!("{}{path}", host.as_str().trim_end_matches('/'))).ok()
}

/// The scope for a URL on a loopback host that one of the demo's routes serves, with the API's
/// name: `https://graph.microsoft.com/.default` for `http://127.0.0.1:PORT/graph/v1.0/users`.
pub fn scope_for(url: &Url) -> Option<(String, String)> {
    let host = AuthorityHost::parse(&url[..url::Position::BeforePath]).ok()?;
    if !host.is_loopback() {
        return None;
    }
    let model = TenantModel::builtin().ok()?;
    let served = |api: &&Resource| {
        api.routes.iter().any(|route| {
            // The API's path prefix (`/graph`, `/sql`, `/api`) decides, as the demo routes it.
            let prefix = route.path.split('/').nth(1).unwrap_or_default();
            url.path_segments()
                .and_then(|mut segments| segments.next())
                .is_some_and(|first| !prefix.is_empty() && first == prefix)
        })
    };
    let api = model.resources.iter().find(served)?;
    let identifier = api.identifier_uris.first()?;
    // Everything before the last `/` is the resource, so `{uri}/.default` asks for the URI
    // exactly (SQL's `https://database.windows.net/` becomes `…windows.net//.default`).
    Some((format!("{identifier}/.default"), api.display_name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities_probe_the_demos_own_routes() {
        let demo = AuthorityHost::parse("http://127.0.0.1:8400").unwrap();
        // The no-consent app's own probe, and the first Graph route for an app the demo lacks.
        assert_eq!(
            probe_url(
                &demo,
                "b31380ba-12b8-4a66-855e-70dadb7b3b7b",
                "https://graph.microsoft.com"
            )
            .unwrap()
            .as_str(),
            "http://127.0.0.1:8400/graph/v1.0/users"
        );
        assert!(
            probe_url(&demo, "someone-else", "https://graph.microsoft.com")
                .unwrap()
                .as_str()
                .starts_with("http://127.0.0.1:8400/graph/")
        );
        assert_eq!(probe_url(&demo, "x", "api://unknown"), None);
        let public = AuthorityHost::parse("https://login.microsoftonline.com").unwrap();
        assert_eq!(probe_url(&public, "x", "https://graph.microsoft.com"), None);
    }

    #[test]
    fn a_demo_url_names_its_scope() {
        let scope = |url: &str| scope_for(&Url::parse(url).unwrap()).map(|(scope, _)| scope);
        assert_eq!(
            scope("http://127.0.0.1:8400/graph/v1.0/users").as_deref(),
            Some("https://graph.microsoft.com/.default")
        );
        assert_eq!(
            scope("http://localhost:8400/sql/databases/orders/tables").as_deref(),
            Some("https://database.windows.net//.default")
        );
        assert_eq!(
            scope("http://127.0.0.1:8400/api/inventory/items").as_deref(),
            Some("api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default")
        );
        assert_eq!(scope("http://127.0.0.1:8400/elsewhere"), None);
        assert_eq!(scope("https://graph.microsoft.com/v1.0/users"), None);
    }
}
