//! The onboarding walkthrough: the seven things a working daemon app needs, each with a live
//! check, in a plausible order of Entra ID's checks (no source fixes the real one) — tenant →
//! app registration → credential → scope → token → application role → API call.
//!
//! A [`Session`] runs one step ([`Session::check`]) or all of them in order
//! ([`Session::run_all`], which stops at the first failure: what comes after depends on it).
//! Each [`StepReport`] says what was checked, the evidence, and on failure the finding and a
//! [`Fix`]: where to click in the portal, the `az` command with the operator's own ids, and,
//! where one exists, a [`DemoFix`] the embedded demo tenant (or the form, for a scope) can
//! apply so a trainee watches the step turn green.

mod apply;
mod checks;
mod database;
mod evidence;
mod expiry;
mod fixes;
mod setup;
mod text;
mod token_use;

use serde::Serialize;
use url::Url;

use crate::auth::{ClientOptions, TokenClient, TokenRequest};
use crate::diagnose::{Finding, FixContext};
use crate::error::{Error, Result};
use crate::registration::in_use::InUse;

pub use apply::{FixOutcome, apply};
pub use checks::stage_of;
pub use expiry::GraphRead;
pub use setup::{demo_admin, demo_setup, demo_spec, setup};
pub use text::render_text;

/// The steps, in a plausible order of Entra ID's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepId {
    Tenant,
    App,
    Credential,
    Scope,
    Token,
    Role,
    Api,
}

impl StepId {
    pub const ALL: [StepId; 7] = [
        StepId::Tenant,
        StepId::App,
        StepId::Credential,
        StepId::Scope,
        StepId::Token,
        StepId::Role,
        StepId::Api,
    ];

    pub fn title(self) -> &'static str {
        match self {
            StepId::Tenant => "Tenant found",
            StepId::App => "App registration found",
            StepId::Credential => "Credential accepted",
            StepId::Scope => "Scope right for the resource",
            StepId::Token => "Token issued",
            StepId::Role => "Application role granted",
            StepId::Api => "API call succeeds",
        }
    }

    /// 1-based, as the screen numbers the steps.
    pub fn number(self) -> usize {
        StepId::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    NotYet,
    Passed,
    Failed,
    /// Nothing to check (no API URL to call).
    Skipped,
}

impl Status {
    /// The mark the screen and the text output show.
    pub fn mark(self) -> &'static str {
        match self {
            Status::NotYet => "·",
            Status::Passed => "✓",
            Status::Failed => "✗",
            Status::Skipped => "–",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::NotYet => "not yet",
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// What one step found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub step: StepId,
    pub title: &'static str,
    pub status: Status,
    /// What the check looked at, in a sentence.
    pub checked: String,
    pub evidence: Vec<String>,
    /// On failure: the diagnosis, in the shape of every other finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// Step 3: the credential in use matched to its app registration (its expiry, the app's
    /// other credentials), or why the registration was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<InUse>,
}

impl StepReport {
    /// A step not run yet, with why.
    pub fn not_yet(step: StepId, why: impl Into<String>) -> Self {
        Self {
            step,
            title: step.title(),
            status: Status::NotYet,
            checked: why.into(),
            evidence: Vec::new(),
            finding: None,
            fix: None,
            credential: None,
        }
    }

    /// The label of [`StepReport::checked`]: what a run step checked, or why one waits.
    pub fn checked_label(&self) -> &'static str {
        match self.status {
            Status::Passed | Status::Failed => "checked",
            Status::NotYet | Status::Skipped => "note",
        }
    }

    /// Every step, none run.
    pub fn fresh() -> Vec<Self> {
        StepId::ALL
            .iter()
            .map(|s| Self::not_yet(*s, "not checked yet"))
            .collect()
    }
}

/// How to put a failing step right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What to do, in a sentence.
    pub summary: String,
    /// Where to click in the Entra admin center.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portal: Option<String>,
    /// The same with the Azure CLI, with the operator's ids filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    /// What `x` can apply right away (to the demo tenant, or to the form for a scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply: Option<DemoFix>,
}

/// A fix the tool can apply itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DemoFix {
    /// Grant an application permission of `resource` (admin consent), in the demo tenant.
    GrantRole {
        resource: String,
        /// The path of the API call, so the demo grants the role that route needs.
        path: Option<String>,
        /// The roles that would do, least privileged first.
        candidates: Vec<String>,
    },
    /// Add a new client secret in the demo tenant and use it.
    AddSecret,
    /// Upload the certificate in use to the app registration in the demo tenant.
    RegisterCertificate {
        thumbprint: String,
        #[serde(skip)]
        certificate_pem: String,
    },
    /// Ask for this scope instead (a change to the request, so it applies to any tenant).
    CorrectScope { scope: String },
    /// Create the app's contained user in the database (`CREATE USER … FROM EXTERNAL
    /// PROVIDER` and `db_datareader`), in the demo tenant's database `resource`.
    CreateDatabaseUser { resource: String },
    /// Add a federated credential trusting the presented token's issuer, subject and
    /// audience, in the demo tenant.
    AddFederatedCredential {
        name: String,
        issuer: String,
        subject: String,
        audience: String,
    },
}

