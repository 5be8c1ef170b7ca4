//! The tenant segment of an authority: a directory id (GUID) or a verified domain name.
//!
//! Client credentials need a real tenant: `common`, `organizations` and `consumers` are refused
//! with the reason, and anything malformed is refused before a request is sent, because Entra
//! ID's own answer (AADSTS900023 or AADSTS90002) says less than we can say here.

use std::fmt;

use crate::error::{Error, Result};

/// A tenant as it appears in the authority URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct Tenant(String);

/// The tenant a managed identity request holds when no `--tenant` was given: the identity's
/// tenant is unknown until its token says it (`tid`). It keeps the authority a well-formed URL
/// for the cache key; it is never printed as a tenant nor used to verify a token (see
/// [`super::TokenRequest::known_tenant`]).
pub const UNKNOWN_TENANT: &str = "managed-identity-tenant-from-token";

impl Tenant {
    /// The stand-in for a managed identity's tenant ([`UNKNOWN_TENANT`]).
    pub fn unknown() -> Self {
        Self(UNKNOWN_TENANT.to_owned())
    }

    pub fn parse(input: &str) -> Result<Self> {
        let value = input.trim();
        let refuse = |reason: String| Error::InvalidTenant {
            tenant: value.to_owned(),
            reason,
        };
        if value.is_empty() {
            return Err(refuse(
                "it is empty; pass --tenant with the directory (tenant) id or a verified domain"
                    .into(),
            ));
        }
        let lower = value.to_ascii_lowercase();
        if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
            return Err(refuse(format!(
                "'{lower}' names no single tenant, and a daemon app's token must come from the \
                 tenant that holds its service principal (Entra ID answers AADSTS50059, or issues \
                 a token for the wrong tenant); use the directory id (a GUID) or a verified domain \
                 such as contoso.onmicrosoft.com"
            )));
        }
        if looks_like_guid_attempt(&lower) {
            return if is_guid(&lower) {
                Ok(Self(lower))
            } else {
                Err(refuse(
                    "it looks like a directory id but is not a GUID (expected 8-4-4-4-12 \
                     hexadecimal digits); copy the Directory (tenant) ID from the app's Overview \
                     page"
                        .into(),
                ))
            };
        }
        check_domain(&lower).map_err(refuse)?;
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_id(&self) -> bool {
        is_guid(&self.0)
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Tenant> for String {
    fn from(tenant: Tenant) -> Self {
        tenant.0
    }
}

/// True for the canonical 8-4-4-4-12 hexadecimal form.
pub fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Hex digits and dashes only, with at least one dash: the operator meant a GUID.
fn looks_like_guid_attempt(value: &str) -> bool {
    value.contains('-')
        && value.len() >= 30
        && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

fn check_domain(value: &str) -> std::result::Result<(), String> {
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(format!(
            "{bad:?} cannot appear in a directory id or a domain name (a placeholder such as \
             {{tenant}} left in, or a URL pasted whole?)"
        ));
    }
    if value.len() > 253 {
        return Err("a domain name has at most 253 characters".into());
    }
    let labels: Vec<&str> = value.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "a domain needs a dot; did you mean {value}.onmicrosoft.com, or the directory id?"
        ));
    }
    for label in &labels {
        if label.is_empty() {
            return Err(
                "it has an empty label (two dots in a row, or a leading/trailing dot)".into(),
            );
        }
        if label.len() > 63 {
            return Err(format!("the label {label:?} is longer than 63 characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("the label {label:?} starts or ends with '-'"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("an IP address is not a tenant; use the directory id or a domain".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_guid_and_domains() {
        for ok in [
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
            "contoso.onmicrosoft.com",
            "contoso.com",
            " fabrikam.co.uk ",
        ] {
            assert!(Tenant::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            Tenant::parse("72F988BF-86F1-41AF-91AB-2D7CD011DB47")
                .unwrap()
                .as_str(),
            "72f988bf-86f1-41af-91ab-2d7cd011db47"
        );
    }

    #[test]
    fn refuses_multi_tenant_aliases_with_reason() {
        for alias in ["common", "Organizations", "consumers"] {
            let err = Tenant::parse(alias).unwrap_err().to_string();
            assert!(err.contains("names no single tenant"), "{err}");
        }
    }

    #[test]
    fn refuses_malformed_with_specific_reasons() {
        let cases = [
            ("", "empty"),
            ("{tenant}", "placeholder"),
            ("contoso", "contoso.onmicrosoft.com"),
            ("72f988bf-86f1-41af-91ab-2d7cd011db4", "not a GUID"),
            ("contoso..com", "empty label"),
            ("-contoso.com", "starts or ends"),
            (
                "https://login.microsoftonline.com/contoso.com",
                "URL pasted",
            ),
            ("10.0.0.1", "IP address"),
            ("con toso.com", "cannot appear"),
        ];
        for (input, expected) in cases {
            let err = Tenant::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }
}
