//! Key material of the demo tenant: the RSA key that signs access tokens and its JWKS entry, and
//! the certificates registered on the demo applications, indexed by the thumbprints a client
//! assertion names (`x5t` = SHA-1, `x5t#S256` = SHA-256 of the DER, base64url).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{Value, json};
use sha1::Digest as _;

use super::error::{Error, Result};
use super::model::TenantModel;

/// A parsed X.509 certificate with an RSA public key.
#[derive(Debug, Clone)]
pub(super) struct CertInfo {
    pub der: Vec<u8>,
    sha1: Vec<u8>,
    sha256: Vec<u8>,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    pub not_after: i64,
    pub not_before: i64,
}

impl CertInfo {
    /// Parses the first certificate of a PEM text.
    pub fn from_pem(pem: &str, file: &str) -> Result<Self> {
        let bad = |message: String| Error::KeyMaterial {
            what: "certificate",
            file: file.to_owned(),
            message,
        };
        let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .map_err(|e| bad(format!("no PEM certificate in it ({e})")))?;
        let cert = pem
            .parse_x509()
            .map_err(|e| bad(format!("not an X.509 certificate ({e})")))?;
        let key = cert
            .public_key()
            .parsed()
            .map_err(|e| bad(format!("unreadable public key ({e})")))?;
        let x509_parser::public_key::PublicKey::RSA(rsa) = key else {
            return Err(bad(
                "its key is not RSA, and Entra ID only takes RSA keys".to_owned()
            ));
        };
        let modulus = strip_leading_zeros(rsa.modulus);
        let exponent = strip_leading_zeros(rsa.exponent);
        let not_after = cert.validity().not_after.timestamp();
        let not_before = cert.validity().not_before.timestamp();
        let der = pem.contents.clone();
        Ok(Self {
            sha1: sha1::Sha1::digest(&der).to_vec(),
            sha256: sha2::Sha256::digest(&der).to_vec(),
            der,
            modulus,
            exponent,
            not_after,
            not_before,
        })
    }

    /// base64url SHA-1 thumbprint (`x5t`).
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.sha1)
    }

    /// base64url SHA-256 thumbprint (`x5t#S256`).
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.sha256)
    }

    /// The SHA-1 thumbprint's bytes (Graph's `customKeyIdentifier` of an uploaded certificate).
    pub fn sha1(&self) -> &[u8] {
        &self.sha1
    }

    /// Upper-case hex SHA-1 thumbprint, as the Entra admin center shows it.
    pub fn thumbprint_hex(&self) -> String {
        hex_upper(&self.sha1)
    }

    /// The key to verify signatures with.
    pub fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_rsa_raw_components(&self.modulus, &self.exponent)
    }

    pub fn jwk_n_e(&self) -> (String, String) {
        (
            URL_SAFE_NO_PAD.encode(&self.modulus),
            URL_SAFE_NO_PAD.encode(&self.exponent),
        )
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// Upper-case hex of some bytes.
pub(super) fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

/// The tenant's token-signing key and the demo apps' registered certificates.
pub(super) struct Keys {
    signing: EncodingKey,
    signing_cert: CertInfo,
    registered: HashMap<String, Vec<CertInfo>>,
    /// The demo's external issuers' signing keys, by issuer name.
    issuers: HashMap<String, (EncodingKey, CertInfo)>,
}

impl Keys {
    pub fn load(model: &TenantModel) -> Result<Self> {
        let tenant = &model.tenant;
        let signing = EncodingKey::from_rsa_pem(model.file(&tenant.signing_key)?.as_bytes())
            .map_err(|e| Error::KeyMaterial {
                what: "token-signing key",
                file: tenant.signing_key.clone(),
                message: e.to_string(),
            })?;
        let signing_cert = CertInfo::from_pem(
            model.file(&tenant.signing_certificate)?,
            &tenant.signing_certificate,
        )?;
        let mut registered = HashMap::new();
        for app in &model.applications {
            let certs = app
                .certificates
                .iter()
                .map(|file| CertInfo::from_pem(model.file(file)?, file))
                .collect::<Result<Vec<_>>>()?;
            registered.insert(app.client_id.to_ascii_lowercase(), certs);
        }
        let mut issuers = HashMap::new();
        for issuer in &model.issuers {
            let key = EncodingKey::from_rsa_pem(model.file(&issuer.signing_key)?.as_bytes())
                .map_err(|e| Error::KeyMaterial {
                    what: "issuer signing key",
                    file: issuer.signing_key.clone(),
                    message: e.to_string(),
                })?;
            let cert = CertInfo::from_pem(
                model.file(&issuer.signing_certificate)?,
                &issuer.signing_certificate,
            )?;
            issuers.insert(issuer.name.clone(), (key, cert));
        }
        Ok(Self {
            signing,
            signing_cert,
            registered,
            issuers,
        })
    }

    pub fn signing_key(&self) -> &EncodingKey {
        &self.signing
    }

    /// The `kid` (and v1 `x5t`) of issued tokens: Entra ID uses the signing certificate's
    /// base64url SHA-1 thumbprint for both.
    pub fn kid(&self) -> String {
        self.signing_cert.x5t()
    }

    pub fn verifying_key(&self) -> DecodingKey {
        self.signing_cert.decoding_key()
    }

    /// Certificates registered on the application with this client id.
    pub fn registered(&self, client_id: &str) -> &[CertInfo] {
        self.registered
            .get(&client_id.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    /// The JWKS document; `issuer` is added to the key as Entra ID's v2 key sets do.
    /// The signing key and certificate of demo issuer `name`.
    pub fn issuer(&self, name: &str) -> Option<&(EncodingKey, CertInfo)> {
        self.issuers.get(name)
    }

    pub fn jwks(&self, issuer: &str) -> Value {
        let (n, e) = self.signing_cert.jwk_n_e();
        json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid(),
            "x5t": self.kid(),
            "n": n,
            "e": e,
            "x5c": [STANDARD.encode(&self.signing_cert.der)],
            "issuer": issuer,
        }]})
    }
}
