//! The demo tenant's service-principal sign-in log: every token request the token endpoints
//! answer (issued, or refused with the scenario's AADSTS code) is recorded as Graph beta's
//! `signIn` resource, with the correlation id the answer carried, the app, the resource, the IP
//! (the demo listens on 127.0.0.1 only), the credential (secret key id, certificate thumbprint,
//! federated) and the Conditional Access result (`notApplied`: the demo tenant has no policy for
//! workload identities, which needs Workload ID Premium). A request for an app the tenant does
//! not have is not recorded: there is no service principal to log it under.
//!
//! `GET /graph/beta/auditLogs/signIns` serves it as Graph does: `$filter` with
//! `signInEventTypes/any(t: t eq 'servicePrincipal')` (without it only interactive user
//! sign-ins are listed, of which the demo has none; so is `/graph/v1.0/…`), `correlationId eq`,
//! `appId eq`, `createdDateTime ge`; newest first; `$top` (default and maximum 1,000) with an
//! `@odata.nextLink` carrying a `$skiptoken`. The first request of every listing's second page
//! is answered 429 with `Retry-After: 1`, once, so that every paging client meets a throttle.
//! Without `AuditLog.Read.All` the answer is Graph's own 403. The log is a ring of
//! [`CAPACITY`] entries: a flood of token requests cannot grow the demo's memory.

