//! Fetching a tenant's OIDC metadata and key sets, cached for the life of the [`Verifier`]. The
//! metadata comes from a trusted authority; the key set only from the `jwks_uri` on that
//! authority's own key host.

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use super::{DecodedToken, Verification, Verifier, metadata_url};
use crate::auth::AuthorityHost;
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
    /// The metadata of `tenant` at `host` and the key set it names for this token; the inner
    /// `Err` is the refusal of a key set that is not on the authority's own key host.
    pub(super) async fn keys(
        &self,
        host: &AuthorityHost,
        app_id: Option<&str>,
        tenant: &str,
        token: &DecodedToken,
        now: DateTime<Utc>,
    ) -> Result<Result<Keys, Verification>> {
        let metadata_url = metadata_url(host, app_id, tenant, token.claims.ver.as_deref());
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
        if !Url::parse(&jwks_uri).is_ok_and(|url| host.serves_keys_at(&url)) {
            return Ok(Err(Verification::UntrustedKeys {
                metadata_url,
                jwks_uri,
                authority: host.to_string(),
            }));
        }
        let jwks = self.jwks(&jwks_uri, now).await?;
        Ok(Ok(Keys {
            metadata_url,
            expected_issuer,
            jwks_uri,
            jwks,
        }))
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
