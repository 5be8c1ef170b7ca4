//! Changes an admin makes to an app registration, applied to the demo tenant's model while it
//! runs: grant an application permission with admin consent, add a client secret, upload a
//! certificate, add a federated credential, or (in a database, as its Entra admin) create the
//! app's contained user. The walkthrough offers them as fixes so a trainee watches a failing step turn
//! green. They change the in-memory model only; the tenant file on disk is never written.

use chrono::{DateTime, Duration, Utc};

use super::error::{Error, Result};
use super::keys::CertInfo;
use super::model::{
    ClientSecret, DemoFederatedCredential, DemoSecret, Grant, Requested, TenantModel,
};

/// One change to an application of the demo tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantChange {
    /// Add an application permission of `resource` and grant admin consent for it. The role is
    /// the one the route at `path` needs when the resource serves it, else the first of
    /// `candidates` the resource defines.
    GrantRole {
        client_id: String,
        resource: String,
        path: Option<String>,
        candidates: Vec<String>,
    },
    /// Add a new client secret (valid 180 days, the portal's recommendation).
    AddSecret { client_id: String },
    /// Upload a certificate (public part, PEM) to the app registration.
    RegisterCertificate {
        client_id: String,
        certificate_pem: String,
    },
    /// Run, in the database `resource` stands for, `CREATE USER [<app>] FROM EXTERNAL
    /// PROVIDER; ALTER ROLE db_datareader ADD MEMBER [<app>];`: the app may log in.
    CreateDatabaseUser { client_id: String, resource: String },
    /// Assign the managed identity with this client id to the demo's Azure host, as
    /// `az vm identity assign --identities <its resource id>` does.
    AssignIdentity { client_id: String },
    /// Add a federated identity credential (or, with the name of an existing one, replace it),
    /// as `az ad app federated-credential create` (or `update`) does.
    AddFederatedCredential {
        client_id: String,
        name: String,
        issuer: String,
        subject: String,
        audiences: Vec<String>,
    },
}

impl TenantChange {
    /// A short name for logs.
    pub fn label(&self) -> &'static str {
        match self {
            TenantChange::GrantRole { .. } => "grant-role",
            TenantChange::AddSecret { .. } => "add-secret",
            TenantChange::RegisterCertificate { .. } => "register-certificate",
            TenantChange::CreateDatabaseUser { .. } => "create-database-user",
            TenantChange::AssignIdentity { .. } => "assign-identity",
            TenantChange::AddFederatedCredential { .. } => "add-federated-credential",
        }
    }

    fn client_id(&self) -> &str {
        match self {
            TenantChange::GrantRole { client_id, .. }
            | TenantChange::AddSecret { client_id }
            | TenantChange::RegisterCertificate { client_id, .. }
            | TenantChange::CreateDatabaseUser { client_id, .. }
            | TenantChange::AssignIdentity { client_id }
            | TenantChange::AddFederatedCredential { client_id, .. } => client_id,
        }
    }
}

/// What a change did: a sentence for the operator, and the new secret when one was added.
#[derive(Debug, Clone)]
pub struct Applied {
    pub summary: String,
    pub new_secret: Option<DemoSecret>,
}

/// How long a secret added by a fix lives.
const SECRET_LIFETIME_DAYS: i64 = 180;

pub(super) fn apply(
    model: &mut TenantModel,
    change: &TenantChange,
    now: DateTime<Utc>,
) -> Result<Applied> {
    let client_id = change.client_id();
    if let TenantChange::AssignIdentity { .. } = change {
        return super::identity_model::assign(model, client_id);
    }
    if model.application_by_client_id(client_id).is_none() {
        return Err(Error::Change(format!(
            "no demo application has client id {client_id}"
        )));
    }
    match change {
        TenantChange::GrantRole {
            resource,
            path,
            candidates,
            ..
        } => grant_role(model, client_id, resource, path.as_deref(), candidates, now),
        TenantChange::AddSecret { .. } => add_secret(model, client_id, now),
        TenantChange::RegisterCertificate {
            certificate_pem, ..
        } => register_certificate(model, client_id, certificate_pem),
        TenantChange::CreateDatabaseUser { resource, .. } => {
            create_database_user(model, client_id, resource)
        }
        TenantChange::AssignIdentity { .. } => super::identity_model::assign(model, client_id),
        TenantChange::AddFederatedCredential {
            name,
            issuer,
            subject,
            audiences,
            ..
        } => add_federated_credential(model, client_id, name, issuer, subject, audiences),
    }
}

fn grant_role(
    model: &mut TenantModel,
    client_id: &str,
    requested: &str,
    path: Option<&str>,
    candidates: &[String],
    now: DateTime<Utc>,
) -> Result<Applied> {
    let resource = model.find_resource(requested).ok_or_else(|| {
        Error::Change(format!(
            "the demo tenant has no API {requested}; only its own resources can be granted"
        ))
    })?;
    let by_route = path.and_then(|path| {
        resource
            .routes
            .iter()
            .find(|r| r.path == path)
            .and_then(|r| r.any_role.first().cloned())
    });
    let role = by_route
        .or_else(|| {
            candidates
                .iter()
                .find(|c| resource.app_roles.iter().any(|r| &r.value == *c))
                .cloned()
        })
        .ok_or_else(|| {
            Error::Change(format!(
                "{} defines none of the roles asked for ({})",
                resource.display_name,
                candidates.join(", ")
            ))
        })?;
    let (api_name, identifier) = (
        resource.display_name.clone(),
        resource
            .identifier_uris
            .first()
            .cloned()
            .unwrap_or_else(|| resource.app_id.clone()),
    );
    let app = application_mut(model, client_id)?;
    app.grants.push(Grant {
        resource: identifier.clone(),
        roles: vec![role.clone()],
        consented: now,
    });
    // The registration now lists it as an Application permission, as the portal's "Add a
    // permission" does; delegated entries stay (they are harmless, and were the lesson).
    if let Some(requested) = &mut app.requested {
        match requested.iter_mut().find(|r| r.resource == identifier) {
            Some(entry) => entry.application.push(role.clone()),
            None => requested.push(Requested {
                resource: identifier,
                application: vec![role.clone()],
                delegated: Vec::new(),
            }),
        }
    }
    Ok(Applied {
        summary: format!(
            "Granted the application permission {role} of {api_name} to {} (admin consent given); tokens acquired from now on carry it.",
            app.display_name
        ),
        new_secret: None,
    })
}

