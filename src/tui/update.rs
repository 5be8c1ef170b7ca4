//! `update`: the one place the state changes. Pure: it returns the effects it wants run.

mod paste;
mod scroll;
pub mod signins;
mod tenant;
mod trust;
mod walk;

use super::action::Action;
pub use super::derive::refresh_lints;
use super::derive::{copy, fix_context};
use super::effect::Effect;
use super::form::{CredentialKind, Field};
use super::state::{Load, Pane, Running, State};
use crate::diagnose::{self, Finding};

// One arm per action, all in one exhaustive match (STYLE.md): long by design.
#[allow(clippy::too_many_lines)]
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => {
            state.should_quit = true;
            state
                .running
                .take()
                .map(|r| Effect::Cancel(r.id))
                .into_iter()
                .collect()
        }
        Action::FocusNext => {
            state.focus = step(&Pane::ALL, state.focus, 1);
            Vec::new()
        }
        Action::FocusPrevious => {
            state.focus = step(&Pane::ALL, state.focus, -1);
            Vec::new()
        }
        Action::Focus(pane) => {
            state.focus = pane;
            Vec::new()
        }
        Action::SelectField(delta) => {
            state.field = step(&state.form.visible(), state.field, delta);
            Vec::new()
        }
        Action::StartEditing => {
            state.focus = Pane::Credentials;
            if state.field == Field::Kind {
                cycle_kind(state);
            } else if let Some(input) = state.form.input(state.field) {
                state.edit_before = Some(crate::secret::Secret::new(input.value()));
                state.editing = true;
                // The key hints beside it say which key keeps the edit and which undoes it.
                state.status = format!("Editing {}.", state.field.label());
            }
            Vec::new()
        }
        Action::StopEditing => {
            state.editing = false;
            state.edit_before = None;
            state.status = format!("{} kept.", state.field.label());
            Vec::new()
        }
        Action::CancelEdit => {
            state.editing = false;
            if let Some(before) = state.edit_before.take() {
                state.form.set(state.field, before.expose());
                refresh_lints(state);
            }
            state.status = format!("Edit cancelled: {} is as it was.", state.field.label());
            Vec::new()
        }
        Action::Edit(request) => {
            if let Some(input) = state.form.input_mut(state.field) {
                input.handle(request);
                refresh_lints(state);
            }
            Vec::new()
        }
        Action::Pasted(text) => {
            paste::pasted(state, &text);
            Vec::new()
        }
        Action::CycleCredentialKind => {
            cycle_kind(state);
            Vec::new()
        }
        Action::ToggleReveal => {
            state.reveal_secret = !state.reveal_secret;
            Vec::new()
        }
        Action::Acquire { force } => {
            state.then_probe = false;
            state.then_consent = false;
            start_acquire(
                state,
                force,
                if force { "force refresh" } else { "acquire" },
            )
        }
        Action::Doctor => {
            let mut effects = start_acquire(state, true, "doctor (acquiring a fresh token)");
            // `d` also says where the credential in use stands against its end date.
            for effect in &mut effects {
                if let Effect::Acquire { expiry, .. } = effect {
                    *expiry = true;
                }
            }
            state.then_probe = true;
            state.then_consent = true;
            effects
        }
        Action::Probe => {
            state.then_consent = false;
            start_probe(state)
        }
        Action::Cancel => cancel(state),
        Action::Copy => copy(state),
        Action::ToggleHelp => {
            state.show_help = !state.show_help;
            state.help_scroll = 0;
            Vec::new()
        }
        Action::ClearCache => vec![Effect::ClearCache],
        // The demo's loopback address and throw-away ids would replace the operator's own.
        Action::SaveProfile if state.demo.is_some() => {
            state.status =
                "Demo sessions do not save a profile: yours stays as it was (Ctrl-S saves outside the demo)."
                    .into();
            Vec::new()
        }
        Action::SaveProfile => vec![Effect::SaveProfile(Box::new(state.form.to_profile()))],
        Action::Scroll(delta) => {
            scroll::by(state, delta);
            Vec::new()
        }
        Action::ScrollPage(pages) => {
            scroll::page(state, pages);
            Vec::new()
        }
        Action::ScrollToStart => {
            scroll::edge(state, false);
            Vec::new()
        }
        Action::ScrollToEnd => {
            scroll::edge(state, true);
            Vec::new()
        }
        Action::OpenScenarios => {
            if let Some(demo) = &mut state.demo {
                demo.open = true;
            } else {
                state.status = "Scenarios come with the demo tenant: run entra-doctor demo.".into();
            }
            Vec::new()
        }
        Action::MoveScenario(delta) => {
            if let Some(demo) = &mut state.demo {
                let count = demo.scenarios.len().max(1);
                let moved = i64::try_from(demo.selected).unwrap_or(0) + i64::from(delta);
                demo.selected =
                    usize::try_from(moved.rem_euclid(i64::try_from(count).unwrap_or(1)))
                        .unwrap_or(0);
            }
            Vec::new()
        }
        Action::PickScenario => {
            pick_scenario(state);
            Vec::new()
        }
        Action::WalkRun { all } => walk::run(state, all),
        Action::WalkFix => walk::fix(state),
        Action::WalkReported { id, reports } => walk::reported(state, id, reports),
        Action::WalkFixed { id, result } => walk::fixed(state, id, result),
        Action::AuditTenant => tenant::start(state),
        Action::TenantProgress { id, apps, retry } => {
            tenant::progress(state, id, &apps, retry);
            Vec::new()
        }
        Action::TenantAudited { id, result, tally } => {
            tenant::audited(state, id, result, tally);
            Vec::new()
        }
        Action::Tick(now) => {
            state.now = now;
            state.spinner = state.spinner.wrapping_add(1);
            Vec::new()
        }
        Action::TokenAcquired {
            id,
            result,
            findings,
            cache,
        } => token_acquired(state, id, result, findings, cache),
        Action::TokenVerified { id, label, finding } => {
            trust::token_verified(state, id, label, *finding)
        }
        // On the assertion kind, `g` reads the federated credentials the token must match.
        Action::AuditConsent if state.form.kind == CredentialKind::Assertion => {
            trust::start_federation(state)
        }
        Action::AuditConsent => trust::start_consent(state),
        Action::LookUpSignIn => signins::start(state),
        Action::SignInsLookedUp {
            id,
            summary,
            table,
            findings,
        } => signins::looked_up(state, id, summary, table, findings),
        Action::FederationChecked {
            id,
            summary,
            comparison,
            findings,
        } => trust::federation_checked(state, id, summary, comparison, findings),
        Action::ConsentAudited {
            id,
            summary,
            table,
            findings,
        } => trust::consent_audited(state, id, summary, table, findings),
        Action::ProbeFinished {
            id,
            result,
            findings,
        } => {
            if state.running.as_ref().is_none_or(|r| r.id != id) {
                return Vec::new();
            }
            state.running = None;
            // The last probe's findings give way to this one's; the token's stay.
            state.findings.retain(|f| !is_probe_finding(f));
            match result {
                Ok(report) => {
                    state.status = format!(
                        "Probe: {} {} in {} ms.",
                        report.status, report.reason, report.elapsed_ms
                    );
                    state.probe = Load::Ready(*report);
                }
                Err(finding) => {
                    state.status = format!("Probe failed: {}", finding.title);
                    state.findings.insert(0, (*finding).clone());
                    state.probe = Load::Failed(finding);
                }
            }
            state.probe_scroll = 0;
            let mut all = findings;
            all.append(&mut state.findings);
            diagnose::sort(&mut all);
            state.findings = all;
            state.select_finding(0);
            if state
                .findings
                .iter()
                .any(|f| f.severity == diagnose::Severity::Error)
            {
                state.focus = Pane::Findings;
            }
            // As `doctor` does: where roles are missing, the answer sits in the app registration.
            let lacks_roles = state
                .findings
                .iter()
                .any(|f| f.id == "api.forbidden" || f.id == "token.no-roles");
            if std::mem::take(&mut state.then_consent) && lacks_roles {
                return trust::start_consent(state);
            }
            Vec::new()
        }
        Action::Retrying { id, notice } => {
            if let Some(running) = state.running.as_mut().filter(|r| r.id == id) {
                running.note = Some(format!("Entra ID: {notice}"));
            }
            Vec::new()
        }
        Action::TaskPanicked {
            id,
            message,
            log_note,
        } => {
            task_panicked(state, id, &message, &log_note);
            Vec::new()
        }
        Action::CacheCleared { cache } => {
            state.cache = cache;
            state.status = "Token cache cleared.".into();
            Vec::new()
        }
        Action::ProfileSaved(result) => {
            state.status = match result {
                Ok(path) => format!("Profile saved to {path} (without the secret)."),
                Err(e) => format!("Could not save the profile: {e}"),
            };
            Vec::new()
        }
    }
}

