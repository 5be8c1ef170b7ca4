//! Fetching a tenant's OIDC metadata and key sets, cached for the life of the [`Verifier`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use url::Url;

use super::{DecodedToken, Verifier, VerifyTarget, metadata_url};
use crate::auth::authority::ensure_secure;
use crate::auth::client::{parse_token_body, read_capped, snippet};
use crate::error::{Error, Result};

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

    /// GET a JSON document; Entra's error body (an unknown tenant: AADSTS90002) becomes its
    /// typed error.
    async fn get_json(&self, url_text: &str) -> Result<Value> {
        let url = Url::parse(url_text).map_err(|e| Error::InvalidAuthority {
            value: url_text.to_owned(),
            reason: e.to_string(),
        })?;
        ensure_secure(&url)?;
        let response = self
            .client
            .http()
            .get(url)
            .send()
            .await
            .map_err(|e| self.client.transport(url_text, &e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = read_capped(response)
            .await
            .map_err(|e| self.client.transport(url_text, &e))?;
        if status == 200 {
            if let Ok(value @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) {
                return Ok(value);
            }
        }
        match parse_token_body(url_text, status, &content_type, &body) {
            Err(error) => Err(error),
            Ok(_) => Err(Error::UnexpectedResponse {
                url: url_text.to_owned(),
                status,
                content_type,
                snippet: snippet(&body),
            }),
        }
    }
}
