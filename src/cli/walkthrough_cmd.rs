//! `entra-doctor walkthrough`: the seven steps of a working daemon app, checked live. With
//! `--output json` (or without a terminal) it runs every step and prints them; on a terminal
//! it opens the TUI's walkthrough tab. `demo --walkthrough` does the same on a demo scenario.

use chrono::{DateTime, Utc};

use super::args::WalkthroughArgs;
use super::config::{Environment, prepare};
use super::probe_cmd::stdin_reader;
use super::{OutputFormat, Report};
use crate::diagnose::{FixContext, Resources};
use crate::error::{Error, Result};
use crate::walkthrough::{self, Session, Setup, StepReport};

/// A walkthrough setup from the credential options: the request as `token` would send it, the
/// API to call (`--probe`, else the resource's well-known harmless call).
pub fn setup(
    credential: &super::args::CredentialArgs,
    probe: Option<&str>,
    env: &Environment,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    now: DateTime<Utc>,
) -> Result<Setup> {
    let prepared = prepare(credential, env, stdin, now)?;
    let probe = match probe.map(str::trim).filter(|p| !p.is_empty()) {
        Some(url) => Some(url::Url::parse(url).map_err(|e| Error::InvalidInput {
            what: format!("API URL {url:?}"),
            reason: format!("is not a URL ({e})"),
        })?),
        None => Resources::builtin()
            .by_identifier(prepared.request.scopes.resource())
            .and_then(|r| r.probe.as_deref())
            .and_then(|p| url::Url::parse(p).ok()),
    };
    Ok(Setup {
        request: prepared.request,
        options: prepared.options,
        probe,
        preflight: prepared.warnings,
    })
}

/// Every step of `setup` (or of the setup that failed to prepare), in order.
pub async fn run_steps(
    setup: Result<Setup>,
    context: &FixContext,
    now: DateTime<Utc>,
) -> Vec<StepReport> {
    match setup.and_then(Session::new) {
        Ok(mut session) => session.run_all(now).await,
        Err(error) => walkthrough::unprepared(&error, context),
    }
}

pub async fn run(
    args: &WalkthroughArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let (credential, probe, warning) = with_profile(
        args,
        env,
        crate::profile::Profile::default_path().as_deref(),
    );
    report
        .stderr
        .extend(warning.map(|w| format!("warning: {w}")));
    let mut stdin = stdin_reader();
    let prepared = setup(&credential, probe.as_deref(), env, &mut stdin, now);
    let reports = run_steps(prepared, &credential.fix_context(), now).await;
    print(&reports, format, report);
    Ok(())
}

/// The options, with what they leave out taken from the saved profile (the TUI's Ctrl-S): the
/// walkthrough is often run again and again on one app. The secret never comes from a profile.
pub fn with_profile(
    args: &WalkthroughArgs,
    env: &Environment,
    path: Option<&std::path::Path>,
) -> (super::args::CredentialArgs, Option<String>, Option<String>) {
    let mut credential = args.credential.clone();
    let mut probe = args.probe.clone();
    let loaded = path.map(crate::profile::Profile::load);
    let (profile, warning) = match loaded {
        Some(Ok(loaded)) => loaded,
        Some(Err(error)) => (None, Some(error.to_string())),
        None => (None, None),
    };
    let Some(profile) = profile else {
        return (credential, probe, warning);
    };
    let fill = |slot: &mut Option<String>, value: &str| {
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value.to_owned());
        }
    };
    fill(&mut credential.tenant, &profile.tenant);
    fill(&mut credential.client_id, &profile.client_id);
    if credential.cloud.is_none() {
        fill(&mut credential.authority_host, &profile.authority_host);
    }
    fill(&mut probe, &profile.probe_url);
    if credential.scopes.is_empty() {
        credential.scopes.clone_from(&profile.scopes);
    }
    let credential_given = credential.certificate.is_some()
        || credential.assertion_file.is_some()
        || credential.secret_stdin
        || [
            "AZURE_CLIENT_SECRET",
            "AZURE_CLIENT_CERTIFICATE_PATH",
            "AZURE_FEDERATED_TOKEN_FILE",
        ]
        .iter()
        .any(|var| env.get(var).is_some());
    if !credential_given {
        match profile.credential_kind.as_str() {
            "certificate" if !profile.certificate.is_empty() => {
                credential.certificate = Some(profile.certificate.into());
            }
            "assertion" if !profile.assertion_file.is_empty() => {
                credential.assertion_file = Some(profile.assertion_file.into());
            }
            _ => {}
        }
    }
    (credential, probe, warning)
}

/// Prints the steps; the exit code is 0 when all passed, 3 when the network failed a step,
/// else 1.
pub fn print(reports: &[StepReport], format: OutputFormat, report: &mut Report) {
    report.exit = match walkthrough::first_failure(reports) {
        None => 0,
        Some(failed)
            if failed
                .finding
                .as_ref()
                .is_some_and(|f| f.id.starts_with("network.")) =>
        {
            3
        }
        Some(_) => 1,
    };
    report.stdout = match format {
        OutputFormat::Json => format!("{}\n", walkthrough::to_json(reports)),
        OutputFormat::Text => walkthrough::render_text(reports),
    };
}

/// `demo --walkthrough` without the TUI: every step of the scenario's app (healthy by default)
/// against a demo tenant started for the run.
pub async fn demo(
    args: &super::demo::DemoArgs,
    format: OutputFormat,
    report: &mut Report,
) -> Result<()> {
    let demo_error = |e: crate::demo::Error| Error::InvalidInput {
        what: "the demo tenant".into(),
        reason: e.to_string(),
    };
    let model = args.model().map_err(demo_error)?;
    let running = crate::demo::start(crate::demo::DemoOptions::new(model))
        .await
        .map_err(demo_error)?;
    let scenario = args.scenario.as_deref().unwrap_or("healthy");
    let setup = walkthrough::demo_setup(&running, scenario)?;
    let reports = run_steps(Ok(setup), &FixContext::default(), Utc::now()).await;
    print(&reports, format, report);
    running.shutdown().await;
    Ok(())
}
