//! How the tool reaches servers: rustls trusting the platform's roots (plus a CA bundle for a
//! TLS-inspecting proxy), the `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` proxies, and never a
//! proxy for loopback.
//!
//! Roots. The platform store is read once per process, when the first https server shows its
//! certificate and never for plain http ([`roots`]), with `rustls-native-certs` (the system
//! bundle on Linux, the keychain on macOS, the certificate store on Windows), so a CA an
//! enterprise installs on its machines is trusted here too. `SSL_CERT_FILE` / `SSL_CERT_DIR` are
//! read there the way OpenSSL and curl read them: they name the store instead of the platform's.
//! Only when the platform store yields no certificate at all (a minimal container without
//! `ca-certificates`) do the bundled Mozilla roots (`webpki-roots`) stand in, with a warning in
//! the log: failing every request there would help no one, and those roots are what such a
//! system would have installed. A `--ca-file` bundle is added to whichever roots are in use.
//!
//! Proxies. The variables are read by the CLI (see `cli::config`) and handed in as values, as
//! curl reads them: `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http URLs, `ALL_PROXY` for
//! both, `NO_PROXY` for exceptions. Loopback (`localhost`, `127.0.0.0/8`, `::1`) is always
//! reached directly: plain http is allowed there only because the traffic never leaves the
//! machine, which a proxy would break (and a proxy elsewhere could not reach it anyway).

use std::path::{Path, PathBuf};

use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::{SectionKind, from_buf as pem_section};
use url::Url;

use crate::error::{Error, Result};

pub mod roots;

/// Hosts that never go through a proxy, in `NO_PROXY` syntax: the same set as
/// [`crate::auth::authority::ensure_secure`] lets plain http reach.
const LOOPBACK: &str = "localhost, 127.0.0.0/8, ::1";

/// A CA bundle to trust besides the platform's roots.
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle {
    /// Where it came from, for messages: `--ca-file /path` or `SSL_CERT_FILE /path`.
    pub source: String,
    pub path: PathBuf,
    /// DER certificates, each checked to be a usable trust anchor.
    certificates: Vec<Vec<u8>>,
}

impl CaBundle {
    /// Reads a PEM bundle of one or more CA certificates; `source` names the option or variable
    /// it came from, for the error messages.
    pub fn load(path: &Path, source: &str) -> Result<Self> {
        let what = format!("{source} {}", path.display());
        let invalid = |reason: String| Error::InvalidInput {
            what: what.clone(),
            reason,
        };
        let bytes = read_pem_file(path, &what)?;
        // rustls's own PEM reader, the one `rustls-native-certs` reads the platform bundle with
        // (about twice as fast as the `pem` crate). A bundle the operator named on the command
        // line is checked whole here, at start-up, so that a bad one is an input error before
        // any request, even one that needs no CA.
        let mut certificates = Vec::new();
        let mut others = Vec::new();
        let mut reader: &[u8] = &bytes;
        loop {
            match pem_section(&mut reader) {
                Ok(None) => break,
                Ok(Some((SectionKind::Certificate, der))) => {
                    RootCertStore::empty()
                        .add(CertificateDer::from(der.clone()))
                        .map_err(|e| {
                            invalid(format!(
                                "certificate #{} cannot be used as a CA ({e})",
                                certificates.len() + 1
                            ))
                        })?;
                    certificates.push(der);
                }
                Ok(Some((kind, _))) => others.push(section_label(kind)),
                Err(e) => {
                    return Err(invalid(format!(
                        "is not valid PEM ({e}); check the file is whole"
                    )));
                }
            }
        }
        if certificates.is_empty() {
            let found = if others.is_empty() {
                String::new()
            } else {
                format!(" (found: {})", others.join(", "))
            };
            return Err(invalid(format!(
                "holds no CERTIFICATE block{found}; give the CA certificate(s) in PEM"
            )));
        }
        Ok(Self {
            source: source.to_owned(),
            path: path.to_owned(),
            certificates,
        })
    }

    /// A bundle the platform-roots loader reads itself (`SSL_CERT_FILE`, which replaces the
    /// platform's store, as in OpenSSL): checked here only for what fails fast and cheaply — it
    /// exists, is a file, and holds a PEM CERTIFICATE block — so a mistyped variable is an
    /// input error before any request. Its certificates are parsed with the platform's, on the
    /// first https certificate ([`roots`]), never for plain http.
    pub fn named(path: &Path, source: &str) -> Result<Self> {
        let what = format!("{source} {}", path.display());
        let bytes = read_pem_file(path, &what)?;
        let text = String::from_utf8_lossy(&bytes);
        let labels: Vec<&str> = text
            .lines()
            .filter_map(|line| {
                line.trim()
                    .strip_prefix("-----BEGIN ")?
                    .strip_suffix("-----")
            })
            .collect();
        if !labels.contains(&"CERTIFICATE") {
            let mut found: Vec<&str> = Vec::new();
            for label in labels {
                if !found.contains(&label) {
                    found.push(label);
                }
            }
            return Err(Error::InvalidInput {
                what,
                reason: format!(
                    "holds no CERTIFICATE block (found: {}); give the CA certificate(s) in PEM",
                    found.join(", ")
                ),
            });
        }
        Ok(Self {
            source: source.to_owned(),
            path: path.to_owned(),
            certificates: Vec::new(),
        })
    }

