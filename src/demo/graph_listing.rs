//! The tenant-wide Graph listings the audit reads, paged as Graph pages them: `$top` items (5
//! when the request names none, so paging shows even on the small demo tenant; at most 999)
//! and an `@odata.nextLink` with a `$skiptoken` while items are left
//! (<https://learn.microsoft.com/graph/paging>):
//! - `GET /v1.0/applications` (no `$filter`): the lesson apps, the audit's registrations
//!   ([`super::registrations`]) and `--synthetic-apps N` generated ones; owners with
//!   `$expand=owners`;
//! - `GET /v1.0/servicePrincipals` (no `$filter`): the resources and every app with one;
//! - `GET /v1.0/servicePrincipals/{Graph's id}/appRoleAssignedTo`: the Graph application
//!   permissions granted;
//! - `GET /beta/reports/appCredentialSignInActivities` (needs `AuditLog.Read.All`): each
//!   credential's last sign-in.
//!
//! Items are computed from their position when a page asks for them, so a tenant of 100,000
//! synthetic apps costs the demo no memory. The first request for a second page of the
//! application listing with a given token gets one 429 with `Retry-After: 1`, as Graph throttles
//! a tenant-wide read (<https://learn.microsoft.com/graph/throttling>), unless the demo was
//! started without it.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::model::TenantModel;
use super::registrations::{self, REGISTRATIONS, Registration};

/// Items a page holds when the request names no `$top`.
pub(super) const DEFAULT_TOP: u64 = 5;

/// What the listings add to the tenant model, fixed at start.
#[derive(Debug, Clone, Default)]
pub struct Listings {
    /// The demo's clock for the registrations' dates (else the real one, per request).
    pub clock: Option<DateTime<Utc>>,
    /// Generated app registrations after the model's and the audit's.
    pub synthetic_apps: u64,
    /// One 429 on the first request for page 2 of the application listing, per token.
    pub throttle_once: bool,
}

/// Which listing a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    Applications,
    ServicePrincipals,
    GraphGrants,
    SignIns,
}

fn listing(path: &str, query: Option<&str>, model: &TenantModel) -> Option<Listing> {
    let filtered = param(query, "$filter").is_some();
    if path == "/graph/beta/reports/appCredentialSignInActivities" {
        return Some(Listing::SignIns);
    }
    let rest = path.strip_prefix("/graph/v1.0/")?;
    match rest {
        "applications" if !filtered => Some(Listing::Applications),
        "servicePrincipals" if !filtered => Some(Listing::ServicePrincipals),
        _ => {
            let id = rest
                .strip_prefix("servicePrincipals/")?
                .strip_suffix("/appRoleAssignedTo")?;
            graph(model)
                .is_some_and(|g| g.service_principal_id.eq_ignore_ascii_case(id))
                .then_some(Listing::GraphGrants)
        }
    }
}

/// True for the paths this module answers.
pub(super) fn serves(path: &str, query: Option<&str>, model: &TenantModel) -> bool {
    listing(path, query, model).is_some()
}

/// Roles that may read the sign-in activity report (least privileged first, as its page lists
/// them); `None` for the other listings, which need what the directory reads need.
pub(super) fn roles(path: &str) -> Option<Vec<String>> {
    (path == "/graph/beta/reports/appCredentialSignInActivities")
        .then(|| vec!["AuditLog.Read.All".into(), "Directory.Read.All".into()])
}

/// `Some(1)` (seconds to wait) for the one throttled request of a run.
pub(super) fn throttle_once(
    state: &super::server::AppState,
    path: &str,
    query: Option<&str>,
    token_id: &str,
) -> Option<u64> {
    if !state.listings.throttle_once
        || path != "/graph/v1.0/applications"
        || param(query, "$skiptoken").is_none()
        || param(query, "$filter").is_some()
    {
        return None;
    }
    let mut seen = state
        .throttle
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = ("audit-listing-429".to_owned(), token_id.to_owned());
    if seen.contains_key(&key) {
        return None;
    }
    seen.insert(key, (0, 1));
    Some(1)
}

