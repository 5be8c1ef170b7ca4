//! Service-principal sign-in logs: the log entry of a token request (by its correlation id, or
//! an app's recent ones), with its status, AADSTS code, resource, IP, the credential used and
//! the Conditional Access policies applied, read from Microsoft Graph.
//!
//! Service-principal sign-ins are only in Graph **beta**: `GET /beta/auditLogs/signIns` with
//! `$filter=signInEventTypes/any(t: t eq 'servicePrincipal')`; without the event-type filter the
//! list holds interactive user sign-ins only, and v1.0 has no service-principal sign-ins at all
//! (<https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta>). Reading needs the
//! application permission `AuditLog.Read.All` with admin consent, and the tenant needs Microsoft
//! Entra ID P1 or P2; a directory role is needed only by a signed-in user (delegated), not by an
//! app. Entries reach the log minutes after the sign-in. [`Query`] builds the request (every
//! value validated and quoted, never pasted), [`read`] pages through the answer, [`findings`]
//! says what the entries mean.

mod findings;
mod read;
mod run;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::tenant::is_guid;
use crate::diagnose::Finding;
use crate::error::{Error, Result};

pub use findings::{NO_PREMIUM, PERMISSION_MISSING, denied, findings};
pub use read::{MAX_PAGES, PAGE_SIZE, read};
pub use run::{Lookup, LookupRequest, lookup};

/// The application permission the read needs.
pub const READ_PERMISSION: &str = "AuditLog.Read.All";

/// The filter that selects service-principal (app-only) sign-ins.
pub const SERVICE_PRINCIPAL_FILTER: &str = "signInEventTypes/any(t: t eq 'servicePrincipal')";

/// Where the sign-in list is documented (permissions, filters, paging).
pub const DOCS: &str = "https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta";

/// Which sign-ins to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The correlation id of the token request (Entra ID's `correlation_id`).
    pub correlation_id: Option<String>,
    /// The client id (`appId`) of the app that signed in.
    pub app_id: Option<String>,
    /// Only sign-ins at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many entries.
    pub top: u32,
}

/// The most entries one lookup returns.
pub const MAX_TOP: u32 = 1000;

impl Query {
    /// Checks every value before it goes near a URL: the ids must be GUIDs (a quote, a space or
    /// an `or` cannot be smuggled into the filter), and something must narrow the list.
    pub fn validate(&self) -> Result<()> {
        let guid = |what: &str, value: &Option<String>| -> Result<()> {
            match value {
                Some(v) if !is_guid(&v.to_ascii_lowercase()) => Err(Error::InvalidInput {
                    what: format!("{what} {:?}", crate::scrub::printable_line(v)),
                    reason: "is not a GUID (8-4-4-4-12 hexadecimal digits, as Entra ID prints \
                             it after \"Correlation ID:\")"
                        .into(),
                }),
                _ => Ok(()),
            }
        };
        guid("correlation id", &self.correlation_id)?;
        guid("app id", &self.app_id)?;
        if self.correlation_id.is_none() && self.app_id.is_none() {
            return Err(Error::InvalidInput {
                what: "the sign-in lookup".into(),
                reason: "needs --correlation-id or --app (a whole tenant's log is not read)".into(),
            });
        }
        if self.top == 0 || self.top > MAX_TOP {
            return Err(Error::InvalidInput {
                what: format!("--top {}", self.top),
                reason: format!("must be between 1 and {MAX_TOP}"),
            });
        }
        Ok(())
    }

    /// The OData `$filter`: service principals, then each condition given.
    pub fn filter(&self) -> String {
        let mut parts = vec![SERVICE_PRINCIPAL_FILTER.to_owned()];
        if let Some(id) = &self.correlation_id {
            parts.push(format!(
                "correlationId eq {}",
                crate::graph::odata_literal(&id.to_ascii_lowercase())
            ));
        }
        if let Some(id) = &self.app_id {
            parts.push(format!(
                "appId eq {}",
                crate::graph::odata_literal(&id.to_ascii_lowercase())
            ));
        }
        if let Some(since) = self.since {
            parts.push(format!(
                "createdDateTime ge {}",
                since.format("%Y-%m-%dT%H:%M:%SZ")
            ));
        }
        parts.join(" and ")
    }

