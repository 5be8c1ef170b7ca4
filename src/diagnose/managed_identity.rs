//! Managed identity failures as findings: the wording is data (`assets/managed-identity.toml`),
//! the evidence comes from the failure (endpoint, status, the endpoint's own words), and the
//! fixes are the ones for the source that failed (IMDS, App Service, Azure Arc).

use std::sync::OnceLock;

use serde::Deserialize;

use super::{Finding, Severity};
use crate::auth::managed_identity::{ManagedIdentityError, SourceKind};

const SOURCE: &str = include_str!("../../assets/managed-identity.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub cause: String,
    #[serde(default)]
    pub fixes: Vec<String>,
    #[serde(default)]
    pub imds: Vec<String>,
    #[serde(default)]
    pub app_service: Vec<String>,
    #[serde(default)]
    pub azure_arc: Vec<String>,
    pub docs: Vec<String>,
    /// Where the behaviour or a real error body was seen; for reviewers, not shown.
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    finding: Vec<Entry>,
}

/// The compiled-in entries; a test proves the file parses, so the empty fallback is never used.
pub fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        super::parsed("assets/managed-identity.toml");
        parse(SOURCE).unwrap_or_default()
    })
}

fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(file.finding)
}

/// The finding for a managed identity failure; `resource` is the resource asked for.
pub fn finding(error: &ManagedIdentityError, resource: Option<&str>) -> Finding {
    let id = error.id();
    let facts = Facts::of(error, resource);
    let Some(entry) = entries().iter().find(|e| e.id == id) else {
        return Finding::new(id, Severity::Error, "Managed identity failed")
            .cause(error.to_string());
    };
    let mut finding =
        Finding::new(id, entry.severity, &entry.title).cause(facts.render(&entry.cause));
    let specific = match error.source_kind() {
        Some(SourceKind::Imds) => Some(&entry.imds),
        Some(SourceKind::AppService) => Some(&entry.app_service),
        Some(SourceKind::AzureArc) => Some(&entry.azure_arc),
        None => None,
    };
    for fix in specific.into_iter().flatten().chain(&entry.fixes) {
        finding = finding.fix(facts.render(fix));
    }
    finding.evidence = facts.evidence;
    finding.docs.clone_from(&entry.docs);
    finding
}

/// What a failure says, by placeholder name, and its evidence lines.
struct Facts {
    values: Vec<(&'static str, String)>,
    evidence: Vec<String>,
}

impl Facts {
    fn of(error: &ManagedIdentityError, resource: Option<&str>) -> Self {
        let mut values: Vec<(&'static str, String)> = vec![
            ("resource", resource.unwrap_or("<resource>").to_owned()),
            ("id", "<client id>".to_owned()),
        ];
        let mut evidence = Vec::new();
        if let Some(kind) = error.source_kind() {
            values.push(("source", kind.to_string()));
            evidence.push(format!("source: {kind}"));
        }
        let mut put = |name: &'static str, value: String| {
            values.retain(|(known, _)| *known != name);
            values.push((name, value));
        };
        match error {
            ManagedIdentityError::NotOnAzure { url, detail }
            | ManagedIdentityError::EndpointUnreachable { url, detail, .. } => {
                put("endpoint", url.clone());
                put("detail", detail.clone());
                evidence.push(format!("endpoint: {url}"));
                evidence.push(format!("error: {detail}"));
            }
            ManagedIdentityError::NotAssigned {
                url, status, said, ..
            } => {
                put("endpoint", url.clone());
                put("status", status.to_string());
                put("said", said.clone());
                evidence.push(format!("endpoint: {url}"));
                evidence.push(format!("HTTP {status}: {said}"));
                evidence.push("identity: system-assigned".into());
            }
            ManagedIdentityError::WrongId {
                url,
                identity,
                status,
                said,
                ..
            } => {
                put("endpoint", url.clone());
                put("status", status.to_string());
                put("said", said.clone());
                put("identity", identity.to_string());
                put("id", identity.id().unwrap_or_default().to_owned());
                evidence.push(format!("endpoint: {url}"));
                evidence.push(format!("HTTP {status}: {said}"));
                evidence.push(format!("identity: {identity}"));
            }
            ManagedIdentityError::Throttled {
                url,
                retry_after,
                attempts,
                ..
            } => {
                let retry_after = retry_after.as_deref().map_or_else(
                    || "no Retry-After".to_owned(),
                    |v| format!("Retry-After: {v}"),
                );
                put("endpoint", url.clone());
                put("retry_after", retry_after.clone());
                put("attempts", attempts.to_string());
                evidence.push(format!("endpoint: {url}"));
                evidence.push(format!("HTTP 429, {retry_after}, {attempts} attempt(s)"));
            }
            ManagedIdentityError::AppServiceHeader { url, status } => {
                put("endpoint", url.clone());
                put("status", status.to_string());
                evidence.push(format!("endpoint: {url}"));
                evidence.push(format!(
                    "HTTP {status} to X-IDENTITY-HEADER (its value is not shown)"
                ));
            }
            ManagedIdentityError::ArcChallenge { url, reason } => {
                put("endpoint", url.clone());
                put("reason", capitalised(reason));
                evidence.push(format!("endpoint: {url}"));
                evidence.push(format!("challenge: {reason}"));
            }
            ManagedIdentityError::ArcSystemOnly { identity } => {
                put("identity", capitalised(&identity.to_string()));
                evidence.push(format!("identity: {identity}"));
            }
            ManagedIdentityError::BadEndpoint { .. }
            | ManagedIdentityError::UnsupportedSource { .. } => {
                put("reason", capitalised(&error.to_string()));
            }
            ManagedIdentityError::Redirected { url, .. }
            | ManagedIdentityError::Unexpected { url, .. } => {
                put("endpoint", url.clone());
                put("detail", capitalised(&error.to_string()));
                evidence.push(format!("endpoint: {url}"));
            }
        }
        Self { values, evidence }
    }

