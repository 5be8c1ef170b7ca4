//! The three ways a daemon app proves who it is: a client secret, a certificate (a signed client
//! assertion), or a federated assertion minted by another identity provider.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{AssertionOptions, ClientCertificate, assertion};
use crate::error::Result;
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
}

impl Credential {
    /// "secret", "certificate" or "assertion": for messages, logs and the cache's `source`.
    pub fn kind(&self) -> &'static str {
        match self {
            Credential::Secret(_) => "secret",
            Credential::Certificate { .. } => "certificate",
            Credential::Assertion { .. } => "assertion",
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
        })
    }

    /// The `client_assertion_type` form field, for the credentials that send an assertion. A
    /// public constant: not a [`Secret`], so it is never scrubbed from what the run prints.
    pub(crate) fn assertion_type(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Credential::Secret(_) => None,
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
