//! Flexible federated identity credentials: a `claimsMatchingExpression` (language version 1),
//! parsed and evaluated with the documented grammar only.
//!
//! Source: <https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials>
//! (`MicrosoftDocs/entra-docs: docs/workload-id/workload-identities-flexible-federated-identity-credentials.md`).
//! An expression is one or more terms joined by ` and `; a term is a claim lookup
//! `claims['NAME']`, one space, an operator, one space, and a comparand in single quotes.
//! Operators: `eq` (exact match) and `matches` (wildcards: `?` one character, `*` any run of
//! characters). GitHub supports the claims `sub` and `job_workflow_ref`; GitLab and Terraform
//! Cloud support `sub`. The docs print the examples with typographic quotes (‘ ’), so those are
//! read as single quotes too. Anything else is refused with a clear reason, not guessed at.

use serde::Serialize;

/// One comparison of an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    pub claim: String,
    pub operator: Operator,
    pub comparand: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operator {
    Eq,
    Matches,
}

/// A parsed expression: every term must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expression {
    pub terms: Vec<Term>,
}

/// Why an expression could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("claimsMatchingExpression {expression:?} is not in the documented grammar: {reason}")]
pub struct ParseError {
    pub expression: String,
    pub reason: String,
}

/// How one term fared against the presented claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermResult {
    pub term: Term,
    /// The claim's value in the token; `None` when the token lacks it.
    pub presented: Option<String>,
    pub holds: bool,
}

impl Expression {
    /// Parses `claims['sub'] matches 'repo:o/r:ref:refs/heads/*' and …`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let fail = |reason: &str| ParseError {
            expression: text.to_owned(),
            reason: reason.to_owned(),
        };
        // Typographic quotes as the docs print them; a trailing period as in the docs' example.
        let normal: String = text
            .trim()
            .trim_end_matches('.')
            .chars()
            .map(|c| if matches!(c, '‘' | '’') { '\'' } else { c })
            .collect();
        let mut terms = Vec::new();
        let mut rest = normal.as_str();
        loop {
            let after = rest
                .strip_prefix("claims['")
                .ok_or_else(|| fail("a term must start with claims['<claim name>']"))?;
            let (claim, after) = after
                .split_once("']")
                .ok_or_else(|| fail("the claim lookup is not closed with ']"))?;
            if claim.is_empty() || claim.contains('\'') {
                return Err(fail("the claim name is empty or holds a quote"));
            }
            let after = after
                .strip_prefix(' ')
                .ok_or_else(|| fail("one space must separate the claim lookup and the operator"))?;
            let (operator, after) = if let Some(a) = after.strip_prefix("matches ") {
                (Operator::Matches, a)
            } else if let Some(a) = after.strip_prefix("eq ") {
                (Operator::Eq, a)
            } else {
                return Err(fail(
                    "the operator must be 'eq' or 'matches', followed by one space",
                ));
            };
            let after = after
                .strip_prefix('\'')
                .ok_or_else(|| fail("the comparand must be in single quotes"))?;
            let (comparand, after) = after
                .split_once('\'')
                .ok_or_else(|| fail("the comparand's closing quote is missing"))?;
            terms.push(Term {
                claim: claim.to_owned(),
                operator,
                comparand: comparand.to_owned(),
            });
            if after.is_empty() {
                return Ok(Self { terms });
            }
            rest = after.strip_prefix(" and ").ok_or_else(|| {
                fail("terms must be joined by ' and ' (the only boolean operator)")
            })?;
        }
    }

    /// Evaluates every term with `claim` (the token's claim values by name).
    pub fn evaluate<'a>(&self, claim: impl Fn(&str) -> Option<&'a str>) -> Vec<TermResult> {
        self.terms
            .iter()
            .map(|term| {
                let presented = claim(&term.claim);
                let holds = presented.is_some_and(|value| match term.operator {
                    Operator::Eq => value == term.comparand,
                    Operator::Matches => wildcard(&term.comparand, value),
                });
                TermResult {
                    term: term.clone(),
                    presented: presented.map(str::to_owned),
                    holds,
                }
            })
            .collect()
    }
}

/// `pattern` with `?` (one character) and `*` (any run) matches all of `text`.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative match with backtracking to the last `*`: linear space, no recursion, so a
    // hostile pattern cannot blow the stack.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_examples_parse() {
        let e =
            Expression::parse("claims['sub'] matches 'repo:contoso/contoso-repo:ref:refs/heads/*'")
                .expect("parses");
        assert_eq!(e.terms.len(), 1);
        assert_eq!(e.terms[0].operator, Operator::Matches);
        let two = Expression::parse(
            "“claims[‘sub’] eq ‘repo:contoso/contoso-repo:ref:refs/heads/main’ and claims[‘job_workflow_ref’] matches ‘foo-org/bar-repo /.github/workflows/*@refs/heads/main’”"
                .trim_matches(['“', '”']),
        )
        .expect("parses");
        assert_eq!(two.terms.len(), 2);
        assert_eq!(two.terms[1].claim, "job_workflow_ref");
    }

    #[test]
    fn other_grammar_is_refused_with_a_reason() {
        for bad in [
            "claims['sub'] == 'x'",
            "claims['sub'] eq 'x' or claims['sub'] eq 'y'",
            "sub eq 'x'",
            "claims['sub'] eq x",
            "claims['sub']  eq 'x'",
        ] {
            assert!(Expression::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wildcards_match_like_the_docs_say() {
        assert!(wildcard(
            "repo:c/r:ref:refs/heads/*",
            "repo:c/r:ref:refs/heads/main"
        ));
        assert!(!wildcard(
            "repo:c/r:ref:refs/heads/*",
            "repo:c/r:pull_request"
        ));
        assert!(wildcard(
            "repo:c/r-*:ref:refs/heads/????",
            "repo:c/r-web:ref:refs/heads/main"
        ));
        assert!(!wildcard(
            "repo:c/r-*:ref:refs/heads/????",
            "repo:c/r-web:ref:refs/heads/mainx"
        ));
        assert!(wildcard("*", ""));
        assert!(!wildcard("a*a*a*a*a*b", &"a".repeat(200)));
    }

    #[test]
    fn evaluation_reports_each_term() {
        let e = Expression::parse("claims['sub'] matches 'repo:o/r:ref:refs/heads/*' and claims['job_workflow_ref'] eq 'x'")
            .expect("parses");
        let results = e.evaluate(|name| (name == "sub").then_some("repo:o/r:ref:refs/heads/dev"));
        assert!(results[0].holds);
        assert!(!results[1].holds);
        assert_eq!(results[1].presented, None);
    }
}
