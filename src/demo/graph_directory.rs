//! The Microsoft Graph directory reads of the consent audit, answered from the tenant model:
//! `GET /v1.0/applications?$filter=appId eq '…'` (the app registration's
//! `requiredResourceAccess`), `GET /v1.0/servicePrincipals?$filter=appId eq '…'` (a service
//! principal with its `appRoles` and `oauth2PermissionScopes`), and
//! `GET /v1.0/servicePrincipals/{id}/appRoleAssignments` (the admin-consented roles, with their
//! `createdDateTime`). Like Graph, they need `Application.Read.All` or `Directory.Read.All`.
//! Also an application's federated identity credentials
//! (`GET /{v1.0|beta}/applications(appId='…')/federatedIdentityCredentials`), and `POST` to the
//! same path to add one, which needs `Application.ReadWrite.All`.

use serde_json::{Value, json};

use super::model::{Application, Resource, Route, TenantModel};

const PREFIX: &str = "/graph/v1.0/";

/// True for the paths this module answers.
pub(super) fn serves(path: &str) -> bool {
    if federated_app_id(path).is_some() {
        return true;
    }
    path.strip_prefix(PREFIX).is_some_and(|rest| {
        rest == "applications"
            || single_app_id(rest).is_some()
            || rest == "servicePrincipals"
            || (rest.starts_with("servicePrincipals/") && rest.ends_with("/appRoleAssignments"))
    })
}

/// The client id of a `POST …/applications(appId='…')/federatedIdentityCredentials`.
pub(super) fn federated_post_target(path: &str) -> Option<&str> {
    federated_app_id(path).map(|(_, app_id)| app_id)
}

/// The route a write is checked against: Graph's role for changing applications.
pub(super) fn write_route(path: &str) -> Route {
    Route {
        path: path.to_owned(),
        any_role: vec!["Application.ReadWrite.All".into()],
        rate_limit: None,
        auth_context: None,
        body: String::new(),
    }
}

/// A `federatedIdentityCredential` from a POST body: name, issuer, subject, audiences.
pub(super) fn federated_credential_body(
    body: &[u8],
) -> Result<(String, String, String, Vec<String>), String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON ({e})"))?;
    let text = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("'{name}' is missing or not a string"))
    };
    let audiences: Vec<String> = value
        .get("audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if value
        .get("claimsMatchingExpression")
        .is_some_and(|v| !v.is_null())
    {
        return Err(
            "a claimsMatchingExpression is added through Graph beta, which the demo does not write"
                .into(),
        );
    }
    Ok((text("name")?, text("issuer")?, text("subject")?, audiences))
}

/// The route the checks run against: Graph's roles for reading applications (the sign-in
/// activity report's own, for it).
pub(super) fn route(path: &str) -> Route {
    Route {
        path: path.to_owned(),
        any_role: super::graph_listing::roles(path)
            .unwrap_or_else(|| vec!["Application.Read.All".into(), "Directory.Read.All".into()]),
        rate_limit: None,
        auth_context: None,
        body: String::new(),
    }
}

