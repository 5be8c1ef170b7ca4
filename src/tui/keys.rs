//! Keys → actions, a pure function of the key and the state; and the one table of key help the
//! help overlay and the status bar are drawn from.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::form::Field;
use super::state::{Pane, State};

/// Every key, with what it does: the help overlay lists this table.
pub const HELP: &[(&str, &str)] = &[
    (
        "a",
        "acquire a token (served from the cache when it can be)",
    ),
    ("f", "force refresh: skip the cache, ask Entra ID again"),
    ("p", "probe: call the API at the Probe URL with the token"),
    ("d", "doctor: acquire (fresh) and probe, then explain"),
    ("g", "grants: audit admin consent through Microsoft Graph"),
    (
        "l",
        "log: look up the refused token request's sign-in in the sign-in log",
    ),
    (
        "Esc",
        "cancel the running request (its results are cleared) / cancel an edit / close",
    ),
    ("Tab / Shift-Tab", "next / previous pane"),
    (
        "1-7",
        "go to a pane (6: the walkthrough, 7: the tenant audit)",
    ),
    ("j / k, ↓ / ↑", "next / previous field, finding or line"),
    (
        "PgDn / PgUp",
        "scroll the findings, the help, the response or a step's details by a page",
    ),
    (
        "Home / End",
        "top / bottom of the findings, the help or a step's details",
    ),
    (
        "Enter or i",
        "edit the selected field: Enter keeps the new value, Esc puts the old one back",
    ),
    (
        "Space",
        "next credential kind: secret, certificate, assertion file (on Credential)",
    ),
    ("r", "reveal or hide the secret"),
    (
        "c",
        "copy (OSC 52): the selected finding's command (az, PowerShell, T-SQL) or else its first fix, the token's claims, or the response body",
    ),
    ("x", "clear the token cache"),
    ("s", "pick a demo scenario (the current one is marked)"),
    (
        "Enter / r  (6)",
        "walkthrough: check the selected step / every step in order",
    ),
    ("x  (6)", "walkthrough: apply the selected step's fix"),
    (
        "r  (7)",
        "tenant: audit every app registration (as the Admin app when filled); j/k select an app, c copies its first fix",
    ),
    ("Ctrl-S", "save the form as your profile (never the secret)"),
    (
        "paste",
        "explain what you paste: an error, a log line or a token",
    ),
    ("?", "this help"),
    (
        "q / Ctrl-C",
        "quit (a letter with Ctrl or Alt does nothing else: Ctrl-D is not d)",
    ),
];

/// The few keys the status bar shows for each pane.
pub fn hints(state: &State) -> &'static str {
    if state.editing {
        return "Enter keeps the edit · Esc undoes it · Ctrl-C quits";
    }
    if state.show_help {
        return "j/k PgDn PgUp Home End scroll · Esc closes";
    }
    match state.focus {
        Pane::Credentials => {
            "j/k field · Enter edit · a acquire · d doctor · s scenario · ? help · q quit"
        }
        Pane::Token => "a acquire · f force refresh · p probe · c copy claims · ? help · q quit",
        Pane::Cache => "f force refresh · x clear · ? help · q quit",
        Pane::Probe => "p probe · j/k scroll · c copy body · ? help · q quit",
        Pane::Findings if super::update::signins::correlation_id(state).is_some() => {
            "j/k select · l sign-in log · c copy fix · d doctor · ? help"
        }
        Pane::Findings => "j/k select · PgDn/PgUp scroll · c copy fix · d doctor · ? help",
        Pane::Walkthrough => {
            "j/k step · Enter check · r run all · x fix · PgDn details · c copy az · q quit"
        }
        Pane::Tenant => "r audit · j/k app · PgDn details · c copy fix · Esc cancel · q quit",
    }
}