fn step<T: Copy + PartialEq>(all: &[T], current: T, delta: i32) -> T {
    let len = i64::try_from(all.len()).unwrap_or(1).max(1);
    let index = i64::try_from(all.iter().position(|p| *p == current).unwrap_or(0)).unwrap_or(0);
    let next = usize::try_from((index + i64::from(delta)).rem_euclid(len)).unwrap_or(0);
    all.get(next).copied().unwrap_or(current)
}

fn cycle_kind(state: &mut State) {
    state.form.kind = state.form.kind.next();
    refresh_lints(state);
}

fn next_id(state: &mut State) -> u64 {
    let id = state.next_id;
    state.next_id += 1;
    id
}

/// Starts a request: it replaces (and cancels) whatever was running, and gets a fresh id so a
/// late answer of the old one is recognised and dropped.
pub(super) fn begin(
    state: &mut State,
    what: &'static str,
) -> (super::state::RequestId, Vec<Effect>) {
    let effects = state
        .running
        .take()
        .map(|r| Effect::Cancel(r.id))
        .into_iter()
        .collect();
    let id = next_id(state);
    state.walk.checking = None;
    state.running = Some(Running {
        id,
        what,
        note: None,
    });
    (id, effects)
}

fn start_acquire(state: &mut State, force: bool, what: &'static str) -> Vec<Effect> {
    let (id, mut effects) = begin(state, what);
    // A new token may be another app's: the last audit's tables would speak of the old one.
    state.consent = None;
    state.federation = None;
    state.signins = None;
    state.token = Load::Loading;
    state.editing = false;
    state.status = "Asking Entra ID for a token…".into();
    effects.push(Effect::Acquire {
        id,
        form: Box::new(state.form.clone()),
        force,
        expiry: false,
        now: state.now,
    });
    effects
}

