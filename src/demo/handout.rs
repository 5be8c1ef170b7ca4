//! The files the demo hands the operator: for each app that signs in with a certificate, a PEM
//! (certificate + private key) and a PFX (with a per-run password), plus the CA certificate of
//! the `--tls` server. They live in a fresh directory under the system temp dir, readable by the
//! owner alone, removed when the demo stops.

use std::path::{Path, PathBuf};

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};

use super::error::{Error, Result};
use super::model::HandoutCertificate;

/// A temp directory that is deleted on drop.
#[derive(Debug)]
pub(super) struct CredentialDir {
    path: PathBuf,
}

impl CredentialDir {
    pub fn create() -> Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "entra-doctor-demo-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        let fail = |source| Error::WriteCredentials {
            path: path.clone(),
            source,
        };
        // Not `create_dir_all`: a directory someone made in advance at this name is an error,
        // never one the credentials go into.
        create_new_dir(&path).map_err(fail)?;
        restrict(&path, 0o700).map_err(fail)?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a file readable by the owner alone.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let file = self.path.join(name);
        let fail = |source| Error::WriteCredentials {
            path: file.clone(),
            source,
        };
        let mut out = crate::files::open_private(&file, crate::files::Open::New).map_err(fail)?;
        std::io::Write::write_all(&mut out, bytes).map_err(fail)?;
        restrict(&file, 0o600).map_err(fail)?;
        Ok(file)
    }
}

impl Drop for CredentialDir {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir of throw-away credentials is harmless.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(unix)]
fn create_new_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

#[cfg(not(unix))]
fn create_new_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir(path)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Writes `{scenario}.pem` (certificate then key) and `{scenario}.pfx`; returns their paths.
pub(super) fn write_certificate(
    dir: &CredentialDir,
    scenario: &str,
    cert: &HandoutCertificate,
    pfx_password: &str,
) -> Result<(PathBuf, PathBuf)> {
    let pem = format!(
        "{}\n{}",
        cert.certificate_pem.trim_end(),
        cert.private_key_pem.expose()
    );
    let pem_path = dir.write(&format!("{scenario}.pem"), pem.as_bytes())?;
    let pfx = build_pfx(scenario, cert, pfx_password)?;
    let pfx_path = dir.write(&format!("{scenario}.pfx"), &pfx)?;
    Ok((pem_path, pfx_path))
}

fn build_pfx(scenario: &str, cert: &HandoutCertificate, password: &str) -> Result<Vec<u8>> {
    let fail = |message: String| Error::Pfx {
        scenario: scenario.to_owned(),
        message,
    };
    let key_pem = cert.private_key_pem.expose();
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(key_pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(key_pem))
        .map_err(|e| fail(format!("the private key is not an RSA PEM key ({e})")))?;
    let key_der = key
        .to_pkcs8_der()
        .map_err(|e| fail(format!("cannot encode the key ({e})")))?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert.certificate_pem.as_bytes())
        .map_err(|e| fail(format!("no PEM certificate ({e})")))?;
    let certificate =
        Certificate::from_der(&pem.contents).map_err(|e| fail(format!("bad certificate ({e})")))?;
    let private_key =
        PrivateKey::from_der(key_der.as_bytes()).map_err(|e| fail(format!("bad key ({e})")))?;
    let local_key_id = <sha1::Sha1 as sha1::Digest>::digest(&pem.contents).to_vec();
    let chain = PrivateKeyChain::new(local_key_id, private_key, [certificate]);
    let mut store = KeyStore::new();
    store.add_entry(scenario, KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .write()
        .map_err(|e| fail(format!("cannot write PKCS#12 ({e})")))
}
