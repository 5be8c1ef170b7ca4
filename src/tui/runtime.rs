//! The runtime: owns the terminal, waits on keys, task results, a tick (only while something
//! animates) and SIGTERM; runs `update`, spawns effects, draws when something changed.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt as _;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::action::Action;
use super::effect::{Effect, Services, execute};
use super::form::{CredentialKind, Field, Form};
use super::state::{DemoPicker, Pane, RequestId, Scenario, State};
use super::{crash, keys, update, view};
use crate::demo::RunningDemo;
use crate::environment::Environment;
use crate::profile::Profile;
use crate::setup::Spec;

/// Everything the TUI starts with.
pub struct Launch {
    pub state: State,
    pub services: Services,
    /// The embedded demo tenant, kept alive while the TUI runs.
    pub demo: Option<RunningDemo>,
}

impl Launch {
    /// Reaches servers with `--ca-file` and the network variables of `env`; an error when the
    /// CA file or a proxy variable cannot be used.
    pub fn with_network(
        mut self,
        ca_file: Option<std::path::PathBuf>,
        env: &Environment,
    ) -> crate::error::Result<Self> {
        self.services = self.services.with_network(ca_file, env)?;
        Ok(self)
    }

    /// The TUI pointed at a running demo tenant, on `scenario` or with the picker open.
    pub fn demo(demo: RunningDemo, scenario: Option<&str>) -> Self {
        // The healthy app may read app registrations: the consent audit's admin in every other
        // lesson, so the delegated-instead-of-application mistake can be named from the TUI.
        let admin = demo.app("healthy").and_then(|app| {
            Some((
                app.client_id.clone(),
                app.secret.as_ref()?.expose().to_owned(),
            ))
        });
        let mut scenarios: Vec<Scenario> = demo
            .apps()
            .iter()
            .map(|app| {
                let mut form = if let Ok((spec, probe)) =
                    crate::walkthrough::demo_spec(&demo, &app.scenario)
                {
                    let mut form = Form::from_spec(&spec, None);
                    form.set(Field::ProbeUrl, &probe);
                    form
                } else {
                    // An app that hands out nothing: its ids, and an empty credential to fill.
                    let mut form = Form::default();
                    form.set(Field::Tenant, demo.tenant_id());
                    form.set(Field::ClientId, &app.client_id);
                    form.set(Field::Authority, demo.authority_host());
                    form.set(Field::Scope, &app.scope);
                    form.set(Field::ProbeUrl, &app.probe_url);
                    form
                };
                if let Some((client_id, secret)) = &admin
                    && *client_id != app.client_id
                {
                    form.set(Field::AdminClientId, client_id);
                    form.set(Field::AdminSecret, secret);
                }
                Scenario {
                    name: app.scenario.clone(),
                    teaches: app.teaches.clone(),
                    form,
                }
            })
            .collect();
        // The managed identity lessons: the form asks the system-assigned identity of the
        // demo's VM, whose IMDS is the demo itself (see `Services::with_demo_imds`).
        scenarios.extend(demo.managed_identities().into_iter().map(|identity| {
            let mut form = Form {
                kind: CredentialKind::ManagedIdentity,
                ..Form::default()
            };
            form.set(Field::Authority, demo.authority_host());
            form.set(Field::Scope, &identity.scope);
            form.set(Field::ProbeUrl, &identity.probe_url);
            Scenario {
                name: identity.scenario,
                teaches: identity.teaches,
                form,
            }
        }));
        let selected = scenario.and_then(|name| scenarios.iter().position(|s| s.name == name));
        let mut state = State::new(Form::default(), Utc::now());
        state.demo = Some(DemoPicker {
            scenarios,
            selected: selected.unwrap_or(0),
            open: true,
        });
        if selected.is_some() {
            update::update(&mut state, Action::PickScenario);
        }
        let mut services =
            Services::new(Profile::default_path()).with_demo_imds(demo.authority_host());
        services.demo = Some(demo.control());
        Self {
            state,
            services,
            demo: Some(demo),
        }
    }

    /// The TUI for the operator's own app: `AZURE_*` variables, then the saved profile.
    /// `None` when there is neither, so the caller can offer the demo tenant instead.
    pub fn from_environment(env: &Environment) -> (Option<Self>, Option<String>) {
        let has_env = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID"]
            .iter()
            .any(|v| env.get(v).is_some());
        let (launch, had_profile, warning) = Self::own(Spec::default(), None, env);
        ((has_env || had_profile).then_some(launch), warning)
    }

