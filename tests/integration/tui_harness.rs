//! The headless TUI harness the TUI tests share: key events through `keys::map` and `update`,
//! effects run against the in-process demo tenant and awaited (no sleeps), frames rendered into
//! a `TestBackend`.

#![cfg(feature = "tui")]

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use entra_doctor::demo::{self, DemoOptions, TenantModel};
use entra_doctor::tui::Launch;
use entra_doctor::tui::action::Action;
use entra_doctor::tui::effect::{Effect, Services, execute};
use entra_doctor::tui::form::Field;
use entra_doctor::tui::keys;
use entra_doctor::tui::state::{Load, State};
use entra_doctor::tui::update::update;
use entra_doctor::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub(crate) fn render(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::render(state, frame)).unwrap();
    terminal.backend().to_string()
}

pub(crate) struct Harness {
    pub(crate) state: State,
    pub(crate) services: Services,
    /// Effects asked for but not yet run, to snapshot the loading state.
    pub(crate) pending: Vec<Effect>,
    pub(crate) _demo: Option<demo::RunningDemo>,
}

impl Harness {
    pub(crate) async fn demo(scenario: Option<&str>) -> Self {
        let running = demo::start(DemoOptions::new(TenantModel::builtin().unwrap()))
            .await
            .unwrap();
        // The demo's IMDS, as `Launch::demo` sets it: a test never asks the machine's own.
        let services = Services::new(None).with_demo_imds(running.authority_host());
        let Launch { state, demo, .. } = Launch::demo(running, scenario);
        Self {
            state,
            services,
            pending: Vec::new(),
            _demo: demo,
        }
    }

    /// Presses a key: maps it as the runtime does and queues the effects.
    pub(crate) fn press(&mut self, code: KeyCode) {
        self.press_with(code, KeyModifiers::NONE);
    }

    pub(crate) fn press_with(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let event = Event::Key(KeyEvent::new(code, modifiers));
        if let Some(action) = keys::map(&event, &self.state) {
            self.dispatch(action);
        }
    }

    pub(crate) fn dispatch(&mut self, action: Action) {
        let effects = update(&mut self.state, action);
        self.pending.extend(effects);
    }

    pub(crate) fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Runs every pending effect (and those their results ask for) to completion.
    /// Then ticks the clock, as the runtime does, so countdowns are measured from now.
    pub(crate) async fn settle(&mut self) {
        while !self.pending.is_empty() {
            for effect in std::mem::take(&mut self.pending) {
                if let Some(action) = execute(effect, &self.services).await {
                    self.dispatch(action);
                }
            }
        }
        self.dispatch(Action::Tick(chrono::Utc::now()));
        self.state.spinner = 0;
    }

    pub(crate) fn frame(&self, width: u16, height: u16) -> String {
        render(&self.state, width, height)
    }

    pub(crate) fn secret_and_token(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        if let Some(picker) = &self.state.demo {
            for scenario in &picker.scenarios {
                let secret = scenario.form.secret.0.value();
                if !secret.is_empty() {
                    secrets.push(secret.to_owned());
                }
            }
        }
        if let Load::Ready(view) = &self.state.token {
            secrets.push(view.raw.expose().to_owned());
        }
        secrets
    }

    /// The canary for the TUI: no secret and no raw token in any frame or in `Debug`.
    pub(crate) fn assert_no_secret(&self, frames: &[&str]) {
        let debug = format!("{:?}", self.state);
        for secret in self.secret_and_token() {
            for frame in frames {
                assert!(!frame.contains(&secret), "a frame shows a secret or token");
            }
            assert!(
                !debug.contains(&secret),
                "State's Debug shows a secret or token"
            );
        }
    }

    /// The frame as the operator sees it, and where the terminal's cursor is.
    pub(crate) fn frame_and_cursor(&self, width: u16, height: u16) -> (String, Option<(u16, u16)>) {
        use ratatui::backend::Backend as _;
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| view::render(&self.state, frame))
            .unwrap();
        let cursor = self.state.editing.then(|| {
            let p = terminal.backend_mut().get_cursor_position().unwrap();
            (p.x, p.y)
        });
        (terminal.backend().to_string(), cursor)
    }

    pub(crate) fn select_field(&mut self, field: Field) {
        self.press(KeyCode::Char('1'));
        for _ in 0..20 {
            if self.state.field == field {
                return;
            }
            self.press(KeyCode::Char('j'));
        }
        panic!("no field {field:?}");
    }

    pub(crate) fn copied(&mut self) -> Vec<String> {
        self.pending
            .iter()
            .filter_map(|e| match e {
                Effect::Copy(text) => Some(text.clone()),
                _ => None,
            })
            .collect()
    }
}