fn start_probe(state: &mut State) -> Vec<Effect> {
    let Load::Ready(token) = &state.token else {
        state.status = "No token yet: press a to acquire one (or d to acquire and probe).".into();
        return Vec::new();
    };
    let mut url = state.form.probe_url.value().trim().to_owned();
    if url.is_empty() {
        // Pre-fill from the well-known resource the token is for, when it has a harmless probe
        // (on the demo tenant, the demo's own route: never the internet).
        let host = token.verify_target.as_ref().and_then(|t| t.host.clone());
        let known = host
            .and_then(|host| {
                crate::probe::default_url_of(
                    &host,
                    state.form.client_id.value().trim(),
                    &token.resource,
                )
            })
            .map(String::from);
        let Some(known) = known else {
            state.status = "No probe URL: fill in the Probe URL field.".into();
            return Vec::new();
        };
        url = known;
        state.form.set(Field::ProbeUrl, &url);
    }
    let (raw, decoded) = (token.raw.clone(), token.decoded.clone().map(Box::new));
    let context = fix_context(state);
    let what = if state.then_probe {
        "doctor (calling the API)"
    } else {
        "probe"
    };
    let (id, mut effects) = begin(state, what);
    state.probe = Load::Loading;
    state.status = format!("Calling {url}…");
    effects.push(Effect::Probe {
        id,
        url,
        token: raw,
        decoded,
        context,
        now: state.now,
    });
    effects
}

fn revert_loading(state: &mut State) {
    state.walk.checking = None;
    if matches!(state.token, Load::Loading) {
        state.token = Load::Empty;
    }
    if matches!(state.probe, Load::Loading) {
        state.probe = Load::Empty;
    }
}

fn token_acquired(
    state: &mut State,
    id: u64,
    result: Result<Box<super::state::TokenView>, Box<Finding>>,
    findings: Vec<Finding>,
    cache: Vec<crate::cache::CacheEntry>,
) -> Vec<Effect> {
    if state.running.as_ref().is_none_or(|r| r.id != id) {
        return Vec::new();
    }
    state.running = None;
    if !cache.is_empty() {
        state.cache = cache;
    }
    state.findings = findings;
    state.probe = Load::Empty;
    state.select_finding(0);
    match result {
        Ok(view) => {
            state.status = if view.from_cache {
                "Token served from the cache.".to_owned()
            } else {
                format!("Token issued for {}.", view.resource)
            };
            state.token_id = id;
            let mut effects = Vec::new();
            if let (Some(decoded), Some(target)) = (&view.decoded, &view.verify_target) {
                effects.push(Effect::Verify {
                    id,
                    raw: view.raw.clone(),
                    decoded: Box::new(decoded.clone()),
                    target: target.clone(),
                    now: state.now,
                });
            }
            state.token = Load::Ready(*view);
            if state.then_probe {
                effects.extend(start_probe(state));
                state.then_probe = false;
                return effects;
            }
            state.focus = Pane::Token;
            return effects;
        }
        Err(finding) => {
            state.findings.insert(0, (*finding).clone());
            diagnose::sort(&mut state.findings);
            state.status = signins::with_offer(state, format!("No token: {}", finding.title));
            let refused_federation = trust::is_federation_refusal(&finding);
            state.token = Load::Failed(finding);
            state.then_probe = false;
            state.focus = Pane::Findings;
            // As `d` audits consent for a missing role, it compares a refused federated token
            // with the app's federated credentials: the refusal names no value, this does.
            if std::mem::take(&mut state.then_consent) && refused_federation {
                return trust::start_federation(state);
            }
        }
    }
    Vec::new()
}