/// The answer's body, or `None` for a 404. `host` fills the demo issuers' URLs.
pub(super) fn answer(
    model: &TenantModel,
    host: &str,
    path: &str,
    query: Option<&str>,
) -> Option<Value> {
    if let Some((version, app_id)) = federated_app_id(path) {
        return federated_credentials(model, host, version, app_id);
    }
    let rest = path.strip_prefix(PREFIX)?;
    let wanted = filter_app_id(query);
    let context = |what: &str| format!("https://graph.microsoft.com/v1.0/$metadata#{what}");
    if let Some(app_id) = single_app_id(rest) {
        let app = model.application_by_client_id(app_id)?;
        let mut object = select(application(model, app), query);
        if let Value::Object(map) = &mut object {
            map.insert(
                "@odata.context".into(),
                json!(context("applications/$entity")),
            );
        }
        return Some(object);
    }
    if rest == "applications" {
        let apps: Vec<Value> = model
            .applications
            .iter()
            .filter(|a| {
                wanted
                    .as_ref()
                    .is_none_or(|w| a.client_id.eq_ignore_ascii_case(w))
            })
            .map(|a| application(model, a))
            .collect();
        return Some(json!({"@odata.context": context("applications"), "value": apps}));
    }
    if rest == "servicePrincipals" {
        let mut sps: Vec<Value> = model
            .resources
            .iter()
            .filter(|r| {
                wanted
                    .as_ref()
                    .is_none_or(|w| r.app_id.eq_ignore_ascii_case(w))
            })
            .map(resource_principal)
            .collect();
        sps.extend(
            model
                .applications
                .iter()
                .filter(|a| wanted.as_ref().is_none_or(|w| a.client_id.eq_ignore_ascii_case(w)))
                .map(|a| {
                    json!({"id": a.service_principal_id, "appId": a.client_id,
                           "displayName": a.display_name, "appRoles": [], "oauth2PermissionScopes": []})
                }),
        );
        return Some(json!({"@odata.context": context("servicePrincipals"), "value": sps}));
    }
    let id = rest
        .strip_prefix("servicePrincipals/")?
        .strip_suffix("/appRoleAssignments")?;
    let app = model
        .applications
        .iter()
        .find(|a| a.service_principal_id.eq_ignore_ascii_case(id))?;
    let mut assignments = Vec::new();
    for grant in &app.grants {
        let Some(resource) = model.find_resource(&grant.resource) else {
            continue;
        };
        for role in resource
            .app_roles
            .iter()
            .filter(|r| grant.roles.contains(&r.value))
        {
            assignments.push(json!({
                "id": format!("{}-{}", &app.service_principal_id[..8], &role.id[..8]),
                "appRoleId": role.id,
                "createdDateTime": grant.consented.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "principalDisplayName": app.display_name,
                "principalId": app.service_principal_id,
                "principalType": "ServicePrincipal",
                "resourceDisplayName": resource.display_name,
                "resourceId": resource.service_principal_id,
            }));
        }
    }
    Some(json!({"@odata.context": context("appRoleAssignments"), "value": assignments}))
}

/// `GET /{v1.0|beta}/applications(appId='…')/federatedIdentityCredentials`: the version and
/// the app id.
fn federated_app_id(path: &str) -> Option<(&'static str, &str)> {
    let (version, rest) = if let Some(rest) = path.strip_prefix("/graph/v1.0/") {
        ("v1.0", rest)
    } else {
        ("beta", path.strip_prefix("/graph/beta/")?)
    };
    let app_id = rest
        .strip_prefix("applications(appId='")?
        .strip_suffix("')/federatedIdentityCredentials")?;
    (!app_id.contains('\'') && !app_id.contains('/')).then_some((version, app_id))
}

/// An app's federated identity credentials as Graph lists them. v1.0 has no
/// `claimsMatchingExpression` (a flexible credential shows there with a null subject); beta
/// does (<https://learn.microsoft.com/graph/api/resources/federatedidentitycredential>).
fn federated_credentials(
    model: &TenantModel,
    host: &str,
    version: &str,
    app_id: &str,
) -> Option<Value> {
    let app = model.application_by_client_id(app_id)?;
    let items: Vec<Value> = app
        .federated_credentials
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut item = json!({
                "id": format!("{}-{i:04}-4000-8000-{}", &app.service_principal_id[..8], &app.client_id[24..]),
                "name": c.name,
                "issuer": c.issuer_url(model, host),
                "subject": c.subject,
                "description": null,
                "audiences": c.audiences,
            });
            if version == "beta"
                && let Value::Object(map) = &mut item
            {
                map.insert(
                    "claimsMatchingExpression".into(),
                    c.claims_matching_expression.as_ref().map_or(Value::Null, |e| {
                        json!({"value": e, "languageVersion": 1})
                    }),
                );
            }
            item
        })
        .collect();
    Some(json!({
        "@odata.context": format!("https://graph.microsoft.com/{version}/$metadata#applications('{}')/federatedIdentityCredentials", application_object_id(app)),
        "value": items,
    }))
}

/// `applications(appId='…')`: the app id of a single application's path.
fn single_app_id(rest: &str) -> Option<&str> {
    let app_id = rest
        .strip_prefix("applications(appId='")?
        .strip_suffix("')")?;
    (!app_id.contains('\'') && !app_id.contains('/')).then_some(app_id)
}

/// An object cut down to the properties a `$select` names, as Graph returns it (an absent or
/// empty `$select` keeps everything).
pub(super) fn select(object: Value, query: Option<&str>) -> Value {
    let Some(wanted) = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "$select")
            .map(|(_, v)| v.into_owned())
    }) else {
        return object;
    };
    let names: Vec<&str> = wanted
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    match object {
        Value::Object(map) if !names.is_empty() => Value::Object(
            map.into_iter()
                .filter(|(k, _)| names.contains(&k.as_str()) || k.starts_with("@odata"))
                .collect(),
        ),
        other => other,
    }
}

