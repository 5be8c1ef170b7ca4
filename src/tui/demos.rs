//! Scripted demos (`assets/demos/*.toml`): a scenario, then steps of keys and a caption. They
//! are played in a terminal (`demo --play NAME`), exported to SVG (`demo --export-svg DIR`), and
//! replayed headlessly by a test that snapshots every captioned frame, so a demo never rots.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, poll, read};
use serde::Deserialize;

use super::Launch;
use super::headless::Headless;

/// The shipped demos, compiled in.
const SCRIPTS: &[(&str, &str)] = &[
    ("healthy", include_str!("../../assets/demos/healthy.toml")),
    (
        "no-consent",
        include_str!("../../assets/demos/no-consent.toml"),
    ),
    (
        "wrong-scope",
        include_str!("../../assets/demos/wrong-scope.toml"),
    ),
    (
        "trailing-slash",
        include_str!("../../assets/demos/trailing-slash.toml"),
    ),
    (
        "expired-secret",
        include_str!("../../assets/demos/expired-secret.toml"),
    ),
    (
        "unregistered-certificate",
        include_str!("../../assets/demos/unregistered-certificate.toml"),
    ),
    (
        "managed-identity-not-assigned",
        include_str!("../../assets/demos/managed-identity-not-assigned.toml"),
    ),
    (
        "walkthrough",
        include_str!("../../assets/demos/walkthrough.toml"),
    ),
    (
        "federated-subject-mismatch",
        include_str!("../../assets/demos/federated-subject-mismatch.toml"),
    ),
    (
        "federated-issuer-slash",
        include_str!("../../assets/demos/federated-issuer-slash.toml"),
    ),
    (
        "walkthrough-federated",
        include_str!("../../assets/demos/walkthrough-federated.toml"),
    ),
    ("audit", include_str!("../../assets/demos/audit.toml")),
];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub keys: String,
    pub caption: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(skip)]
    pub name: String,
    pub title: String,
    pub scenario: String,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// Every shipped demo. A test proves they all parse.
pub fn all() -> Result<Vec<Script>, String> {
    SCRIPTS
        .iter()
        .map(|(name, text)| {
            let mut script: Script =
                toml::from_str(text).map_err(|e| format!("demo {name}: {e}"))?;
            (*name).clone_into(&mut script.name);
            Ok(script)
        })
        .collect()
}

pub fn find(name: &str) -> Result<Script, String> {
    let scripts = all()?;
    let names: Vec<String> = scripts.iter().map(|s| s.name.clone()).collect();
    scripts
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no demo {name:?}; the demos are: {}", names.join(", ")))
}

/// Plays a demo headlessly, calling `frame` after each step with the step and the driver.
pub async fn replay(
    launch: Launch,
    script: &Script,
    mut frame: impl FnMut(usize, &Step, &Headless) -> Result<(), String>,
) -> Result<(), String> {
    let mut driver = Headless::new(launch);
    for (index, step) in script.steps.iter().enumerate() {
        driver.press_script(&step.keys)?;
        driver.settle().await;
        driver.state.status.clone_from(&step.caption);
        frame(index, step, &driver)?;
    }
    Ok(())
}

/// Writes `DIR/<demo>-<step>.svg` for every step of every demo, 120x40.
pub async fn export_svg(
    dir: &Path,
    launch: impl Fn(&str) -> Result<Launch, String>,
) -> Result<Vec<String>, String> {
    // A link is refused rather than followed (it could point at any directory); a directory
    // made here is the owner's alone (0700), an existing one is left as it is.
    crate::files::refuse_link(dir).map_err(|e| e.to_string())?;
    crate::files::create_private_dir(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for script in all()? {
        replay(launch(&script.scenario)?, &script, |index, _, driver| {
            let svg = super::svg::to_svg(&driver.render(120, 40)?);
            let path = dir.join(format!("{}-{}.svg", script.name, index + 1));
            crate::files::write_private(&path, svg.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path.display().to_string());
            Ok(())
        })
        .await?;
    }
    Ok(written)
}

/// Plays a demo in the terminal at a readable pace: Space pauses, q quits.
pub async fn play(launch: Launch, script: &Script) -> std::io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    super::crash::install_hook(crate::logging::log_file().map(std::path::Path::to_path_buf));
    let result = play_steps(&mut terminal, Headless::new(launch), script).await;
    ratatui::restore();
    result
}

async fn play_steps(
    terminal: &mut ratatui::DefaultTerminal,
    mut driver: Headless,
    script: &Script,
) -> std::io::Result<()> {
    driver.state.status = format!("Demo: {} — Space pauses, q quits", script.title);
    terminal.draw(|f| super::view::render(&driver.state, f))?;
    if wait(Duration::from_millis(1500))? {
        return Ok(());
    }
    for step in &script.steps {
        driver
            .press_script(&step.keys)
            .map_err(std::io::Error::other)?;
        driver.settle().await;
        driver.state.status.clone_from(&step.caption);
        terminal.draw(|f| super::view::render(&driver.state, f))?;
        if wait(Duration::from_millis(3500))? {
            return Ok(());
        }
    }
    driver.state.status = format!("End of the demo \"{}\" — q quits", script.title);
    terminal.draw(|f| super::view::render(&driver.state, f))?;
    let _ = std::io::stdout().flush();
    while !wait(Duration::from_secs(60))? {}
    Ok(())
}

/// Waits `pause`, or less if q is pressed (true) ; Space holds until Space again.
fn wait(pause: Duration) -> std::io::Result<bool> {
    let deadline = std::time::Instant::now() + pause;
    let mut paused = false;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if !paused && left.is_zero() {
            return Ok(false);
        }
        if poll(if paused {
            Duration::from_millis(250)
        } else {
            left
        })? && let Event::Key(key) = read()?
        {
            match key.code {
                KeyCode::Char('q') | KeyCode::Esc => return Ok(true),
                KeyCode::Char('c')
                    if key
                        .modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL) =>
                {
                    return Ok(true);
                }
                KeyCode::Char(' ') => paused = !paused,
                _ => {}
            }
        }
    }
}
