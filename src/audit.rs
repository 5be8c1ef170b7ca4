//! The tenant audit (`entra-doctor audit`, and the TUI's): every app registration read through
//! Microsoft Graph and judged — secrets and certificates against their end dates, credentials
//! nobody signs in with, apps with no owner, highly privileged Graph application permissions,
//! delegated permissions on apps that only run app-only, and multi-tenant apps with no service
//! principal here — each issue with the `az` command that fixes it, with the app's ids.
//!
//! Memory stays bounded whatever the tenant's size: the small reads (service principals, the
//! privileged grants, credential sign-in activity) become compact indexes first
//! ([`index`]: a GUID as a `u128`, about 32 bytes per service principal and 24 per credential
//! with activity), then the applications are read one page at a time and each judged app is
//! handed to the caller's `on_app` at once; nothing of it is kept. The caller streams it (JSON
//! lines), keeps a compact row, or counts it.
//!
//! Reads (each `$select`ed; Graph pages with `@odata.nextLink`, up to `$top=999` items a page:
//! <https://learn.microsoft.com/graph/paging>):
//! - `GET /v1.0/servicePrincipals?$filter=appId eq '00000003-…'&$select=id,appId,appRoles`:
//!   Microsoft Graph's own service principal, to name its app roles.
//! - `GET /v1.0/servicePrincipals?$select=id,appId&$top=999`: which apps have a service
//!   principal here (<https://learn.microsoft.com/graph/api/serviceprincipal-list>).
//! - `GET /v1.0/servicePrincipals/{graph}/appRoleAssignedTo?$top=999`: every grant of a Graph
//!   application permission, in one listing instead of one read per app
//!   (<https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto>).
//! - `GET /beta/reports/appCredentialSignInActivities`: each credential's last sign-in, by key
//!   id; needs `AuditLog.Read.All` and a Microsoft Entra ID P1/P2 licence
//!   (<https://learn.microsoft.com/graph/api/reportroot-list-appcredentialsigninactivities>).
//!   When refused, the audit says so once and skips the usage checks.
//! - `GET /v1.0/applications?$select=…&$expand=owners($select=id)&$top=999`: the apps, their
//!   credentials, permissions, platforms and owners. `owners` supports `$expand` with a nested
//!   `$select` (<https://learn.microsoft.com/graph/api/resources/application>); Graph expands at
//!   most 20 objects of a relationship, enough to tell none from some.
//!
//! All need `Application.Read.All` (application), least privileged for each listing
//! (<https://learn.microsoft.com/graph/api/application-list>).

mod catalog;
mod fix;
pub mod index;
mod judge;
mod read;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use catalog::{PRIVILEGED, Privileged};

use crate::auth::TokenClient;
use crate::auth::client::RetryObserver;
use crate::consent::AdminApp;
use crate::diagnose::Severity;
use crate::environment::Environment;
use crate::error::Result;
use crate::graph::Pages;
use crate::registration::Expiry;
use crate::secret::Secret;
use crate::setup::{self, Spec};
use index::{Grant, GuidMap};
use read::{
    ScopeNames, denied_or, graph_roles, read_grants, read_service_principals, read_sign_ins,
};

/// The application permission the audit cannot do without.
pub const AUDIT_PERMISSION: &str = "Application.Read.All";
/// The permission that makes credential sign-in activity readable.
pub const SIGN_IN_PERMISSION: &str = "AuditLog.Read.All";
/// Days without a sign-in after which a credential is reported unused (`--unused-days`).
pub const DEFAULT_UNUSED_DAYS: u32 = 90;
/// Items per page asked of Graph: its maximum for directory listings.
pub const PAGE_SIZE: u32 = 999;
/// Resources whose delegated permission names are kept at once (a tenant's apps name a few).
const SCOPE_CACHE: usize = 64;

const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const APPLICATIONS_SELECT: &str = "id,appId,displayName,signInAudience,passwordCredentials,\
keyCredentials,requiredResourceAccess,web,spa,publicClient,isFallbackPublicClient";

