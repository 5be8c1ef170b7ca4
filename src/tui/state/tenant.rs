//! The tenant tab's data: what the audit found so far, bounded whatever the tenant's size. The
//! apps with something to fix are kept as compact rows, at most [`MAX_ROWS`] of them, most
//! severe first; healthy apps are only counted, as `entra-doctor audit`'s table does.

use std::cell::Cell;

use super::{RequestId, Viewport};
use crate::audit::{AppAudit, TenantSummary};
use crate::diagnose::{Finding, Severity};
use crate::registration::Expiry;

/// Apps with issues the tab keeps at most; the rest are counted (the CLI's JSON has them all).
pub const MAX_ROWS: usize = 500;
/// Issues kept per app: an app requesting every delegated permission of Graph would fill
/// screens, and the fix of the first few is what an operator acts on.
const MAX_ISSUES: usize = 20;
/// The longest name, client id or issue text kept (Graph sends what an app's owner typed).
const MAX_TEXT: usize = 400;

/// One app with something to fix, as the table and its details show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub severity: Severity,
    pub name: String,
    pub app_id: String,
    /// Most severe first, as the audit orders them.
    pub issues: Vec<RowIssue>,
    /// Issues beyond [`MAX_ISSUES`], counted.
    pub more_issues: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    pub severity: Severity,
    pub words: String,
    /// `az` commands, in order.
    pub fix: Vec<String>,
}

/// What the audit has read so far: the kept rows and the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Most severe first, then by name.
    pub rows: Vec<AuditRow>,
    /// Apps with issues not kept (beyond [`MAX_ROWS`], less severe than those kept).
    pub left_out: u64,
    pub apps: u64,
    pub with_issues: u64,
    /// Credentials expired, and expiring within the warning window.
    pub expired: u64,
    pub expiring: u64,
    /// Apps holding a highly privileged Graph application permission.
    pub privileged: u64,
    /// Apps nobody owns.
    pub no_owner: u64,
}

impl Tally {
    /// Counts one judged app, and keeps its row when it has issues and room is left (or it is
    /// more severe than the least severe kept).
    pub fn add(&mut self, app: &AppAudit) {
        self.apps += 1;
        for credential in &app.credentials {
            match credential.expiry {
                Expiry::Expired { .. } => self.expired += 1,
                Expiry::ExpiresSoon { .. } => self.expiring += 1,
                Expiry::Valid { .. } | Expiry::Unknown => {}
            }
        }
        if !app.privileged_roles.is_empty() {
            self.privileged += 1;
        }
        if app.issues.iter().any(|i| i.id == "audit.no-owner") {
            self.no_owner += 1;
        }
        let Some(severity) = app.worst() else { return };
        self.with_issues += 1;
        let row = AuditRow {
            severity,
            name: short(&app.display_name),
            app_id: short(&app.app_id),
            issues: app
                .issues
                .iter()
                .take(MAX_ISSUES)
                .map(|i| RowIssue {
                    severity: i.severity,
                    words: short(&i.words),
                    fix: i.fix.iter().map(|f| short(f)).collect(),
                })
                .collect(),
            more_issues: app.issues.len().saturating_sub(MAX_ISSUES),
        };
        let at = self
            .rows
            .partition_point(|r| (r.severity, &r.name) <= (row.severity, &row.name));
        if self.rows.len() >= MAX_ROWS && at >= self.rows.len() {
            self.left_out += 1;
            return;
        }
        self.rows.insert(at, row);
        if self.rows.len() > MAX_ROWS {
            self.rows.pop();
            self.left_out += 1;
        }
    }

    pub fn healthy(&self) -> u64 {
        self.apps.saturating_sub(self.with_issues)
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= MAX_TEXT {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_TEXT - 1).collect();
    cut.push('…');
    cut
}

/// Where the last audit stands.
#[derive(Debug, Clone, Default)]
pub enum Outcome {
    #[default]
    NotRun,
    /// Reading (request `id`); a result of another id is dropped.
    Running {
        id: RequestId,
    },
    Done(Box<TenantSummary>),
    /// Esc: what was read before stays, marked partial.
    Cancelled,
    Failed(Box<Finding>),
}

/// The tenant tab (7): the audit's tally, the selected app and its details' scroll.
#[derive(Debug, Clone, Default)]
pub struct TenantTab {
    pub tally: Tally,
    pub outcome: Outcome,
    /// Graph's throttling waited out so far, and the last notice.
    pub retries: u32,
    pub retry_note: Option<String>,
    pub selected: usize,
    /// Lines of the selected app's details scrolled off the top (PgDn / PgUp).
    pub scroll: u16,
    /// The details as last drawn.
    pub view: Cell<Viewport>,
}

impl TenantTab {
    pub fn selected_row(&self) -> Option<&AuditRow> {
        self.tally.rows.get(self.selected)
    }

    pub fn running_id(&self) -> Option<RequestId> {
        match self.outcome {
            Outcome::Running { id } => Some(id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Issue;

    fn app(name: &str, severity: Option<Severity>) -> AppAudit {
        AppAudit {
            object_id: format!("object-{name}"),
            app_id: format!("app-{name}"),
            display_name: name.to_owned(),
            sign_in_audience: None,
            owners: Some(1),
            service_principal_id: None,
            credentials: Vec::new(),
            privileged_roles: Vec::new(),
            delegated_on_app_only: Vec::new(),
            issues: severity
                .map(|severity| Issue {
                    id: "audit.no-owner",
                    severity,
                    words: "no owner".into(),
                    fix: vec![format!("az ad app owner add --id app-{name}")],
                })
                .into_iter()
                .collect(),
        }
    }

    /// A big tenant: the rows stay at the cap, the most severe kept, every app counted.
    #[test]
    fn the_rows_are_capped_most_severe_first_and_every_app_is_counted() {
        let mut tally = Tally::default();
        for i in 0..MAX_ROWS + 200 {
            tally.add(&app(&format!("warn-{i:04}"), Some(Severity::Warning)));
            tally.add(&app(&format!("ok-{i:04}"), None));
        }
        for i in 0..10 {
            tally.add(&app(&format!("err-{i}"), Some(Severity::Error)));
        }
        assert_eq!(tally.rows.len(), MAX_ROWS);
        assert_eq!(tally.apps, 2 * (MAX_ROWS as u64 + 200) + 10);
        assert_eq!(tally.with_issues, MAX_ROWS as u64 + 210);
        assert_eq!(tally.healthy(), MAX_ROWS as u64 + 200);
        assert_eq!(tally.left_out, 210);
        assert_eq!(tally.no_owner, MAX_ROWS as u64 + 210);
        assert!(
            tally.rows[..10]
                .iter()
                .all(|r| r.severity == Severity::Error)
        );
        assert_eq!(tally.rows[0].name, "err-0");
        assert_eq!(tally.rows[10].name, "warn-0000");
    }

    #[test]
    fn a_long_name_from_graph_is_cut() {
        let mut tally = Tally::default();
        tally.add(&app(&"x".repeat(5000), Some(Severity::Info)));
        assert_eq!(tally.rows[0].name.chars().count(), MAX_TEXT);
        assert!(tally.rows[0].name.ends_with('…'));
    }
}
