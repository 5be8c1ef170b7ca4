//! Everything that can happen: user intents (imperative verbs) and task results (past tense).

use chrono::{DateTime, Utc};
use tui_input::InputRequest;

use super::state::{Pane, RequestId, TokenView};
use crate::cache::CacheEntry;
use crate::diagnose::{Finding, Severity};
use crate::probe::ProbeReport;
use crate::secret::Secret;
use crate::walkthrough::StepReport;

/// What a walkthrough fix changed, for the form to follow.
#[derive(Debug, Clone)]
pub struct WalkFixApplied {
    pub summary: String,
    pub new_secret: Option<Secret>,
    pub new_scope: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrevious,
    Focus(Pane),
    /// Move the selected form field up (-1) or down (+1).
    SelectField(i32),
    StartEditing,
    /// Stop editing and keep the new value (Enter, Tab).
    StopEditing,
    /// Stop editing and put back the value the field had before (Esc).
    CancelEdit,
    Edit(InputRequest),
    /// Text pasted (bracketed paste): into the field being edited, else explained.
    Pasted(String),
    CycleCredentialKind,
    ToggleReveal,
    Acquire {
        force: bool,
    },
    Probe,
    Doctor,
    /// Audit admin consent through Microsoft Graph (`g`).
    AuditConsent,
    /// Look up the refused token request's sign-in in the sign-in log (`l`).
    LookUpSignIn,
    Cancel,
    Copy,
    ToggleHelp,
    ClearCache,
    SaveProfile,
    /// j/k: the next or previous field, finding, step or line.
    Scroll(i32),
    /// PgDn/PgUp: a page of the findings, the help, the response or a step's details.
    ScrollPage(i32),
    /// Home: the top of the findings or the help.
    ScrollToStart,
    /// End: the bottom of the findings or the help.
    ScrollToEnd,
    OpenScenarios,
    MoveScenario(i32),
    PickScenario,
    /// Walkthrough: run the selected step (Enter), or every step in order (`r`).
    WalkRun {
        all: bool,
    },
    /// Walkthrough: apply the selected step's fix (`x`).
    WalkFix,
    /// Walkthrough: the reports of a run (one step, or all of them).
    WalkReported {
        id: RequestId,
        reports: Vec<StepReport>,
    },
    /// Walkthrough: a fix was applied (what it did, and what the form now holds), or not.
    WalkFixed {
        id: RequestId,
        result: Result<WalkFixApplied, String>,
    },
    /// Tenant tab: audit every app registration (`r`).
    AuditTenant,
    /// Tenant tab: apps judged since the last report, and Graph's throttling waited out.
    TenantProgress {
        id: RequestId,
        apps: Vec<crate::audit::AppAudit>,
        retry: Option<String>,
    },
    /// Tenant tab: the audit ended. `tally` carries the apps when no progress channel did.
    TenantAudited {
        id: RequestId,
        result: Result<Box<crate::audit::TenantSummary>, Box<Finding>>,
        tally: Option<Box<super::state::Tally>>,
    },
    Tick(DateTime<Utc>),
    TokenAcquired {
        id: RequestId,
        result: Result<Box<TokenView>, Box<Finding>>,
        findings: Vec<Finding>,
        cache: Vec<CacheEntry>,
    },
    /// The signature check of the token of request `id`: a short label for the token pane and
    /// its finding.
    TokenVerified {
        id: RequestId,
        label: (Severity, String),
        finding: Box<Finding>,
    },
    /// The consent audit's one-line summary and its findings.
    /// The federated token beside the app's federated credentials (`g` on the assertion kind,
    /// or `d` when Entra ID refused the federated token).
    FederationChecked {
        id: RequestId,
        summary: String,
        comparison: Option<Box<crate::federation::Comparison>>,
        findings: Vec<Finding>,
    },
    ConsentAudited {
        id: RequestId,
        summary: String,
        /// The permissions as a table, when Graph could be read.
        table: Option<Box<super::state::ConsentTable>>,
        findings: Vec<Finding>,
    },
    /// The sign-in log lookup's one-line summary, its entries (when the log could be read) and
    /// its findings.
    SignInsLookedUp {
        id: RequestId,
        summary: String,
        table: Option<Box<super::state::SignInsTable>>,
        findings: Vec<Finding>,
    },
    ProbeFinished {
        id: RequestId,
        result: Result<Box<ProbeReport>, Box<Finding>>,
        findings: Vec<Finding>,
    },
    /// A request is being retried (a 5xx, a 429, a timeout).
    Retrying {
        id: RequestId,
        notice: String,
    },
    /// A task panicked (a bug): its request fails with this message; the TUI goes on.
    TaskPanicked {
        id: RequestId,
        message: String,
        /// Where the log is, for the bug report.
        log_note: String,
    },
    CacheCleared {
        cache: Vec<CacheEntry>,
    },
    ProfileSaved(Result<String, String>),
}
