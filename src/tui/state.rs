//! The TUI's state: plain data, no channels, no terminal. Views read it; only `update` writes it.

use std::cell::Cell;

use chrono::{DateTime, Utc};

use super::form::{Field, Form};
use crate::auth::CertificateInfo;
use crate::cache::CacheEntry;
use crate::diagnose::{Finding, Severity};
use crate::probe::ProbeReport;
use crate::secret::Secret;
use crate::token::{DecodedToken, VerifyTarget};
use crate::walkthrough::{StepId, StepReport};

mod tenant;
pub use tenant::{AuditRow, MAX_ROWS, Outcome, RowIssue, Tally, TenantTab};

/// The panes, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Credentials,
    Token,
    Cache,
    Probe,
    Findings,
    /// The onboarding walkthrough: a tab of its own that takes the whole screen.
    Walkthrough,
    /// The tenant audit: every app registration's health, a tab of its own like the walkthrough.
    Tenant,
}

impl Pane {
    pub const ALL: [Pane; 7] = [
        Pane::Credentials,
        Pane::Token,
        Pane::Cache,
        Pane::Probe,
        Pane::Findings,
        Pane::Walkthrough,
        Pane::Tenant,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Credentials => "Credentials",
            Pane::Token => "Token",
            Pane::Cache => "Cache",
            Pane::Probe => "Probe",
            Pane::Findings => "Findings",
            Pane::Walkthrough => "Walkthrough",
            Pane::Tenant => "Tenant",
        }
    }
}

/// Identifies a request, so a result that arrives after the operator moved on is dropped.
pub type RequestId = u64;

/// What a pane shows.
#[derive(Debug, Clone, Default)]
pub enum Load<T> {
    #[default]
    Empty,
    Loading,
    Ready(T),
    Failed(Box<Finding>),
}

/// A token as the token pane shows it.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub decoded: Option<DecodedToken>,
    /// Sent by the probe; never drawn.
    pub raw: Secret,
    pub expires_on: DateTime<Utc>,
    pub from_cache: bool,
    pub resource: String,
    pub certificate: Option<CertificateInfo>,
    /// Where its signing keys are published; `None` when it cannot be checked (not a JWT).
    pub verify_target: Option<VerifyTarget>,
    /// What checking its signature found, once checked: severity and a short label.
    pub signature: Option<(Severity, String)>,
}

/// A scenario of the embedded demo tenant, with the form that reproduces it.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub teaches: String,
    pub form: Form,
}

#[derive(Debug, Clone, Default)]
pub struct DemoPicker {
    pub scenarios: Vec<Scenario>,
    pub selected: usize,
    pub open: bool,
}

/// The walkthrough tab: the last report of every step, and the one selected.
#[derive(Debug, Clone)]
pub struct Walk {
    pub steps: Vec<StepReport>,
    pub selected: usize,
    /// What the last fix did (or why it could not), shown under the steps.
    pub note: Option<String>,
    /// The step a running check is for; `None` while every step runs.
    pub checking: Option<StepId>,
    /// Lines of the selected step's details scrolled off the top (PageDown / PageUp).
    pub scroll: u16,
    /// The selected step's details as last drawn.
    pub view: Cell<Viewport>,
}

impl Default for Walk {
    fn default() -> Self {
        Self {
            steps: StepReport::fresh(),
            selected: 0,
            note: None,
            checking: None,
            scroll: 0,
            view: Cell::new(Viewport::default()),
        }
    }
}

impl Walk {
    pub fn selected_step(&self) -> Option<&StepReport> {
        self.steps.get(self.selected)
    }
}

/// What a scrolled view showed on its last frame: the first line shown, how many lines fit and
/// how many there are. The view writes it (the one thing a view may change, STYLE.md §2), so
/// `update` can page by what the operator saw and never scroll past the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Viewport {
    pub offset: u16,
    pub height: u16,
    pub total: u16,
}

impl Viewport {
    /// The last offset that still fills the view.
    pub fn max_offset(self) -> u16 {
        self.total.saturating_sub(self.height)
    }

    /// The offset `pages` screens (less one line, kept for context) away, within bounds.
    pub fn paged(self, pages: i32) -> u16 {
        let step = i32::from(self.height.saturating_sub(1).max(1));
        let moved = i32::from(self.offset) + pages.saturating_mul(step);
        u16::try_from(moved.clamp(0, i32::from(self.max_offset()))).unwrap_or(0)
    }

    /// Where the view stands, as "12–24 of 40"; `None` when everything fits.
    pub fn position(self) -> Option<String> {
        (self.total > self.height).then(|| {
            let last = (self.offset + self.height).min(self.total);
            format!("{}–{last} of {}", self.offset + 1, self.total)
        })
    }
}

