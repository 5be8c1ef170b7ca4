//! The TUI without a terminal: keys in, effects awaited in order, frames out. Scripted demos,
//! the SVG exporter and tests drive the very same `keys` → `update` → `effect` path as the
//! runtime, only without a screen and without waiting for a human.

use chrono::Utc;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::action::Action;
use super::effect::{Effect, Services, execute};
use super::state::State;
use super::{Launch, keys, update, view};

pub struct Headless {
    pub state: State,
    pub services: Services,
    pending: Vec<Effect>,
    /// Keeps the embedded demo tenant alive.
    _launch_demo: Option<crate::demo::RunningDemo>,
}

impl Headless {
    pub fn new(launch: Launch) -> Self {
        let Launch {
            state,
            services,
            demo,
        } = launch;
        Self {
            state,
            services,
            pending: Vec::new(),
            _launch_demo: demo,
        }
    }

    /// Presses one key as the runtime would map it.
    pub fn press(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        if let Some(action) = keys::map(&Event::Key(KeyEvent::new(code, modifiers)), &self.state) {
            self.dispatch(action);
        }
    }

    /// Presses the keys a script names: single characters, or `<Enter>`, `<Esc>`, `<Tab>`,
    /// `<BackTab>`, `<Down>`, `<Up>`, `<Left>`, `<Right>`, `<End>`, `<Home>`, `<PgDn>`, `<PgUp>`,
    /// `<Space>`, or Ctrl and a lower-case letter (`<C-u>`).
    pub fn press_script(&mut self, script: &str) -> Result<(), String> {
        for key in parse_keys(script)? {
            self.press(key.0, key.1);
        }
        Ok(())
    }

    pub fn dispatch(&mut self, action: Action) {
        let effects = update::update(&mut self.state, action);
        self.pending.extend(effects);
    }

    /// Runs every effect asked for, and those their results ask for, to completion; then
    /// moves the clock to now, as the runtime's tick does.
    pub async fn settle(&mut self) {
        while !self.pending.is_empty() {
            for effect in std::mem::take(&mut self.pending) {
                if let Some(action) = execute(effect, &self.services).await {
                    self.dispatch(action);
                }
            }
        }
        self.dispatch(Action::Tick(Utc::now()));
        self.state.spinner = 0;
    }

    pub fn render(&self, width: u16, height: u16) -> Result<Buffer, String> {
        let mut terminal =
            Terminal::new(TestBackend::new(width, height)).map_err(|e| e.to_string())?;
        terminal
            .draw(|frame| view::render(&self.state, frame))
            .map_err(|e| e.to_string())?;
        Ok(terminal.backend().buffer().clone())
    }
}

fn parse_keys(script: &str) -> Result<Vec<(KeyCode, KeyModifiers)>, String> {
    let mut keys = Vec::new();
    let mut rest = script;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest
                .find('>')
                .ok_or_else(|| format!("unclosed <…> in keys {script:?}"))?;
            let name = &rest[1..end];
            keys.push(match name {
                "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
                "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
                "Down" => (KeyCode::Down, KeyModifiers::NONE),
                "Up" => (KeyCode::Up, KeyModifiers::NONE),
                "Left" => (KeyCode::Left, KeyModifiers::NONE),
                "Right" => (KeyCode::Right, KeyModifiers::NONE),
                "End" => (KeyCode::End, KeyModifiers::NONE),
                "Home" => (KeyCode::Home, KeyModifiers::NONE),
                "Space" => (KeyCode::Char(' '), KeyModifiers::NONE),
                "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
                "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
                "BackTab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
                ctrl if ctrl.len() == 3
                    && ctrl.starts_with("C-")
                    && ctrl.as_bytes()[2].is_ascii_lowercase() =>
                {
                    (
                        KeyCode::Char(char::from(ctrl.as_bytes()[2])),
                        KeyModifiers::CONTROL,
                    )
                }
                other => return Err(format!("unknown key <{other}> in {script:?}")),
            });
            rest = &rest[end + 1..];
        } else {
            keys.push((KeyCode::Char(c), KeyModifiers::NONE));
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_scripts() {
        assert_eq!(
            parse_keys("d<Enter>").unwrap(),
            vec![
                (KeyCode::Char('d'), KeyModifiers::NONE),
                (KeyCode::Enter, KeyModifiers::NONE)
            ]
        );
        assert_eq!(
            parse_keys("<C-d><PgDn>").unwrap(),
            vec![
                (KeyCode::Char('d'), KeyModifiers::CONTROL),
                (KeyCode::PageDown, KeyModifiers::NONE)
            ]
        );
        assert!(parse_keys("<Nope>").is_err());
        assert!(parse_keys("<C-D>").is_err());
        assert!(parse_keys("<Enter").is_err());
    }
}
