//! Consistency checks of a tenant model, run once at load: ids are GUIDs, names are unique,
//! grants and routes name roles that exist, a database's routes ask for no role (its users
//! decide), handed-out certificates come with a key. A model that passes cannot make the server
//! answer something Entra ID never would.

use std::collections::HashSet;

use super::model::{Grant, TenantModel};

/// Checks the model; the message names the offending entry.
pub(super) fn check(model: &TenantModel) -> Result<(), String> {
    let tenant = &model.tenant;
    guid("tenant.id", &tenant.id)?;
    if !tenant.domain.contains('.') {
        return Err(format!(
            "tenant.domain {:?} is not a domain name",
            tenant.domain
        ));
    }
    let mut seen = HashSet::new();
    let mut paths = HashSet::new();
    for r in &model.resources {
        check_resource(r, &mut seen, &mut paths)?;
    }
    check_issuers(model)?;
    let mut scenarios = HashSet::new();
    for app in &model.applications {
        let who = format!("application {:?}", app.scenario);
        if !scenarios.insert(app.scenario.clone()) {
            return Err(format!(
                "two applications have the scenario {:?}",
                app.scenario
            ));
        }
        guid(&format!("{who} client_id"), &app.client_id)?;
        guid(
            &format!("{who} service_principal_id"),
            &app.service_principal_id,
        )?;
        if !seen.insert(app.client_id.to_ascii_lowercase()) {
            return Err(format!("{who} reuses the app id {}", app.client_id));
        }
        for secret in &app.secrets {
            guid(&format!("{who} secret id"), &secret.id)?;
        }
        if app.handout.certificate.is_some() != app.handout.private_key.is_some() {
            return Err(format!(
                "{who} hands out a certificate without its private key, or a key without its certificate"
            ));
        }
        check_federation(model, app, &who)?;
        if app.handout.secret.is_none()
            && app.handout.certificate.is_none()
            && app.handout.federated.is_none()
        {
            return Err(format!("{who} hands out no credential"));
        }
        check_grants(model, &app.grants, &who)?;
        check_requested(model, app, &who)?;
    }
    super::identity_model::check(model)
}

/// A resource's ids, roles, database users and routes; `seen` and `paths` collect app ids and
/// route paths across the model, which must be unique.
fn check_resource(
    r: &super::model::Resource,
    seen: &mut HashSet<String>,
    paths: &mut HashSet<String>,
) -> Result<(), String> {
    guid(&format!("resource {:?} app_id", r.display_name), &r.app_id)?;
    guid(
        &format!("resource {:?} service_principal_id", r.display_name),
        &r.service_principal_id,
    )?;
    if !seen.insert(r.app_id.to_ascii_lowercase()) {
        return Err(format!("two resources have app_id {}", r.app_id));
    }
    for role in &r.app_roles {
        guid(&format!("app role {:?} id", role.value), &role.id)?;
    }
    for user in r.database_users.iter().flatten() {
        guid(
            &format!("resource {:?} database user", r.display_name),
            user,
        )?;
    }
    for route in &r.routes {
        if r.database_users.is_some() && !route.any_role.is_empty() {
            return Err(format!(
                "route {} asks for app roles, but {} admits apps through database users",
                route.path, r.display_name
            ));
        }
        if !route.path.starts_with('/') {
            return Err(format!("route {:?} must start with /", route.path));
        }
        if !paths.insert(route.path.clone()) {
            return Err(format!("two routes have the path {}", route.path));
        }
        if let Some(missing) = route
            .any_role
            .iter()
            .find(|v| !r.app_roles.iter().any(|role| &role.value == *v))
        {
            return Err(format!(
                "route {} requires role {missing:?}, which {} does not define",
                route.path, r.display_name
            ));
        }
        if serde_json::from_str::<serde_json::Value>(&route.body).is_err() {
            return Err(format!("the body of route {} is not JSON", route.path));
        }
    }
    Ok(())
}

/// An app's `requested` permissions name a resource and permissions it defines.
fn check_requested(
    model: &TenantModel,
    app: &super::model::Application,
    who: &str,
) -> Result<(), String> {
    for requested in app.requested.iter().flatten() {
        let resource = model.find_resource(&requested.resource).ok_or_else(|| {
            format!(
                "{who} requests permissions of {:?}, which is no resource",
                requested.resource
            )
        })?;
        let defined =
            |list: &[super::model::AppRole], v: &String| list.iter().any(|d| &d.value == v);
        if let Some(v) = requested
            .application
            .iter()
            .find(|v| !defined(&resource.app_roles, v))
        {
            return Err(format!(
                "{who} requests application permission {v:?}, which {} does not define",
                resource.display_name
            ));
        }
        if let Some(v) = requested
            .delegated
            .iter()
            .find(|v| !defined(&resource.delegated_scopes, v))
        {
            return Err(format!(
                "{who} requests delegated permission {v:?}, which {} does not define",
                resource.display_name
            ));
        }
    }
    Ok(())
}

/// Each grant names a resource of the model, and roles that resource defines.
pub(super) fn check_grants(model: &TenantModel, grants: &[Grant], who: &str) -> Result<(), String> {
    for grant in grants {
        let resource = model.find_resource(&grant.resource).ok_or_else(|| {
            format!(
                "{who} has a grant on {:?}, which is no resource",
                grant.resource
            )
        })?;
        if let Some(role) = grant
            .roles
            .iter()
            .find(|v| !resource.app_roles.iter().any(|role| &role.value == *v))
        {
            return Err(format!(
                "{who} is granted {role:?}, which {} does not define",
                resource.display_name
            ));
        }
    }
    Ok(())
}

fn guid(what: &str, value: &str) -> Result<(), String> {
    uuid::Uuid::parse_str(value)
        .map(|_| ())
        .map_err(|_| format!("{what} {value:?} is not a GUID"))
}

/// The demo's external issuers: names that make clean paths.
fn check_issuers(model: &TenantModel) -> Result<(), String> {
    for issuer in &model.issuers {
        let ok = !issuer.name.is_empty()
            && issuer
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/')
            && !issuer.name.starts_with('/')
            && !issuer.name.ends_with('/');
        if !ok {
            return Err(format!(
                "issuer name {:?} must be letters, digits, '-' and inner '/'",
                issuer.name
            ));
        }
    }
    Ok(())
}

/// An app's federated credentials (a subject or a readable expression) and handed-out token.
fn check_federation(
    model: &TenantModel,
    app: &super::model::Application,
    who: &str,
) -> Result<(), String> {
    if let Some(federated) = &app.handout.federated
        && model.issuer(&federated.issuer).is_none()
    {
        return Err(format!(
            "{who} hands out a token of issuer {:?}, which is no [[issuers]] entry",
            federated.issuer
        ));
    }
    for credential in &app.federated_credentials {
        if let Some(expression) = &credential.claims_matching_expression {
            crate::federation::expression::Expression::parse(expression)
                .map_err(|e| format!("{who}: federated credential {:?}: {e}", credential.name))?;
        }
        if credential.subject.is_some() == credential.claims_matching_expression.is_some() {
            return Err(format!(
                "{who}: federated credential {:?} needs a subject or a claims_matching_expression, not both",
                credential.name
            ));
        }
    }
    Ok(())
}