impl DemoFix {
    /// What pressing `x` will do, in a few words.
    pub fn describe(&self) -> String {
        match self {
            // The demo tenant picks the role (the one its route needs): name none here.
            DemoFix::GrantRole { .. } => {
                "grant an application permission this call accepts, with admin consent, in the demo tenant".to_owned()
            }
            DemoFix::AddSecret => "add a new client secret in the demo tenant".to_owned(),
            DemoFix::RegisterCertificate { thumbprint, .. } => {
                format!("upload certificate {thumbprint} to the app in the demo tenant")
            }
            DemoFix::CorrectScope { scope } => format!("use scope {scope}"),
            DemoFix::CreateDatabaseUser { .. } => {
                "create the app's user in the demo tenant's database (db_datareader)".to_owned()
            }
            DemoFix::AddFederatedCredential { subject, .. } => {
                format!("add a federated credential for subject {subject} in the demo tenant")
            }
        }
    }
}

/// What a walkthrough checks: a prepared request (credential options or a profile), the
/// client's timeouts, the API to call, the preflight findings found while preparing, and how
/// step 3 may read the app registration for the credential's expiry.
#[derive(Debug)]
pub struct Setup {
    pub request: TokenRequest,
    pub options: ClientOptions,
    pub probe: Option<Url>,
    pub preflight: Vec<Finding>,
    pub graph: GraphRead,
}

impl Setup {
    /// Reads the app registration as `admin` (an app holding Application.Read.All) rather
    /// than with the daemon's own Graph token, which a refused sign-in never gets.
    #[must_use]
    pub fn with_admin(mut self, admin: Option<crate::consent::AdminApp>) -> Self {
        self.graph.admin = admin;
        self
    }
}

/// One pass over the steps. The token request is made once per session and shared by the
/// steps that read it, so `run_all` asks Entra ID once; a new session asks again.
#[derive(Debug)]
pub struct Session {
    setup: Setup,
    client: TokenClient,
    attempt: Option<checks::Attempt>,
}

impl Session {
    pub fn new(setup: Setup) -> Result<Self> {
        let client = TokenClient::new(setup.options.clone())?;
        Ok(Self::with_client(setup, client))
    }

    /// A session over a configured client (one that reports retries, say).
    pub fn with_client(setup: Setup, client: TokenClient) -> Self {
        Self {
            setup,
            client,
            attempt: None,
        }
    }

    /// The setup back, to change (a fix) and run again in a new session.
    pub fn into_setup(self) -> Setup {
        self.setup
    }

    /// Runs one step's live check.
    pub async fn check(&mut self, step: StepId, now: chrono::DateTime<chrono::Utc>) -> StepReport {
        checks::check(self, step, now).await
    }

    /// Runs every step in order; after the first failure the rest wait ("not yet").
    pub async fn run_all(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<StepReport> {
        let mut reports = Vec::new();
        let mut failed: Option<StepId> = None;
        for step in StepId::ALL {
            if let Some(at) = failed {
                reports.push(StepReport::not_yet(
                    step,
                    format!("waits for step {} ({})", at.number(), at.title()),
                ));
                continue;
            }
            let report = self.check(step, now).await;
            if report.status == Status::Failed {
                failed = Some(step);
            }
            reports.push(report);
        }
        reports
    }
}

/// The walkthrough of a setup that could not even be prepared (a malformed tenant, no
/// credential, ...): the step the problem belongs to fails, nothing was sent for the others.
pub fn unprepared(error: &Error, context: &FixContext) -> Vec<StepReport> {
    let step = match error {
        Error::InvalidTenant { .. }
        | Error::InvalidAuthority { .. }
        | Error::InsecureAuthority { .. } => StepId::Tenant,
        Error::InvalidInput { what, .. } if what.starts_with("client id") => StepId::App,
        Error::InvalidScope { .. } | Error::ScopesNameTwoResources { .. } => StepId::Scope,
        Error::InvalidInput { what, .. } if what.contains("probe") || what.contains("API") => {
            StepId::Api
        }
        // The first missing input's step: the form's order is the steps' order.
        Error::MissingInputs { ids, .. } => match ids.first().copied() {
            Some("tenant.missing") => StepId::Tenant,
            Some("client-id.missing") => StepId::App,
            Some("scope.missing") => StepId::Scope,
            _ => StepId::Credential,
        },
        _ => StepId::Credential,
    };
    let finding = crate::diagnose::preflight::error(error, context);
    StepId::ALL
        .iter()
        .map(|s| {
            if *s == step {
                StepReport {
                    step,
                    title: step.title(),
                    status: Status::Failed,
                    checked: "the setup, before anything is sent".to_owned(),
                    evidence: finding.evidence.clone(),
                    fix: Some(fixes::from_finding(&finding)),
                    finding: Some(finding.clone()),
                    credential: None,
                }
            } else {
                StepReport::not_yet(
                    *s,
                    format!(
                        "nothing was sent: step {} must be put right first",
                        step.number()
                    ),
                )
            }
        })
        .collect()
}

/// The first failing step of a run, if any.
pub fn first_failure(reports: &[StepReport]) -> Option<&StepReport> {
    reports.iter().find(|r| r.status == Status::Failed)
}

/// The walkthrough as JSON: `ok` when every step passed (or had nothing to check).
pub fn to_json(reports: &[StepReport]) -> serde_json::Value {
    let ok = reports
        .iter()
        .all(|r| matches!(r.status, Status::Passed | Status::Skipped));
    serde_json::json!({ "ok": ok, "steps": reports })
}