fn add_secret(model: &mut TenantModel, client_id: &str, now: DateTime<Utc>) -> Result<Applied> {
    let value = new_secret_value();
    let expires = now + Duration::days(SECRET_LIFETIME_DAYS);
    let app = application_mut(model, client_id)?;
    app.secrets.push(ClientSecret {
        id: uuid::Uuid::new_v4().to_string(),
        value: DemoSecret::new(value.clone()),
        expires,
        display_name: Some("entra-doctor walkthrough".into()),
        created: Some(now),
    });
    Ok(Applied {
        summary: format!(
            "Added a new client secret to {}, valid until {}. entra-doctor now uses it.",
            app.display_name,
            expires.format("%Y-%m-%d")
        ),
        new_secret: Some(DemoSecret::new(value)),
    })
}

fn register_certificate(
    model: &mut TenantModel,
    client_id: &str,
    certificate_pem: &str,
) -> Result<Applied> {
    let info = CertInfo::from_pem(certificate_pem, "the uploaded certificate")?;
    let thumbprint = info.thumbprint_hex();
    let name = format!("uploaded-{}.crt.pem", thumbprint.to_ascii_lowercase());
    model.add_file(&name, certificate_pem);
    let app = application_mut(model, client_id)?;
    if !app.certificates.contains(&name) {
        app.certificates.push(name);
    }
    Ok(Applied {
        summary: format!(
            "Uploaded the certificate with thumbprint {thumbprint} to {}.",
            app.display_name
        ),
        new_secret: None,
    })
}

fn create_database_user(
    model: &mut TenantModel,
    client_id: &str,
    requested: &str,
) -> Result<Applied> {
    let app_name = model
        .application_by_client_id(client_id)
        .map(|a| a.display_name.clone())
        .unwrap_or_default();
    let wanted = model
        .find_resource(requested)
        .map(|r| r.app_id.clone())
        .ok_or_else(|| {
            Error::Change(format!(
                "the demo tenant has no API {requested}; only its own databases take users"
            ))
        })?;
    let resource = model
        .resources
        .iter_mut()
        .find(|r| r.app_id == wanted)
        .ok_or_else(|| Error::Change(format!("the demo tenant has no API {requested}")))?;
    let Some(users) = &mut resource.database_users else {
        return Err(Error::Change(format!(
            "{} is not a database: it reads application roles, not database users",
            resource.display_name
        )));
    };
    if !users.iter().any(|u| u.eq_ignore_ascii_case(client_id)) {
        users.push(client_id.to_owned());
    }
    Ok(Applied {
        summary: format!(
            "Ran in {} (as its Entra admin): CREATE USER [{app_name}] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [{app_name}]; {app_name} may log in now (its token stays the same).",
            resource.display_name
        ),
        new_secret: None,
    })
}

fn add_federated_credential(
    model: &mut TenantModel,
    client_id: &str,
    name: &str,
    issuer: &str,
    subject: &str,
    audiences: &[String],
) -> Result<Applied> {
    // Graph's rule for `name`: 3 to 120 characters, letters, digits, '-' and '_'.
    let name_ok = (3..=120).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name_ok || issuer.is_empty() || subject.is_empty() || audiences.is_empty() {
        return Err(Error::Change(format!(
            "a federated credential needs a name (3-120 letters, digits, '-' or '_'), an issuer, a subject and an audience; got name {name:?}"
        )));
    }
    let app = application_mut(model, client_id)?;
    let credential = DemoFederatedCredential {
        name: name.to_owned(),
        issuer: issuer.to_owned(),
        subject: Some(subject.to_owned()),
        audiences: audiences.to_vec(),
        claims_matching_expression: None,
    };
    let verb = if let Some(existing) = app
        .federated_credentials
        .iter_mut()
        .find(|c| c.name == name)
    {
        *existing = credential;
        "Updated"
    } else {
        app.federated_credentials.push(credential);
        "Added"
    };
    Ok(Applied {
        summary: format!(
            "{verb} the federated credential {name} on {}: issuer {issuer}, subject {subject}, audience {}.",
            app.display_name,
            audiences.join(", ")
        ),
        new_secret: None,
    })
}

fn application_mut<'a>(
    model: &'a mut TenantModel,
    client_id: &str,
) -> Result<&'a mut super::model::Application> {
    model
        .applications
        .iter_mut()
        .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
        .ok_or_else(|| Error::Change(format!("no demo application has client id {client_id}")))
}

/// A secret in the shape the portal makes (40 characters: three, a `8Q~` marker, 34 more); the
/// alphabet is the one Entra ID uses (letters, digits, `.`, `_`, `-`, `~`).
fn new_secret_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~";
    let random: Vec<u8> = (0..3)
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .collect();
    let mut chars = random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
    let head: String = chars.by_ref().take(3).collect();
    let tail: String = chars.take(34).collect();
    format!("{head}8Q~{tail}")
}