    /// The TUI for `spec`, completed from `AZURE_*` variables and the saved profile in the one
    /// precedence of [`crate::setup`]; also says whether there was a profile.
    fn own(spec: Spec, probe: Option<&str>, env: &Environment) -> (Self, bool, Option<String>) {
        let path = Profile::default_path();
        let (profile, warning) = path
            .as_deref()
            .map(Profile::load)
            .and_then(Result::ok)
            .unwrap_or((None, None));
        let spec = Spec {
            surface: crate::setup::Surface::Form,
            ..spec
        }
        .fill_from(env, profile.as_ref());
        let mut form = Form::from_spec(&spec, env.get("AZURE_CLIENT_SECRET"));
        let saved = profile.clone().unwrap_or_default();
        form.set(Field::ProbeUrl, probe.unwrap_or(&saved.probe_url));
        form.set(Field::AdminClientId, &saved.admin_client_id);
        let mut state = State::new(form, Utc::now());
        if let Some(warning) = &warning {
            state.status.clone_from(warning);
        }
        let launch = Self {
            state,
            services: Services::new(path),
            demo: None,
        };
        (launch, profile.is_some(), warning)
    }
}

impl Launch {
    /// Opens on the walkthrough tab, the demo scenario (if any) already loaded.
    #[must_use]
    pub fn on_walkthrough(mut self) -> Self {
        self.state.focus = Pane::Walkthrough;
        // With the scenario picker open, its own hint stays.
        if !self.state.demo.as_ref().is_some_and(|d| d.open) {
            self.state.status =
                "Walkthrough: Enter checks the selected step, r runs every step, x applies a fix."
                    .into();
        }
        self
    }

    /// The walkthrough of the operator's own app: the command line's `spec` (and `probe`),
    /// completed from `AZURE_*` variables and the saved profile; `admin` (`--admin-client-id`)
    /// fills the Admin fields, with which step 3 reads the credential's expiry.
    pub fn for_walkthrough(
        spec: Spec,
        probe: Option<&str>,
        admin: Option<&crate::consent::AdminApp>,
        env: &Environment,
    ) -> Result<Self, String> {
        if matches!(spec.credential, crate::setup::CredentialSpec::SecretStdin) {
            return Err("--secret-stdin cannot be used with the terminal UI (standard input is the keyboard); set AZURE_CLIENT_SECRET, or add --output json".into());
        }
        let admin = match admin.map(|a| (&a.client_id, &a.credential)) {
            None => None,
            Some((id, crate::setup::CredentialSpec::Secret(secret))) => {
                Some((id.clone(), secret.as_ref().map(|s| s.expose().to_owned())))
            }
            Some(_) => {
                return Err("--admin-certificate cannot be used with the terminal UI (its Admin fields take a secret); add --output json".into());
            }
        };
        let (mut launch, _, _) = Self::own(spec, probe, env);
        if let Some((client_id, secret)) = admin {
            launch.state.form.set(Field::AdminClientId, &client_id);
            launch
                .state
                .form
                .set(Field::AdminSecret, secret.as_deref().unwrap_or_default());
        }
        super::update::refresh_lints(&mut launch.state);
        Ok(launch.on_walkthrough())
    }
}

