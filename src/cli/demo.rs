//! `entra-doctor demo`: serve the embedded demo tenant (`--serve`, `--port`, `--tls`,
//! `--tenant-file`) and print what a client needs to use it, or list its scenarios
//! (`--list-scenarios`). Text by default; `--output json` prints one JSON document on one line.
//! The demo credentials are throw-away values, so this is the one place that prints them.

use std::fmt::Write as _;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::demo::{self, DemoApp, DemoOptions, RunningDemo, TenantModel};

pub use super::args::OutputFormat;

// Arguments of `entra-doctor demo`.
// (A plain comment: with deferred arguments a doc comment here would replace the command's
// description in --help; see `Command`.)
#[derive(Debug, Clone, Default, clap::Args)]
#[allow(clippy::struct_excessive_bools)] // each flag is an independent switch of the CLI
pub struct DemoArgs {
    /// Only serve the demo tenant (for scripts, other clients, benchmarks) until Ctrl-C/SIGTERM.
    #[arg(long)]
    pub serve: bool,
    /// Loopback port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,
    /// Serve https with a certificate made at start; its CA certificate is written to a file.
    #[arg(long)]
    pub tls: bool,
    /// Also hold N generated app registrations (computed per page, not stored), for the
    /// audit's benchmark.
    #[arg(long, default_value_t = 0, value_name = "N", requires = "serve")]
    pub synthetic_apps: u64,
    /// Use this tenant model instead of the shipped one (see assets/demo/tenant.toml).
    #[arg(long, value_name = "FILE")]
    pub tenant_file: Option<PathBuf>,
    /// Print each scenario with what it teaches and how to reproduce it, then exit.
    #[arg(long)]
    pub list_scenarios: bool,
    /// Show only this scenario (healthy, no-consent, wrong-scope, trailing-slash, ...).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Play a scripted demo (assets/demos/NAME.toml) in the terminal: Space pauses, q quits.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["serve", "export_svg"])]
    pub play: Option<String>,
    /// Render every scripted demo's frames to SVG files in DIR (no terminal needed).
    #[arg(long, value_name = "DIR", conflicts_with = "serve")]
    pub export_svg: Option<PathBuf>,
    /// Open the onboarding walkthrough on the scenario's app (healthy without --scenario); with
    /// --output json, print its steps instead.
    #[arg(long, conflicts_with_all = ["serve", "play", "export_svg", "list_scenarios"])]
    pub walkthrough: bool,
    /// Output format: the global `--output`, set by [`super::run`].
    #[arg(skip)]
    pub output: OutputFormat,
}

impl DemoArgs {
    /// The tenant model: `--tenant-file`, else the one shipped with entra-doctor.
    pub fn model(&self) -> Result<TenantModel, demo::Error> {
        match &self.tenant_file {
            Some(path) => TenantModel::from_toml_file(path),
            None => TenantModel::builtin(),
        }
    }
}

/// Runs the command, writing to stdout; serves until Ctrl-C or SIGTERM. Returns the exit code:
/// 2 for a bad tenant file or scenario name, 3 when the server cannot start.
pub async fn run(args: DemoArgs) -> u8 {
    let mut stdout = std::io::stdout();
    match run_with(args, &mut stdout, shutdown_signal()).await {
        Ok(()) => 0,
        Err(e) => {
            super::say_error(&e);
            match e {
                demo::Error::Bind { .. }
                | demo::Error::Tls(_)
                | demo::Error::WriteCredentials { .. } => 3,
                _ => 2,
            }
        }
    }
}

/// Runs the command, writing to `out`, and serving until `shutdown` completes.
pub async fn run_with<W: Write>(
    args: DemoArgs,
    out: &mut W,
    shutdown: impl Future<Output = ()>,
) -> Result<(), demo::Error> {
    let model = args.model()?;
    if let Some(name) = &args.scenario
        && model.application(name).is_none()
        && model.managed_identity(name).is_none()
    {
        let mut known = model.scenarios();
        known.extend(model.managed_identities.iter().map(|m| m.scenario.as_str()));
        return Err(demo::Error::UnknownScenario {
            name: name.clone(),
            known: known.join(", "),
        });
    }
    if args.list_scenarios {
        // A closed pipe (`| head`) is a clean exit; a full disk is not.
        return super::write_output(out, render_scenarios(&model, &args).as_bytes())
            .map_err(demo::Error::Output);
    }
    // The audit's registrations date their credentials from the demo's clock: the fixed one of
    // ENTRA_DOCTOR_NOW (reproducible demos), else the real one.
    let clock = crate::environment::Environment::capture()
        .get("ENTRA_DOCTOR_NOW")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let demo = demo::start(DemoOptions {
        port: args.port,
        tls: args.tls,
        listings: demo::Listings {
            clock,
            synthetic_apps: args.synthetic_apps,
            throttle_once: true,
        },
        ..DemoOptions::new(model)
    })
    .await?;
    // A script reads the URLs and credentials from here: unwritten, the server is no use.
    if let Err(e) = super::write_output(out, render_serving(&demo, &args).as_bytes()) {
        demo.shutdown().await;
        return Err(demo::Error::Output(e));
    }
    shutdown.await;
    demo.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn selected<'a, T>(items: &'a [T], args: &DemoArgs, name: impl Fn(&T) -> &str) -> Vec<&'a T> {
    items
        .iter()
        .filter(|item| args.scenario.as_deref().is_none_or(|s| s == name(item)))
        .collect()
}

