//! The walkthrough's setup for a demo scenario: the scenario app's handed-out credential (its
//! secret, or else its certificate, or else its federated token file), scope and API call,
//! against the running demo tenant.

use super::Setup;
use crate::auth::{
    AssertionOptions, Authority, AuthorityHost, CertificateSource, ClientCertificate,
    ClientOptions, Credential, ScopeSet, Tenant, TokenRequest,
};
use crate::demo::{Error as DemoError, RunningDemo};
use crate::diagnose::preflight;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The setup of `scenario`'s app in `demo`.
pub fn demo_setup(demo: &RunningDemo, scenario: &str) -> Result<Setup> {
    let app = demo.app(scenario).ok_or_else(|| Error::InvalidInput {
        what: format!("scenario {scenario:?}"),
        reason: DemoError::UnknownScenario {
            name: scenario.to_owned(),
            known: demo
                .apps()
                .iter()
                .map(|a| a.scenario.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .to_string(),
    })?;
    let credential = match (&app.secret, &app.certificate_pem) {
        (Some(secret), _) => Credential::Secret(Secret::new(secret.expose())),
        (None, Some(pem)) => Credential::Certificate {
            certificate: Box::new(ClientCertificate::load(&CertificateSource::Pem {
                path: pem.clone(),
                key: None,
            })?),
            options: AssertionOptions::default(),
        },
        (None, None) if app.assertion_file.is_some() => {
            let path = app.assertion_file.clone().unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| Error::file(path.clone(), e))?;
            Credential::Assertion {
                token: Secret::new(text.trim()),
                path,
            }
        }
        (None, None) => {
            return Err(Error::MissingCredential {
                hint: format!("demo app {scenario} hands out no credential"),
            });
        }
    };
    let scopes = ScopeSet::parse(&[app.scope.as_str()])?;
    let preflight = scopes.lints().iter().map(preflight::scope).collect();
    let probe = url::Url::parse(&app.probe_url).map_err(|e| Error::InvalidInput {
        what: format!("the demo's API URL {:?}", app.probe_url),
        reason: e.to_string(),
    })?;
    Ok(Setup {
        request: TokenRequest {
            authority: Authority::new(
                AuthorityHost::parse(demo.authority_host())?,
                Tenant::parse(demo.tenant_id())?,
            ),
            token_endpoint: None,
            client_id: app.client_id.clone(),
            scopes,
            credential,
            claims: None,
        },
        options: ClientOptions::default(),
        probe: Some(probe),
        preflight,
    })
}
