//! The walkthrough's setup (a demo app's: its secret, else its certificate, else its federated
//! token file): the request as `token` would send it (through [`crate::setup`], the
//! one path every credential takes), and the API to call (on the demo tenant, its own route).

use super::{GraphRead, Setup};
use crate::consent::AdminApp;
use crate::demo::{Error as DemoError, RunningDemo};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::setup::{self as credential_setup, CredentialSpec, Password, Spec, Surface};

/// The setup of `spec`: the API to call is `probe`, else the resource's well-known harmless call.
pub fn setup(
    spec: &Spec,
    probe: Option<&str>,
    env: &Environment,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Setup> {
    let prepared = credential_setup::prepare(spec, env, stdin, now)?;
    let probe = match probe.map(str::trim).filter(|p| !p.is_empty()) {
        Some(url) => Some(url::Url::parse(url).map_err(|e| Error::InvalidInput {
            what: format!("API URL {url:?}"),
            reason: format!("is not a URL ({e})"),
        })?),
        None => crate::probe::default_url(&prepared.request),
    };
    Ok(Setup {
        request: prepared.request,
        options: prepared.options,
        probe,
        preflight: prepared.warnings,
        graph: GraphRead {
            admin: None,
            daemon: Some(spec.clone()),
            graph_url: None,
            env: env.clone(),
        },
    })
}

/// The spec of `scenario`'s app in `demo`: its handed-out credential (its secret, or else its
/// certificate), scope and API call, against the running demo tenant.
pub fn demo_spec(demo: &RunningDemo, scenario: &str) -> Result<(Spec, String)> {
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
        (Some(secret), _) => {
            CredentialSpec::Secret(Some(crate::secret::Secret::new(secret.expose())))
        }
        (None, Some(pem)) => CredentialSpec::Certificate {
            path: Some(pem.clone()),
            private_key: None,
            password: Password::default(),
        },
        (None, None) if app.assertion_file.is_some() => CredentialSpec::Assertion {
            path: app.assertion_file.clone(),
        },
        (None, None) => {
            return Err(Error::MissingCredential {
                hint: format!("demo app {scenario} hands out no credential"),
            });
        }
    };
    let spec = Spec {
        tenant: Some(demo.tenant_id().to_owned()),
        client_id: Some(app.client_id.clone()),
        scopes: vec![app.scope.clone()],
        authority_host: Some(demo.authority_host().to_owned()),
        credential,
        surface: Surface::Form,
        ..Spec::default()
    };
    Ok((spec, app.probe_url.clone()))
}

/// The setup of `scenario`'s app in `demo`, its registration read by the healthy app (which
/// holds Application.Read.All), as the TUI's demo fills its Admin fields.
pub fn demo_setup(demo: &RunningDemo, scenario: &str) -> Result<Setup> {
    let (spec, probe) = demo_spec(demo, scenario)?;
    // The demo's own values: nothing of the operator's environment may change them.
    let quiet = Environment::default();
    let setup = setup(
        &spec,
        Some(&probe),
        &quiet,
        &mut || Ok(String::new()),
        chrono::Utc::now(),
    )?;
    Ok(setup.with_admin(demo_admin(demo, scenario)))
}

/// The healthy app as the admin of every other lesson; the healthy app reads its own.
pub fn demo_admin(demo: &RunningDemo, scenario: &str) -> Option<AdminApp> {
    let healthy = demo.app("healthy").filter(|app| app.scenario != scenario)?;
    Some(AdminApp {
        client_id: healthy.client_id.clone(),
        credential: CredentialSpec::Secret(Some(crate::secret::Secret::new(
            healthy.secret.as_ref()?.expose(),
        ))),
    })
}
