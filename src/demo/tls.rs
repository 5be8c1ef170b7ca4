//! https for `--tls`: a throw-away CA and a server certificate for `127.0.0.1` and `localhost`
//! made at start with rcgen (ECDSA P-256, ring), a rustls acceptor, and an axum [`Listener`] that
//! does the TLS handshakes off the accept path so that one slow client cannot stall the others.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::server::TlsStream;

use super::error::{Error, Result};

/// The acceptor and the CA certificate (PEM) a client must trust.
pub(super) struct TlsSetup {
    pub acceptor: TlsAcceptor,
    pub ca_pem: String,
}

pub(super) fn make() -> Result<TlsSetup> {
    let err = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
    let ca_key = KeyPair::generate().map_err(|e| err(&e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| err(&e))?;
    ca_params.distinguished_name.push(
        DnType::CommonName,
        "entra-doctor demo tenant CA (throw-away)",
    );
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(|e| err(&e))?;
    let ca = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(|e| err(&e))?;
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| err(&e))?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "entra-doctor demo tenant");
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(|e| err(&e))?;

    let key_der = pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(
        leaf_key.serialize_der(),
    ));
    let chain = vec![leaf.der().clone(), ca_cert.der().clone()];
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err(&e))?
    .with_no_client_auth()
    .with_single_cert(chain, key_der)
    .map_err(|e| err(&e))?;
    Ok(TlsSetup {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca_cert.pem(),
    })
}

/// Connections that finished their TLS handshake.
pub(super) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

/// Starts accepting on `tcp`; the returned task must be aborted when the server stops.
pub(super) fn listen(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
) -> std::io::Result<(TlsListener, JoinHandle<()>)> {
    let local = tcp.local_addr()?;
    let (tx, ready) = mpsc::channel(64);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let handshake =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                if let Ok(Ok(tls)) = handshake.await {
                    let _ = tx.send((tls, peer)).await;
                } else {
                    tracing::debug!(%peer, "TLS handshake with the demo tenant failed");
                }
            });
        }
    });
    Ok((TlsListener { ready, local }, task))
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The acceptor task is gone: nothing will ever connect again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
