//! OpenID Connect discovery: where a tenant's token endpoint and signing keys live.

use serde::{Deserialize, Serialize};
use url::Url;

use super::client::{parse_token_body, read_capped, snippet};
use super::{Authority, TokenClient};
use crate::error::{Error, Result};

/// The parts of the discovery document a daemon app needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OidcMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub tenant_region_scope: Option<String>,
    #[serde(default)]
    pub cloud_instance_name: Option<String>,
}

impl TokenClient {
    /// Fetches `{host}/{tenant}/v2.0/.well-known/openid-configuration`.
    pub async fn discover(&self, authority: &Authority) -> Result<OidcMetadata> {
        let url_text = authority.discovery_url();
        let url = Url::parse(&url_text).map_err(|e| Error::InvalidAuthority {
            value: url_text.clone(),
            reason: e.to_string(),
        })?;
        let response = self
            .http()
            .get(url)
            .send()
            .await
            .map_err(|e| self.transport(&url_text, &e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = read_capped(response)
            .await
            .map_err(|e| self.transport(&url_text, &e))?;
        if status == 200 {
            if let Ok(metadata) = serde_json::from_slice::<OidcMetadata>(&body) {
                return Ok(metadata);
            }
        }
        // An unknown tenant answers with Entra's usual error body (AADSTS90002).
        match parse_token_body(&url_text, status, &content_type, &body) {
            Err(error) => Err(error),
            Ok(_) => Err(Error::UnexpectedResponse {
                url: url_text,
                status,
                content_type,
                snippet: snippet(&body),
            }),
        }
    }
}