/// What to audit, and as whom.
#[derive(Debug, Clone)]
pub struct AuditRequest {
    /// The reading app: it needs `Application.Read.All` (and `AuditLog.Read.All` for usage).
    pub reader: Spec,
    /// Read Graph as this app instead of `reader`.
    pub admin: Option<AdminApp>,
    /// Microsoft Graph's base URL; the authority's cloud's Graph when `None`.
    pub graph_url: Option<String>,
    pub warn_days: u32,
    pub unused_days: u32,
    pub now: DateTime<Utc>,
    /// Items per page asked of Graph (`$top`); [`PAGE_SIZE`] normally.
    pub page_size: u32,
}

/// The judging rules of one run, and where Graph is.
#[derive(Debug, Clone)]
pub struct Settings {
    pub graph_url: String,
    pub warn_days: u32,
    pub unused_days: u32,
    pub now: DateTime<Utc>,
    pub page_size: u32,
}

/// One app registration, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppAudit {
    /// The application object's id.
    pub object_id: String,
    /// The client id.
    pub app_id: String,
    pub display_name: String,
    pub sign_in_audience: Option<String>,
    /// Owners Graph expanded (at most 20); `None` when Graph said nothing of them.
    pub owners: Option<u32>,
    /// Its service principal in this tenant.
    pub service_principal_id: Option<String>,
    pub credentials: Vec<CredentialAudit>,
    pub privileged_roles: Vec<PrivilegedGrant>,
    pub delegated_on_app_only: Vec<DelegatedPermission>,
    /// Most severe first.
    pub issues: Vec<Issue>,
}

impl AppAudit {
    /// The most severe issue's severity; `None` for a healthy app.
    pub fn worst(&self) -> Option<Severity> {
        self.issues.iter().map(|i| i.severity).min()
    }

    /// A credential expired or expires within the warning window.
    pub fn needs_action(&self) -> bool {
        self.credentials.iter().any(|c| c.expiry.needs_action())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Secret,
    Certificate,
}

/// One secret or certificate, with its expiry and last use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialAudit {
    pub kind: CredentialKind,
    pub key_id: String,
    pub display_name: Option<String>,
    pub hint: Option<String>,
    pub thumbprint: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub expiry: Expiry,
    pub last_used: Usage,
}

impl CredentialAudit {
    /// "secret 'orders-sync 2024' (AU7…, key id 7b1c9e44…)": what names it to an operator.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            CredentialKind::Secret => "secret",
            CredentialKind::Certificate => "certificate",
        };
        let name = self
            .display_name
            .as_deref()
            .map(|n| format!(" '{n}'"))
            .unwrap_or_default();
        let id = match (&self.hint, &self.thumbprint) {
            (Some(hint), _) => format!("{hint}…, "),
            (_, Some(thumbprint)) => format!("thumbprint {thumbprint}, "),
            _ => String::new(),
        };
        format!("{kind}{name} ({id}key id {})", self.key_id)
    }
}

/// When a credential was last used to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Usage {
    /// Sign-in activity was not readable (no `AuditLog.Read.All`, or no P1/P2 licence).
    NotReadable,
    /// The activity report has no sign-in with it.
    NoSignIn,
    Used {
        at: DateTime<Utc>,
        days_ago: i64,
    },
}

/// A highly privileged Graph application permission granted to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivilegedGrant {
    pub permission: String,
    pub assignment_id: String,
}

/// A delegated permission requested by an app that signs no user in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegatedPermission {
    pub resource_app_id: String,
    pub scope_id: String,
    /// Its name (`User.Read`), when the resource's service principal was readable.
    pub value: Option<String>,
}

/// One thing to fix on an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Stable, e.g. `audit.secret-expired`.
    pub id: &'static str,
    pub severity: Severity,
    pub words: String,
    /// `az` commands, in order.
    pub fix: Vec<String>,
}

