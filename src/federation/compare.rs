//! The presented token beside each federated identity credential of the app registration: one
//! verdict per field, naming the exact difference (the findings that follow are
//! [`super::advice`]'s).
//!
//! Entra ID matches issuer, subject and audience exactly and case-sensitively
//! (<https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations>;
//! case-sensitive subjects since 2024:
//! <https://learn.microsoft.com/entra/identity-platform/reference-breaking-changes>).

use serde::{Deserialize, Serialize};

use super::assertion::ExternalClaims;
use super::expression::{Expression, TermResult};
use super::subject::{IssuerKind, SubjectShape};

/// A federated identity credential as Microsoft Graph returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub issuer: String,
    /// `None` on a flexible credential (it has a `claimsMatchingExpression` instead).
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub claims_matching_expression: Option<ClaimsMatchingExpression>,
}

/// A flexible credential's expression (Graph beta).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsMatchingExpression {
    pub value: String,
    #[serde(default)]
    pub language_version: Option<i64>,
}

/// How one field of one credential compares with the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldVerdict {
    pub is_match: bool,
    /// What exactly differs, in words; `None` on a match.
    pub difference: Option<String>,
}

impl FieldVerdict {
    fn same() -> Self {
        Self {
            is_match: true,
            difference: None,
        }
    }

    fn differs(text: impl Into<String>) -> Self {
        Self {
            is_match: false,
            difference: Some(text.into()),
        }
    }
}

/// One credential beside the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialComparison {
    pub credential: FederatedCredential,
    pub issuer: FieldVerdict,
    pub subject: FieldVerdict,
    pub audience: FieldVerdict,
    /// The flexible credential's terms, evaluated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<TermResult>,
    pub is_match: bool,
}

/// Every credential beside the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub presented: ExternalClaims,
    pub credentials: Vec<CredentialComparison>,
}

impl Comparison {
    /// The credential Entra ID would accept the token under, if any.
    pub fn matching(&self) -> Option<&CredentialComparison> {
        self.credentials.iter().find(|c| c.is_match)
    }

    /// The credential that comes closest: issuer first, then subject, then audience.
    pub fn closest(&self) -> Option<&CredentialComparison> {
        // `max_by_key` keeps the last of equals; reversed, the first listed wins a tie.
        self.credentials.iter().rev().max_by_key(|c| {
            (
                c.issuer.is_match,
                c.subject.is_match,
                c.audience.is_match,
                // Among equals, a near issuer (a slash, case) beats a foreign one.
                c.issuer
                    .difference
                    .as_deref()
                    .is_some_and(|d| d.contains("trailing slash") || d.contains("case")),
            )
        })
    }
}

/// Sets the token's claims beside each credential.
pub fn compare(presented: &ExternalClaims, credentials: &[FederatedCredential]) -> Comparison {
    let rows = credentials
        .iter()
        .map(|credential| {
            let issuer = issuer_verdict(
                presented.iss.as_deref().unwrap_or_default(),
                &credential.issuer,
            );
            let (subject, expression) =
                match (&credential.subject, &credential.claims_matching_expression) {
                    (Some(expected), _) => (
                        subject_verdict(presented.sub.as_deref().unwrap_or_default(), expected),
                        Vec::new(),
                    ),
                    (None, Some(expression)) => expression_verdict(presented, &expression.value),
                    (None, None) => (
                        FieldVerdict::differs(
                            "the credential has neither a subject nor a claimsMatchingExpression",
                        ),
                        Vec::new(),
                    ),
                };
            let audience = audience_verdict(&presented.aud, &credential.audiences);
            CredentialComparison {
                is_match: issuer.is_match && subject.is_match && audience.is_match,
                credential: credential.clone(),
                issuer,
                subject,
                audience,
                expression,
            }
        })
        .collect();
    Comparison {
        presented: presented.clone(),
        credentials: rows,
    }
}

