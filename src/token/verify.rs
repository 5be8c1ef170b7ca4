//! Checking a token against its tenant's published keys: OIDC metadata, JWKS, signature, issuer
//! and time claims.
//!
//! The outcome is data ([`Verification`]), not a verdict string, so the diagnosis layer can word
//! each case (a Graph token is "not verifiable by design", never "forged"). Key sets are cached
//! in memory for the run with the time they were fetched: a TUI verifying every new token must
//! not fetch the JWKS each time, and an "unknown key" answer should say how old the keys were.

mod fetch;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::DecodedToken;
use crate::auth::{AuthorityHost, TokenClient};
use crate::error::Result;
use fetch::{Jwks, Keys};

/// Leeway on `exp` and `nbf`, the five minutes ASP.NET-style validators (and Entra ID's own
/// back-dating of `nbf`) allow for clock skew.
pub const LEEWAY_SECONDS: i64 = 300;

/// Where to look for the keys of a token.
#[derive(Debug, Clone)]
pub struct VerifyTarget {
    pub host: AuthorityHost,
    /// The tenant the token should come from (id or domain); `None`: the token's own `tid`.
    pub tenant: Option<String>,
    /// `?appid=` for applications with custom signing keys.
    pub app_id: Option<String>,
}

/// The time claims against `now`, with [`LEEWAY_SECONDS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum TimeCheck {
    Valid,
    Expired { exp: i64 },
    NotYetValid { nbf: i64 },
}

/// What checking a token against the tenant's keys found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Verification {
    /// Signature valid with a published key, issuer of the expected tenant.
    Verified {
        key_id: String,
        issuer: String,
        metadata_url: String,
        jwks_uri: String,
        jwks_fetched: DateTime<Utc>,
        time: TimeCheck,
    },
    /// A Microsoft Graph (or SharePoint) token: its header `nonce` makes the signature
    /// unverifiable by anyone but Graph, by design.
    GraphNonce,
    /// A published key matched, and the signature does not verify with it.
    BadSignature {
        key_id: String,
        jwks_uri: String,
        reason: String,
    },
    /// No published key has the token's `kid`/`x5t`.
    UnknownKey {
        kid: Option<String>,
        x5t: Option<String>,
        jwks_uri: String,
        jwks_fetched: DateTime<Utc>,
        known: Vec<String>,
    },
    /// The `iss` is not the issuer the tenant's metadata names.
    WrongTenant {
        token_issuer: String,
        expected_issuer: String,
        token_tenant: Option<String>,
        metadata_url: String,
    },
}

/// The published key with the token's `kid` (or v1 `x5t`).
fn find_key<'a>(jwks: &'a Jwks, token: &DecodedToken) -> Option<&'a Value> {
    jwks.keys.iter().find(|k| {
        let field = |name: &str| k.get(name).and_then(Value::as_str);
        (token.header.kid.is_some() && field("kid") == token.header.kid.as_deref())
            || (token.header.x5t.is_some() && field("x5t") == token.header.x5t.as_deref())
    })
}

/// Fetches metadata and key sets, caching both for the life of the value.
#[derive(Debug)]
pub struct Verifier {
    client: TokenClient,
    metadata: Mutex<HashMap<String, Value>>,
    jwks: Mutex<HashMap<String, Jwks>>,
}

impl Verifier {
    pub fn new(client: TokenClient) -> Self {
        Self {
            client,
            metadata: Mutex::new(HashMap::new()),
            jwks: Mutex::new(HashMap::new()),
        }
    }

    /// Checks `raw` (whose decoded form is `token`) against the keys of `target`.
    pub async fn verify(
        &self,
        raw: &str,
        token: &DecodedToken,
        target: &VerifyTarget,
        now: DateTime<Utc>,
    ) -> Result<Verification> {
        if token.header.has_nonce {
            return Ok(Verification::GraphNonce);
        }
        let tenant = target
            .tenant
            .clone()
            .or_else(|| token.claims.tid.clone())
            .unwrap_or_else(|| "common".to_owned());
        let mut keys = self.keys(target, &tenant, token, now).await?;
        // Apps with custom signing keys publish them only under `?appid=`: when the tenant's
        // set lacks the key, try the set of the API the token is for (a v2 `aud` is its app id).
        let audience_app = token
            .claims
            .aud
            .as_ref()
            .and_then(|a| a.values().first().map(|v| v.to_ascii_lowercase()))
            .filter(|aud| crate::auth::tenant::is_guid(aud));
        if find_key(&keys.jwks, token).is_none()
            && target.app_id.is_none()
            && let Some(app_id) = audience_app
        {
            let with_app = VerifyTarget {
                app_id: Some(app_id),
                ..target.clone()
            };
            if let Ok(custom) = self.keys(&with_app, &tenant, token, now).await
                && find_key(&custom.jwks, token).is_some()
            {
                keys = custom;
            }
        }
        let Keys {
            metadata_url,
            expected_issuer,
            jwks_uri,
            jwks,
        } = keys;
        let message_and_signature = raw.trim().rsplit_once('.');
        let key = find_key(&jwks, token);
        if let Some(key) = key {
            let key_id = key
                .get("kid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Err(reason) = check_signature(key, token, message_and_signature) {
                return Ok(Verification::BadSignature {
                    key_id,
                    jwks_uri,
                    reason,
                });
            }
            if let Some(wrong) = wrong_tenant(token, &expected_issuer, &metadata_url) {
                return Ok(wrong);
            }
            return Ok(Verification::Verified {
                key_id,
                issuer: expected_issuer,
                metadata_url,
                jwks_uri,
                jwks_fetched: jwks.fetched,
                time: time_check(token, now),
            });
        }
        if let Some(wrong) = wrong_tenant(token, &expected_issuer, &metadata_url) {
            return Ok(wrong);
        }
        Ok(Verification::UnknownKey {
            kid: token.header.kid.clone(),
            x5t: token.header.x5t.clone(),
            jwks_uri,
            jwks_fetched: jwks.fetched,
            known: jwks
                .keys
                .iter()
                .filter_map(|k| k.get("kid").and_then(Value::as_str).map(str::to_owned))
                .collect(),
        })
    }
}