/// One page of a listing; `None` when the path is not one, or the `$skiptoken` is not ours.
pub(super) fn page(
    model: &TenantModel,
    listings: &Listings,
    host: &str,
    path: &str,
    query: Option<&str>,
) -> Option<Value> {
    let which = listing(path, query, model)?;
    let clock = listings.clock.unwrap_or_else(Utc::now);
    // Graph may send fewer items than `$top` (its own page size wins); the small demo tenant
    // sends at most 5 so that paging shows, a synthetic one up to 999.
    let cap = if listings.synthetic_apps > 0 {
        999
    } else {
        DEFAULT_TOP
    };
    let top = param(query, "$top")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(DEFAULT_TOP)
        .clamp(1, cap);
    let skip = match param(query, "$skiptoken") {
        Some(token) => token.parse::<u64>().ok()?,
        None => 0,
    };
    let expand_owners = param(query, "$expand").is_some_and(|e| e.contains("owners"));
    let view = View {
        model,
        listings,
        clock,
    };
    let total = view.len(which);
    let end = skip.saturating_add(top).min(total);
    let mut items = Vec::new();
    for index in skip..end {
        let mut item = view.item(which, index);
        // An expanded relationship stays whatever `$select` names.
        let owners = match &mut item {
            Value::Object(map) => map.remove("owners"),
            _ => None,
        };
        let mut item = super::graph_directory::select(item, query);
        if let (Some(owners), true, Value::Object(map)) = (owners, expand_owners, &mut item) {
            map.insert("owners".into(), owners);
        }
        items.push(item);
    }
    let context = match which {
        Listing::Applications => "https://graph.microsoft.com/v1.0/$metadata#applications",
        Listing::ServicePrincipals => {
            "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals"
        }
        Listing::GraphGrants => "https://graph.microsoft.com/v1.0/$metadata#appRoleAssignments",
        Listing::SignIns => {
            "https://graph.microsoft.com/beta/$metadata#reports/appCredentialSignInActivities"
        }
    };
    let mut body = json!({"@odata.context": context, "value": items});
    if end < total {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if k != "$skiptoken" {
                next.append_pair(&k, &v);
            }
        }
        next.append_pair("$skiptoken", &end.to_string());
        body["@odata.nextLink"] = json!(format!(
            "{}{path}?{}",
            host.trim_end_matches('/'),
            next.finish()
        ));
    }
    Some(body)
}

fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn graph(model: &TenantModel) -> Option<&super::model::Resource> {
    model
        .resources
        .iter()
        .find(|r| r.error_style == super::model::ErrorStyle::Graph)
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The virtual listings: the model's items, then the registrations, then the synthetic apps.
struct View<'a> {
    model: &'a TenantModel,
    listings: &'a Listings,
    clock: DateTime<Utc>,
}

/// A privileged grant of a synthetic app: every 1,000th holds Directory.ReadWrite.All.
const SYNTHETIC_GRANT_EVERY: u64 = 1_000;