/// Runs the TUI until the operator quits. The terminal is restored on every way out: normal
/// quit, error, Ctrl-C (a key in raw mode), SIGTERM, and a panic (ratatui's hook).
pub async fn run(launch: Launch) -> std::io::Result<()> {
    use std::io::IsTerminal as _;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(std::io::Error::other(
            "the terminal UI needs an interactive terminal; in scripts use a command (entra-doctor --help)",
        ));
    }
    let Launch {
        mut state,
        services,
        demo,
    } = launch;
    let mut terminal = match ratatui::try_init() {
        Ok(terminal) => terminal,
        Err(error) => {
            ratatui::restore();
            return Err(error);
        }
    };
    crash::install_hook(crate::logging::log_file().map(Path::to_path_buf));
    // A paste arrives whole (to be explained), not as keys that would run commands.
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableBracketedPaste);
    let result = event_loop(&mut terminal, &mut state, &services).await;
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableBracketedPaste);
    ratatui::restore();
    drop(demo);
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    services: &Services,
) -> std::io::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let services = &{
        let mut services = services.clone();
        services.progress = Some(tx.clone());
        services
    };
    let mut events = EventStream::new();
    let mut tasks = Tasks::default();
    let mut terminate = terminate_signal();
    let mut dirty = true;
    loop {
        if crash::has_crashed() {
            // A panic outside a task restored the terminal and said so: drawing again would
            // scribble over that message.
            tasks.abort_all();
            return Err(std::io::Error::other(
                "entra-doctor stopped after an internal error (see the message above)",
            ));
        }
        if dirty {
            terminal.draw(|frame| view::render(state, frame))?;
            dirty = false;
        }
        if state.should_quit {
            break;
        }
        let tick = if state.running.is_some() {
            Some(Duration::from_millis(100))
        } else if state.is_animating() {
            Some(Duration::from_secs(1))
        } else {
            None
        };
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Resize(..))) => { dirty = true; None }
                Some(Ok(event)) => keys::map(&event, state),
                Some(Err(_)) | None => Some(Action::Quit),
            },
            Some(action) = rx.recv() => Some(action),
            () = tokio::time::sleep(tick.unwrap_or(Duration::MAX)), if tick.is_some() => Some(Action::Tick(Utc::now())),
            () = terminate.recv() => Some(Action::Quit),
        };
        let Some(action) = action else { continue };
        for effect in update::update(state, action) {
            spawn(effect, services, &tx, &mut tasks);
        }
        tasks.forget_finished();
        dirty = true;
    }
    // Quit (q, Ctrl-C, SIGTERM) with a request in flight: it stops here, not after its timeout.
    tasks.abort_all();
    Ok(())
}

/// The running tasks: by request where they have one, so `Effect::Cancel` can abort them.
#[derive(Default)]
struct Tasks {
    by_request: HashMap<RequestId, AbortHandle>,
    others: Vec<AbortHandle>,
}

impl Tasks {
    fn forget_finished(&mut self) {
        self.by_request.retain(|_, task| !task.is_finished());
        self.others.retain(|task| !task.is_finished());
    }

    fn abort_all(&mut self) {
        for task in self.by_request.values().chain(&self.others) {
            task.abort();
        }
    }
}

fn spawn(
    effect: Effect,
    services: &Services,
    tx: &mpsc::UnboundedSender<Action>,
    tasks: &mut Tasks,
) {
    match effect {
        Effect::Cancel(id) => {
            if let Some(task) = tasks.by_request.remove(&id) {
                task.abort();
            }
        }
        Effect::Copy(text) => copy_osc52(&text),
        other => {
            let id = match &other {
                Effect::Acquire { id, .. }
                | Effect::Probe { id, .. }
                | Effect::Consent { id, .. }
                | Effect::Federation { id, .. }
                | Effect::SignIns { id, .. }
                | Effect::Verify { id, .. }
                | Effect::Walk { id, .. }
                | Effect::WalkFix { id, .. }
                | Effect::TenantAudit { id, .. } => Some(*id),
                Effect::ClearCache
                | Effect::SaveProfile(_)
                | Effect::Cancel(_)
                | Effect::Copy(_) => None,
            };
            let services = services.clone();
            let log = crate::logging::log_file().map(Path::to_path_buf);
            let work = async move { execute(other, &services).await };
            let task = crash::supervise(id.unwrap_or(0), work, tx.clone(), log);
            match id {
                // A signature check shares its token's id, so it must not take its slot.
                Some(id) if !tasks.by_request.contains_key(&id) => {
                    tasks.by_request.insert(id, task);
                }
                Some(_) | None => tasks.others.push(task),
            }
        }
    }
}

/// OSC 52: the terminal (even over SSH) puts the text on the system clipboard.
fn copy_osc52(text: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut stdout = std::io::stdout();
    let _ = write!(stdout, "\x1b]52;c;{encoded}\x07");
    let _ = stdout.flush();
}

/// SIGTERM and SIGHUP become a quit, so the terminal is restored (yazi does the same).
struct Terminate {
    #[cfg(unix)]
    signals: Vec<tokio::signal::unix::Signal>,
}

fn terminate_signal() -> Terminate {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let signals = [SignalKind::terminate(), SignalKind::hangup()]
            .into_iter()
            .filter_map(|kind| signal(kind).ok())
            .collect();
        Terminate { signals }
    }
    #[cfg(not(unix))]
    {
        Terminate {}
    }
}

impl Terminate {
    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.signals.is_empty() {
                std::future::pending::<()>().await;
            }
            let waits = self.signals.iter_mut().map(|s| Box::pin(s.recv()));
            let _ = futures_util::future::select_all(waits).await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}
