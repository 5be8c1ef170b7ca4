//! Serving a request from the cache, or asking Entra ID and caching the answer: the one path
//! the CLI, `doctor`, the fleet and the TUI all take to a token.

use chrono::{DateTime, Utc};

use super::{CacheKey, Miss, TokenCache};
use crate::auth::{TokenClient, TokenRequest, TokenResponse};
use crate::error::Result;
use crate::secret::Secret;

/// A token and where it came from.
#[derive(Debug)]
pub struct Served {
    pub token: Secret,
    pub expires_on: DateTime<Utc>,
    /// Why the cache could not serve it; `None` when it did.
    pub miss: Option<Miss>,
    /// Entra ID's answer, when it was asked.
    pub response: Option<TokenResponse>,
}

impl TokenCache {
    /// The cached token for `request` when one can be served (never with `force_refresh`), else
    /// a fresh one from `client`, stored under the credential's sealing key.
    pub async fn get_or_acquire(
        &mut self,
        client: &TokenClient,
        request: &TokenRequest,
        force_refresh: bool,
        now: DateTime<Utc>,
    ) -> Result<Served> {
        if request.is_managed_identity() {
            return self.managed(client, request, now).await;
        }
        let key = CacheKey::new(&request.authority, &request.client_id, &request.scopes);
        let sealing_key = request.credential.sealing_key(&key.id());
        let looked_up = if force_refresh {
            Err(Miss::ForceRefresh)
        } else {
            self.lookup(&key, &sealing_key, now)
        };
        let miss = match looked_up {
            Ok(hit) => {
                return Ok(Served {
                    token: hit.access_token,
                    expires_on: hit.entry.expires_on,
                    miss: None,
                    response: None,
                });
            }
            Err(miss) => miss,
        };
        let response = client.acquire(request, now).await?;
        let kind = request.credential.kind();
        let entry = self.store(
            key,
            request.scopes.resource(),
            &response,
            &sealing_key,
            kind,
            now,
        )?;
        Ok(Served {
            token: response.access_token.clone(),
            expires_on: entry.expires_on,
            miss: Some(miss),
            response: Some(response),
        })
    }

    /// A managed identity's token, always from its endpoint (which keeps its own cache); the
    /// entry, keyed by the tenant and app the token names (`tid`, `appid`), says which source
    /// gave it and holds no token.
    async fn managed(
        &mut self,
        client: &TokenClient,
        request: &TokenRequest,
        now: DateTime<Utc>,
    ) -> Result<Served> {
        let response = client.acquire(request, now).await?;
        let mut key = CacheKey::new(&request.authority, &request.client_id, &request.scopes);
        if let Ok(token) = crate::token::decode(response.access_token.expose()) {
            let guid = |value: Option<&str>| {
                value
                    .filter(|v| crate::auth::tenant::is_guid(&v.to_ascii_lowercase()))
                    .map(str::to_ascii_lowercase)
            };
            if let Some(tid) = guid(token.claims.tid.as_deref()) {
                key.tenant = tid;
            }
            if let Some(appid) = guid(token.claims.client_id()) {
                key.client_id = appid;
            }
        }
        let entry = self.record(
            key,
            request.scopes.resource(),
            &response,
            &request.credential.source(),
            now,
        )?;
        Ok(Served {
            token: response.access_token.clone(),
            expires_on: entry.expires_on,
            miss: Some(Miss::ManagedIdentity),
            response: Some(response),
        })
    }
}