    /// How many certificates the bundle holds.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaBundle")
            .field("source", &self.source)
            .field("path", &self.path)
            .field("certificates", &self.certificates.len())
            .finish_non_exhaustive()
    }
}

/// The PEM label of a section that is not a certificate, for the message that lists them.
/// A PEM file's bytes, or the error that says why it cannot be one.
fn read_pem_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let invalid = |reason: String| Error::InvalidInput {
        what: what.to_owned(),
        reason,
    };
    if path.is_dir() {
        return Err(invalid(
            "is a directory; give a PEM file holding the CA certificate(s)".into(),
        ));
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid(
                "does not exist; give a PEM file holding the CA certificate(s), e.g. the \
                 root CA of your TLS-inspecting proxy"
                    .into(),
            ));
        }
        Err(e) => return Err(Error::file(path, e)),
    };
    if !bytes.windows(10).any(|w| w == b"-----BEGIN") {
        return Err(invalid(
            "is not a PEM file (no -----BEGIN CERTIFICATE----- block); convert a DER \
             certificate with: openssl x509 -inform der -in ca.cer -out ca.pem"
                .into(),
        ));
    }
    Ok(bytes)
}

fn section_label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        _ => "another kind of block",
    }
}

/// The proxies to use, from the environment (see the module docs).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    pub https: Option<Url>,
    pub http: Option<Url>,
    /// `NO_PROXY`: comma-separated hosts, domains (`.corp.example`), IPs and networks.
    pub no_proxy: String,
}

impl Proxies {
    /// Parses one proxy variable; `name` is the variable, for the message.
    pub fn parse_url(name: &str, value: &str) -> Result<Url> {
        // curl takes a bare host:port as http://host:port.
        let with_scheme = if value.contains("://") {
            value.to_owned()
        } else {
            format!("http://{value}")
        };
        let invalid = |reason: &str| Error::InvalidInput {
            what: format!("{name} {:?}", redact_value(value)),
            reason: reason.to_owned(),
        };
        let url = Url::parse(&with_scheme).map_err(|_| {
            invalid("is not a proxy URL; use e.g. http://proxy.example:3128, or unset it")
        })?;
        if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") || url.host().is_none()
        {
            return Err(invalid(
                "is not a proxy URL; use e.g. http://proxy.example:3128, or unset it",
            ));
        }
        if url.scheme().starts_with("socks") {
            return Err(invalid(
                "names a SOCKS proxy, which entra-doctor does not support; use an HTTP proxy",
            ));
        }
        Ok(url)
    }

    pub fn is_empty(&self) -> bool {
        self.https.is_none() && self.http.is_none()
    }
}

/// Proxy URLs may carry a user and password: messages show neither.
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() || shown.password().is_some() {
        let _ = shown.set_username("***");
        let _ = shown.set_password(None);
    }
    shown.to_string()
}

fn redact_value(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((before, host)) => match before.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://***@{host}"),
            None => format!("***@{host}"),
        },
        None => value.to_owned(),
    }
}

impl std::fmt::Debug for Proxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxies")
            .field("https", &self.https.as_ref().map(redacted))
            .field("http", &self.http.as_ref().map(redacted))
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// Everything about reaching servers that is not a timeout: extra CAs and proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    pub ca_bundles: Vec<CaBundle>,
    pub proxies: Proxies,
}

impl Transport {
    /// A reqwest builder with these roots and proxies; the caller adds timeouts and the rest.
    ///
    /// The roots are read on the first https certificate ([`roots`]), not here: a client that
    /// only ever talks plain http to loopback never reads them.
    pub fn client_builder(&self) -> Result<reqwest::ClientBuilder> {
        let extra = self
            .ca_bundles
            .iter()
            .flat_map(|bundle| bundle.certificates.iter())
            .map(|der| CertificateDer::from(der.clone()))
            .collect();
        let tls = roots::client_config(extra).map_err(|e| Error::InvalidInput {
            what: "the TLS configuration".into(),
            reason: format!("cannot be built ({e})"),
        })?;
        let mut builder = reqwest::Client::builder().use_preconfigured_tls(tls);
        if self.proxies.is_empty() {
            // Without this reqwest would read the proxy variables itself, behind our back.
            return Ok(builder.no_proxy());
        }
        let no_proxy = if self.proxies.no_proxy.trim().is_empty() {
            LOOPBACK.to_owned()
        } else {
            format!("{}, {LOOPBACK}", self.proxies.no_proxy)
        };
        let except = || reqwest::NoProxy::from_string(&no_proxy);
        // The URLs were parsed when the variables were read, so these cannot fail.
        if let Some(proxy) = self
            .proxies
            .https
            .clone()
            .and_then(|u| reqwest::Proxy::https(u).ok())
        {
            builder = builder.proxy(proxy.no_proxy(except()));
        }
        if let Some(proxy) = self
            .proxies
            .http
            .clone()
            .and_then(|u| reqwest::Proxy::http(u).ok())
        {
            builder = builder.proxy(proxy.no_proxy(except()));
        }
        Ok(builder)
    }

