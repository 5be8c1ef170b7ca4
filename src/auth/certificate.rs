//! Client certificates: PEM (certificate + key, or two files) and PFX/PKCS#12.
//!
//! Loading checks what Entra ID would otherwise reject with a vaguer message: that the file holds
//! a certificate and an RSA key, that the key belongs to the certificate, and that the PFX
//! password is right. It also computes the thumbprints the portal and the assertion header use.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where a certificate comes from.
#[derive(Debug, Clone)]
pub enum CertificateSource {
    /// A PEM file with the certificate, and the key either in it or in `key`.
    Pem { path: PathBuf, key: Option<PathBuf> },
    /// A PFX/PKCS#12 file; `password_source` names where the password came from, for messages.
    Pfx {
        path: PathBuf,
        password: Secret,
        password_source: String,
    },
}

/// What the operator compares with the portal's Certificates & secrets page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// SHA-1 of the DER certificate in upper-case hex: the "Thumbprint" the portal lists.
    pub thumbprint_sha1: String,
    /// SHA-256 of the DER certificate in upper-case hex: what Entra ID quotes as "Thumbprint of
    /// key used by client" when the assertion named its key by `x5t#S256`.
    pub thumbprint_sha256: String,
    /// base64url SHA-1: the `x5t` assertion header.
    pub x5t: String,
    /// base64url SHA-256: the `x5t#S256` assertion header.
    pub x5t_s256: String,
    pub key_bits: usize,
}

/// Whether a certificate is inside its validity period at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    Expired { since: DateTime<Utc> },
    NotYetValid { from: DateTime<Utc> },
}

impl CertificateInfo {
    pub fn validity_at(&self, now: DateTime<Utc>) -> Validity {
        if now > self.not_after {
            Validity::Expired {
                since: self.not_after,
            }
        } else if now < self.not_before {
            Validity::NotYetValid {
                from: self.not_before,
            }
        } else {
            Validity::Valid
        }
    }
}

