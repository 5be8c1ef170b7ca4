//! Fetching a tenant's OIDC metadata and key sets, cached for the life of the [`Verifier`].

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{DecodedToken, Verifier, VerifyTarget, metadata_url};
use crate::error::Result;

/// Where a key set came from, and the issuer that goes with it.
pub(super) struct Keys {
    pub metadata_url: String,
    pub expected_issuer: String,
    pub jwks_uri: String,
    pub jwks: Jwks,
}

#[derive(Debug, Clone)]
pub(super) struct Jwks {
    pub keys: Vec<Value>,
    pub fetched: DateTime<Utc>,
}

impl Verifier {
    /// The metadata and key set `target` names for this token.
    pub(super) async fn keys(
        &self,
        target: &VerifyTarget,
        tenant: &str,
        token: &DecodedToken,
        now: DateTime<Utc>,
    ) -> Result<Keys> {
        let metadata_url = metadata_url(target, tenant, token.claims.ver.as_deref());
        let metadata = self.metadata(&metadata_url).await?;
        let field = |name: &str| {
            metadata
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let expected_issuer = field("issuer").replace(
            "{tenantid}",
            token.claims.tid.as_deref().unwrap_or_default(),
        );
        let jwks_uri = field("jwks_uri");
        let jwks = self.jwks(&jwks_uri, now).await?;
        Ok(Keys {
            metadata_url,
            expected_issuer,
            jwks_uri,
            jwks,
        })
    }

    async fn metadata(&self, url: &str) -> Result<Value> {
        if let Some(hit) = self.metadata.lock().ok().and_then(|m| m.get(url).cloned()) {
            return Ok(hit);
        }
        let value = self.get_json(url).await?;
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(url.to_owned(), value.clone());
        }
        Ok(value)
    }

    async fn jwks(&self, url: &str, now: DateTime<Utc>) -> Result<Jwks> {
        if let Some(hit) = self.jwks.lock().ok().and_then(|m| m.get(url).cloned()) {
            return Ok(hit);
        }
        let value = self.get_json(url).await?;
        let jwks = Jwks {
            keys: value
                .get("keys")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            fetched: now,
        };
        if let Ok(mut cache) = self.jwks.lock() {
            cache.insert(url.to_owned(), jwks.clone());
        }
        Ok(jwks)
    }

    /// GET a JSON object; Entra's error body (an unknown tenant: AADSTS90002) becomes its
    /// typed error.
    async fn get_json(&self, url_text: &str) -> Result<Value> {
        self.client
            .get_json::<serde_json::Map<String, Value>>(url_text)
            .await
            .map(Value::Object)
    }
}
