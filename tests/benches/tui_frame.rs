//! Criterion benchmark of one full TUI frame at 200x60 rendered into a `TestBackend`, with every
//! pane filled: the "no-consent" lesson run through `doctor` against the in-process demo tenant
//! (token, claims, cache, a 403 probe and its findings), as tests/integration/tui_flows.rs does.
//! Run: `cargo bench --bench tui_frame`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use entra_doctor::demo::{self, DemoOptions, TenantModel};
use entra_doctor::tui::Launch;
use entra_doctor::tui::action::Action;
use entra_doctor::tui::effect::{Services, execute};
use entra_doctor::tui::state::State;
use entra_doctor::tui::update::update;
use entra_doctor::tui::{keys, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A state after `d` (doctor) on the no-consent lesson, every effect run to completion.
fn doctored_state(runtime: &tokio::runtime::Runtime) -> (State, Option<demo::RunningDemo>) {
    runtime.block_on(async {
        let model = TenantModel::builtin().unwrap_or_else(|e| panic!("{e}"));
        let running = demo::start(DemoOptions::new(model))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let Launch {
            mut state, demo, ..
        } = Launch::demo(running, Some("no-consent"));
        let services = Services::new(None);
        let key = Event::Key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE));
        let mut pending = keys::map(&key, &state)
            .map(|action| update(&mut state, action))
            .unwrap_or_default();
        while !pending.is_empty() {
            for effect in std::mem::take(&mut pending) {
                if let Some(action) = execute(effect, &services).await {
                    pending.extend(update(&mut state, action));
                }
            }
        }
        update(&mut state, Action::Tick(chrono::Utc::now()));
        (state, demo)
    })
}

fn bench_frame(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let (state, _demo) = doctored_state(&runtime);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("tui/frame_200x60_doctored", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| view::render(black_box(&state), frame))
                .map(|_| ())
        });
    });
}

criterion_group!(benches, bench_frame);
criterion_main!(benches);
