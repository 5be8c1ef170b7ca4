//! What a comparison means for the operator: the findings (`federation.match`,
//! `federation.issuer-mismatch`, `federation.subject-mismatch`, `federation.subject-case`,
//! `federation.audience-mismatch`, `federation.no-credentials`,
//! `federation.expression-unreadable`), each with the `az ad app federated-credential create`
//! (a new workload needs its own credential) or `update` (a slash, a case slip) command and the
//! portal path.

use super::assertion::ExternalClaims;
use super::compare::{Comparison, CredentialComparison};
use super::expression::Expression;
use super::subject::SubjectShape;
use super::{DOCS, DOCS_CREATE, portal_path};
use crate::diagnose::{Finding, Severity};

/// The findings of a comparison, with the `az` command and portal path that fix it.
pub fn findings(comparison: &Comparison, client_id: &str) -> Vec<Finding> {
    let presented = &comparison.presented;
    let iss = presented.iss.as_deref().unwrap_or_default();
    let sub = presented.sub.as_deref().unwrap_or_default();
    let aud = presented
        .aud
        .first()
        .map_or(super::TOKEN_EXCHANGE_AUDIENCES[0], String::as_str);
    let mut out = unreadable(comparison);
    if let Some(hit) = comparison.matching() {
        out.push(
            Finding::new(
                "federation.match",
                Severity::Info,
                format!("Federated credential '{}' trusts this token", hit.credential.name),
            )
            .cause("Its issuer, subject (or expression) and audience match the token exactly, so Entra ID accepts the token as this app's client assertion (if it is still valid and correctly signed).")
            .evidence(format!("iss {iss}"))
            .evidence(format!("sub {sub}"))
            .doc(DOCS),
        );
        return out;
    }
    let name = suggested_name(presented);
    let create = format!("az: {}", create_command(client_id, &name, iss, sub, aud));
    let portal = format!("Portal: {} › Add credential", portal_path(client_id));
    let Some(closest) = comparison.closest() else {
        out.push(
            Finding::new(
                "federation.no-credentials",
                Severity::Error,
                "The app registration has no federated credential",
            )
            .cause(format!(
                "App {client_id} trusts no external identity provider, so Entra ID matches the token against nothing: AADSTS70021 ('No matching federated identity record found for presented assertion')."
            ))
            .evidence(format!("token: iss {iss}, sub {sub}, aud {}", presented.aud.join(", ")))
            .fix(create)
            .fix(portal)
            .doc(DOCS_CREATE),
        );
        return out;
    };
    out.push(mismatch(closest, presented, client_id, create, portal));
    out
}

/// Flexible credentials whose expression is outside the documented grammar.
fn unreadable(comparison: &Comparison) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in &comparison.credentials {
        if row.credential.subject.is_none()
            && let Some(expression) = &row.credential.claims_matching_expression
            && let Err(error) = Expression::parse(&expression.value)
        {
            out.push(
                Finding::new(
                    "federation.expression-unreadable",
                    Severity::Warning,
                    format!("Credential '{}' has an expression entra-doctor cannot read", row.credential.name),
                )
                .cause("Only the documented grammar of flexible federated credentials is evaluated (claims['NAME'] eq|matches 'VALUE', joined by and); this credential was not compared.")
                .evidence(error.to_string())
                .doc("https://learn.microsoft.com/entra/workload-id/workload-identities-flexible-federated-identity-credentials"),
            );
        }
    }
    out
}