    /// The first page's URL under `graph_url` (`https://graph.microsoft.com`).
    pub fn url(&self, graph_url: &str) -> String {
        let mut url = format!(
            "{}/beta/auditLogs/signIns?",
            graph_url.trim_end_matches('/')
        );
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("$filter", &self.filter())
            .append_pair("$top", &self.top.min(PAGE_SIZE).to_string())
            .finish();
        url.push_str(&encoded);
        url
    }
}

/// The command that looks up the sign-in of a refused token request, as `explain` and the TUI
/// offer it: `correlation_id` must be the GUID an extractor found; `client_id` narrows to the app.
pub fn offer(correlation_id: &str, client_id: Option<&str>) -> String {
    offer_as(correlation_id, client_id, None)
}

/// [`offer`], read as `reader` (an app the operator already named as the one that reads
/// Graph) instead of a placeholder.
pub fn offer_as(correlation_id: &str, client_id: Option<&str>, reader: Option<&str>) -> String {
    let guid = |id: &&str| is_guid(&id.to_ascii_lowercase());
    let app = client_id
        .filter(guid)
        .map(|id| format!(" --app {id}"))
        .unwrap_or_default();
    let reader = reader
        .filter(guid)
        .map_or_else(|| format!("<an app with {READ_PERMISSION}>"), str::to_owned);
    format!(
        "entra-doctor signins --correlation-id {correlation_id}{app} --admin-client-id {reader}"
    )
}

/// The evidence label under which a refused token request's finding carries Entra ID's
/// correlation id (the catalog's support-ticket facts, `Catalog::explain`).
const CORRELATION_EVIDENCE: &str = "correlation id: ";

/// The correlation id of a refused token request among `findings`, lower-cased: the one an
/// AADSTS finding quotes as evidence, whether Entra ID's answer to a request or a pasted error
/// explained. Only a token request is a sign-in: an API's own correlation id is not in the log,
/// and a value that is not a GUID is not looked up.
pub fn correlation_in<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Option<String> {
    findings
        .into_iter()
        .filter(|f| f.id.starts_with("AADSTS"))
        .flat_map(|f| &f.evidence)
        .filter_map(|line| line.strip_prefix(CORRELATION_EVIDENCE))
        .map(|id| id.trim().to_ascii_lowercase())
        .find(|id| is_guid(id))
}

/// `2h`, `30m`, `7d` before `now`, or an RFC 3339 time or a `YYYY-MM-DD` date (UTC midnight).
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let bad = |reason: &str| Error::InvalidInput {
        what: format!("--since {:?}", crate::scrub::printable_line(text)),
        reason: reason.into(),
    };
    let text = text.trim();
    if let Some(unit) = text.chars().last().filter(char::is_ascii_alphabetic) {
        let number: i64 = text[..text.len() - 1]
            .parse()
            .map_err(|_| bad("use a number and a unit (30m, 2h, 7d), or a date"))?;
        let seconds = match unit {
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad("the unit is m, h or d")),
        };
        // Sign-in logs are kept 30 days at most; a bigger number is a typo, not a wish.
        if !(0..=30 * 86400).contains(&number.saturating_mul(seconds)) {
            return Err(bad("sign-in logs are kept at most 30 days"));
        }
        return Ok(now - chrono::Duration::seconds(number * seconds));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| bad("use 30m, 2h, 7d, an RFC 3339 time or YYYY-MM-DD"))
}

