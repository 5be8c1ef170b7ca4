//! What a decoded token alone says: expired, no roles, a user token where an app token belongs,
//! an audience other than the resource asked for.

use chrono::{DateTime, Utc};

use super::{Finding, FixContext, Resources, Severity};
use crate::token::{Audience, DecodedToken, SignatureState, relative};

pub fn is_expired(token: &DecodedToken, now: DateTime<Utc>) -> bool {
    token.claims.exp.is_some_and(|exp| exp <= now.timestamp())
}

pub fn expired(token: Option<&DecodedToken>, now: DateTime<Utc>) -> Finding {
    let mut finding = Finding::new("token.expired", Severity::Error, "The token has expired")
        .cause("access tokens live 60 to 90 minutes; an expired one is refused by every API")
        .fix("Acquire a new token (entra-doctor token --force-refresh); a daemon should re-acquire before exp, as MSAL does 5 minutes early");
    if let Some(exp) = token
        .and_then(|t| t.claims.exp)
        .and_then(|s| DateTime::from_timestamp(s, 0))
    {
        finding = finding.evidence(format!("exp: {exp} ({})", relative(exp, now)));
    }
    finding
}

/// Findings about the token itself. `resource` is what the scope asked for, when known.
pub fn check(
    token: &DecodedToken,
    now: DateTime<Utc>,
    resource: Option<&str>,
    context: &FixContext,
) -> Vec<Finding> {
    let claims = &token.claims;
    let mut findings = Vec::new();
    let damage = match &token.signature {
        SignatureState::Present => None,
        SignatureState::Missing => Some("the token has no signature segment".to_owned()),
        SignatureState::Damaged(reason) => Some(reason.clone()),
    };
    if let Some(damage) = damage {
        findings.push(
            Finding::new("token.signature-damaged", Severity::Error, "The token's signature is missing or damaged: it cannot be verified")
                .cause(
                    "the third segment is not a whole signature, as when a token is copied from a docs page, a chat or a \
                     log that cut it; its header and claims are readable, but nobody can tell whether they are genuine, \
                     and an API refuses it",
                )
                .evidence(damage)
                .fix("Copy the whole token from where it was issued (entra-doctor token --raw) to check its signature or to call an API"),
        );
    }
    if is_expired(token, now) {
        findings.push(expired(Some(token), now));
    }
    if claims.scp.is_some() && claims.idtyp.as_deref() != Some("app") {
        findings.push(
            Finding::new("token.not-app-only", Severity::Warning, "This is a token for a user, not an app-only token")
                .cause("it carries delegated scopes (scp); a daemon app's client credentials token carries roles instead")
                .evidence(format!("scp: {}", claims.scp.as_deref().unwrap_or_default())),
        );
    } else if claims.roles.as_ref().is_none_or(Vec::is_empty) && !reads_no_roles(token) {
        let aud = claims
            .aud
            .as_ref()
            .map(Audience::joined)
            .unwrap_or_default();
        let context = FixContext {
            resource: context.resource.clone().or_else(|| Some(aud.clone())),
            ..context.clone()
        };
        findings.push(
            Finding::new("token.no-roles", Severity::Warning, "The token carries no application permission (no roles claim)")
                .cause(
                    "Entra ID issues app-only tokens even when nothing is granted: no application permission of this resource \
                     is admin-consented for the app (or only Delegated permissions were added), so most API calls will get 403",
                )
                .evidence(format!("aud: {aud}; roles: absent"))
                .fix(context.render(
                    "Portal: App registrations › {client_id} › API permissions › Add a permission › (the API) › Application permissions, then Grant admin consent for the tenant",
                ))
                .fix(context.render("az: az ad app permission admin-consent --id {client_id}   (after adding the Application permission)"))
                .fix("Then acquire a new token with --force-refresh: the old one keeps its (missing) roles")
                .doc("https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#application-permissions"),
        );
    }
    if let (Some(resource), Some(aud)) = (resource, claims.aud.as_ref()) {
        let values = aud.values();
        let matches = values.iter().any(|a| a.eq_ignore_ascii_case(resource));
        let is_guid_aud = values
            .iter()
            .all(|a| crate::auth::tenant::is_guid(&a.to_ascii_lowercase()));
        // v2 tokens carry the API's app id as aud, not the identifier URI asked for.
        if !matches && !is_guid_aud {
            findings.push(
                Finding::new("audience.unexpected", Severity::Info, "The token's aud is not the resource the scope named")
                    .cause("Entra ID wrote the resource's canonical identifier, or the token was issued for another request")
                    .evidence(format!("aud: {}; scope's resource: {resource}", values.join(", "))),
            );
        }
    }
    findings
}

/// A Microsoft Graph token's header `nonce`: only Graph can check its signature, by design.
/// Only for a Graph `aud`; a nonce on any other token explains nothing.
pub fn graph_nonce(token: &DecodedToken) -> Option<Finding> {
    let is_graph = token.claims.aud.as_ref().is_some_and(|aud| {
        aud.values().iter().any(|a| {
            Resources::builtin()
                .by_identifier(a)
                .is_some_and(|r| r.id == "graph")
        })
    });
    (token.header.has_nonce && is_graph).then(|| {
        Finding::new("token.graph-nonce", Severity::Info, "A Microsoft Graph token: only Graph can verify its signature, by design")
            .cause(
                "its header carries a nonce; Graph signs over a transformed nonce, so every standard JWT library reports an \
                 invalid signature. That is not a sign of forgery, and not a proof of the opposite: only Graph validates \
                 its tokens",
            )
            .evidence(format!(
                "header: nonce present; aud: {}",
                token.claims.aud.as_ref().map(Audience::joined).unwrap_or_default()
            ))
            .fix("To check the token, call Graph with it (entra-doctor probe); validate signatures only of tokens issued for your own API")
            .doc("https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens")
    })
}

/// True when the token's audience is a service that authorizes apps without application roles
/// (Azure SQL: a contained database user), so an absent `roles` claim is what it should be.
pub fn reads_no_roles(token: &DecodedToken) -> bool {
    token.claims.aud.as_ref().is_some_and(|aud| {
        aud.values().iter().any(|a| {
            super::Resources::builtin()
                .by_identifier(a)
                .is_some_and(|r| r.authorization == super::Authorization::DatabaseUser)
        })
    })
}
