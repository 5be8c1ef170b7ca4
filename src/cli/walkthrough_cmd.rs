//! `entra-doctor walkthrough`: the seven steps of a working daemon app, checked live. With
//! `--output json` (or without a terminal) it runs every step and prints them; on a terminal
//! it opens the TUI's walkthrough tab. `demo --walkthrough` does the same on a demo scenario.

use chrono::{DateTime, Utc};

use super::args::WalkthroughArgs;
use super::probe_cmd::stdin_reader;
use super::{OutputFormat, Report};
use crate::diagnose::FixContext;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::setup::Spec;
use crate::walkthrough::{self, Session, Setup, StepReport};

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
    let (spec, probe, warning) = with_profile(
        args,
        env,
        crate::profile::Profile::default_path().as_deref(),
    )?;
    report
        .stderr
        .extend(warning.map(|w| format!("warning: {w}")));
    let admin =
        super::consent_cmd::admin_app(&args.graph, &args.credential.certificate_password_env, env)?;
    let mut stdin = stdin_reader();
    let context = spec.fix_context();
    let prepared = walkthrough::setup(&spec, probe.as_deref(), env, &mut stdin, now).map(|setup| {
        let mut setup = setup.with_admin(admin);
        setup.graph.graph_url.clone_from(&args.graph.graph_url);
        setup
    });
    let reports = run_steps(prepared, &context, now).await;
    print(&reports, format, report);
    Ok(())
}

/// The walkthrough tab on a terminal: the command line's app, and its admin app (the Admin
/// fields) for step 3's expiry. The TUI completes the rest from `AZURE_*` and the profile.
pub fn ui(args: &WalkthroughArgs, env: &Environment) -> super::Outcome {
    let request = args.credential.spec().and_then(|spec| {
        let admin = super::consent_cmd::admin_app(
            &args.graph,
            &args.credential.certificate_password_env,
            env,
        )?;
        Ok((spec, admin))
    });
    match request {
        Ok((spec, admin)) => super::Outcome::Ui(Box::new(super::UiRequest::Walkthrough {
            spec,
            probe: args.probe.clone(),
            admin: admin.map(Box::new),
        })),
        Err(error) => {
            super::say_error(&error);
            super::Outcome::Exit(error.failure().exit_code())
        }
    }
}

/// The options, with what they leave out taken from the environment and then the saved profile
/// (the TUI's Ctrl-S): the walkthrough is often run again and again on one app. The secret never
/// comes from a profile.
pub fn with_profile(
    args: &WalkthroughArgs,
    env: &Environment,
    path: Option<&std::path::Path>,
) -> Result<(Spec, Option<String>, Option<String>)> {
    let loaded = path.map(crate::profile::Profile::load);
    let (profile, warning) = match loaded {
        Some(Ok(loaded)) => loaded,
        Some(Err(error)) => (None, Some(error.to_string())),
        None => (None, None),
    };
    let spec = args.credential.spec()?.fill_from(env, profile.as_ref());
    let probe = args.probe.clone().or_else(|| {
        profile
            .as_ref()
            .map(|p| p.probe_url.clone())
            .filter(|p| !p.is_empty())
    });
    Ok((spec, probe, warning))
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
/// against a demo tenant started for the run, its registration read by the healthy app.
pub async fn demo(
    args: &super::demo::DemoArgs,
    format: OutputFormat,
    now: DateTime<Utc>,
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
    let reports = run_steps(Ok(setup), &FixContext::default(), now).await;
    print(&reports, format, report);
    running.shutdown().await;
    Ok(())
}