/// One service-principal sign-in, as Graph beta's `signIn` resource names its fields
/// (<https://learn.microsoft.com/graph/api/resources/signin?view=graph-rest-beta>). Every field
/// is optional: Graph omits what it does not know, and one odd entry must not hide the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SignIn {
    pub id: Option<String>,
    pub created_date_time: Option<String>,
    pub app_id: Option<String>,
    pub app_display_name: Option<String>,
    pub service_principal_id: Option<String>,
    pub service_principal_name: Option<String>,
    pub correlation_id: Option<String>,
    pub ip_address: Option<String>,
    pub resource_display_name: Option<String>,
    pub resource_id: Option<String>,
    pub status: Option<Status>,
    /// `none`, `clientSecret`, `clientAssertion`, `federatedIdentityCredential`,
    /// `managedIdentity`, `certificate`, `unknownFutureValue`.
    pub client_credential_type: Option<String>,
    pub service_principal_credential_key_id: Option<String>,
    pub service_principal_credential_thumbprint: Option<String>,
    pub federated_credential_id: Option<String>,
    pub managed_service_identity: Option<ManagedIdentity>,
    /// `success`, `failure`, `notApplied`, `unknownFutureValue`.
    pub conditional_access_status: Option<String>,
    /// `None` when Graph withheld them (the reader may not read Conditional Access data).
    pub applied_conditional_access_policies: Option<Vec<AppliedPolicy>>,
}

/// `status` of a sign-in: `errorCode` 0 is success.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Status {
    pub error_code: Option<i64>,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
}

/// `managedServiceIdentity` of a sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedIdentity {
    /// `none`, `userAssigned`, `systemAssigned`, `unknownFutureValue`.
    pub msi_type: Option<String>,
    pub associated_resource_id: Option<String>,
}

/// One Conditional Access policy evaluated for the sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppliedPolicy {
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// `success`, `failure`, `notApplied`, `notEnabled`, `unknown`, `reportOnly…`.
    pub result: Option<String>,
    pub enforced_grant_controls: Vec<String>,
}

impl SignIn {
    /// The AADSTS code, `None` for a success.
    pub fn error_code(&self) -> Option<u64> {
        self.status
            .as_ref()
            .and_then(|s| s.error_code)
            .and_then(|c| u64::try_from(c).ok())
            .filter(|c| *c != 0)
    }

    pub fn created(&self) -> Option<DateTime<Utc>> {
        self.created_date_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    /// The credential the app signed in with, in words: which secret, which certificate,
    /// which federated credential or managed identity.
    pub fn credential(&self) -> String {
        let key = |label: &str, value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!(", {label} {v}"))
                .unwrap_or_default()
        };
        let kind = self.client_credential_type.as_deref().unwrap_or("");
        match kind {
            "clientSecret" => format!(
                "client secret{}",
                key("key id", &self.service_principal_credential_key_id)
            ),
            "certificate" | "clientAssertion" => format!(
                "{}{}{}",
                if kind == "certificate" {
                    "certificate"
                } else {
                    "client assertion"
                },
                key("thumbprint", &self.service_principal_credential_thumbprint),
                key("key id", &self.service_principal_credential_key_id)
            ),
            "federatedIdentityCredential" => format!(
                "federated credential{}",
                key("id", &self.federated_credential_id)
            ),
            "managedIdentity" => format!(
                "managed identity{}",
                key(
                    "type",
                    &self
                        .managed_service_identity
                        .as_ref()
                        .and_then(|m| m.msi_type.clone())
                )
            ),
            "" | "none" => "none recorded".to_owned(),
            other => other.to_owned(),
        }
    }

    /// The Conditional Access policies that blocked this sign-in.
    pub fn blocking_policies(&self) -> Vec<&AppliedPolicy> {
        self.applied_conditional_access_policies
            .iter()
            .flatten()
            .filter(|p| p.result.as_deref() == Some("failure"))
            .collect()
    }
}

#[cfg(test)]
mod tests;
