//! The client assertion: a short-lived JWT, signed with the certificate's key, that proves the
//! app holds the certificate registered on it.
//!
//! Shape (Entra ID's certificate-credentials page, MSAL.NET and MSAL Python): header `alg`,
//! `typ: JWT`, `x5t#S256` and `x5t` (base64url thumbprints), `x5c` only when asked; claims `aud` =
//! the token endpoint, `iss` = `sub` = client id, a fresh `jti`, `nbf` and `iat` now, `exp` ten
//! minutes on (MSAL's lifetime).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::ClientCertificate;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// MSAL's assertion lifetime: Entra ID sets no limit, but a short one limits replay.
pub const LIFETIME: Duration = Duration::minutes(10);

/// The signature algorithm. RS256 is the default: every Entra ID instance and every
/// generic OpenID Connect server takes it; PS256 is what MSAL sends to Entra ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum AssertionAlg {
    #[default]
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "PS256")]
    Ps256,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AssertionOptions {
    pub alg: AssertionAlg,
    /// Send the certificate chain in `x5c` (subject name + issuer authentication).
    pub send_x5c: bool,
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

/// Signs a client assertion for `client_id` addressed to `token_endpoint`.
pub fn sign(
    certificate: &ClientCertificate,
    client_id: &str,
    token_endpoint: &str,
    now: DateTime<Utc>,
    options: AssertionOptions,
) -> Result<Secret> {
    let mut header = Header::new(match options.alg {
        AssertionAlg::Rs256 => Algorithm::RS256,
        AssertionAlg::Ps256 => Algorithm::PS256,
    });
    header.typ = Some("JWT".into());
    header.x5t = Some(certificate.info.x5t.clone());
    header.x5t_s256 = Some(certificate.info.x5t_s256.clone());
    if options.send_x5c {
        header.x5c = Some(
            certificate
                .chain_der
                .iter()
                .map(|der| STANDARD.encode(der))
                .collect(),
        );
    }
    let claims = AssertionClaims {
        aud: token_endpoint,
        iss: client_id,
        sub: client_id,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: now.timestamp(),
        iat: now.timestamp(),
        exp: (now + LIFETIME).timestamp(),
    };
    let key = EncodingKey::from_rsa_der(&certificate.key_pkcs1_der);
    jsonwebtoken::encode(&header, &claims, &key)
        .map(Secret::new)
        .map_err(|e| Error::InvalidInput {
            what: "the certificate's private key".into(),
            reason: format!("could not sign the client assertion ({e})"),
        })
}