fn issuer_verdict(presented: &str, expected: &str) -> FieldVerdict {
    if presented == expected {
        return FieldVerdict::same();
    }
    if presented.trim_end_matches('/') == expected.trim_end_matches('/') {
        let (with, without) = if presented.ends_with('/') {
            ("the token's issuer", "the credential's")
        } else {
            ("the credential's issuer", "the token's")
        };
        return FieldVerdict::differs(format!(
            "trailing slash: {with} ends with '/', {without} does not"
        ));
    }
    if presented.eq_ignore_ascii_case(expected) {
        return FieldVerdict::differs("case only: issuers compare case-sensitively");
    }
    let (kind, theirs) = (IssuerKind::of(presented), IssuerKind::of(expected));
    let text = match (kind, theirs) {
        (IssuerKind::KubernetesDefault, IssuerKind::AksOidc) => {
            "the token comes from the cluster's default issuer (kubernetes.default.svc), not its OIDC issuer: the cluster's OIDC issuer is not enabled, or the pod's token is not the workload identity one"
                .to_owned()
        }
        (IssuerKind::AksOidc, IssuerKind::AksOidc) => {
            "another AKS cluster's OIDC issuer: the region, tenant or cluster id in the URL differ (az aks show --query oidcIssuerProfile.issuerUrl names this cluster's)".to_owned()
        }
        (a, b) if a != b => format!(
            "a different identity provider: the token is from {}, the credential trusts {}",
            a.label(),
            b.label()
        ),
        _ => "a different issuer URL".to_owned(),
    };
    FieldVerdict::differs(text)
}

fn subject_verdict(presented: &str, expected: &str) -> FieldVerdict {
    if presented == expected {
        return FieldVerdict::same();
    }
    if presented.eq_ignore_ascii_case(expected) {
        return FieldVerdict::differs(
            "case only: subjects compare case-sensitively since 2024 (AADSTS7002138)",
        );
    }
    let (mine, theirs) = (
        SubjectShape::parse(presented),
        SubjectShape::parse(expected),
    );
    if let (Some(my_repo), Some(their_repo)) = (mine.github_repo(), theirs.github_repo()) {
        if !my_repo.eq_ignore_ascii_case(their_repo) {
            return FieldVerdict::differs(format!(
                "another repository: the token is for {my_repo}, the credential names {their_repo}"
            ));
        }
        if mine.github_entity() != theirs.github_entity() {
            return FieldVerdict::differs(format!(
                "another GitHub entity: the token is for {}, the credential names {} (GitHub puts pull_request or environment:NAME in the subject instead of the branch when the job runs for a pull request or an environment)",
                mine.describe(),
                theirs.describe()
            ));
        }
        return FieldVerdict::differs(format!(
            "same kind, another name: the token is for {}, the credential names {}",
            mine.describe(),
            theirs.describe()
        ));
    }
    if let (
        SubjectShape::KubernetesServiceAccount {
            namespace: my_ns,
            name: my_name,
        },
        SubjectShape::KubernetesServiceAccount {
            namespace: their_ns,
            name: their_name,
        },
    ) = (&mine, &theirs)
    {
        let mut parts = Vec::new();
        if my_ns != their_ns {
            parts.push(format!("namespace '{my_ns}' vs '{their_ns}'"));
        }
        if my_name != their_name {
            parts.push(format!("service account '{my_name}' vs '{their_name}'"));
        }
        return FieldVerdict::differs(format!(
            "another service account: {} (system:serviceaccount:NAMESPACE:NAME)",
            parts.join(", ")
        ));
    }
    if presented.trim() == expected.trim() {
        return FieldVerdict::differs("whitespace: one of them has leading or trailing spaces");
    }
    FieldVerdict::differs(format!(
        "a different subject ({} vs {})",
        mine.describe(),
        theirs.describe()
    ))
}