/// `appId eq '…'` of a `$filter` query parameter.
fn filter_app_id(query: Option<&str>) -> Option<String> {
    let filter = url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "$filter")
        .map(|(_, v)| v.into_owned())?;
    let quoted = filter.split_once("appId eq '")?.1;
    Some(quoted.split('\'').next()?.to_owned())
}

pub(super) fn application(model: &TenantModel, app: &Application) -> Value {
    let mut access: Vec<Value> = Vec::new();
    let requested: Vec<(String, Vec<String>, Vec<String>)> = match &app.requested {
        Some(list) => list
            .iter()
            .map(|r| {
                (
                    r.resource.clone(),
                    r.application.clone(),
                    r.delegated.clone(),
                )
            })
            .collect(),
        None => app
            .grants
            .iter()
            .map(|g| (g.resource.clone(), g.roles.clone(), Vec::new()))
            .collect(),
    };
    for (resource, roles, scopes) in requested {
        let Some(resource) = model.find_resource(&resource) else {
            continue;
        };
        let ids = |names: &[String], defined: &[super::model::AppRole], kind: &str| {
            defined
                .iter()
                .filter(|d| names.contains(&d.value))
                .map(|d| json!({"id": d.id, "type": kind}))
                .collect::<Vec<_>>()
        };
        let mut entries = ids(&roles, &resource.app_roles, "Role");
        entries.extend(ids(&scopes, &resource.delegated_scopes, "Scope"));
        access.push(json!({"resourceAppId": resource.app_id, "resourceAccess": entries}));
    }
    json!({
        "id": application_object_id(app),
        "appId": app.client_id,
        "displayName": app.display_name,
        "signInAudience": "AzureADMyOrg",
        "requiredResourceAccess": access,
        "passwordCredentials": password_credentials(app),
        "keyCredentials": key_credentials(model, app),
    })
}

/// The application object's id (not the client id, nor the service principal's id).
pub(super) fn application_object_id(app: &Application) -> String {
    // The service principal's hex digits reversed, in a GUID's shape: stable, and distinct from
    // both the client id and the service principal's id, as Graph's three ids are.
    let hex: String = app
        .service_principal_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .rev()
        .collect();
    if hex.len() != 32 {
        return app.service_principal_id.clone();
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The secrets as Graph lists them: never the value, only its first three characters
/// (<https://learn.microsoft.com/graph/api/resources/passwordcredential>).
fn password_credentials(app: &Application) -> Vec<Value> {
    let stamp =
        |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.secrets
        .iter()
        .map(|s| {
            json!({
                "customKeyIdentifier": null,
                "displayName": s.display_name,
                "endDateTime": stamp(s.expires),
                "hint": s.hint(),
                "keyId": s.id,
                "secretText": null,
                "startDateTime": stamp(s.start()),
            })
        })
        .collect()
}

/// The registered certificates as Graph lists them: `customKeyIdentifier` is the SHA-1
/// thumbprint in Base64 (Graph's Binary), dates from the certificate itself
/// (<https://learn.microsoft.com/graph/api/resources/keycredential>). The key id is derived
/// from the thumbprint, so it is stable across runs.
fn key_credentials(model: &TenantModel, app: &Application) -> Vec<Value> {
    use base64::Engine as _;
    app.certificates
        .iter()
        .filter_map(|name| {
            let cert = super::keys::CertInfo::from_pem(model.file(name).ok()?, name).ok()?;
            let stamp = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            };
            let hex = cert.thumbprint_hex().to_ascii_lowercase();
            Some(json!({
                "customKeyIdentifier": base64::engine::general_purpose::STANDARD.encode(cert.sha1()),
                "displayName": format!("CN={}", name.trim_end_matches(".crt.pem")),
                "endDateTime": stamp(cert.not_after),
                "key": null,
                "keyId": format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]),
                "startDateTime": stamp(cert.not_before),
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
            }))
        })
        .collect()
}

fn resource_principal(resource: &Resource) -> Value {
    let roles: Vec<Value> = resource
        .app_roles
        .iter()
        .map(|r| {
            json!({"id": r.id, "value": r.value, "allowedMemberTypes": ["Application"], "isEnabled": true,
                   "displayName": r.value})
        })
        .collect();
    let scopes: Vec<Value> = resource
        .delegated_scopes
        .iter()
        .map(|s| json!({"id": s.id, "value": s.value, "type": "Admin", "isEnabled": true}))
        .collect();
    json!({
        "id": resource.service_principal_id,
        "appId": resource.app_id,
        "displayName": resource.display_name,
        "servicePrincipalNames": resource.identifier_uris,
        "appRoles": roles,
        "oauth2PermissionScopes": scopes,
    })
}