impl Issue {
    fn new(id: &'static str, severity: Severity, words: String, fix: Vec<String>) -> Self {
        Self {
            id,
            severity,
            words,
            fix,
        }
    }
}

/// Whether credential usage could be judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SignInActivity {
    Read {
        credentials: usize,
    },
    /// Why not; the "unused" checks were skipped.
    Skipped {
        reason: String,
    },
}

/// What the whole run read and found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantSummary {
    pub graph_url: String,
    pub apps: u64,
    pub apps_with_issues: u64,
    /// Entries Graph sent without an id or client id.
    pub skipped: u64,
    pub pages: u32,
    pub throttled_retries: u32,
    pub expired: u64,
    pub expiring: u64,
    /// Issues by id.
    pub issues: BTreeMap<&'static str, u64>,
    pub service_principals: usize,
    pub sign_in_activity: SignInActivity,
    /// Bytes the join indexes held.
    pub index_bytes: usize,
    pub warn_days: u32,
    pub unused_days: u32,
}

impl TenantSummary {
    /// Anything expired or expiring within `--warn-days`: what makes the audit exit 1.
    pub fn needs_action(&self) -> bool {
        self.expired + self.expiring > 0
    }
}

/// The indexes apps are joined with.
#[derive(Debug, Default)]
pub struct Indexes {
    /// Client id → service principal id.
    pub service_principals: GuidMap<u128>,
    pub service_principals_read: bool,
    /// Credential key id → last sign-in (Unix seconds).
    pub sign_ins: GuidMap<i64>,
    pub sign_ins_read: bool,
    /// Privileged Graph grants (rare: kept whole).
    pub grants: Vec<Grant>,
    /// Microsoft Graph's service principal id in this tenant.
    pub graph_sp_id: String,
}

impl Indexes {
    fn bytes(&self) -> usize {
        self.service_principals.bytes()
            + self.sign_ins.bytes()
            + self
                .grants
                .iter()
                .map(|g| std::mem::size_of::<Grant>() + g.assignment_id.capacity())
                .sum::<usize>()
    }
}

/// Runs the audit: a Graph token for the reading app (or `--admin-client-id`'s), the reads, and
/// each judged app handed to `on_app` as soon as it is judged (an error from it stops the run).
/// `stdin` is read at most once (a secret from standard input); `on_retry` hears of every
/// throttled read waited out.
///
/// `--timeout` bounds each Graph request (retries included), not the whole run: a tenant of
/// 100,000 apps is a hundred pages or more, and Graph may throttle several of them.
pub async fn run(
    request: &AuditRequest,
    env: &Environment,
    stdin: &mut (dyn FnMut() -> std::io::Result<String> + Send),
    on_retry: Option<RetryObserver>,
    on_app: &mut (dyn FnMut(AppAudit) -> Result<()> + Send),
) -> Result<TenantSummary> {
    let mut stdin_once = setup::read_once(stdin);
    let mut reader = request.reader.clone();
    if reader.scopes.iter().all(|s| s.trim().is_empty()) {
        reader.scopes = vec!["https://graph.microsoft.com/.default".to_owned()];
    }
    let prepared = setup::prepare(&reader, env, &mut stdin_once, request.now)?;
    let (token, graph_url) = crate::consent::graph_token(
        &reader,
        request.admin.as_ref(),
        request.graph_url.as_deref(),
        env,
        &mut stdin_once,
        request.now,
    )
    .await?;
    let mut options = prepared.options;
    // Each read gets its own deadline of --timeout (see above).
    options.deadline = None;
    let retries = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&retries);
    let observer: RetryObserver = Arc::new(move |notice| {
        counted.fetch_add(1, Ordering::Relaxed);
        if let Some(outer) = &on_retry {
            outer(notice);
        }
    });
    let client = TokenClient::new(options)?.on_retry(observer);
    let settings = Settings {
        graph_url,
        warn_days: request.warn_days,
        unused_days: request.unused_days,
        now: request.now,
        page_size: request.page_size.clamp(1, PAGE_SIZE),
    };
    let mut summary = audit(&client, &token, &settings, on_app).await?;
    summary.throttled_retries = retries.load(Ordering::Relaxed);
    Ok(summary)
}

