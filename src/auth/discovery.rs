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
        self.get_json(&authority.discovery_url()).await
    }

    /// GETs a JSON document of the identity provider (discovery, keys). Entra's error body (an
    /// unknown tenant: AADSTS90002) becomes its typed error; anything else unexpected is named.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url_text: &str,
    ) -> Result<T> {
        let url = Url::parse(url_text).map_err(|e| Error::InvalidAuthority {
            value: url_text.to_owned(),
            reason: e.to_string(),
        })?;
        crate::auth::authority::ensure_secure(&url)?;
        let deadline = self.deadline();
        let Some(left) = deadline.remaining() else {
            return Err(super::client::deadline_reached(url_text, &deadline, 0));
        };
        let response = self
            .http()
            .get(url)
            .timeout(left)
            .send()
            .await
            .map_err(|e| self.transport(url_text, &e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = read_capped(response)
            .await
            .map_err(|e| self.transport(url_text, &e))?;
        if status == 200
            && let Ok(document) = serde_json::from_slice::<T>(&body)
        {
            return Ok(document);
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
