//! The fix of a failing step: where to click in the portal, the `az` command with the
//! operator's ids, and what `x` can apply by itself.

use super::{DemoFix, Fix, Setup, StepId};
use crate::auth::Credential;
use crate::diagnose::{self, Finding, FixContext, Resource, Resources};

/// The roles the API call needs, least privileged first, when the API is a well-known one
/// (by the URL's host, or by the scope's resource for the demo tenant's loopback copy).
pub(super) fn needed_roles(setup: &Setup) -> Vec<String> {
    let Some(url) = &setup.probe else {
        return Vec::new();
    };
    known_api(setup)
        .and_then(|r| r.route("GET", url.path()))
        .map(|route| route.permissions.clone())
        .unwrap_or_default()
}

/// The well-known resource the API call goes to: by the URL's host, else by the scope's
/// resource (the demo tenant's loopback copy).
pub(super) fn known_api(setup: &Setup) -> Option<&'static Resource> {
    let url = setup.probe.as_ref()?;
    let resources = Resources::builtin();
    url.host_str()
        .and_then(|host| resources.by_host(host))
        .or_else(|| resources.by_identifier(setup.request.scopes.resource()))
}

pub(super) fn fix_for(step: StepId, finding: &Finding, setup: &Setup) -> Fix {
    let request = &setup.request;
    let mut context = FixContext::for_request(request);
    let needed = needed_roles(setup);
    context.role = needed.first().cloned();
    let mut fix = from_finding(finding);
    match step {
        StepId::Credential => {
            credential(&mut fix, finding, &request.credential, &request.client_id);
        }
        StepId::Scope => scope(&mut fix, finding, setup, &context),
        StepId::Role => role(&mut fix, setup, &needed, &context),
        StepId::Api if finding.id == super::database::LOGIN_FAILED => {
            fix.apply = Some(DemoFix::CreateDatabaseUser {
                resource: setup.request.scopes.resource().to_owned(),
            });
        }
        _ => {}
    }
    fix
}

/// The fix a finding itself names. Catalog findings carry their portal path and az command
/// as "Portal: …" / "az: …" fixes.
pub(super) fn from_finding(finding: &Finding) -> Fix {
    Fix {
        summary: finding
            .plain_fix()
            .unwrap_or(finding.title.as_str())
            .to_owned(),
        portal: finding.labelled_fix("Portal").map(str::to_owned),
        az: finding.labelled_fix("az").map(str::to_owned),
        apply: None,
    }
}

fn credential(fix: &mut Fix, finding: &Finding, credential: &Credential, client_id: &str) {
    fix.apply = match (finding.id.as_str(), credential) {
        // No credential matches the token's issuer or subject: trust it with a new one (the
        // token names the workload; an audience mismatch is fixed in the token, not here).
        (
            "AADSTS70021" | "AADSTS700211" | "AADSTS700213" | "AADSTS7002138",
            Credential::Assertion { token, .. },
        ) => federated(fix, token, client_id),
        ("AADSTS7000215" | "AADSTS7000222" | "AADSTS7000218", Credential::Secret(_)) => {
            Some(DemoFix::AddSecret)
        }
        ("AADSTS700027" | "AADSTS700030", Credential::Certificate { certificate, .. }) => {
            certificate
                .chain_der
                .first()
                .map(|der| DemoFix::RegisterCertificate {
                    thumbprint: certificate.info.thumbprint_sha1.clone(),
                    certificate_pem: pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())),
                })
        }
        _ => None,
    };
}

/// The credential that trusts the presented token: its `az` command, and what `x` adds.
fn federated(fix: &mut Fix, token: &crate::Secret, client_id: &str) -> Option<DemoFix> {
    let decoded = crate::token::decode(token.expose()).ok()?;
    let claims = crate::federation::ExternalClaims::from_json(&decoded.raw_claims);
    let (issuer, subject) = (claims.iss.clone()?, claims.sub.clone()?);
    let audience = claims
        .aud
        .first()
        .cloned()
        .unwrap_or_else(|| crate::federation::TOKEN_EXCHANGE_AUDIENCES[0].to_owned());
    let name = crate::federation::advice::suggested_name(&claims);
    fix.summary = format!(
        "Add a federated credential that trusts issuer {issuer} and subject {subject} exactly (entra-doctor federation names what differs from the existing ones)"
    );
    fix.az = Some(crate::federation::advice::create_command(
        client_id, &name, &issuer, &subject, &audience,
    ));
    Some(DemoFix::AddFederatedCredential {
        name,
        issuer,
        subject,
        audience,
    })
}

fn scope(fix: &mut Fix, finding: &Finding, setup: &Setup, context: &FixContext) {
    let resource = setup.request.scopes.resource();
    let known = Resources::builtin().by_identifier(resource);
    // The lint's own suggestion wins ("Use --scope X"); else the well-known resource's scope;
    // else the resource the request named, with /.default.
    let suggested = finding
        .fixes
        .iter()
        .find_map(|f| f.strip_prefix("Use --scope "))
        .map(str::to_owned)
        .or_else(|| known.map(|r| r.scope.clone()))
        .unwrap_or_else(|| format!("{}/.default", resource.trim_end_matches('/')));
    if suggested != setup.request.scopes.to_request_value() {
        fix.summary = format!("Request the scope {suggested}");
        fix.apply = Some(DemoFix::CorrectScope { scope: suggested });
    }
    if fix.portal.is_none() {
        fix.portal = Some(
            "Entra admin center › Enterprise applications › (the API) › Overview — its Application ID URI, with /.default after it, is the scope"
                .to_owned(),
        );
    }
    if fix.az.is_none() {
        fix.az = Some(context.render(
            "az ad sp show --id {resource} --query \"{{appId:appId, names:servicePrincipalNames}}\"",
        ));
    }
}

fn role(fix: &mut Fix, setup: &Setup, needed: &[String], context: &FixContext) {
    let resource = setup.request.scopes.resource();
    let known = Resources::builtin().by_identifier(resource);
    let api_name = known.map_or("the API", |r| r.name.as_str());
    let api_id = known.map_or_else(
        || format!("$(az ad sp list --filter \"servicePrincipalNames/any(n:n eq '{resource}')\" --query [0].appId -o tsv)"),
        |r| r.app_id.clone(),
    );
    let role = needed.first().map_or("<app-role>", String::as_str);
    fix.summary = if needed.len() > 1 {
        format!(
            "Add the Application permission {role} of {api_name} (or one of the {} others this call accepts), grant admin consent, then acquire a new token",
            needed.len() - 1
        )
    } else {
        format!(
            "Add an Application permission ({role}) of {api_name}, grant admin consent, then acquire a new token"
        )
    };
    fix.portal = Some(context.render(&format!(
        "Entra admin center › App registrations › {{client_id}} › API permissions › Add a permission › {api_name} › Application permissions › {role} › Add permissions, then Grant admin consent for the tenant"
    )));
    // `context.role` is the first needed role (see `fix_for`), so `{role}` renders as `role`.
    fix.az = Some(context.render(&diagnose::api::grant_role_az(&api_id)));
    fix.apply = Some(DemoFix::GrantRole {
        resource: resource.to_owned(),
        path: setup.probe.as_ref().map(|u| u.path().to_owned()),
        candidates: needed.to_vec(),
    });
}
