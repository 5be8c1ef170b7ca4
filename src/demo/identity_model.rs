//! Managed identities in the tenant model, and the Azure host the demo's managed identity
//! endpoints play (an IMDS of a VM, an App Service's `IDENTITY_ENDPOINT`).
//!
//! A managed identity is a service principal with no app registration: no secret or
//! certificate to hand out, only the resources it is assigned to may ask for its tokens. The
//! host's `assigned` list is what `az vm identity assign` changes, so a scenario can fail
//! truthfully with "Identity not found".

use serde::Deserialize;

use super::model::{Grant, TenantModel};

/// System- or user-assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdentityKind {
    SystemAssigned,
    UserAssigned,
}

/// A managed identity (a service principal of type `ManagedIdentity`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedIdentity {
    pub scenario: String,
    pub display_name: String,
    pub kind: IdentityKind,
    /// The identity's client (application) id.
    pub client_id: String,
    /// The service principal's object (principal) id: `oid` and `sub` of its tokens.
    pub object_id: String,
    /// The identity's ARM id (a user-assigned identity's own; a system-assigned one's host's).
    pub resource_id: String,
    pub scope: String,
    pub probe_path: String,
    pub teaches: String,
    pub reproduce: String,
    /// App roles granted to the identity's service principal, as for an application.
    #[serde(default)]
    pub grants: Vec<Grant>,
}

/// The Azure resource the demo's managed identity endpoints stand for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityHost {
    pub display_name: String,
    pub resource_id: String,
    /// Client ids of the managed identities assigned to it.
    #[serde(default)]
    pub assigned: Vec<String>,
    /// At most this many token requests to the host's IMDS per window, then 429 with
    /// `Retry-After` (real IMDS allows a VM about five a second).
    #[serde(default)]
    pub rate_limit: Option<super::model::RateLimit>,
}

impl ManagedIdentity {
    /// True when `id` names this identity by client id, object id or resource id (case-
    /// insensitively, as Azure compares them).
    pub fn is_named_by(&self, id: &str) -> bool {
        [&self.client_id, &self.object_id, &self.resource_id]
            .iter()
            .any(|known| known.eq_ignore_ascii_case(id.trim()))
    }

    /// The identity as an application, so the token minting code can issue its tokens.
    pub(super) fn as_application(&self) -> super::model::Application {
        super::model::Application {
            scenario: self.scenario.clone(),
            display_name: self.display_name.clone(),
            client_id: self.client_id.clone(),
            service_principal_id: self.object_id.clone(),
            scope: self.scope.clone(),
            probe_path: self.probe_path.clone(),
            teaches: self.teaches.clone(),
            reproduce: self.reproduce.clone(),
            secrets: Vec::new(),
            certificates: Vec::new(),
            handout: super::model::Handout {
                secret: None,
                certificate: None,
                private_key: None,
                federated: None,
            },
            grants: self.grants.clone(),
            requested: None,
            federated_credentials: Vec::new(),
        }
    }
}

impl TenantModel {
    /// The managed identity of a scenario.
    pub fn managed_identity(&self, scenario: &str) -> Option<&ManagedIdentity> {
        self.managed_identities
            .iter()
            .find(|m| m.scenario == scenario)
    }

    /// The identities assigned to the host, in the model's order.
    pub fn assigned_identities(&self) -> Vec<&ManagedIdentity> {
        let Some(host) = &self.identity_host else {
            return Vec::new();
        };
        self.managed_identities
            .iter()
            .filter(|m| {
                host.assigned
                    .iter()
                    .any(|id| id.eq_ignore_ascii_case(&m.client_id))
            })
            .collect()
    }

    /// The identity the host's endpoint gives for a request: the one `id` names among those
    /// assigned; without an id the system-assigned one, or, as IMDS does, the only
    /// user-assigned one when there is no system-assigned identity.
    pub fn identity_for(&self, id: Option<&str>) -> Option<&ManagedIdentity> {
        let assigned = self.assigned_identities();
        match id {
            Some(id) => assigned.into_iter().find(|m| m.is_named_by(id)),
            None => assigned
                .iter()
                .find(|m| m.kind == IdentityKind::SystemAssigned)
                .copied()
                .or(match assigned.as_slice() {
                    [only] => Some(*only),
                    _ => None,
                }),
        }
    }
}

/// Assigns the managed identity `client_id` to the host (a walkthrough's or a test's fix).
pub(super) fn assign(
    model: &mut TenantModel,
    client_id: &str,
) -> super::error::Result<super::changes::Applied> {
    let identity = model
        .managed_identities
        .iter()
        .find(|m| m.client_id.eq_ignore_ascii_case(client_id))
        .ok_or_else(|| {
            super::error::Error::Change(format!(
                "no demo managed identity has client id {client_id}"
            ))
        })?;
    let (name, resource_id) = (identity.display_name.clone(), identity.resource_id.clone());
    let host = model.identity_host.get_or_insert_with(|| IdentityHost {
        display_name: "the demo's Azure host".into(),
        resource_id: String::new(),
        assigned: Vec::new(),
        rate_limit: None,
    });
    let summary = if host
        .assigned
        .iter()
        .any(|id| id.eq_ignore_ascii_case(client_id))
    {
        format!("{name} was already assigned to {}", host.display_name)
    } else {
        host.assigned.push(client_id.to_owned());
        format!(
            "Assigned {name} to {} (az vm identity assign --identities {resource_id})",
            host.display_name
        )
    };
    Ok(super::changes::Applied {
        summary,
        new_secret: None,
    })
}

/// The managed identities and the host agree with themselves and with the rest of the model.
pub(super) fn check(model: &TenantModel) -> Result<(), String> {
    let mut systems = 0;
    for identity in &model.managed_identities {
        let who = format!("managed identity {:?}", identity.scenario);
        for (what, value) in [
            ("client_id", &identity.client_id),
            ("object_id", &identity.object_id),
        ] {
            if uuid::Uuid::parse_str(value).is_err() {
                return Err(format!("{who} {what} {value:?} is not a GUID"));
            }
        }
        if model.application(&identity.scenario).is_some()
            || model
                .managed_identities
                .iter()
                .filter(|m| m.scenario == identity.scenario)
                .count()
                > 1
        {
            return Err(format!("{who}: the scenario is used twice"));
        }
        if model
            .application_by_client_id(&identity.client_id)
            .is_some()
        {
            return Err(format!("{who} reuses an application's client id"));
        }
        super::model_check::check_grants(model, &identity.grants, &who)?;
        if identity.kind == IdentityKind::SystemAssigned {
            systems += 1;
        }
    }
    if let Some(host) = &model.identity_host {
        for id in &host.assigned {
            if !model
                .managed_identities
                .iter()
                .any(|m| m.client_id.eq_ignore_ascii_case(id))
            {
                return Err(format!(
                    "identity_host assigns {id:?}, which is no managed identity"
                ));
            }
        }
    }
    if systems > 1 {
        return Err("a host has one system-assigned identity at most".into());
    }
    Ok(())
}