/// A running request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub id: RequestId,
    pub what: &'static str,
    /// What it is doing now, when that is worth a word: "HTTP 503; retrying (1/2) in 1 s".
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent UI switches, not a state machine in disguise
pub struct State {
    pub form: Form,
    pub field: Field,
    pub editing: bool,
    pub reveal_secret: bool,
    /// Live preflight findings for the form as typed.
    pub lints: Vec<Finding>,
    pub focus: Pane,
    pub token: Load<TokenView>,
    pub cache: Vec<CacheEntry>,
    pub probe: Load<ProbeReport>,
    pub probe_scroll: u16,
    /// Findings of the last acquire / probe (not the live lints).
    pub findings: Vec<Finding>,
    pub selected_finding: usize,
    /// The first line of the findings pane shown (PgDn/PgUp/Home/End); `None` follows the
    /// selected finding, so moving the selection brings it into view.
    pub findings_scroll: Option<u16>,
    /// The findings pane as last drawn.
    pub findings_view: Cell<Viewport>,
    pub running: Option<Running>,
    /// The request the shown token came from: a signature check of an older token is dropped.
    pub token_id: RequestId,
    /// Probe right after the token arrives (`d`).
    pub then_probe: bool,
    /// The last consent audit's permissions (`g`, or `d` when roles are missing).
    pub consent: Option<Box<ConsentTable>>,
    /// The last federation check's comparison (`g` on the assertion kind, or `d` when Entra ID
    /// refused the federated token).
    pub federation: Option<Box<crate::federation::Comparison>>,
    /// Audit consent after the probe when the token lacks roles or the API refused it (`d`).
    pub then_consent: bool,
    /// The last sign-in log lookup's entries (`l`), shown after the findings.
    pub signins: Option<Box<SignInsTable>>,
    pub spinner: usize,
    pub status: String,
    pub show_help: bool,
    /// The first line of the help overlay shown.
    pub help_scroll: u16,
    /// The help overlay as last drawn.
    pub help_view: Cell<Viewport>,
    /// The value of the field being edited as it was before: Esc puts it back. A `Secret`,
    /// because the field may be the secret.
    pub edit_before: Option<Secret>,
    /// The demo lesson the form came from (the picker marks it).
    pub lesson: Option<String>,
    pub demo: Option<DemoPicker>,
    pub walk: Walk,
    /// The tenant audit's tab (7).
    pub tenant: TenantTab,
    pub next_id: RequestId,
    pub now: DateTime<Utc>,
    pub should_quit: bool,
}

impl State {
    pub fn new(form: Form, now: DateTime<Utc>) -> Self {
        let mut state = Self {
            form,
            field: Field::Tenant,
            editing: false,
            reveal_secret: false,
            lints: Vec::new(),
            focus: Pane::Credentials,
            token: Load::Empty,
            cache: Vec::new(),
            probe: Load::Empty,
            probe_scroll: 0,
            findings: Vec::new(),
            selected_finding: 0,
            findings_scroll: None,
            findings_view: Cell::new(Viewport::default()),
            running: None,
            token_id: 0,
            then_probe: false,
            then_consent: false,
            consent: None,
            federation: None,
            signins: None,
            spinner: 0,
            status: "Ready. Press a to acquire a token, d to run every step, ? for help.".into(),
            show_help: false,
            help_scroll: 0,
            help_view: Cell::new(Viewport::default()),
            edit_before: None,
            lesson: None,
            demo: None,
            walk: Walk::default(),
            tenant: TenantTab::default(),
            next_id: 1,
            now,
            should_quit: false,
        };
        super::update::refresh_lints(&mut state);
        state
    }

    /// Every finding on screen: the live lints, then the last results.
    pub fn all_findings(&self) -> Vec<&Finding> {
        let mut all: Vec<&Finding> = self.findings.iter().collect();
        for lint in &self.lints {
            if !all.iter().any(|f| f.id == lint.id) {
                all.push(lint);
            }
        }
        all
    }

    /// Selects a finding and brings it into view.
    pub fn select_finding(&mut self, index: usize) {
        self.selected_finding = index;
        self.findings_scroll = None;
    }

    /// Something is moving on screen: a spinner, or a token's countdown.
    pub fn is_animating(&self) -> bool {
        self.running.is_some() || matches!(self.token, Load::Ready(_))
    }
}

/// A consent audit's permissions of one client on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentTable {
    /// The resource's display name, e.g. "Microsoft Graph".
    pub resource: String,
    pub rows: Vec<crate::consent::PermissionRow>,
}

/// The sign-in log entries of a refused token request (`l`), as Graph returned them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInsTable {
    pub correlation_id: String,
    /// The client id that read the log.
    pub reader: String,
    pub entries: Vec<crate::signins::SignIn>,
}
