//! The external identity providers the demo tenant plays on loopback (a GitHub-Actions-like and
//! a Kubernetes/AKS-like OIDC issuer, from the model's `[[issuers]]`): each publishes an OIDC
//! discovery document and a JWKS under its issuer URL, and mints RS256 tokens for a chosen
//! subject and audience. The demo writes one for each federated handout (the file
//! `AZURE_FEDERATED_TOKEN_FILE` would name), and `GET {issuer}/token?sub=…&audience=…` mints
//! one on request: a demo-only endpoint, in the spirit of GitHub's
//! `ACTIONS_ID_TOKEN_REQUEST_URL` (which answers `{"value": "<jwt>"}`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use super::error::{Error, Result};
use super::keys::Keys;
use super::model::{ExternalIssuer, TenantModel};
use super::server::Live;

/// The audience a federated token is minted for unless asked otherwise.
pub(super) const EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// What to mint.
pub(super) struct Mint<'a> {
    pub issuer: &'a ExternalIssuer,
    pub host: &'a str,
    pub subject: &'a str,
    pub audience: &'a str,
    pub now: i64,
    pub lifetime: i64,
}

/// A signed token of a demo issuer.
pub(super) fn mint(keys: &Keys, mint: &Mint<'_>) -> Result<String> {
    let (key, cert) = keys
        .issuer(&mint.issuer.name)
        .ok_or_else(|| Error::KeyMaterial {
            what: "issuer signing key",
            file: mint.issuer.signing_key.clone(),
            message: "it was not loaded with the tenant model".to_owned(),
        })?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(cert.x5t());
    let iss = mint.issuer.url(mint.host);
    // A GitHub-like token carries the claims a flexible credential may name.
    let mut claims = json!({
        "jti": uuid::Uuid::new_v4().to_string(),
        "iss": iss,
        "sub": mint.subject,
        "aud": mint.audience,
        "iat": mint.now,
        "nbf": mint.now,
        "exp": mint.now.saturating_add(mint.lifetime),
    });
    if let Some(rest) = mint.subject.strip_prefix("repo:")
        && let Some((repo, entity)) = rest.split_once(':')
        && let Value::Object(map) = &mut claims
    {
        map.insert("repository".into(), json!(repo));
        map.insert(
            "job_workflow_ref".into(),
            json!(format!(
                "{repo}/.github/workflows/deploy.yml@refs/heads/main"
            )),
        );
        if let Some(reference) = entity.strip_prefix("ref:") {
            map.insert("ref".into(), json!(reference));
        }
        if entity == "pull_request" {
            map.insert("event_name".into(), json!("pull_request"));
        }
    }
    jsonwebtoken::encode(&header, &claims, key).map_err(|e| Error::KeyMaterial {
        what: "issuer signing key",
        file: mint.issuer.signing_key.clone(),
        message: e.to_string(),
    })
}

/// Verifies a token's signature with the key of the demo issuer whose URL is its `iss`.
/// `None` when no demo issuer has that URL (its keys could not be fetched).
pub(super) fn verify_signature(
    model: &TenantModel,
    keys: &Keys,
    host: &str,
    token: &str,
) -> Option<bool> {
    let iss = super::assertion::unverified_issuer(token)?;
    let issuer = model.issuers.iter().find(|i| i.url(host) == iss)?;
    let (_, cert) = keys.issuer(&issuer.name)?;
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(cert.x5t().as_str()) {
        return Some(false);
    }
    let message = &token[..token.rfind('.').unwrap_or(0)];
    let signature = &token[token.rfind('.').map_or(0, |i| i + 1)..];
    Some(
        jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &cert.decoding_key(),
            Algorithm::RS256,
        )
        .unwrap_or(false),
    )
}

/// `GET {issuer}/.well-known/openid-configuration`.
pub(super) fn discovery(live: &Arc<Live>, name: &str) -> Response {
    let state = live.now();
    let Some(issuer) = state.model.issuer(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let host = &state.authority_host;
    let base = issuer.base_url(host);
    axum::Json(json!({
        "issuer": issuer.url(host),
        "jwks_uri": format!("{base}/{}", issuer.jwks_path),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"],
    }))
    .into_response()
}

/// `GET {issuer}/{jwks_path}`.
pub(super) fn jwks(live: &Arc<Live>, name: &str) -> Response {
    let state = live.now();
    let Some((_, cert)) = state.keys.issuer(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (n, e) = cert.jwk_n_e();
    axum::Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": cert.x5t(), "n": n, "e": e,
    }]}))
    .into_response()
}

/// `GET {issuer}/token?sub=…&audience=…`: a fresh token (demo only).
pub(super) fn token(live: &Arc<Live>, name: &str, query: &HashMap<String, String>) -> Response {
    let state = live.now();
    let Some(issuer) = state.model.issuer(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(subject) = query.get("sub").filter(|s| !s.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"message": "the query needs sub=<subject> (and may name audience=)"}),
            ),
        )
            .into_response();
    };
    let audience = query
        .get("audience")
        .map_or(EXCHANGE_AUDIENCE, String::as_str);
    let minted = mint(
        &state.keys,
        &Mint {
            issuer,
            host: &state.authority_host,
            subject,
            audience,
            now: chrono::Utc::now().timestamp(),
            lifetime: issuer.lifetime_seconds,
        },
    );
    match minted {
        Ok(value) => axum::Json(json!({"count": 1, "value": value})).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The issuers' routes, added to the demo tenant's router.
pub(super) fn routes(
    model: &TenantModel,
    mut router: axum::Router<Arc<Live>>,
) -> axum::Router<Arc<Live>> {
    use axum::routing::get;
    for issuer in &model.issuers {
        let base = format!("/issuers/{}", issuer.name);
        let (a, b, c) = (
            issuer.name.clone(),
            issuer.name.clone(),
            issuer.name.clone(),
        );
        router = router
            .route(
                &format!("{base}/.well-known/openid-configuration"),
                get(move |State(live): State<Arc<Live>>| async move { discovery(&live, &a) }),
            )
            .route(
                &format!("{base}/{}", issuer.jwks_path),
                get(move |State(live): State<Arc<Live>>| async move { jwks(&live, &b) }),
            )
            .route(
                &format!("{base}/token"),
                get(
                    move |State(live): State<Arc<Live>>,
                          Query(query): Query<HashMap<String, String>>| async move {
                        token(&live, &c, &query)
                    },
                ),
            );
    }
    router
}