/// A certificate with its private key, ready to sign client assertions.
pub struct ClientCertificate {
    pub info: CertificateInfo,
    /// DER of the leaf first, then any chain certificates, for `x5c`.
    pub chain_der: Vec<Vec<u8>>,
    /// The RSA key as PKCS#1 DER, wiped on drop.
    pub(crate) key_pkcs1_der: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("info", &self.info)
            .field("key", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    pub fn load(source: &CertificateSource) -> Result<Self> {
        match source {
            CertificateSource::Pem { path, key } => load_pem(path, key.as_deref()),
            CertificateSource::Pfx {
                path,
                password,
                password_source,
            } => load_pfx(path, password, password_source),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    if path.is_dir() {
        return Err(Error::certificate(
            path,
            "is a directory; give the certificate file",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::certificate(
            path,
            "is empty; was the certificate exported or copied in full?",
        ));
    }
    Ok(bytes)
}

fn load_pem(path: &Path, key_path: Option<&Path>) -> Result<ClientCertificate> {
    let blocks = parse_pem(path, &read(path)?)?;
    let certs: Vec<Vec<u8>> = blocks
        .iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.contents().to_vec())
        .collect();
    if certs.is_empty() {
        return Err(Error::certificate(
            path,
            "holds no CERTIFICATE block; give a PEM file with -----BEGIN CERTIFICATE-----, or a \
             .pfx with --certificate-password-env",
        ));
    }
    let (key, key_file) = match key_path {
        Some(key_path) => (
            find_key(key_path, &parse_pem(key_path, &read(key_path)?)?)?,
            key_path,
        ),
        None => (find_key(path, &blocks)?, path),
    };
    build(path, key_file, certs, &key)
}

fn parse_pem(path: &Path, bytes: &[u8]) -> Result<Vec<pem::Pem>> {
    let blocks = pem::parse_many(bytes).map_err(|e| {
        Error::certificate(
            path,
            format!("is not valid PEM ({e}); is it a PFX? then add --certificate-password-env"),
        )
    })?;
    if blocks.is_empty() {
        return Err(Error::certificate(
            path,
            "holds no PEM block; if it is a .pfx/.p12 file, name it so or pass \
             --certificate-password-env",
        ));
    }
    Ok(blocks)
}

fn find_key(path: &Path, blocks: &[pem::Pem]) -> Result<RsaPrivateKey> {
    for block in blocks {
        let bad = |what: &str| Error::certificate(path, format!("the private key {what}"));
        match block.tag() {
            "PRIVATE KEY" => {
                return RsaPrivateKey::from_pkcs8_der(block.contents()).map_err(|_| {
                    bad("is not an RSA key; Entra ID certificate credentials need RSA")
                });
            }
            "RSA PRIVATE KEY" => {
                return RsaPrivateKey::from_pkcs1_der(block.contents())
                    .map_err(|e| bad(&format!("cannot be read ({e})")));
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(bad(
                    "is encrypted; decrypt it (openssl pkey -in key.pem -out plain.pem) or use a \
                     PFX with --certificate-password-env",
                ));
            }
            "EC PRIVATE KEY" => {
                return Err(bad(
                    "is an EC key; Entra ID certificate credentials need RSA",
                ));
            }
            _ => {}
        }
    }
    Err(Error::certificate(
        path,
        "holds no private key; put the key in the same PEM file or pass --private-key FILE",
    ))
}

fn load_pfx(path: &Path, password: &Secret, password_source: &str) -> Result<ClientCertificate> {
    use p12_keystore::error::Error as P12Error;
    use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
    let bytes = read(path)?;
    crate::scrub::remember(password);
    let store = KeyStore::from_pkcs12(&bytes, password.expose(), Pkcs12ImportPolicy::Relaxed)
        .map_err(|e| match e {
            P12Error::MacError(_) | P12Error::UnpadError | P12Error::InvalidPrivateKey => {
                Error::PfxPassword {
                    path: path.to_owned(),
                    source_name: password_source.into(),
                }
            }
            other => Error::certificate(
                path,
                format!("is not a readable PFX/PKCS#12 file ({other})"),
            ),
        })?;
    let Some((_, chain)) = store.private_key_chain() else {
        return Err(Error::certificate(
            path,
            "holds no private key; export the PFX with its key",
        ));
    };
    let certs: Vec<Vec<u8>> = chain.certs().iter().map(|c| c.as_der().to_vec()).collect();
    if certs.is_empty() {
        return Err(Error::certificate(
            path,
            "holds a key but no certificate for it",
        ));
    }
    let key = RsaPrivateKey::from_pkcs8_der(chain.key().as_der()).map_err(|_| {
        Error::certificate(
            path,
            "holds a key that is not RSA; Entra ID certificate credentials need RSA",
        )
    })?;
    build(path, path, certs, &key)
}

fn build(
    cert_path: &Path,
    key_path: &Path,
    chain_der: Vec<Vec<u8>>,
    key: &RsaPrivateKey,
) -> Result<ClientCertificate> {
    let leaf = &chain_der[0];
    let (_, cert) = X509Certificate::from_der(leaf).map_err(|e| {
        Error::certificate(
            cert_path,
            format!("its CERTIFICATE block is not an X.509 certificate ({e})"),
        )
    })?;
    let Ok(PublicKey::RSA(public)) = cert.public_key().parsed() else {
        return Err(Error::certificate(
            cert_path,
            "the certificate's key is not RSA",
        ));
    };
    if strip_zeros(public.modulus) != strip_zeros(&key.n().to_bytes_be()) {
        return Err(Error::KeyMismatch {
            certificate: cert_path.into(),
            key: key_path.into(),
        });
    }
    let key_pkcs1_der = Zeroizing::new(
        key.to_pkcs1_der()
            .map_err(|e| Error::certificate(key_path, format!("cannot re-encode the key ({e})")))?
            .as_bytes()
            .to_vec(),
    );
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    let sha1 = Sha1::digest(leaf);
    let sha256 = Sha256::digest(leaf);
    let info = CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert
            .raw_serial_as_string()
            .to_ascii_uppercase()
            .replace(':', ""),
        not_before: time(cert.validity().not_before),
        not_after: time(cert.validity().not_after),
        thumbprint_sha1: upper_hex(&sha1),
        thumbprint_sha256: upper_hex(&sha256),
        x5t: URL_SAFE_NO_PAD.encode(sha1),
        x5t_s256: URL_SAFE_NO_PAD.encode(sha256),
        key_bits: key.size() * 8,
    };
    Ok(ClientCertificate {
        info,
        chain_der,
        key_pkcs1_der,
    })
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

pub(crate) fn upper_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02X}");
            out
        })
}
