//! The certificates https trusts, read when the first https server shows its certificate and not
//! before: a command that talks plain http to loopback (the demo tenant), decodes a token or
//! explains an error never reads the platform's store (145 files on a Debian system).
//!
//! [`LazyRoots`] is a rustls certificate verifier that, on its first certificate, builds rustls's
//! own [`WebPkiServerVerifier`] over the platform's roots (or the bundled Mozilla roots where the
//! platform has none) plus the operator's CA bundles, and from then on hands every check to it:
//! chain, name, validity and signatures are verified by rustls exactly as with the roots given
//! up front. Only *when* the roots are read changes. Were they unreadable, every certificate is
//! refused (fail closed).

use std::sync::{Arc, OnceLock};

use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{self, CryptoProvider};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme,
};

/// The log line written when a verifier reads its roots: tests look for it to prove a plain
/// http request read none.
pub const LOADED: &str = "CA roots loaded for https";

/// A rustls client configuration that trusts the platform's roots plus `extra` (DER
/// certificates, each already checked to be a usable trust anchor), read on first use.
pub fn client_config(extra: Vec<CertificateDer<'static>>) -> Result<ClientConfig, TlsError> {
    // The provider reqwest would pick: the process default, else ring.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(crypto::ring::default_provider()));
    let verifier = LazyRoots {
        provider: Arc::clone(&provider),
        extra,
        built: OnceLock::new(),
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers when it builds the configuration itself (http2 and http/1.1).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A verifier that reads its trust anchors on the first certificate it checks.
pub struct LazyRoots {
    provider: Arc<CryptoProvider>,
    extra: Vec<CertificateDer<'static>>,
    /// rustls's verifier over the roots, or why it could not be built.
    built: OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
}

impl std::fmt::Debug for LazyRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRoots")
            .field("extra", &self.extra.len())
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}

impl LazyRoots {
    /// Whether the roots have been read (a certificate was checked).
    pub fn is_loaded(&self) -> bool {
        self.built.get().is_some()
    }

    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, TlsError> {
        self.built
            .get_or_init(|| {
                let mut roots = platform_roots().clone();
                let platform = roots.len();
                if roots.is_empty() {
                    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                }
                // Each was checked when its bundle was read (`CaBundle::load`).
                let (added, _) = roots.add_parsable_certificates(self.extra.iter().cloned());
                tracing::debug!("{LOADED}: {platform} from the platform, {added} from CA bundles");
                WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&self.provider),
                )
                .build()
                .map_err(|e| format!("no usable CA certificate to verify the server with ({e})"))
            })
            .as_ref()
            .map_err(|reason| TlsError::General(reason.clone()))
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    // The handshake signatures need no roots: checked as `WebPkiServerVerifier` checks them.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The platform's roots, read once per process; empty when the platform has none.
fn platform_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for error in &loaded.errors {
            tracing::debug!("reading the platform's CA certificates: {error}");
        }
        // Native stores carry a few ancient certificates rustls cannot parse; skip those, as
        // reqwest's own loader does, instead of failing every request.
        let mut store = RootCertStore::empty();
        let (usable, _) = store.add_parsable_certificates(loaded.certs);
        if usable == 0 {
            if let Some(path) = std::env::var_os("SSL_CERT_FILE") {
                tracing::warn!(
                    "SSL_CERT_FILE {} holds no usable CA certificate; using the Mozilla roots \
                     built into entra-doctor",
                    std::path::Path::new(&path).display()
                );
            } else {
                tracing::warn!(
                    "the platform has no CA certificates (install ca-certificates, or set \
                     SSL_CERT_FILE); using the Mozilla roots built into entra-doctor"
                );
            }
        }
        store
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_read_until_a_certificate_is_checked() {
        let provider = Arc::new(crypto::ring::default_provider());
        let lazy = LazyRoots {
            provider,
            extra: Vec::new(),
            built: OnceLock::new(),
        };
        assert!(!lazy.supported_verify_schemes().is_empty());
        assert!(!lazy.is_loaded());
        // Garbage is refused, by the real verifier, which this first check builds.
        let refused = lazy.verify_server_cert(
            &CertificateDer::from(vec![0x30, 0x00]),
            &[],
            &ServerName::try_from("login.microsoftonline.com").unwrap(),
            &[],
            UnixTime::now(),
        );
        assert!(refused.is_err());
        assert!(lazy.is_loaded());
    }
}