/// `--list-scenarios` output.
pub fn render_scenarios(model: &TenantModel, args: &DemoArgs) -> String {
    let apps = selected(&model.applications, args, |a| &a.scenario);
    let identities = selected(&model.managed_identities, args, |m| &m.scenario);
    match args.output {
        OutputFormat::Json => {
            let mut list: Vec<Value> = apps
                .iter()
                .map(|a| {
                    json!({
                        "scenario": a.scenario,
                        "teaches": a.teaches,
                        "reproduce": a.reproduce,
                        "client_id": a.client_id,
                        "scope": a.scope,
                        "probe_path": a.probe_path,
                    })
                })
                .collect();
            list.extend(identities.iter().map(|m| {
                json!({
                    "scenario": m.scenario,
                    "teaches": m.teaches,
                    "reproduce": m.reproduce,
                    "client_id": m.client_id,
                    "scope": m.scope,
                    "probe_path": m.probe_path,
                    "managed_identity": true,
                })
            }));
            format!("{}\n", json!({ "scenarios": list }))
        }
        OutputFormat::Text => {
            let mut text = format!(
                "Scenarios of the demo tenant {} ({}):\n",
                model.tenant.display_name, model.tenant.domain
            );
            let lessons = apps
                .iter()
                .map(|a| (&a.scenario, &a.teaches, &a.reproduce))
                .chain(
                    identities
                        .iter()
                        .map(|m| (&m.scenario, &m.teaches, &m.reproduce)),
                );
            for (scenario, teaches, reproduce) in lessons {
                let _ = writeln!(
                    text,
                    "\n{scenario}\n  teaches    {teaches}\n  reproduce  {reproduce}\n  run        entra-doctor demo --serve --scenario {scenario}",
                );
            }
            text
        }
    }
}

fn path_text(path: Option<&PathBuf>) -> Value {
    path.map_or(Value::Null, |p| json!(p.display().to_string()))
}

/// What `--serve` prints first: everything a client needs, credentials included.
pub fn render_serving(demo: &RunningDemo, args: &DemoArgs) -> String {
    let apps = selected(demo.apps(), args, |a: &DemoApp| &a.scenario);
    let app_json = |a: &DemoApp| {
        json!({
            "scenario": a.scenario,
            "display_name": a.display_name,
            "client_id": a.client_id,
            "secret": a.secret.as_ref().map(demo::DemoSecret::expose),
            "certificate_pem": path_text(a.certificate_pem.as_ref()),
            "certificate_pfx": path_text(a.certificate_pfx.as_ref()),
            "pfx_password": a.pfx_password.as_ref().map(demo::DemoSecret::expose),
            "scope": a.scope,
            "probe_url": a.probe_url,
            "teaches": a.teaches,
            "assertion_file": a.assertion_file.as_ref().map(|p| p.display().to_string()),
            "doctor_command": doctor_command(demo, a),
        })
    };
    let ca = demo.ca_file().map(|p| p.display().to_string());
    let identities: Vec<demo::DemoManagedIdentity> = demo
        .managed_identities()
        .into_iter()
        .filter(|m| args.scenario.as_deref().is_none_or(|s| s == m.scenario))
        .collect();
    let endpoints = |endpoint| -> Vec<(String, String)> {
        demo.managed_identity_env(endpoint)
            .into_iter()
            .map(|(name, value)| (name, value.expose().to_owned()))
            .collect()
    };
    let imds = endpoints(demo::IdentityEndpoint::Imds);
    let app_service = endpoints(demo::IdentityEndpoint::AppService);
    match args.output {
        OutputFormat::Json => {
            let doc = json!({
                "authority_host": demo.authority_host(),
                "tenant_id": demo.tenant_id(),
                "tenant_domain": demo.tenant_domain(),
                "token_endpoint": demo.token_endpoint(),
                "jwks_uri": demo.jwks_uri(),
                "ca_file": ca,
                "apps": apps.iter().map(|a| app_json(a)).collect::<Vec<_>>(),
                "managed_identities": identities.iter().map(|m| json!({
                    "scenario": m.scenario,
                    "display_name": m.display_name,
                    "client_id": m.client_id,
                    "object_id": m.object_id,
                    "resource_id": m.resource_id,
                    "scope": m.scope,
                    "probe_url": m.probe_url,
                    "teaches": m.teaches,
                })).collect::<Vec<_>>(),
                // What a process on the demo's Azure host sees: the IMDS address moved to the
                // demo, or App Service's endpoint and header (a throw-away demo value).
                "managed_identity_env": {
                    "imds": env_json(&imds),
                    "app_service": env_json(&app_service),
                },
            });
            format!("{doc}\n")
        }
        OutputFormat::Text => {
            let mut t = format!(
                "Demo tenant serving on {} (Ctrl-C to stop). Credentials below are throw-away demo values.\n\n",
                demo.authority_host()
            );
            let _ = writeln!(t, "  authority host  {}", demo.authority_host());
            let _ = writeln!(
                t,
                "  tenant          {} ({})",
                demo.tenant_id(),
                demo.tenant_domain()
            );
            let _ = writeln!(t, "  token endpoint  {}", demo.token_endpoint());
            let _ = writeln!(t, "  JWKS            {}", demo.jwks_uri());
            if let Some(ca) = &ca {
                let _ = writeln!(t, "  CA certificate  {ca}  (trust it: https)");
            }
            for a in apps {
                let _ = writeln!(t, "\n{}  ({})", a.scenario, a.display_name);
                let _ = writeln!(t, "  client id       {}", a.client_id);
                if let Some(secret) = &a.secret {
                    let _ = writeln!(t, "  secret          {}", secret.expose());
                }
                if let (Some(pem), Some(pfx)) = (&a.certificate_pem, &a.certificate_pfx) {
                    let _ = writeln!(t, "  certificate     {}", pem.display());
                    let _ = writeln!(t, "  PFX             {}", pfx.display());
                }
                if let Some(password) = &a.pfx_password {
                    let _ = writeln!(t, "  PFX password    {}", password.expose());
                }
                if let Some(file) = &a.assertion_file {
                    let _ = writeln!(t, "  federated token {}  (valid 1 h)", file.display());
                }
                let _ = writeln!(t, "  scope           {}", a.scope);
                let _ = writeln!(t, "  probe           GET {}", a.probe_url);
                let _ = writeln!(t, "  teaches         {}", a.teaches);
                let _ = writeln!(t, "  try             {}", doctor_command(demo, a));
            }
            write_identities(&mut t, &identities, &imds, &app_service);
            t
        }
    }
}