/// The reads and the judging with a Graph token in hand (what [`run`] does after signing in).
/// `throttled_retries` is left 0: the client's retry observer counts them.
pub async fn audit(
    client: &TokenClient,
    token: &Secret,
    settings: &Settings,
    on_app: &mut (dyn FnMut(AppAudit) -> Result<()> + Send),
) -> Result<TenantSummary> {
    let base = settings.graph_url.trim_end_matches('/');
    let mut pages = 0u32;
    let mut indexes = Indexes::default();
    let (graph_sp, roles) = graph_roles(client, token, base).await?;
    pages += 1;
    indexes.graph_sp_id = graph_sp.clone().unwrap_or_default();
    read_service_principals(client, token, settings, &mut indexes, &mut pages).await?;
    if let Some(graph_sp) = &graph_sp {
        read_grants(
            client,
            token,
            settings,
            graph_sp,
            &roles,
            &mut indexes,
            &mut pages,
        )
        .await?;
    }
    let sign_in_activity = read_sign_ins(client, token, base, &mut indexes, &mut pages).await?;
    let mut summary = TenantSummary {
        graph_url: settings.graph_url.clone(),
        apps: 0,
        apps_with_issues: 0,
        skipped: 0,
        pages: 0,
        throttled_retries: 0,
        expired: 0,
        expiring: 0,
        issues: BTreeMap::new(),
        service_principals: indexes.service_principals.len(),
        sign_in_activity,
        index_bytes: indexes.bytes(),
        warn_days: settings.warn_days,
        unused_days: settings.unused_days,
    };
    let mut scopes = ScopeNames::default();
    let url = format!(
        "{base}/v1.0/applications?$select={APPLICATIONS_SELECT}&$expand=owners($select=id)&$top={}",
        settings.page_size
    );
    let mut listing = Pages::new(client, token, &url);
    while let Some(page) = listing.next_page().await {
        let items = page.map_err(|e| denied_or(e, AUDIT_PERMISSION))?;
        // Names of delegated permissions are resolved after the page's apps are parsed: a
        // read per unseen resource, not per app.
        for item in items {
            let mut missing: Vec<(String, String)> = Vec::new();
            let mut lookup = |resource: &str, id: &str| {
                let name = scopes.get(resource, id);
                if name.is_none() && !scopes.tried(resource) {
                    missing.push((resource.to_owned(), id.to_owned()));
                }
                name
            };
            let mut judged = judge::app(&item, settings, &indexes, &mut lookup);
            if !missing.is_empty() {
                for (resource, _) in &missing {
                    scopes.load(client, token, base, resource).await;
                }
                judged = judge::app(&item, settings, &indexes, &mut |r, i| scopes.get(r, i));
            }
            let Some(app) = judged else {
                summary.skipped += 1;
                continue;
            };
            tally(&mut summary, &app);
            on_app(app)?;
        }
    }
    summary.pages = pages + listing.pages_read();
    Ok(summary)
}

fn tally(summary: &mut TenantSummary, app: &AppAudit) {
    summary.apps += 1;
    if !app.issues.is_empty() {
        summary.apps_with_issues += 1;
    }
    for credential in &app.credentials {
        match credential.expiry {
            Expiry::Expired { .. } => summary.expired += 1,
            Expiry::ExpiresSoon { .. } => summary.expiring += 1,
            Expiry::Valid { .. } | Expiry::Unknown => {}
        }
    }
    for issue in &app.issues {
        *summary.issues.entry(issue.id).or_default() += 1;
    }
}

#[cfg(test)]
mod tests;
