//! The words the demo's resource APIs refuse a call with (`assets/demo/refusals.toml`), each
//! beside the public source of the real service's wording. The code asks for a refusal by
//! field, so a refusal missing from the data fails to parse, and a test proves the shipped file
//! parses: every refusal the code asks for is there.

use std::sync::OnceLock;

use serde::Deserialize;

const SOURCE: &str = include_str!("../../assets/demo/refusals.toml");

/// One refusal: an error code (none for a bare `WWW-Authenticate` description), the message
/// with `{placeholders}`, and where the wording comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Refusal {
    #[serde(default)]
    pub code: Option<String>,
    pub message: String,
    /// Where the wording comes from: for the data's readers and its tests, never shown.
    #[cfg_attr(not(test), allow(dead_code))]
    pub source: String,
}

impl Refusal {
    /// The error code, or "" when the refusal has none.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or_default()
    }

    /// The message with each `{name}` replaced by its value.
    pub fn render(&self, values: &[(&str, &str)]) -> String {
        values
            .iter()
            .fold(self.message.clone(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }
}

/// Microsoft Graph's refusals.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Graph {
    pub missing: Refusal,
    pub malformed: Refusal,
    pub signature: Refusal,
    pub issuer: Refusal,
    pub audience: Refusal,
    pub expired: Refusal,
    pub not_yet_valid: Refusal,
    pub forbidden: Refusal,
    pub throttled: Refusal,
    pub claims_challenge: Refusal,
}

/// Azure Resource Manager's refusals (and those of the services that answer like it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Azure {
    pub missing: Refusal,
    /// A malformed token or a bad signature.
    pub invalid: Refusal,
    pub issuer: Refusal,
    pub audience: Refusal,
    pub expired: Refusal,
    pub not_yet_valid: Refusal,
    pub forbidden: Refusal,
}

/// ASP.NET Core `JwtBearer`'s `error_description`s.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Aspnet {
    pub signature: Refusal,
    pub issuer: Refusal,
    pub audience: Refusal,
    pub expired: Refusal,
    pub not_yet_valid: Refusal,
}

/// Azure SQL's refusals.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Sql {
    /// The app has no user in the database.
    pub login_failed: Refusal,
}

/// The demo's own words, where no real service stands behind a path.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Demo {
    pub not_found: Refusal,
    pub bad_federated_credential: Refusal,
}

/// Every refusal, by service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Refusals {
    pub graph: Graph,
    pub azure: Azure,
    pub aspnet: Aspnet,
    pub sql: Sql,
    pub demo: Demo,
}

impl Refusals {
    /// The compiled-in refusals. A test proves they parse, so the empty fallback is never used.
    pub fn builtin() -> &'static Refusals {
        static REFUSALS: OnceLock<Refusals> = OnceLock::new();
        REFUSALS.get_or_init(|| Self::parse(SOURCE).unwrap_or_default())
    }

    fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders the demo fills in (see the header of `refusals.toml`).
    const FILLED: &[&str] = &[
        "reason",
        "iss",
        "aud",
        "allowed",
        "tenant",
        "authority",
        "exp",
        "nbf",
        "now",
        "client",
        "oid",
        "action",
        "scope",
        "context",
        "path",
    ];

    /// Every refusal with its `service.name`, for checks over the whole file.
    fn all(refusals: &Refusals) -> Vec<(String, &Refusal)> {
        let Refusals {
            graph,
            azure,
            aspnet,
            sql,
            demo,
        } = refusals;
        let mut all = Vec::new();
        let mut add = |service: &str, name: &str, refusal| {
            all.push((format!("{service}.{name}"), refusal));
        };
        for (name, r) in [
            ("missing", &graph.missing),
            ("malformed", &graph.malformed),
            ("signature", &graph.signature),
            ("issuer", &graph.issuer),
            ("audience", &graph.audience),
            ("expired", &graph.expired),
            ("not_yet_valid", &graph.not_yet_valid),
            ("forbidden", &graph.forbidden),
            ("throttled", &graph.throttled),
            ("claims_challenge", &graph.claims_challenge),
        ] {
            add("graph", name, r);
        }
        for (name, r) in [
            ("missing", &azure.missing),
            ("invalid", &azure.invalid),
            ("issuer", &azure.issuer),
            ("audience", &azure.audience),
            ("expired", &azure.expired),
            ("not_yet_valid", &azure.not_yet_valid),
            ("forbidden", &azure.forbidden),
        ] {
            add("azure", name, r);
        }
        for (name, r) in [
            ("signature", &aspnet.signature),
            ("issuer", &aspnet.issuer),
            ("audience", &aspnet.audience),
            ("expired", &aspnet.expired),
            ("not_yet_valid", &aspnet.not_yet_valid),
        ] {
            add("aspnet", name, r);
        }
        add("sql", "login_failed", &sql.login_failed);
        add("demo", "not_found", &demo.not_found);
        add(
            "demo",
            "bad_federated_credential",
            &demo.bad_federated_credential,
        );
        all
    }

    #[test]
    fn every_refusal_the_code_asks_for_is_in_the_data() {
        // Each field is required: a refusal missing from the file is a parse error.
        let parsed = Refusals::parse(SOURCE);
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn every_refusal_names_its_source_and_uses_only_filled_placeholders() {
        let refusals = Refusals::parse(SOURCE).unwrap();
        let all = all(&refusals);
        assert_eq!(all.len(), 25);
        for (name, refusal) in all {
            assert!(!refusal.message.is_empty(), "{name} has no message");
            assert!(
                refusal.source.trim().len() > 10,
                "{name} names no source: {:?}",
                refusal.source
            );
            let values: Vec<(&str, &str)> = FILLED.iter().map(|n| (*n, "x")).collect();
            let rendered = refusal.render(&values);
            assert!(
                !rendered.contains('{') && !rendered.contains('}'),
                "{name} has a placeholder the demo never fills: {rendered}"
            );
        }
    }

    #[test]
    fn a_field_missing_from_the_data_is_refused() {
        let without = SOURCE.replace("[sql.login_failed]", "[sql.other]");
        assert!(Refusals::parse(&without).is_err());
    }

    #[test]
    fn render_fills_every_occurrence() {
        let refusal = Refusal {
            code: None,
            message: "'{aud}' or '{aud}', not {iss}".into(),
            source: String::new(),
        };
        assert_eq!(
            refusal.render(&[("aud", "a"), ("iss", "b")]),
            "'a' or 'a', not b"
        );
    }
}
