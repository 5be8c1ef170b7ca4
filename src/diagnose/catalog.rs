//! The AADSTS catalog (`assets/aadsts.toml`): what each code means for a daemon app and how to
//! fix it, which walkthrough step it belongs to, and where its meaning was seen. Codes not in it
//! still get a finding with Entra ID's own words and its lookup page.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::{Finding, FixContext, Severity};
use crate::auth::EntraError;

const SOURCE: &str = include_str!("../../assets/aadsts.toml");

/// What Entra ID was checking when it refused with a code: the tenant, the application, its
/// credential or the requested scope. A code without one belongs to issuing itself (policies,
/// service errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Tenant,
    App,
    Credential,
    Scope,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: u64,
    pub title: String,
    pub error: String,
    pub http_status: u16,
    #[serde(default)]
    pub step: Option<Step>,
    pub cause: String,
    pub fix: String,
    #[serde(default)]
    pub portal: Option<String>,
    #[serde(default)]
    pub az: Option<String>,
    #[serde(default)]
    pub powershell: Option<String>,
    pub docs: Vec<String>,
    /// Where the meaning or a real error body was seen (Microsoft's reference, public issues);
    /// for the data's reviewers, not shown to the operator.
    pub sources: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    code: Vec<Entry>,
}

#[derive(Debug)]
pub struct Catalog {
    entries: BTreeMap<u64, Entry>,
}

impl Catalog {
    /// The compiled-in catalog. A test proves it parses, so the fallback is never used.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            super::parsed("assets/aadsts.toml");
            Catalog::parse(SOURCE).unwrap_or(Catalog {
                entries: BTreeMap::new(),
            })
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut entries = BTreeMap::new();
        for entry in file.code {
            if let Some(old) = entries.insert(entry.code, entry) {
                return Err(format!("AADSTS{} appears twice", old.code));
            }
        }
        Ok(Self { entries })
    }

    pub fn get(&self, code: u64) -> Option<&Entry> {
        self.entries.get(&code)
    }

    /// The step Entra ID was checking when it refused with `code`; `None` for issuing itself and
    /// for codes the catalog does not know.
    pub fn step(&self, code: u64) -> Option<Step> {
        self.get(code).and_then(|entry| entry.step)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    /// The finding for a code, with the fixes rendered for this context.
    pub fn finding(&self, code: u64, context: &FixContext) -> Finding {
        let id = format!("AADSTS{code}");
        match self.get(code) {
            Some(entry) => {
                let mut finding = Finding::new(id, Severity::Error, &entry.title)
                    .cause(context.render(&entry.cause))
                    .fix(context.render(&entry.fix));
                for (label, command) in
                    [("Portal", &entry.portal), ("az", &entry.az), ("PowerShell", &entry.powershell)]
                {
                    if let Some(command) = command {
                        finding = finding.fix(format!("{label}: {}", context.render(command)));
                    }
                }
                finding.docs.clone_from(&entry.docs);
                finding
            }
            None => Finding::new(id, Severity::Error, format!("AADSTS{code} (not in entra-doctor's catalog)"))
                .cause("entra-doctor does not know this code yet; Entra ID's own description is quoted in the evidence")
                .fix(format!("Look the code up: https://login.microsoftonline.com/error?code={code}"))
                .doc(format!("https://login.microsoftonline.com/error?code={code}")),
        }
    }

    /// The finding for a token-endpoint error body, with its support-ticket facts as evidence.
    pub fn explain(&self, error: &EntraError, context: &FixContext) -> Finding {
        let Some(code) = error.code() else {
            return Finding::new(
                format!("oauth.{}", error.error),
                Severity::Error,
                format!("Entra ID answered {}", error.error),
            )
            .cause("the error names no AADSTS code; its description is quoted in the evidence")
            .evidence(format!("error: {}", error.error))
            .evidence(format!("error_description: {}", error.summary()));
        };
        let mut finding = self.finding(code, context);
        let about_credential = self.step(code) == Some(Step::Credential);
        let status = if error.status > 0 {
            format!("HTTP {} ", error.status)
        } else {
            String::new()
        };
        finding.evidence.push(if error.error.is_empty() {
            // Quoted from a log line: the OAuth error class is not known.
            format!("{status}{}", error.summary())
        } else {
            format!("{status}{}: {}", error.error, error.summary())
        });
        for (label, value) in [
            ("trace id", &error.trace_id),
            ("correlation id", &error.correlation_id),
            ("timestamp", &error.timestamp),
        ] {
            if let Some(value) = value {
                finding.evidence.push(format!("{label}: {value}"));
            }
        }
        finding
            .evidence
            .extend(super::signing_key::evidence(error, about_credential));
        finding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalog_parses_and_has_every_daemon_code() {
        let catalog = Catalog::parse(SOURCE).expect("assets/aadsts.toml parses");
        for code in [
            70011, 1_002_012, 7_000_215, 7_000_222, 700_016, 90002, 900_023, 700_027, 700_024,
            500_011, 7_000_112, 53003, 90014, 7_000_218, 700_025, 50049, 500_113, 50196, 70021,
            700_211, 700_212, 700_213, 7_002_137, 7_002_138, 700_222, 700_223, 500_014, 1_002_016,
            7_000_213, 50059, 50000, 50027, 50013, 5_002_730, 90033, 90036, 650_052, 65002, 90099,
            900_382, 500_022, 90092, 90124, 90130,
        ] {
            let entry = catalog
                .get(code)
                .unwrap_or_else(|| panic!("AADSTS{code} is missing"));
            assert!(
                !entry.docs.is_empty() && entry.docs.iter().all(|d| d.starts_with("https://")),
                "{code}"
            );
        }
    }

    #[test]
    fn every_entry_names_an_https_source() {
        let catalog = Catalog::parse(SOURCE).expect("assets/aadsts.toml parses");
        for entry in catalog.entries() {
            assert!(
                entry.sources.iter().any(|s| s.starts_with("https://"))
                    && entry.sources.iter().all(|s| s.starts_with("https://")),
                "AADSTS{} needs https sources: {:?}",
                entry.code,
                entry.sources
            );
        }
    }

    #[test]
    fn steps_are_read_and_absent_means_issuing() {
        let catalog = Catalog::parse(SOURCE).expect("assets/aadsts.toml parses");
        assert_eq!(catalog.step(90002), Some(Step::Tenant));
        assert_eq!(catalog.step(7_000_112), Some(Step::App));
        assert_eq!(catalog.step(7_002_138), Some(Step::Credential));
        assert_eq!(catalog.step(500_014), Some(Step::Scope));
        assert_eq!(catalog.step(53003), None);
        assert_eq!(catalog.step(99_999), None);
        let unknown = "[[code]]\ncode = 1\ntitle = \"t\"\nerror = \"\"\nhttp_status = 400\nstep = \"token\"\ncause = \"c\"\nfix = \"f\"\ndocs = []\nsources = []\n";
        assert!(
            Catalog::parse(unknown).is_err(),
            "an unknown step is refused"
        );
    }

    #[test]
    fn unknown_codes_point_at_the_lookup_page() {
        let finding = Catalog::builtin().finding(99_999, &FixContext::default());
        assert_eq!(finding.id, "AADSTS99999");
        assert_eq!(
            finding.docs,
            ["https://login.microsoftonline.com/error?code=99999"]
        );
    }
}