/// The finding for the closest credential: the first field (issuer, subject, audience) that
/// differs, with the command that fixes it.
fn mismatch(
    closest: &CredentialComparison,
    presented: &ExternalClaims,
    client_id: &str,
    create: String,
    portal: String,
) -> Finding {
    let iss = presented.iss.as_deref().unwrap_or_default();
    let sub = presented.sub.as_deref().unwrap_or_default();
    let aud = presented
        .aud
        .first()
        .map_or(super::TOKEN_EXCHANGE_AUDIENCES[0], String::as_str);
    let cred = &closest.credential;
    let update = |issuer: &str, subject: &str, audience: &str| {
        format!(
            "az: az ad app federated-credential update --id {client_id} --federated-credential-id {} --parameters {}",
            crate::shell::quote(&cred.name),
            parameters(&cred.name, issuer, subject, audience)
        )
    };
    let cred_subject = cred.subject.as_deref().unwrap_or_default();
    let cred_aud = cred
        .audiences
        .first()
        .map_or(super::TOKEN_EXCHANGE_AUDIENCES[0], String::as_str);
    let edit = format!("Portal: {} › {} › Edit", portal_path(client_id), cred.name);
    let side = |label: &str, theirs: &str, mine: &str| {
        format!("{label}: token '{mine}', credential '{theirs}'")
    };
    let finding = if !closest.issuer.is_match {
        let difference = closest.issuer.difference.clone().unwrap_or_default();
        let near = difference.starts_with("trailing slash") || difference.starts_with("case only");
        let f = Finding::new(
            "federation.issuer-mismatch",
            Severity::Error,
            "No federated credential trusts the token's issuer",
        )
        .cause(format!(
            "Entra ID looks the credential up by the token's iss, exactly: no credential of app {client_id} has it (AADSTS700211). The closest, '{}', differs: {difference}.",
            cred.name
        ))
        .evidence(side("issuer", &cred.issuer, iss));
        if near {
            f.fix(update(iss, cred_subject, cred_aud)).fix(edit)
        } else {
            f.fix(create).fix(portal)
        }
    } else if !closest.subject.is_match {
        let difference = closest.subject.difference.clone().unwrap_or_default();
        let case_only = difference.starts_with("case only");
        let id = if case_only {
            "federation.subject-case"
        } else {
            "federation.subject-mismatch"
        };
        let code = if case_only {
            "AADSTS7002138"
        } else {
            "AADSTS700213"
        };
        let f = Finding::new(
            id,
            Severity::Error,
            if case_only {
                "The token's subject matches a federated credential only when case is ignored"
            } else {
                "No federated credential of this issuer names the token's subject"
            },
        )
        .cause(format!(
            "Credential '{}' trusts the issuer but not this subject ({code}): {difference}.",
            cred.name
        ))
        .evidence(side(
            "subject",
            cred.claims_matching_expression
                .as_ref()
                .map_or(cred_subject, |e| e.value.as_str()),
            sub,
        ));
        // A case slip is a typo in the credential: fix it. Another subject is another workload
        // (a pull request, an environment) that needs its own credential: the old one may still
        // serve its branch.
        if case_only {
            f.fix(update(&cred.issuer, sub, cred_aud)).fix(edit)
        } else {
            f.fix(create).fix(portal).fix(
                "Or, if the old subject is no longer used, update that credential's subject instead; GitHub: a pull_request, environment or tag run needs a credential of that entity type.",
            )
        }
    } else {
        let difference = closest.audience.difference.clone().unwrap_or_default();
        Finding::new(
            "federation.audience-mismatch",
            Severity::Error,
            "The federated credential does not accept the token's audience",
        )
        .cause(format!(
            "Credential '{}' matches issuer and subject, but not the audience (AADSTS700212): {difference}.",
            cred.name
        ))
        .evidence(side("audience", &cred.audiences.join(", "), &presented.aud.join(", ")))
        .fix(format!(
            "Request the external token for audience '{cred_aud}' (the credential's), or: {}",
            update(&cred.issuer, cred_subject, aud).trim_start_matches("az: ")
        ))
        .fix(edit)
    };
    finding.doc(DOCS_CREATE).doc(DOCS)
}

/// `az ad app federated-credential create` for a credential trusting exactly these values.
pub fn create_command(client_id: &str, name: &str, iss: &str, sub: &str, aud: &str) -> String {
    format!(
        "az ad app federated-credential create --id {client_id} --parameters {}",
        parameters(name, iss, sub, aud)
    )
}

/// The `--parameters` JSON of a credential: each value JSON-escaped, spaced so a narrow pane
/// wraps it between fields, and quoted for the shell.
fn parameters(name: &str, issuer: &str, subject: &str, audience: &str) -> String {
    let json = |text: &str| serde_json::Value::from(text).to_string();
    crate::shell::quote(&format!(
        "{{\"name\": {}, \"issuer\": {}, \"subject\": {}, \"audiences\": [{}]}}",
        json(name),
        json(issuer),
        json(subject),
        json(audience)
    ))
}

/// A credential name from the subject: letters, digits, `-` and `_`, 3 to 120 characters, as
/// Graph requires of `name`.
pub fn suggested_name(presented: &ExternalClaims) -> String {
    let base = match &presented.subject_shape {
        SubjectShape::GitHubBranch { branch, .. } => format!("github-branch-{branch}"),
        SubjectShape::GitHubTag { tag, .. } => format!("github-tag-{tag}"),
        SubjectShape::GitHubPullRequest { .. } => "github-pull-request".to_owned(),
        SubjectShape::GitHubEnvironment { environment, .. } => format!("github-env-{environment}"),
        SubjectShape::KubernetesServiceAccount { namespace, name } => {
            format!("k8s-{namespace}-{name}")
        }
        _ => presented
            .sub
            .clone()
            .unwrap_or_else(|| "federated".to_owned()),
    };
    let mut name = String::new();
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let mut name: String = name.trim_matches('-').chars().take(120).collect();
    while name.len() < 3 {
        name.push('x');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::create_command;

    /// A token's claims are the presenter's text: quoted so that pasting the fix runs nothing
    /// of it, whatever quotes, semicolons or `$(…)` it holds.
    #[test]
    fn the_fix_quotes_hostile_claims_for_the_shell() {
        let command = create_command(
            "9999d1be-e182-4efa-8b0d-029e5af3dbcf",
            "n",
            "https://evil.example/'; touch /tmp/pwned; echo '",
            "repo:o/r:ref:refs/heads/$(id)\"x",
            "api://AzureADTokenExchange",
        );
        let parameters = command
            .split_once(" --parameters ")
            .map(|(_, p)| p)
            .unwrap_or_default();
        // One single-quoted word: every inner ' is closed, escaped and reopened.
        assert!(parameters.starts_with('\'') && parameters.ends_with('\''));
        let inner = &parameters[1..parameters.len() - 1];
        assert_eq!(
            inner.matches('\'').count(),
            inner.matches("'\\''").count() * 3
        );
        assert!(
            inner.contains(r#"\"x"#),
            "the JSON escapes its quote: {inner}"
        );
        assert!(inner.contains("\"issuer\": \"https://evil.example/'\\''; touch"));
    }
}
