//! The three ways a daemon app proves who it is: a client secret, a certificate (a signed client
//! assertion), or a federated assertion minted by another identity provider — and the fourth way
//! to a token, which proves nothing itself: the managed identity of the Azure resource this runs
//! on, asked of its local endpoint ([`super::managed_identity`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::managed_identity::{ArcKeys, IdentitySelector, Source, SourceKind};
use super::{AssertionOptions, ClientCertificate, assertion};
use crate::error::{Error, Result};
use crate::secret::Secret;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

#[derive(Debug)]
pub enum Credential {
    Secret(Secret),
    Certificate {
        certificate: Box<ClientCertificate>,
        options: AssertionOptions,
    },
    /// A federated token read from a file (e.g. a Kubernetes projected service account token).
    Assertion {
        token: Secret,
        path: PathBuf,
    },
    /// The managed identity of the resource this runs on: no credential is sent to Entra ID,
    /// the token comes from `source` (detected when the request was prepared). `Source`'s
    /// `Debug` never shows the App Service header.
    ManagedIdentity {
        identity: IdentitySelector,
        source: Source,
        /// The only directory an Azure Arc key file may be read from.
        arc_keys: ArcKeys,
    },
}

impl Credential {
    /// "secret", "certificate", "assertion" or "managed identity": for messages and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Secret(_) => "secret",
            Credential::Certificate { .. } => "certificate",
            Credential::Assertion { .. } => "assertion",
            Credential::ManagedIdentity { .. } => "managed identity",
        }
    }

    /// What obtained a token, as the cache's `source` says it: the kind, and for a managed
    /// identity the endpoint it came from, `managed identity (imds)`.
    pub fn source(&self) -> String {
        match self {
            Credential::ManagedIdentity { source, .. } => {
                format!("managed identity ({})", source.kind().id())
            }
            other => other.kind().to_owned(),
        }
    }

    /// The managed identity source, for a managed identity.
    pub fn managed_source(&self) -> Option<SourceKind> {
        match self {
            Credential::ManagedIdentity { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// The form fields that carry the credential, each a secret; an assertion also needs the
    /// public `client_assertion_type` field ([`Credential::assertion_type`]).
    pub(crate) fn form_fields(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(&'static str, Secret)>> {
        Ok(match self {
            Credential::Secret(secret) => vec![("client_secret", secret.clone())],
            Credential::Certificate {
                certificate,
                options,
            } => {
                let signed =
                    assertion::sign(certificate, client_id, token_endpoint, now, *options)?;
                vec![("client_assertion", signed)]
            }
            Credential::Assertion { token, .. } => vec![("client_assertion", token.clone())],
            // `TokenClient::acquire` asks the identity's endpoint instead; never sent to Entra.
            Credential::ManagedIdentity { .. } => {
                return Err(Error::InvalidInput {
                    what: "a managed identity".into(),
                    reason: "has no client credential to send to a token endpoint".into(),
                });
            }
        })
    }

    /// The `client_assertion_type` form field, for the credentials that send an assertion. A
    /// public constant: not a [`Secret`], so it is never scrubbed from what the run prints.
    pub(crate) fn assertion_type(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Credential::Secret(_) | Credential::ManagedIdentity { .. } => None,
            Credential::Certificate { .. } | Credential::Assertion { .. } => {
                Some(("client_assertion_type", ASSERTION_TYPE))
            }
        }
    }

    /// A key only the holder of this credential can derive, bound to `context`.
    ///
    /// The token cache seals every token with it, so a cache file is worth nothing without the
    /// credential that filled it, and a token cached under an old secret is not served after
    /// the secret changes (the new secret gets tested instead of hidden by the cache).
    pub fn sealing_key(&self, context: &str) -> Zeroizing<[u8; 32]> {
        let material: Zeroizing<Vec<u8>> = Zeroizing::new(match self {
            Credential::Secret(secret) => secret.expose().as_bytes().to_vec(),
            Credential::Certificate { certificate, .. } => certificate.key_pkcs1_der.to_vec(),
            Credential::Assertion { token, .. } => token.expose().as_bytes().to_vec(),
            // Nothing secret to derive from: a managed identity's token is never sealed into
            // the cache (its entry is kept without the token, see `TokenCache::get_or_acquire`).
            Credential::ManagedIdentity {
                identity, source, ..
            } => format!("{}\0{identity}", source.endpoint()).into_bytes(),
        });
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&material)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"entra-doctor token cache v1\0");
        mac.update(self.kind().as_bytes());
        mac.update(b"\0");
        mac.update(context.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}