fn expression_verdict(presented: &ExternalClaims, text: &str) -> (FieldVerdict, Vec<TermResult>) {
    match Expression::parse(text) {
        Err(error) => (FieldVerdict::differs(error.to_string()), Vec::new()),
        Ok(expression) => {
            let results = expression.evaluate(|name| presented.claim(name));
            let failed: Vec<String> = results
                .iter()
                .filter(|r| !r.holds)
                .map(|r| match &r.presented {
                    Some(value) => format!(
                        "claims['{}'] = '{value}' does not satisfy {} '{}'",
                        r.term.claim,
                        match r.term.operator {
                            super::expression::Operator::Eq => "eq",
                            super::expression::Operator::Matches => "matches",
                        },
                        r.term.comparand
                    ),
                    None => format!("the token has no claim '{}'", r.term.claim),
                })
                .collect();
            let verdict = if failed.is_empty() {
                FieldVerdict::same()
            } else {
                FieldVerdict::differs(failed.join("; "))
            };
            (verdict, results)
        }
    }
}

fn audience_verdict(presented: &[String], expected: &[String]) -> FieldVerdict {
    if presented.iter().any(|p| expected.contains(p)) {
        return FieldVerdict::same();
    }
    let near = presented.iter().find_map(|p| {
        expected
            .iter()
            .find(|e| {
                e.trim_end_matches('/')
                    .eq_ignore_ascii_case(p.trim_end_matches('/'))
            })
            .map(|e| (p, e))
    });
    match near {
        Some((p, e)) => FieldVerdict::differs(format!(
            "'{p}' vs '{e}': only case or a trailing slash differ, and audiences compare exactly"
        )),
        None => FieldVerdict::differs(format!(
            "the token is for {}, the credential accepts {}",
            quoted(presented),
            quoted(expected)
        )),
    }
}