    /// Where the extra CAs came from, for messages: `--ca-file /path, SSL_CERT_FILE /path`.
    pub fn ca_sources(&self) -> Option<String> {
        (!self.ca_bundles.is_empty()).then(|| {
            self.ca_bundles
                .iter()
                .map(|b| format!("{} {}", b.source, b.path.display()))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// The error for a transport failure when it is a certificate the server sent that was not
    /// trusted; `None` for any other failure.
    pub fn untrusted(&self, url: &str, error: &reqwest::Error) -> Option<Error> {
        let problem = certificate_problem(error)?;
        let (reason, hint) = match problem {
            CertProblem::UnknownIssuer => (
                "it was issued by a CA this machine does not trust".to_owned(),
                match self.ca_sources() {
                    Some(sources) => format!(
                        "the CA(s) in {sources} did not sign it either; put the CA that issued \
                         the server's certificate (your TLS-inspecting proxy's root CA) in that \
                         bundle"
                    ),
                    None => "if a TLS-inspecting proxy sits on the way, trust its root CA with \
                             --ca-file PATH or SSL_CERT_FILE=PATH (a PEM bundle); otherwise \
                             check that the URL names the real server"
                        .to_owned(),
                },
            ),
            CertProblem::NotValidForName => (
                "it was issued for another host name".to_owned(),
                "check the host in the URL; a proxy answering in the server's place must \
                 present a certificate for that host"
                    .to_owned(),
            ),
            CertProblem::Expired => (
                "it has expired (or this machine's clock is wrong)".to_owned(),
                "check the clock; otherwise the server (or the proxy) must renew its certificate"
                    .to_owned(),
            ),
            CertProblem::Other(detail) => (
                detail,
                "if a TLS-inspecting proxy sits on the way, trust its root CA with --ca-file \
                 PATH or SSL_CERT_FILE=PATH"
                    .to_owned(),
            ),
        };
        Some(Error::UntrustedCertificate {
            url: url.to_owned(),
            reason,
            hint,
        })
    }
}

enum CertProblem {
    UnknownIssuer,
    NotValidForName,
    Expired,
    Other(String),
}

/// Finds rustls's certificate error in the chain. It sits inside `io::Error`s (two, nested),
/// whose `source()` skips what they wrap, so each `io::Error` is opened by hand.
fn certificate_problem(error: &reqwest::Error) -> Option<CertProblem> {
    use tokio_rustls::rustls::{CertificateError, Error as TlsError};
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
        if let Some(TlsError::InvalidCertificate(kind)) = current.downcast_ref::<TlsError>() {
            return Some(match kind {
                CertificateError::UnknownIssuer => CertProblem::UnknownIssuer,
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => CertProblem::NotValidForName,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    CertProblem::Expired
                }
                other => CertProblem::Other(format!("the certificate was refused: {other}")),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_cut_short_is_not_valid_pem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.pem");
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
        let error = CaBundle::load(&path, "--ca-file").unwrap_err().to_string();
        assert!(error.contains("is not valid PEM"), "{error}");
        assert!(error.contains("check the file is whole"), "{error}");
    }

    #[test]
    fn proxy_urls_are_checked_and_never_shown_with_credentials() {
        assert_eq!(
            Proxies::parse_url("HTTPS_PROXY", "proxy.corp:3128")
                .unwrap()
                .as_str(),
            "http://proxy.corp:3128/"
        );
        let error = Proxies::parse_url("HTTPS_PROXY", "http://user:CANARY@::bad").unwrap_err();
        assert!(!error.to_string().contains("CANARY"), "{error}");
        assert!(error.to_string().contains("HTTPS_PROXY"), "{error}");
        let socks = Proxies::parse_url("ALL_PROXY", "socks5://127.0.0.1:1080").unwrap_err();
        assert!(socks.to_string().contains("SOCKS"), "{socks}");
        let proxies = Proxies {
            https: Some(Proxies::parse_url("HTTPS_PROXY", "http://u:CANARY@p:1").unwrap()),
            ..Proxies::default()
        };
        assert!(!format!("{proxies:?}").contains("CANARY"));
    }
}