/// The v1 document for v1 tokens, the v2 document otherwise.
pub fn metadata_url(target: &VerifyTarget, tenant: &str, ver: Option<&str>) -> String {
    let v = if ver == Some("1.0") { "" } else { "/v2.0" };
    let mut url = format!(
        "{}/{tenant}{v}/.well-known/openid-configuration",
        target.host
    );
    if let Some(app_id) = &target.app_id {
        url.push_str("?appid=");
        url.push_str(app_id);
    }
    url
}

/// The authority host a token's `iss` points at: `sts.windows.net` is the public cloud's v1
/// issuer, served by `login.microsoftonline.com`.
pub fn host_from_issuer(iss: &str) -> Option<String> {
    let url = Url::parse(iss).ok()?;
    let host = url.host_str()?;
    Some(match host {
        "sts.windows.net" => "https://login.microsoftonline.com".to_owned(),
        "sts.chinacloudapi.cn" => "https://login.partner.microsoftonline.cn".to_owned(),
        _ => url.origin().ascii_serialization(),
    })
}

fn wrong_tenant(
    token: &DecodedToken,
    expected_issuer: &str,
    metadata_url: &str,
) -> Option<Verification> {
    let token_issuer = token.claims.iss.clone().unwrap_or_default();
    (token_issuer != expected_issuer).then(|| Verification::WrongTenant {
        token_issuer,
        expected_issuer: expected_issuer.to_owned(),
        token_tenant: token.claims.tid.clone(),
        metadata_url: metadata_url.to_owned(),
    })
}

fn check_signature(
    key: &Value,
    token: &DecodedToken,
    parts: Option<(&str, &str)>,
) -> Result<(), String> {
    let alg = token.header.alg.as_deref().unwrap_or_default();
    let algorithm = match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        other => {
            return Err(format!(
                "alg {other:?} is not one Entra ID signs access tokens with (RS256)"
            ));
        }
    };
    let field = |name: &str| key.get(name).and_then(Value::as_str).unwrap_or_default();
    let decoding = DecodingKey::from_rsa_components(field("n"), field("e"))
        .map_err(|e| format!("the published key is not a usable RSA key ({e})"))?;
    let Some((message, signature)) = parts else {
        return Err("the token has no signature segment".to_owned());
    };
    match jsonwebtoken::crypto::verify(signature, message.as_bytes(), &decoding, algorithm) {
        Ok(true) => Ok(()),
        Ok(false) => Err(
            "the signature does not match the header and claims: the token was altered, or \
             signed by someone else with a key id the tenant uses"
                .to_owned(),
        ),
        Err(e) => Err(format!("the signature cannot be checked ({e})")),
    }
}

fn time_check(token: &DecodedToken, now: DateTime<Utc>) -> TimeCheck {
    let now = now.timestamp();
    match (token.claims.exp, token.claims.nbf) {
        // Saturating: `exp` and `nbf` are whatever the token says, up to i64::MAX.
        (Some(exp), _) if exp.saturating_add(LEEWAY_SECONDS) <= now => TimeCheck::Expired { exp },
        (_, Some(nbf)) if nbf.saturating_sub(LEEWAY_SECONDS) > now => {
            TimeCheck::NotYetValid { nbf }
        }
        _ => TimeCheck::Valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 14: `exp + leeway` overflowed on a token with `exp` near `i64::MAX`.
    #[test]
    fn time_claims_at_the_ends_of_i64_do_not_overflow() {
        use base64::Engine as _;
        let b64 = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let token = |claims: serde_json::Value| {
            crate::token::decode(&format!(
                "{}.{}.sig",
                b64(serde_json::json!({"alg": "RS256"})),
                b64(claims)
            ))
            .unwrap()
        };
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let far = token(serde_json::json!({"exp": i64::MAX, "nbf": i64::MIN}));
        assert_eq!(time_check(&far, now), TimeCheck::Valid);
        let past = token(serde_json::json!({"exp": i64::MIN}));
        assert_eq!(time_check(&past, now), TimeCheck::Expired { exp: i64::MIN });
        let future = token(serde_json::json!({"exp": i64::MAX, "nbf": i64::MAX}));
        assert_eq!(
            time_check(&future, now),
            TimeCheck::NotYetValid { nbf: i64::MAX }
        );
    }

    #[test]
    fn picks_the_document_of_the_token_version() {
        let target = VerifyTarget {
            host: AuthorityHost::parse("https://login.microsoftonline.com").unwrap(),
            tenant: None,
            app_id: None,
        };
        assert_eq!(
            metadata_url(&target, "t", Some("1.0")),
            "https://login.microsoftonline.com/t/.well-known/openid-configuration"
        );
        let with_app = VerifyTarget {
            app_id: Some("a".into()),
            ..target
        };
        assert_eq!(
            metadata_url(&with_app, "t", Some("2.0")),
            "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration?appid=a"
        );
        assert_eq!(
            host_from_issuer("https://sts.windows.net/x/").as_deref(),
            Some("https://login.microsoftonline.com")
        );
    }
}