use std::collections::{HashMap, HashSet, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::signins::{SignIn, Status};

/// Entries kept; the oldest goes first.
pub const CAPACITY: usize = 10_000;
/// Paths the log answers (Graph's v1.0 lists user sign-ins only: always empty here).
pub(super) const BETA_PATH: &str = "/graph/beta/auditLogs/signIns";
pub(super) const V1_PATH: &str = "/graph/v1.0/auditLogs/signIns";
/// True for the paths the log answers.
pub(super) fn serves(path: &str) -> bool {
    path == BETA_PATH || path == V1_PATH
}

/// The route the token is checked against: Graph's, with no role (the log checks
/// `AuditLog.Read.All` itself, to answer with Graph's own 403).
pub(super) fn route(path: &str) -> super::model::Route {
    let mut route = super::graph_directory::route(path);
    route.any_role.clear();
    route
}

/// Graph's default and largest page.
const MAX_PAGE: usize = 1000;
/// Throttled skiptokens remembered (then forgotten all at once: a bound, not a history).
const MAX_THROTTLED: usize = 1024;

/// The log, shared by every view of the tenant (a change does not empty it).
#[derive(Debug, Default)]
pub struct SigninLog {
    entries: Mutex<VecDeque<SignIn>>,
    throttled: Mutex<HashSet<String>>,
}

/// What the token endpoint learnt of one request, filled in as it is checked.
#[derive(Debug, Default)]
pub(super) struct Attempt {
    /// Client id, display name, service principal id.
    pub app: Option<(String, String, String)>,
    /// Resource display name and service principal id.
    pub resource: Option<(String, String)>,
    /// `clientCredentialType`, and the key id / thumbprint / federated credential id.
    pub credential: Option<Credential>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Credential {
    Secret { key_id: Option<String> },
    Certificate { thumbprint: Option<String> },
    Federated { id: Option<String> },
}

impl SigninLog {
    /// Records one answered token request: `error` is the AADSTS code and message of a refusal.
    pub(super) fn record(
        &self,
        attempt: Attempt,
        correlation_id: &str,
        error: Option<(u32, &str)>,
        at: DateTime<Utc>,
    ) {
        let Some((client_id, app_name, sp_id)) = attempt.app else {
            return;
        };
        let (kind, key_id, thumbprint, federated) = match attempt.credential {
            Some(Credential::Secret { key_id }) => ("clientSecret", key_id, None, None),
            Some(Credential::Certificate { thumbprint }) => ("certificate", None, thumbprint, None),
            Some(Credential::Federated { id }) => ("federatedIdentityCredential", None, None, id),
            None => ("none", None, None, None),
        };
        let (resource_name, resource_id) = attempt.resource.unzip();
        let entry = SignIn {
            id: Some(uuid::Uuid::new_v4().to_string()),
            created_date_time: Some(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            app_id: Some(client_id),
            app_display_name: Some(app_name.clone()),
            service_principal_id: Some(sp_id),
            service_principal_name: Some(app_name),
            correlation_id: Some(correlation_id.to_owned()),
            ip_address: Some("127.0.0.1".to_owned()),
            resource_display_name: resource_name,
            resource_id,
            status: Some(Status {
                error_code: Some(error.map_or(0, |(code, _)| i64::from(code))),
                failure_reason: error.map(|(_, message)| message.to_owned()),
                additional_details: None,
            }),
            client_credential_type: Some(kind.to_owned()),
            service_principal_credential_key_id: key_id,
            service_principal_credential_thumbprint: thumbprint,
            federated_credential_id: federated,
            managed_service_identity: None,
            conditional_access_status: Some("notApplied".to_owned()),
            applied_conditional_access_policies: Some(Vec::new()),
        };
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// How many entries the log holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}

/// The credential a token request presented, as the log names it: the secret's key id (when
/// the value is one the app registration holds), the signing certificate's thumbprint (from the
/// assertion's `x5t`), or a federated credential.
pub(super) fn credential_of(
    app: &super::model::Application,
    form: &HashMap<String, String>,
    basic: Option<&(String, String)>,
) -> Option<Credential> {
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    if let Some(assertion) = param("client_assertion") {
        if super::assertion::unverified_issuer(assertion)
            .is_some_and(|iss| super::federated::is_federated(&iss, &app.client_id))
        {
            return Some(Credential::Federated { id: None });
        }
        let thumbprint = jsonwebtoken::decode_header(assertion)
            .ok()
            .and_then(|h| h.x5t)
            .and_then(|x5t| URL_SAFE_NO_PAD.decode(x5t.trim_end_matches('=')).ok())
            .map(|bytes| super::keys::hex_upper(&bytes));
        return Some(Credential::Certificate { thumbprint });
    }
    let secret = param("client_secret").or(basic.map(|(_, s)| s.as_str()))?;
    let key_id = app
        .secrets
        .iter()
        .find(|s| s.value.expose() == secret)
        .map(|s| s.id.clone());
    Some(Credential::Secret { key_id })
}

/// The answer to a list request.
pub(super) enum Answer {
    Page(Value),
    /// 429 with this `Retry-After`.
    Throttled(u64),
    /// 403 with Graph's body.
    Forbidden(Value),
}

/// Lists the log as Graph does; `roles` are the caller's token's.
pub(super) fn answer(
    log: &SigninLog,
    host: &str,
    path: &str,
    query: Option<&str>,
    roles: &[&str],
    client_request_id: Option<&str>,
) -> Answer {
    if !roles.contains(&crate::signins::READ_PERMISSION) {
        // Graph's words, from a real 403 (microsoftgraph/microsoft-graph-explorer-v4#2731).
        let id = client_request_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        return Answer::Forbidden(json!({"error": {
            "code": crate::signins::PERMISSION_MISSING,
            "message": "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
            "innerError": {
                "date": Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": uuid::Uuid::new_v4().to_string(),
                "client-request-id": id,
            }
        }}));
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let filter = Filter::parse(param("$filter").unwrap_or(""));
    let top = param("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|t| *t > 0)
        .map_or(MAX_PAGE, |t| t.min(MAX_PAGE));
    let (nonce, offset) = match param("$skiptoken").and_then(parse_skiptoken) {
        Some(token) => token,
        None => (
            uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
            0,
        ),
    };
    if offset > 0 && offset == top && first_time(log, &nonce, offset) {
        return Answer::Throttled(1);
    }
    let matching: Vec<SignIn> = if path == BETA_PATH && filter.service_principals {
        let entries = log
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .iter()
            .rev()
            .filter(|e| filter.admits(e))
            .skip(offset)
            .take(top + 1)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let more = matching.len() > top;
    let version = if path == BETA_PATH { "beta" } else { "v1.0" };
    let mut body = json!({
        "@odata.context": format!("https://graph.microsoft.com/{version}/$metadata#auditLogs/signIns"),
        "value": matching.into_iter().take(top).collect::<Vec<_>>(),
    });
    if more {
        let next: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("$filter", param("$filter").unwrap_or(""))
            .append_pair("$top", &top.to_string())
            .append_pair("$skiptoken", &format!("{nonce}{:08x}", offset + top))
            .finish();
        body["@odata.nextLink"] = json!(format!("{host}{path}?{next}"));
    }
    Answer::Page(body)
}

/// True the first time this listing's page is asked for (then it is remembered).
fn first_time(log: &SigninLog, nonce: &str, offset: usize) -> bool {
    let mut seen = log
        .throttled
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.len() >= MAX_THROTTLED {
        seen.clear();
    }
    seen.insert(format!("{nonce}{offset}"))
}

/// `$skiptoken`: 16 hex digits naming the listing, 8 the offset.
fn parse_skiptoken(token: &str) -> Option<(String, usize)> {
    if token.len() != 24 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let offset = usize::from_str_radix(&token[16..], 16).ok()?;
    Some((token[..16].to_owned(), offset))
}

/// The clauses of `$filter` the demo understands; others are ignored.
#[derive(Debug, Default)]
struct Filter {
    service_principals: bool,
    correlation_id: Option<String>,
    app_id: Option<String>,
    since: Option<DateTime<Utc>>,
}

impl Filter {
    fn parse(text: &str) -> Self {
        let mut filter = Filter::default();
        for clause in text.split(" and ") {
            let clause = clause.trim().trim_start_matches('(').trim_end_matches(')');
            let quoted = |prefix: &str| {
                clause.strip_prefix(prefix).map(|v| {
                    v.trim()
                        .trim_matches('\'')
                        .replace("''", "'")
                        .to_ascii_lowercase()
                })
            };
            if clause.replace(' ', "") == "signInEventTypes/any(t:teq'servicePrincipal'" {
                filter.service_principals = true;
            } else if let Some(id) = quoted("correlationId eq ") {
                filter.correlation_id = Some(id);
            } else if let Some(id) = quoted("appId eq ") {
                filter.app_id = Some(id);
            } else if let Some(at) = clause.strip_prefix("createdDateTime ge ") {
                filter.since = DateTime::parse_from_rfc3339(at.trim())
                    .ok()
                    .map(|t| t.with_timezone(&Utc));
            }
        }
        filter
    }

    fn admits(&self, entry: &SignIn) -> bool {
        let same = |wanted: &Option<String>, value: &Option<String>| {
            wanted
                .as_ref()
                .is_none_or(|w| value.as_ref().is_some_and(|v| v.eq_ignore_ascii_case(w)))
        };
        same(&self.correlation_id, &entry.correlation_id)
            && same(&self.app_id, &entry.app_id)
            && self
                .since
                .is_none_or(|since| entry.created().is_some_and(|at| at >= since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(client_id: &str) -> Attempt {
        Attempt {
            app: Some((client_id.into(), "app".into(), "sp".into())),
            resource: Some(("Microsoft Graph".into(), "graph-sp".into())),
            credential: Some(Credential::Secret {
                key_id: Some("k".into()),
            }),
        }
    }

    #[test]
    fn the_log_is_a_bounded_ring() {
        let log = SigninLog::default();
        for _ in 0..CAPACITY + 5 {
            log.record(attempt("a"), "c", None, Utc::now());
        }
        assert_eq!(log.len(), CAPACITY);
        log.record(Attempt::default(), "c", None, Utc::now());
        assert_eq!(log.len(), CAPACITY, "an unknown app is not logged");
    }

    #[test]
    fn the_filter_reads_what_the_client_sends() {
        let query = crate::signins::Query {
            correlation_id: Some("0C1D5D2E-4A8B-4F37-9D7E-2B1F8A6C3E90".into()),
            app_id: Some("9999d1be-e182-4efa-8b0d-029e5af3dbcf".into()),
            since: Some(Utc::now()),
            top: 5,
        };
        let filter = Filter::parse(&query.filter());
        assert!(filter.service_principals);
        assert_eq!(
            filter.correlation_id.as_deref(),
            Some("0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90")
        );
        assert_eq!(
            filter.app_id.as_deref(),
            Some("9999d1be-e182-4efa-8b0d-029e5af3dbcf")
        );
        assert!(filter.since.is_some());
    }

    #[test]
    fn pages_link_on_and_the_second_page_is_throttled_once() {
        let log = SigninLog::default();
        for _ in 0..5 {
            log.record(attempt("a"), "c", Some((7_000_222, "expired")), Utc::now());
        }
        let filter = "$filter=signInEventTypes%2Fany%28t%3A+t+eq+%27servicePrincipal%27%29&$top=2";
        let roles = ["AuditLog.Read.All"];
        let Answer::Page(first) = answer(&log, "http://h", BETA_PATH, Some(filter), &roles, None)
        else {
            panic!("no first page");
        };
        assert_eq!(first["value"].as_array().unwrap().len(), 2);
        let next = first["@odata.nextLink"].as_str().unwrap();
        let query = next.split_once('?').unwrap().1;
        assert!(matches!(
            answer(&log, "http://h", BETA_PATH, Some(query), &roles, None),
            Answer::Throttled(1)
        ));
        let Answer::Page(second) = answer(&log, "http://h", BETA_PATH, Some(query), &roles, None)
        else {
            panic!("throttled twice");
        };
        assert_eq!(second["value"].as_array().unwrap().len(), 2);
        assert!(matches!(
            answer(&log, "http://h", BETA_PATH, Some(filter), &[], None),
            Answer::Forbidden(_)
        ));
        let Answer::Page(v1) = answer(&log, "http://h", V1_PATH, Some(filter), &roles, None) else {
            panic!("v1.0 refused");
        };
        assert_eq!(v1["value"], json!([]));
    }
}