    /// Fills `{name}` placeholders; `{{` and `}}` are literal braces.
    fn render(&self, template: &str) -> String {
        let mut out = template.replace("{{", "\u{0}").replace("}}", "\u{1}");
        for (name, value) in &self.values {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out.replace('\u{0}', "{").replace('\u{1}', "}")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::IdentitySelector;

    #[test]
    fn every_error_id_has_an_entry_with_sources() {
        let entries = parse(SOURCE).expect("assets/managed-identity.toml parses");
        let ids = [
            "managed-identity.not-on-azure",
            "managed-identity.endpoint-unreachable",
            "managed-identity.not-assigned",
            "managed-identity.wrong-client-id",
            "managed-identity.throttled",
            "managed-identity.app-service-header",
            "managed-identity.arc-challenge",
            "managed-identity.arc-system-only",
            "managed-identity.bad-endpoint",
            "managed-identity.unsupported-source",
            "managed-identity.unexpected-response",
        ];
        assert_eq!(entries.len(), ids.len());
        for id in ids {
            let entry = entries
                .iter()
                .find(|e| e.id == id)
                .unwrap_or_else(|| panic!("{id}"));
            assert!(
                !entry.sources.is_empty()
                    && entry.sources.iter().all(|s| s.starts_with("https://")),
                "{id}"
            );
            assert!(
                !entry.docs.is_empty() && entry.docs.iter().all(|s| s.starts_with("https://")),
                "{id}"
            );
            let all = [
                &entry.fixes,
                &entry.imds,
                &entry.app_service,
                &entry.azure_arc,
            ];
            assert!(all.iter().any(|f| !f.is_empty()), "{id} has no fix");
        }
    }

    #[test]
    fn placeholders_are_filled_for_the_source_that_failed() {
        let error = ManagedIdentityError::WrongId {
            kind: SourceKind::Imds,
            url: "http://127.0.0.1:1/metadata/identity/oauth2/token".into(),
            identity: IdentitySelector::ClientId("5a1e1d0e-4b5c-4d7e-9f00-1a2b3c4d5e6f".into()),
            status: 400,
            said: "Identity not found".into(),
        };
        let finding = finding(&error, Some("https://vault.azure.net"));
        let text = format!("{} {:?}", finding.cause, finding.fixes);
        assert!(!text.contains('{') || text.contains("{clientId"), "{text}");
        assert!(
            text.contains("5a1e1d0e-4b5c-4d7e-9f00-1a2b3c4d5e6f"),
            "{text}"
        );
        assert!(text.contains("az vm identity assign"), "{text}");
        assert!(
            !text.contains("az webapp"),
            "App Service fixes are not shown for IMDS: {text}"
        );
    }
}
