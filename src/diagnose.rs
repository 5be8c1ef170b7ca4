//! Findings: what is wrong, the evidence, and the fix with the operator's own ids in it.
//!
//! Every explainer here takes facts (an Entra error, an API response, a decoded token, a
//! preflight problem) and returns [`Finding`]s in the stable shape DESIGN.md promises. The
//! AADSTS catalog and the well-known resources are data in `assets/`, compiled in, and each is
//! parsed the first time a command needs it ([`parsed`] logs it), never at start-up.

pub mod api;
pub mod audience;
pub mod catalog;
pub mod consent;
pub mod context;
pub mod expiry;
pub mod explain;
pub mod extract;
pub mod http_text;
pub mod managed_identity;
pub mod preflight;
pub mod resources;
pub mod service_errors;
pub mod signature;
pub mod signing_key;
pub mod token_checks;
pub mod token_version;
pub mod unrecognised;
pub mod www_authenticate;

use serde::Serialize;

/// Logs that a compiled-in catalog was parsed (each is, once, on first use): `-v` shows which
/// a command needed, and tests prove `decode` and `token` need none.
pub(crate) fn parsed(asset: &str) {
    tracing::debug!("{PARSED} {asset}");
}

/// The words of [`parsed`]'s log line.
pub const PARSED: &str = "parsed the catalog";

pub use catalog::Catalog;
pub use context::FixContext;
pub use resources::{Authorization, Resource, Resources};

/// How bad a finding is. Ordered most important first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One diagnosis, in the shape DESIGN.md fixes for text and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub cause: String,
    pub evidence: Vec<String>,
    pub fixes: Vec<String>,
    pub docs: Vec<String>,
}

/// The labels a fix carries when it is a place to click or a command to run
/// (`"Portal: …"`, `"az: …"`, `"PowerShell: …"`), as the catalog and the explainers write them.
pub const FIX_LABELS: [&str; 3] = ["Portal", "az", "PowerShell"];

/// A fix's label and its text (`("az", "az ad app …")`); `None` for a plain sentence.
pub fn split_fix_label(fix: &str) -> Option<(&str, &str)> {
    fix.split_once(": ")
        .filter(|(label, _)| FIX_LABELS.contains(label))
}

impl Finding {
    /// The text of the fix with this label (see [`FIX_LABELS`]).
    pub fn labelled_fix(&self, label: &str) -> Option<&str> {
        self.fixes
            .iter()
            .filter_map(|f| split_fix_label(f))
            .find_map(|(l, text)| (l == label).then_some(text.trim()))
    }

    /// The first fix that is a sentence, not a labelled place or command.
    pub fn plain_fix(&self) -> Option<&str> {
        self.fixes
            .iter()
            .find(|f| split_fix_label(f).is_none())
            .map(String::as_str)
    }

    pub fn new(id: impl Into<String>, severity: Severity, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            severity,
            title: title.into(),
            cause: String::new(),
            evidence: Vec::new(),
            fixes: Vec::new(),
            docs: Vec::new(),
        }
    }

    #[must_use]
    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = cause.into();
        self
    }

    #[must_use]
    pub fn evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence.push(evidence.into());
        self
    }

    #[must_use]
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fixes.push(fix.into());
        self
    }

    #[must_use]
    pub fn doc(mut self, url: impl Into<String>) -> Self {
        self.docs.push(url.into());
        self
    }
}

/// Most important first (errors, then warnings, then info), keeping each group's order, and
/// without two findings of the same id.
pub fn sort(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert(f.id.clone()));
    findings.sort_by_key(|f| f.severity);
}

/// The `{"findings":[…]}` document.
pub fn to_json(findings: &[Finding]) -> serde_json::Value {
    serde_json::json!({ "findings": findings })
}