fn pick_scenario(state: &mut State) {
    let Some(demo) = &mut state.demo else { return };
    let Some(scenario) = demo.scenarios.get(demo.selected).cloned() else {
        return;
    };
    demo.open = false;
    state.form = scenario.form;
    state.lesson = Some(scenario.name.clone());
    walk::reset(state);
    state.token = Load::Empty;
    state.probe = Load::Empty;
    state.findings.clear();
    state.consent = None;
    state.federation = None;
    state.signins = None;
    state.select_finding(0);
    state.field = Field::Tenant;
    if state.focus == Pane::Walkthrough {
        state.status = format!(
            "Scenario {}: Enter checks the selected step, r runs them all.",
            scenario.name
        );
    } else {
        state.focus = Pane::Credentials;
        state.status = format!(
            "Scenario {}: {} Press d to run every step.",
            scenario.name, scenario.teaches
        );
    }
    refresh_lints(state);
}

/// A bug in a task: its request fails like any other failure, so nothing stays busy, and the
/// finding says where the log is.
fn task_panicked(state: &mut State, id: u64, message: &str, log_note: &str) {
    let current = state.running.take_if(|r| r.id == id);
    let what = current.as_ref().map_or("a background task", |r| r.what);
    let finding = Finding::new(
        "internal.bug",
        diagnose::Severity::Error,
        format!("entra-doctor hit a bug ({what})"),
    )
    .cause(format!("an internal error stopped it: {message}"))
    .fix(format!(
        "Try again; if it happens again, please report it at {}/issues: {log_note}",
        env!("CARGO_PKG_REPOSITORY")
    ));
    if current.is_some() {
        if matches!(state.token, Load::Loading) {
            state.token = Load::Failed(Box::new(finding.clone()));
        }
        if matches!(state.probe, Load::Loading) {
            state.probe = Load::Failed(Box::new(finding.clone()));
        }
        state.then_probe = false;
    }
    state.status = format!("Internal error in {what}: see Findings.");
    state.findings.insert(0, finding);
    state.select_finding(0);
    state.focus = Pane::Findings;
}

/// Esc: cancel the running request, or else close whatever overlay is open.
///
/// What the cancelled request would have replaced belongs to an earlier run: it goes too, so
/// no `!` stays on a pane for a result the operator no longer has in front of them.
fn cancel(state: &mut State) -> Vec<Effect> {
    // An open picker is what Esc is about: a request running behind it goes on.
    if let Some(demo) = state.demo.as_mut().filter(|d| d.open) {
        demo.open = false;
        return Vec::new();
    }
    if let Some(running) = state.running.take() {
        if running.what == tenant::WHAT {
            tenant::cancelled(state);
        }
        let replaced = if matches!(state.token, Load::Loading) {
            // A new token was on its way: the earlier run's probe and findings were about a
            // token no longer shown.
            state.findings.clear();
            state.probe = Load::Empty;
            "; the earlier run's probe and findings were cleared"
        } else if matches!(state.probe, Load::Loading) {
            state.findings.retain(|f| !is_probe_finding(f));
            "; the earlier probe's findings were cleared"
        } else {
            ""
        };
        state.select_finding(0);
        state.status = format!("Cancelled {}{replaced}.", running.what);
        state.then_probe = false;
        state.then_consent = false;
        revert_loading(state);
        return vec![Effect::Cancel(running.id)];
    }
    state.show_help = false;
    if let Some(demo) = &mut state.demo {
        demo.open = false;
    }
    Vec::new()
}

/// A finding a probe gives: a new probe replaces them (the token's stay). A network finding
/// can only be a probe's once a token was acquired.
fn is_probe_finding(finding: &Finding) -> bool {
    finding.id.starts_with("api.")
        || finding.id.starts_with("network.")
        || finding.id.starts_with("audience.")
        || finding.id == "throttled"
        || finding.id == "clock.skew"
}