fn quoted(values: &[String]) -> String {
    if values.is_empty() {
        return "nothing".to_owned();
    }
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::diagnose::Finding;
    use crate::federation::advice::findings;

    const GH: &str = "https://token.actions.githubusercontent.com";
    const X: &str = "api://AzureADTokenExchange";

    fn presented(iss: &str, sub: &str, aud: &str) -> ExternalClaims {
        let Value::Object(map) = json!({"iss": iss, "sub": sub, "aud": aud, "exp": 1_900_000_000,
            "job_workflow_ref": "o/r/.github/workflows/d.yml@refs/heads/main"})
        else {
            unreachable!()
        };
        ExternalClaims::from_json(&map)
    }

    fn credential(name: &str, issuer: &str, subject: &str) -> FederatedCredential {
        FederatedCredential {
            name: name.into(),
            issuer: issuer.into(),
            subject: Some(subject.into()),
            audiences: vec![X.into()],
            claims_matching_expression: None,
        }
    }

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn a_pull_request_token_against_a_branch_credential() {
        let token = presented(GH, "repo:octo-org/octo-repo:pull_request", X);
        let c = compare(
            &token,
            &[credential(
                "main",
                GH,
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            )],
        );
        let row = &c.credentials[0];
        assert!(row.issuer.is_match && row.audience.is_match && !row.subject.is_match);
        let difference = row.subject.difference.as_deref().unwrap_or_default();
        assert!(
            difference.contains("a pull request of octo-org/octo-repo"),
            "{difference}"
        );
        assert!(difference.contains("branch 'main'"), "{difference}");
        let found = findings(&c, "cid");
        assert_eq!(ids(&found), vec!["federation.subject-mismatch"]);
        assert!(found[0].fixes[0].contains("federated-credential create --id cid"));
        assert!(
            found[0].fixes[0].contains("\"subject\": \"repo:octo-org/octo-repo:pull_request\"")
        );
        assert!(found[0].fixes[0].contains("\"name\": \"github-pull-request\""));
    }

    #[test]
    fn an_issuer_with_a_trailing_slash_is_named_and_updated() {
        let aks = "https://eastus.oic.prod-aks.azure.com/t/c/";
        let token = presented(aks.trim_end_matches('/'), "system:serviceaccount:ns:sa", X);
        let c = compare(
            &token,
            &[credential("aks", aks, "system:serviceaccount:ns:sa")],
        );
        assert_eq!(
            c.credentials[0].issuer.difference.as_deref(),
            Some("trailing slash: the credential's issuer ends with '/', the token's does not")
        );
        let found = findings(&c, "cid");
        assert_eq!(ids(&found), vec!["federation.issuer-mismatch"]);
        assert!(found[0].fixes[0].contains("update --id cid --federated-credential-id 'aks'"));
    }

    #[test]
    fn case_other_clusters_and_service_accounts_are_named() {
        let token = presented(GH, "repo:Octo-Org/octo-repo:environment:Production", X);
        let c = compare(
            &token,
            &[credential(
                "prod",
                GH,
                "repo:octo-org/octo-repo:environment:production",
            )],
        );
        assert_eq!(ids(&findings(&c, "cid")), vec!["federation.subject-case"]);

        let other = issuer_verdict(
            "https://westeurope.oic.prod-aks.azure.com/t/cluster-b/",
            "https://eastus.oic.prod-aks.azure.com/t/cluster-a/",
        );
        assert!(
            other
                .difference
                .unwrap_or_default()
                .starts_with("another AKS cluster")
        );
        let default = issuer_verdict(
            "https://kubernetes.default.svc.cluster.local",
            "https://eastus.oic.prod-aks.azure.com/t/c/",
        );
        assert!(
            default
                .difference
                .unwrap_or_default()
                .contains("default issuer")
        );
        let sa = subject_verdict(
            "system:serviceaccount:ns:api",
            "system:serviceaccount:other:api",
        );
        assert_eq!(
            sa.difference.as_deref(),
            Some(
                "another service account: namespace 'ns' vs 'other' (system:serviceaccount:NAMESPACE:NAME)"
            )
        );
    }

    #[test]
    fn audiences_and_empty_registrations() {
        let token = presented(GH, "repo:o/r:pull_request", "api://AzureADTokenExchange/");
        let c = compare(&token, &[credential("pr", GH, "repo:o/r:pull_request")]);
        assert_eq!(
            ids(&findings(&c, "cid")),
            vec!["federation.audience-mismatch"]
        );
        let none = compare(&token, &[]);
        assert_eq!(
            ids(&findings(&none, "cid")),
            vec!["federation.no-credentials"]
        );
    }

    #[test]
    fn flexible_credentials_are_evaluated() {
        let token = presented(GH, "repo:o/r:ref:refs/heads/feature-1", X);
        let mut flexible = credential("branches", GH, "");
        flexible.subject = None;
        flexible.claims_matching_expression = Some(ClaimsMatchingExpression {
            value: "claims['sub'] matches 'repo:o/r:ref:refs/heads/*' and claims['job_workflow_ref'] matches 'o/r/.github/workflows/*@refs/heads/main'".into(),
            language_version: Some(1),
        });
        let c = compare(&token, &[flexible.clone()]);
        assert!(c.credentials[0].is_match);
        assert_eq!(ids(&findings(&c, "cid")), vec!["federation.match"]);

        let pr = presented(GH, "repo:o/r:pull_request", X);
        let c = compare(&pr, &[flexible.clone()]);
        let difference = c.credentials[0]
            .subject
            .difference
            .clone()
            .unwrap_or_default();
        assert!(
            difference.contains("does not satisfy matches 'repo:o/r:ref:refs/heads/*'"),
            "{difference}"
        );

        flexible.claims_matching_expression = Some(ClaimsMatchingExpression {
            value: "claims['sub'] startswith 'repo'".into(),
            language_version: Some(1),
        });
        let c = compare(&pr, &[flexible]);
        assert_eq!(
            ids(&findings(&c, "cid")),
            vec![
                "federation.expression-unreadable",
                "federation.subject-mismatch"
            ]
        );
    }
}
