//! What each step shows as evidence: the request's own facts before Entra ID answers, the
//! token's claims after. Secrets are described (their length), never shown.

use chrono::{DateTime, Utc};

use super::checks::Attempt;
use super::{Session, StepId};
use crate::auth::Credential;
use crate::diagnose::Resources;
use crate::token::{Audience, relative};

/// What a step can show: before the answer (`now` = None) the request's own facts, after a
/// token the token's.
pub(super) fn step_evidence(
    session: &Session,
    step: StepId,
    now: Option<DateTime<Utc>>,
) -> Vec<String> {
    let request = &session.setup.request;
    let token = match (&session.attempt, now) {
        (Some(Attempt::Issued { decoded, .. }), Some(_)) => decoded.as_deref(),
        _ => None,
    };
    let claim = |name: &str| {
        token
            .and_then(|t| t.raw_claims.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    match step {
        StepId::App => {
            let mut evidence = vec![format!("client id: {}", request.client_id)];
            if let Some(name) = claim("app_displayname") {
                evidence.push(format!("app: {name}"));
            }
            if let Some(oid) = claim("oid") {
                evidence.push(format!("service principal (object id): {oid}"));
            }
            evidence
        }
        StepId::Credential => credential_evidence(&request.credential),
        StepId::Scope => {
            let resource = request.scopes.resource();
            let mut evidence = vec![
                format!("scope: {}", request.scopes.to_request_value()),
                format!("Entra ID reads the resource as {resource}"),
            ];
            if let Some(known) = Resources::builtin().by_identifier(resource) {
                evidence.push(format!(
                    "{} accepts aud {}",
                    known.name,
                    known.audiences.first().map_or("", String::as_str)
                ));
            }
            evidence
        }
        StepId::Token => match (&session.attempt, token, now) {
            (Some(Attempt::Issued { expires_in, .. }), Some(token), Some(now)) => {
                let aud = token
                    .claims
                    .aud
                    .as_ref()
                    .map(Audience::joined)
                    .unwrap_or_default();
                let expires = i64::try_from(*expires_in)
                    .ok()
                    .and_then(chrono::Duration::try_seconds)
                    .and_then(|left| now.checked_add_signed(left));
                vec![
                    format!(
                        "a v{} access token for aud {aud}",
                        token.claims.ver.as_deref().unwrap_or("?")
                    ),
                    expires.map_or_else(
                        || format!("expires_in {expires_in} s: no real token lives that long"),
                        |at| format!("expires {}", relative(at, now)),
                    ),
                ]
            }
            (Some(Attempt::Issued { .. }), None, _) => {
                vec!["an opaque (not JWT) token: only the API can read it".to_owned()]
            }
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

pub(super) fn credential_words(credential: &Credential) -> &'static str {
    match credential {
        Credential::Secret(_) => "client secret",
        Credential::Certificate { .. } => "certificate-signed client assertion",
        Credential::Assertion { .. } => "federated assertion",
        Credential::ManagedIdentity { .. } => "managed identity",
    }
}

fn credential_evidence(credential: &Credential) -> Vec<String> {
    match credential {
        Credential::Secret(secret) => vec![format!(
            "a client secret of {} characters (its value is never shown)",
            secret.char_len()
        )],
        Credential::Certificate { certificate, .. } => {
            let info = &certificate.info;
            vec![
                format!(
                    "certificate thumbprint {} — compare with Certificates & secrets › Certificates in the portal",
                    info.thumbprint_sha1
                ),
                format!(
                    "subject {}, valid until {}",
                    info.subject,
                    info.not_after.format("%Y-%m-%d")
                ),
            ]
        }
        Credential::Assertion { path, token } => {
            let mut lines = vec![format!(
                "a federated assertion read from {}",
                path.display()
            )];
            // What Entra ID matches against the app's federated credentials, exactly.
            if let Ok(decoded) = crate::token::decode(token.expose()) {
                let claims = crate::federation::ExternalClaims::from_json(&decoded.raw_claims);
                lines.push(format!(
                    "its issuer {}, subject {}, audience {} — compare with Certificates & secrets › Federated credentials",
                    claims.iss.as_deref().unwrap_or("-"),
                    claims.sub.as_deref().unwrap_or("-"),
                    claims.aud.join(", ")
                ));
            }
            lines
        }
        Credential::ManagedIdentity {
            identity, source, ..
        } => vec![format!(
            "{identity}, asked of {} at {} ({})",
            source.kind(),
            source.endpoint(),
            source.reason()
        )],
    }
}

pub(super) fn checked_scope(session: &Session) -> String {
    format!(
        "the scope {} against the client credentials rules (one resource, /.default) and the resource's audience",
        session.setup.request.scopes.to_request_value()
    )
}
