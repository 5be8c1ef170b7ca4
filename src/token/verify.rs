//! Checking a token against its tenant's published keys: OIDC metadata, JWKS, signature, issuer
//! and time claims.
//!
//! The outcome is data ([`Verification`]), not a verdict string, so the diagnosis layer can word
//! each case (a Graph token is "not verifiable by design", never "forged"). Key sets are cached
//! in memory for the run with the time they were fetched: a TUI verifying every new token must
//! not fetch the JWKS each time, and an "unknown key" answer should say how old the keys were.
//!
//! Nothing the token or the network says is trusted to pick the keys: they come from an
//! authority the operator named, or from the known Entra host the token's `iss` names (any
//! other `iss` is refused unfetched), and only from the `jwks_uri` on that authority's own key
//! host. Only [`Verification::Verified`] means the signature was verified.

mod fetch;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::Value;

use super::DecodedToken;
use crate::auth::{AuthorityHost, TokenClient, entra_authority_of_issuer};
use crate::error::Result;
use fetch::{Jwks, Keys};

/// Leeway on `exp` and `nbf`, the five minutes ASP.NET-style validators (and Entra ID's own
/// back-dating of `nbf`) allow for clock skew.
pub const LEEWAY_SECONDS: i64 = 300;

/// Where to look for the keys of a token.
#[derive(Debug, Clone)]
pub struct VerifyTarget {
    /// The authority the operator named (`--authority-host`, `--cloud`, the TUI form, the demo
    /// tenant); `None`: the known Entra authority of the token's `iss`, and no other.
    pub host: Option<AuthorityHost>,
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
    /// A Microsoft Graph token (every `aud` is Graph's) with a header `nonce`: its signature
    /// cannot be verified by anyone but Graph, by design. Not verified.
    GraphNonce,
    /// The token's `iss` names no known Entra authority and none was named: its keys were not
    /// fetched, since whoever minted the token would serve them.
    UntrustedIssuer { issuer: String },
    /// The authority's metadata names a key set somewhere else than its own key host.
    UntrustedKeys {
        metadata_url: String,
        jwks_uri: String,
        authority: String,
    },
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

impl Verification {
    /// True only when the signature was checked and holds (whatever the issuer and times say,
    /// which have their own outcomes).
    pub fn is_verified(&self) -> bool {
        matches!(self, Verification::Verified { .. })
    }
}

/// True when the token is for Microsoft Graph: every `aud` value is one Graph accepts
/// (`assets/resources.toml`). A `nonce` on any other token is no excuse for its signature.
fn is_graph_token(token: &DecodedToken) -> bool {
    let Some(graph) = crate::diagnose::Resources::builtin()
        .all()
        .iter()
        .find(|r| r.id == "graph")
    else {
        return false;
    };
    let audiences = token.claims.aud.as_ref().map(super::Audience::values);
    audiences.is_some_and(|values| {
        !values.is_empty() && values.iter().all(|aud| graph.accepts_audience(aud))
    })
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
        if token.header.has_nonce && is_graph_token(token) {
            return Ok(Verification::GraphNonce);
        }
        let issuer = token.claims.iss.clone().unwrap_or_default();
        let Some(host) = target
            .host
            .clone()
            .or_else(|| entra_authority_of_issuer(&issuer))
        else {
            return Ok(Verification::UntrustedIssuer { issuer });
        };
        let tenant = target
            .tenant
            .clone()
            .or_else(|| token.claims.tid.clone())
            .unwrap_or_else(|| "common".to_owned());
        // The tenant (the token's own `tid` when none was given) becomes a path segment.
        if tenant.is_empty()
            || !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(crate::Error::InvalidTenant {
                tenant,
                reason: "is not a directory id or domain; pass --tenant".into(),
            });
        }
        let named_app = target.app_id.as_deref();
        let mut keys = match self.keys(&host, named_app, &tenant, token, now).await? {
            Ok(keys) => keys,
            Err(refused) => return Ok(refused),
        };
        // Apps with custom signing keys publish them only under `?appid=`: when the tenant's
        // set lacks the key, try the set of the API the token is for (a v2 `aud` is its app id).
        let audience_app = token
            .claims
            .aud
            .as_ref()
            .and_then(|a| a.values().first().map(|v| v.to_ascii_lowercase()))
            .filter(|aud| crate::auth::tenant::is_guid(aud));
        if find_key(&keys.jwks, token).is_none()
            && named_app.is_none()
            && let Some(app_id) = audience_app
            && let Ok(Ok(custom)) = self.keys(&host, Some(&app_id), &tenant, token, now).await
            && find_key(&custom.jwks, token).is_some()
        {
            keys = custom;
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

/// The v1 document for v1 tokens, the v2 document otherwise; `?appid=` for an app with custom
/// signing keys.
pub fn metadata_url(
    host: &AuthorityHost,
    app_id: Option<&str>,
    tenant: &str,
    ver: Option<&str>,
) -> String {
    let v = if ver == Some("1.0") { "" } else { "/v2.0" };
    let mut url = format!("{host}/{tenant}{v}/.well-known/openid-configuration");
    if let Some(app_id) = app_id {
        url.push_str("?appid=");
        url.push_str(app_id);
    }
    url
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
    use serde_json::json;

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
        let host = AuthorityHost::parse("https://login.microsoftonline.com").unwrap();
        assert_eq!(
            metadata_url(&host, None, "t", Some("1.0")),
            "https://login.microsoftonline.com/t/.well-known/openid-configuration"
        );
        assert_eq!(
            metadata_url(&host, Some("a"), "t", Some("2.0")),
            "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration?appid=a"
        );
    }

    fn token(header: &Value, claims: &Value) -> (String, DecodedToken) {
        use base64::Engine as _;
        let part = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let raw = format!("{}.{}.c2ln", part(header), part(claims));
        let decoded = super::super::decode(&raw).unwrap();
        (raw, decoded)
    }

    /// Nothing here may reach a network: each case is decided before any fetch.
    #[tokio::test]
    async fn refuses_before_fetching_what_cannot_be_trusted() {
        let verifier =
            Verifier::new(TokenClient::new(crate::auth::ClientOptions::default()).unwrap());
        let target = VerifyTarget {
            host: None,
            tenant: None,
            app_id: None,
        };
        let now = Utc::now();
        let cases = [
            // A self-minted token naming its own server.
            (
                json!({"alg":"RS256","kid":"k"}),
                json!({"aud":"api://x","iss":"http://127.0.0.1:9/t/","tid":"t"}),
                Verification::UntrustedIssuer {
                    issuer: "http://127.0.0.1:9/t/".into(),
                },
            ),
            // A nonce on a token for another API is no Graph token.
            (
                json!({"alg":"RS256","kid":"k","nonce":"abc"}),
                json!({"aud":"api://x","iss":"https://evil.example/t/"}),
                Verification::UntrustedIssuer {
                    issuer: "https://evil.example/t/".into(),
                },
            ),
            // Graph among other audiences is not a Graph token either.
            (
                json!({"alg":"RS256","kid":"k","nonce":"abc"}),
                json!({"aud":["https://graph.microsoft.com","api://x"],"iss":"https://e.example/"}),
                Verification::UntrustedIssuer {
                    issuer: "https://e.example/".into(),
                },
            ),
            (
                json!({"alg":"RS256","kid":"k","nonce":"abc"}),
                json!({"aud":"00000003-0000-0000-c000-000000000000"}),
                Verification::GraphNonce,
            ),
        ];
        for (header, claims, expected) in cases {
            let (raw, decoded) = token(&header, &claims);
            let outcome = verifier.verify(&raw, &decoded, &target, now).await.unwrap();
            assert!(!outcome.is_verified());
            assert_eq!(outcome, expected, "{claims}");
        }
    }
}