/// The managed identity scenarios of `--serve`'s text: the identity and the environment a
/// process on the demo's Azure host sees.
fn write_identities(
    t: &mut String,
    identities: &[demo::DemoManagedIdentity],
    imds: &[(String, String)],
    app_service: &[(String, String)],
) {
    for m in identities {
        let _ = writeln!(
            t,
            "\n{}  ({}, a managed identity)",
            m.scenario, m.display_name
        );
        let _ = writeln!(t, "  client id       {}", m.client_id);
        let _ = writeln!(t, "  object id       {}", m.object_id);
        let _ = writeln!(t, "  resource id     {}", m.resource_id);
        let _ = writeln!(t, "  IMDS            {}", env_line(imds));
        let _ = writeln!(t, "  App Service     {}", env_line(app_service));
        let _ = writeln!(t, "  scope           {}", m.scope);
        let _ = writeln!(t, "  probe           GET {}", m.probe_url);
        let _ = writeln!(t, "  teaches         {}", m.teaches);
        let _ = writeln!(
            t,
            "  try             {} entra-doctor token --managed-identity client-id={} --scope {}",
            env_line(imds),
            m.client_id,
            m.scope
        );
    }
}

/// Variables as a JSON object.
fn env_json(vars: &[(String, String)]) -> Value {
    Value::Object(
        vars.iter()
            .map(|(name, value)| (name.clone(), json!(value)))
            .collect(),
    )
}

/// Variables as `NAME=value NAME=value`, ready to paste before a command.
fn env_line(vars: &[(String, String)]) -> String {
    vars.iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A command line that runs `doctor` for this app against the demo tenant, ready to paste.
pub fn doctor_command(demo: &RunningDemo, app: &DemoApp) -> String {
    let quote = crate::shell::quote;
    let credential = match (&app.secret, &app.certificate_pem) {
        (Some(secret), _) => format!(
            "AZURE_CLIENT_SECRET={} entra-doctor doctor",
            quote(secret.expose())
        ),
        (None, Some(pem)) => format!(
            "entra-doctor doctor --certificate {}",
            quote(&pem.display().to_string())
        ),
        (None, None) => match &app.assertion_file {
            Some(file) => format!(
                "entra-doctor doctor --assertion-file {}",
                quote(&file.display().to_string())
            ),
            None => "entra-doctor doctor".to_owned(),
        },
    };
    format!(
        "{credential} --authority-host {} --tenant {} --client-id {} --scope {} --probe {}",
        demo.authority_host(),
        demo.tenant_id(),
        app.client_id,
        quote(&app.scope),
        quote(&app.probe_url)
    )
}