impl View<'_> {
    fn lessons(&self) -> u64 {
        self.model.applications.len() as u64
    }

    fn registrations() -> u64 {
        REGISTRATIONS.len() as u64
    }

    fn len(&self, which: Listing) -> u64 {
        let synthetic = self.listings.synthetic_apps;
        match which {
            Listing::Applications => self.lessons() + Self::registrations() + synthetic,
            // Two slots per lesson app and registration (a secret, a certificate), one per
            // synthetic app.
            Listing::SignIns => 2 * (self.lessons() + Self::registrations()) + synthetic,
            Listing::ServicePrincipals => {
                self.model.resources.len() as u64
                    + self.lessons()
                    + Self::registrations()
                    + synthetic
            }
            Listing::GraphGrants => {
                self.lesson_grants().len() as u64
                    + self.registration_grants().len() as u64
                    + synthetic / SYNTHETIC_GRANT_EVERY
            }
        }
    }

    fn item(&self, which: Listing, index: u64) -> Value {
        match which {
            Listing::Applications => self.application(index),
            Listing::ServicePrincipals => self.service_principal(index),
            Listing::GraphGrants => self.grant(index),
            Listing::SignIns => self.sign_ins(index),
        }
    }

    /// `(index among registrations or synthetic apps)` of a position after the lessons.
    fn split(&self, index: u64) -> Split<'static> {
        if index < self.lessons() {
            return Split::Lesson(usize::try_from(index).unwrap_or(0));
        }
        let rest = index - self.lessons();
        match usize::try_from(rest)
            .ok()
            .and_then(|i| REGISTRATIONS.get(i))
        {
            Some(registration) => Split::Registration(registration),
            None => Split::Synthetic(rest - Self::registrations()),
        }
    }

    fn application(&self, index: u64) -> Value {
        match self.split(index) {
            Split::Lesson(i) => {
                let app = &self.model.applications[i];
                let mut value = super::graph_directory::application(self.model, app);
                value["owners"] =
                    json!([{"@odata.type": "#microsoft.graph.user", "id": registrations::OWNER}]);
                for platform in ["web", "spa", "publicClient"] {
                    value[platform] = json!({"redirectUris": []});
                }
                value["isFallbackPublicClient"] = Value::Null;
                value
            }
            Split::Registration(r) => self.registration(r),
            Split::Synthetic(i) => self.synthetic(i),
        }
    }

    fn registration(&self, r: &Registration) -> Value {
        let graph = graph(self.model);
        let secrets: Vec<Value> = r
            .secrets
            .iter()
            .map(|c| {
                let end = registrations::days_from(self.clock, c.ends_in_days);
                json!({"customKeyIdentifier": null, "displayName": c.display_name,
                       "endDateTime": stamp(end), "hint": c.hint_or_thumbprint, "keyId": c.key_id,
                       "secretText": null, "startDateTime": stamp(end - chrono::Duration::days(730))})
            })
            .collect();
        let certificates: Vec<Value> = r
            .certificates
            .iter()
            .map(|c| {
                use base64::Engine as _;
                let end = registrations::days_from(self.clock, c.ends_in_days);
                let bytes: Vec<u8> = (0..c.hint_or_thumbprint.len())
                    .step_by(2)
                    .filter_map(|i| u8::from_str_radix(c.hint_or_thumbprint.get(i..i + 2)?, 16).ok())
                    .collect();
                json!({"customKeyIdentifier": base64::engine::general_purpose::STANDARD.encode(bytes),
                       "displayName": c.display_name, "endDateTime": stamp(end), "key": null,
                       "keyId": c.key_id, "startDateTime": stamp(end - chrono::Duration::days(365)),
                       "type": "AsymmetricX509Cert", "usage": "Verify"})
            })
            .collect();
        let mut access = Vec::new();
        if let Some(graph) = graph {
            let mut entries: Vec<Value> = graph
                .app_roles
                .iter()
                .filter(|role| r.graph_roles.contains(&role.value.as_str()))
                .map(|role| json!({"id": role.id, "type": "Role"}))
                .collect();
            entries.extend(
                graph
                    .delegated_scopes
                    .iter()
                    .filter(|s| r.graph_scopes.contains(&s.value.as_str()))
                    .map(|s| json!({"id": s.id, "type": "Scope"})),
            );
            if !entries.is_empty() {
                access.push(json!({"resourceAppId": graph.app_id, "resourceAccess": entries}));
            }
        }
        let uris: Vec<&str> = r.redirect_uri.into_iter().collect();
        json!({
            "id": r.object_id, "appId": r.app_id, "displayName": r.display_name,
            "signInAudience": r.sign_in_audience,
            "passwordCredentials": secrets, "keyCredentials": certificates,
            "requiredResourceAccess": access,
            "web": {"redirectUris": uris}, "spa": {"redirectUris": []},
            "publicClient": {"redirectUris": []}, "isFallbackPublicClient": null,
            "owners": r.owners.iter().map(|id| json!({"@odata.type": "#microsoft.graph.user", "id": id})).collect::<Vec<_>>(),
        })
    }

    fn synthetic(&self, i: u64) -> Value {
        let (app_id, object_id, _) = registrations::synthetic_ids(i);
        let (key_id, ends, _) = registrations::synthetic_secret(i);
        let end = registrations::days_from(self.clock, ends);
        let owners: Vec<Value> = if registrations::synthetic_has_owner(i) {
            vec![json!({"@odata.type": "#microsoft.graph.user", "id": registrations::OWNER})]
        } else {
            Vec::new()
        };
        let audience = if registrations::synthetic_has_service_principal(i) {
            "AzureADMyOrg"
        } else {
            "AzureADMultipleOrgs"
        };
        json!({
            "id": object_id, "appId": app_id, "displayName": format!("synthetic-app-{i:06}"),
            "signInAudience": audience,
            "passwordCredentials": [{"customKeyIdentifier": null, "displayName": "synthetic",
                "endDateTime": stamp(end), "hint": "Syn", "keyId": key_id, "secretText": null,
                "startDateTime": stamp(end - chrono::Duration::days(730))}],
            "keyCredentials": [], "requiredResourceAccess": [],
            "web": {"redirectUris": []}, "spa": {"redirectUris": []},
            "publicClient": {"redirectUris": []}, "isFallbackPublicClient": null,
            "owners": owners,
        })
    }

    fn service_principal(&self, index: u64) -> Value {
        let resources = self.model.resources.len() as u64;
        if index < resources {
            let r = &self.model.resources[usize::try_from(index).unwrap_or(0)];
            return json!({"id": r.service_principal_id, "appId": r.app_id, "displayName": r.display_name});
        }
        match self.split(index - resources) {
            Split::Lesson(i) => {
                let a = &self.model.applications[i];
                json!({"id": a.service_principal_id, "appId": a.client_id, "displayName": a.display_name})
            }
            // An app without one is listed as Graph lists a deleted object's leftovers: not at
            // all. The slot holds a placeholder no app id matches.
            Split::Registration(r) => match r.service_principal_id {
                Some(id) => json!({"id": id, "appId": r.app_id, "displayName": r.display_name}),
                None => json!({"id": null, "appId": null}),
            },
            Split::Synthetic(i) => {
                let (app_id, _, sp_id) = registrations::synthetic_ids(i);
                if registrations::synthetic_has_service_principal(i) {
                    json!({"id": sp_id, "appId": app_id, "displayName": format!("synthetic-app-{i:06}")})
                } else {
                    json!({"id": null, "appId": null})
                }
            }
        }
    }

    /// Lesson apps' Graph roles: (service principal id, role id, role value).
    fn lesson_grants(&self) -> Vec<(String, String)> {
        let Some(graph) = graph(self.model) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for app in &self.model.applications {
            for role in self.model.granted_roles(app, graph) {
                if let Some(r) = graph.app_roles.iter().find(|r| r.value == role) {
                    out.push((app.service_principal_id.clone(), r.id.clone()));
                }
            }
        }
        out
    }

    fn registration_grants(&self) -> Vec<(String, String)> {
        let Some(graph) = graph(self.model) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for r in REGISTRATIONS {
            let Some(sp) = r.service_principal_id else {
                continue;
            };
            for role in graph
                .app_roles
                .iter()
                .filter(|role| r.graph_roles.contains(&role.value.as_str()))
            {
                out.push((sp.to_owned(), role.id.clone()));
            }
        }
        out
    }

    fn grant(&self, index: u64) -> Value {
        let graph_sp = graph(self.model).map(|g| g.service_principal_id.clone());
        let lessons = self.lesson_grants();
        let registrations = self.registration_grants();
        let fixed = lessons.len() + registrations.len();
        let (principal, role) = if let Some(i) = usize::try_from(index).ok().filter(|i| *i < fixed)
        {
            lessons
                .into_iter()
                .chain(registrations)
                .nth(i)
                .unwrap_or_default()
        } else {
            let n = (index - fixed as u64) * SYNTHETIC_GRANT_EVERY;
            (
                registrations::synthetic_ids(n).2,
                "19dbc75e-c2e2-444c-a770-ec69d8559fc7".to_owned(),
            )
        };
        json!({
            // Graph's assignment ids are opaque base64url strings of the principal and more.
            "id": format!("{}{}", &principal.replace('-', "")[..16.min(principal.len())], index),
            "appRoleId": role,
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "resourceId": graph_sp,
            "resourceDisplayName": "Microsoft Graph",
            "createdDateTime": "2025-01-15T09:30:00Z",
        })
    }

    /// The sign-in activity of the app at `index`'s first credential (Graph lists one entry per
    /// credential; the demo's apps each hold one that matters).
    fn sign_ins(&self, index: u64) -> Value {
        let entry = |key_id: &str, app_id: &str, days_ago: Option<i64>| {
            let last = days_ago.map(|d| {
                stamp(self.clock - chrono::Duration::days(d) - chrono::Duration::hours(1))
            });
            json!({"id": key_id, "keyId": key_id, "appId": app_id, "keyType": "clientSecret",
                   "keyUsage": "verify", "credentialOrigin": "application",
                   "signInActivity": last.map(|l| json!({"lastSignInDateTime": l}))})
        };
        let none = json!({"id": null});
        let fixed = 2 * (self.lessons() + Self::registrations());
        if index < fixed {
            let (owner, slot) = (index / 2, index % 2);
            return match self.split(owner) {
                Split::Lesson(i) => {
                    let app = &self.model.applications[i];
                    // What the lesson signs in with: its newest valid secret, and the
                    // certificate it hands out when that one is registered.
                    if slot == 0 {
                        match app.secrets.iter().rev().find(|s| s.expires > self.clock) {
                            Some(s) => entry(&s.id, &app.client_id, Some(1)),
                            None => none,
                        }
                    } else {
                        let registered = super::graph_directory::application(self.model, app);
                        let key = registered["keyCredentials"][0]["keyId"].as_str();
                        let handed = app.handout.certificate.as_ref();
                        match key.filter(|_| handed.is_some_and(|h| app.certificates.contains(h))) {
                            Some(key) => entry(key, &app.client_id, Some(1)),
                            None => none,
                        }
                    }
                }
                Split::Registration(r) => {
                    let credential = r
                        .secrets
                        .iter()
                        .chain(r.certificates)
                        .nth(usize::try_from(slot).unwrap_or(0));
                    match credential.filter(|c| c.last_sign_in_days_ago.is_some()) {
                        Some(c) => entry(c.key_id, r.app_id, c.last_sign_in_days_ago),
                        None => none,
                    }
                }
                Split::Synthetic(_) => none,
            };
        }
        match self.split(index - fixed + self.lessons() + Self::registrations()) {
            Split::Lesson(_) | Split::Registration(_) => none,
            Split::Synthetic(i) => {
                let (app_id, _, _) = registrations::synthetic_ids(i);
                let (key_id, _, used) = registrations::synthetic_secret(i);
                entry(&key_id, &app_id, Some(used))
            }
        }
    }
}

enum Split<'a> {
    Lesson(usize),
    Registration(&'a Registration),
    Synthetic(u64),
}
