//! Applying a fix: a scope change to the request, or a change to the embedded demo tenant
//! (grant a role, add a secret, upload the certificate, add a federated credential, create the
//! app's database user) through
//! its [`DemoControl`].

use super::{DemoFix, Setup};
use crate::auth::{Credential, ScopeSet};
use crate::demo::{DemoControl, TenantChange};
use crate::diagnose::preflight;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What applying a fix did, and what the request now uses.
#[derive(Debug, Clone)]
pub struct FixOutcome {
    pub summary: String,
    /// The secret the request now sends (added by the fix).
    pub new_secret: Option<Secret>,
    /// The scope the request now asks for.
    pub new_scope: Option<String>,
}

impl Setup {
    /// Asks for `scope` from now on; the scope's preflight findings are redone.
    pub fn use_scope(&mut self, scope: &str) -> Result<()> {
        let scopes = ScopeSet::parse(&[scope])?;
        self.preflight.retain(|f| !f.id.starts_with("scope."));
        self.preflight
            .extend(scopes.lints().iter().map(preflight::scope));
        self.request.scopes = scopes;
        Ok(())
    }

    /// Sends this client secret from now on.
    pub fn use_secret(&mut self, secret: Secret) {
        self.request.credential = Credential::Secret(secret);
    }
}

/// Applies `fix` to the request and, when it needs it, to the demo tenant behind `demo`.
pub fn apply(setup: &mut Setup, fix: &DemoFix, demo: Option<&DemoControl>) -> Result<FixOutcome> {
    let client_id = setup.request.client_id.clone();
    let change = match fix {
        DemoFix::CorrectScope { scope } => {
            setup.use_scope(scope)?;
            return Ok(FixOutcome {
                summary: format!("The request now asks for {scope}."),
                new_secret: None,
                new_scope: Some(scope.clone()),
            });
        }
        DemoFix::GrantRole {
            resource,
            path,
            candidates,
        } => TenantChange::GrantRole {
            client_id,
            resource: resource.clone(),
            path: path.clone(),
            candidates: candidates.clone(),
        },
        DemoFix::AddSecret => TenantChange::AddSecret { client_id },
        DemoFix::RegisterCertificate {
            certificate_pem, ..
        } => TenantChange::RegisterCertificate {
            client_id,
            certificate_pem: certificate_pem.clone(),
        },
        DemoFix::CreateDatabaseUser { resource } => TenantChange::CreateDatabaseUser {
            client_id,
            resource: resource.clone(),
        },
        DemoFix::AddFederatedCredential {
            name,
            issuer,
            subject,
            audience,
        } => TenantChange::AddFederatedCredential {
            client_id,
            name: name.clone(),
            issuer: issuer.clone(),
            subject: subject.clone(),
            audiences: vec![audience.clone()],
        },
    };
    let Some(demo) = demo else {
        return Err(Error::InvalidInput {
            what: "this fix".into(),
            reason: "entra-doctor changes only its embedded demo tenant; apply it in the portal \
                     or with the az command shown, then run the step again"
                .into(),
        });
    };
    let applied = demo.apply(&change).map_err(|e| Error::InvalidInput {
        what: "the fix".into(),
        reason: e.to_string(),
    })?;
    let new_secret = applied.new_secret.map(|s| Secret::new(s.expose()));
    if let Some(secret) = &new_secret {
        setup.use_secret(secret.clone());
    }
    Ok(FixOutcome {
        summary: applied.summary,
        new_secret,
        new_scope: None,
    })
}