pub fn map(event: &Event, state: &State) -> Option<Action> {
    if let Event::Paste(text) = event {
        return Some(Action::Pasted(text.clone()));
    }
    let Event::Key(key) = event else { return None };
    if key.kind != KeyEventKind::Press && key.kind != KeyEventKind::Repeat {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if state.editing {
        return match key.code {
            KeyCode::Esc => Some(Action::CancelEdit),
            KeyCode::Enter | KeyCode::Tab => Some(Action::StopEditing),
            _ => tui_input::backend::crossterm::to_input_request(event).map(Action::Edit),
        };
    }
    let save = ctrl && key.code == KeyCode::Char('s');
    // Only the plain key (Shift gives another character, or Shift-Tab) runs an action: Ctrl-D
    // is not a request for the doctor, nor Ctrl-X for clearing the cache.
    let modified = key.modifiers.intersects(
        KeyModifiers::CONTROL
            | KeyModifiers::ALT
            | KeyModifiers::SUPER
            | KeyModifiers::HYPER
            | KeyModifiers::META,
    );
    if modified && !save {
        return None;
    }
    if state.demo.as_ref().is_some_and(|d| d.open) {
        return picker(key);
    }
    if state.show_help {
        return match key.code {
            KeyCode::Esc | KeyCode::Char('?' | 'q') => Some(Action::ToggleHelp),
            code => scrolling(code),
        };
    }
    if save {
        return Some(Action::SaveProfile);
    }
    if state.focus == Pane::Walkthrough {
        match key.code {
            KeyCode::Enter => return Some(Action::WalkRun { all: false }),
            KeyCode::Char('r') => return Some(Action::WalkRun { all: true }),
            KeyCode::Char('x') => return Some(Action::WalkFix),
            _ => {}
        }
    }
    if state.focus == Pane::Tenant && key.code == KeyCode::Char('r') {
        return Some(Action::AuditTenant);
    }
    if let Some(action) = scrolling(key.code) {
        return Some(action);
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Cancel,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrevious,
        KeyCode::Char(digit @ '1'..='7') => {
            Action::Focus(Pane::ALL[(digit as usize) - ('1' as usize)])
        }
        KeyCode::Char('a') => Action::Acquire { force: false },
        KeyCode::Char('f') => Action::Acquire { force: true },
        KeyCode::Char('p') => Action::Probe,
        KeyCode::Char('d') => Action::Doctor,
        KeyCode::Char('g') => Action::AuditConsent,
        KeyCode::Char('l') => Action::LookUpSignIn,
        KeyCode::Char('c') => Action::Copy,
        KeyCode::Char('x') => Action::ClearCache,
        KeyCode::Char('s') => Action::OpenScenarios,
        KeyCode::Char('r') => Action::ToggleReveal,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char(' ') if state.focus == Pane::Credentials && state.field == Field::Kind => {
            Action::CycleCredentialKind
        }
        KeyCode::Enter | KeyCode::Char('i') if state.focus == Pane::Credentials => {
            Action::StartEditing
        }
        _ => return None,
    })
}

/// The keys that move through a list or scroll a view, the same in a pane and in the help.
fn scrolling(code: KeyCode) -> Option<Action> {
    Some(match code {
        KeyCode::Char('j') | KeyCode::Down => Action::Scroll(1),
        KeyCode::Char('k') | KeyCode::Up => Action::Scroll(-1),
        KeyCode::PageDown => Action::ScrollPage(1),
        KeyCode::PageUp => Action::ScrollPage(-1),
        KeyCode::Home => Action::ScrollToStart,
        KeyCode::End => Action::ScrollToEnd,
        _ => return None,
    })
}

fn picker(key: &KeyEvent) -> Option<Action> {
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => Some(Action::MoveScenario(1)),
        KeyCode::Char('k') | KeyCode::Up => Some(Action::MoveScenario(-1)),
        KeyCode::Enter => Some(Action::PickScenario),
        KeyCode::Esc | KeyCode::Char('s') => Some(Action::Cancel),
        KeyCode::Char('q') => Some(Action::Quit),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::HELP;

    /// The README's key table is this table: a key added here must be documented there.
    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        for (key, what) in HELP {
            assert!(
                readme.contains(&format!("| `{key}` | {what} |")),
                "README lacks the key {key}"
            );
        }
    }
}
