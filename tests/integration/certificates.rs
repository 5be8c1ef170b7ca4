//! Certificates (PEM, split key, PFX) and the client assertion they sign, verified with the
//! certificate's public key the way Entra ID verifies it.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use entra_doctor::auth::{
    AssertionAlg, AssertionOptions, CertificateSource, ClientCertificate, ClientOptions,
    Credential, TokenClient,
};
use entra_doctor::{Error, Secret};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pretty_assertions::assert_eq;
use serde_json::Value;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::support::{CANARY_PFX_PASSWORD, CLIENT_ID, FormIs, fixture, token_body, v1_graph_token};
use crate::token_client::{request, token_path};

/// The SHA-1 thumbprint `openssl x509 -fingerprint -sha1` prints for daemon.crt.pem.
const THUMBPRINT: &str = "44BD312F294398460D21DFD7BFA3F8B14E7D8303";

fn pem(name: &str) -> ClientCertificate {
    ClientCertificate::load(&CertificateSource::Pem {
        path: fixture(name),
        key: None,
    })
    .unwrap()
}

fn pfx(name: &str, password: &str) -> Result<ClientCertificate, Error> {
    ClientCertificate::load(&CertificateSource::Pfx {
        path: fixture(name),
        password: Secret::new(password),
        password_source: "$TEST_PFX_PASSWORD".into(),
    })
}

fn leaf_der() -> Vec<u8> {
    let text = std::fs::read(fixture("daemon.crt.pem")).unwrap();
    pem::parse(text).unwrap().contents().to_vec()
}

#[test]
fn every_form_of_the_same_certificate_gives_the_same_identity() {
    let split = ClientCertificate::load(&CertificateSource::Pem {
        path: fixture("daemon.crt.pem"),
        key: Some(fixture("daemon.key.pem")),
    })
    .unwrap();
    let loaded = [
        pem("daemon-pkcs8.pem"),
        pem("daemon-pkcs1.pem"),
        split,
        pfx("daemon.pfx", CANARY_PFX_PASSWORD).unwrap(),
        pfx("daemon-legacy.pfx", CANARY_PFX_PASSWORD).unwrap(),
    ];
    let der = leaf_der();
    for certificate in &loaded {
        let info = &certificate.info;
        assert_eq!(info.thumbprint_sha1, THUMBPRINT);
        assert_eq!(info.x5t, URL_SAFE_NO_PAD.encode(Sha1::digest(&der)));
        assert_eq!(info.x5t_s256, URL_SAFE_NO_PAD.encode(Sha256::digest(&der)));
        assert_eq!(info.subject, "CN=entra-doctor test daemon");
        assert_eq!(info.issuer, "CN=entra-doctor test daemon");
        assert_eq!(info.not_after.to_rfc3339(), "2045-01-01T00:00:00+00:00");
        assert_eq!(info.key_bits, 2048);
        let debug = format!("{certificate:?}");
        assert!(
            debug.contains("[REDACTED]") && !debug.contains("MII"),
            "{debug}"
        );
    }
}

#[test]
fn refusals_say_why() {
    let load = |name: &str| {
        ClientCertificate::load(&CertificateSource::Pem {
            path: fixture(name),
            key: None,
        })
        .unwrap_err()
    };
    assert!(matches!(load("mismatched.pem"), Error::KeyMismatch { .. }));
    assert!(
        load("mismatched.pem")
            .to_string()
            .contains("does not belong to the certificate")
    );
    assert!(
        load("cert-only.pem")
            .to_string()
            .contains("holds no private key")
    );
    assert!(
        load("key-only.pem")
            .to_string()
            .contains("holds no CERTIFICATE block")
    );
    assert!(
        load("not-a-certificate.pem")
            .to_string()
            .contains("not an X.509 certificate")
    );
    assert!(
        load("daemon.pfx")
            .to_string()
            .contains("holds no PEM block")
    );
    assert!(
        load("no-such-file.pem")
            .to_string()
            .contains("No such file")
    );
    let dir = ClientCertificate::load(&CertificateSource::Pem {
        path: fixture(""),
        key: None,
    });
    assert!(dir.unwrap_err().to_string().contains("is a directory"));
    let split_mismatch = ClientCertificate::load(&CertificateSource::Pem {
        path: fixture("daemon.crt.pem"),
        key: Some(fixture("other.key.pem")),
    });
    assert!(matches!(split_mismatch, Err(Error::KeyMismatch { .. })));
    let wrong = pfx("daemon.pfx", "wrong password").unwrap_err();
    assert!(matches!(wrong, Error::PfxPassword { .. }), "{wrong:?}");
    assert!(wrong.to_string().contains("$TEST_PFX_PASSWORD"));
    assert!(
        !wrong.to_string().contains("wrong password"),
        "never echo the password"
    );
    assert!(matches!(
        pfx("daemon-legacy.pfx", "").unwrap_err(),
        Error::PfxPassword { .. }
    ));
    let garbage = pfx("daemon.crt.pem", "x").unwrap_err();
    assert!(
        garbage.to_string().contains("not a readable PFX"),
        "{garbage}"
    );
}

#[test]
fn expired_certificate_loads_and_reports_its_validity() {
    let certificate = pem("expired.pem");
    assert_eq!(
        certificate.info.validity_at(Utc::now()),
        entra_doctor::auth::Validity::Expired {
            since: certificate.info.not_after
        }
    );
}

/// Verifies the assertion with the certificate's public key and returns (header, claims).
fn verify(assertion: &str, alg: Algorithm, audience: &str) -> (Value, Value) {
    let der = leaf_der();
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let PublicKey::RSA(rsa) = cert.public_key().parsed().unwrap() else {
        panic!("RSA")
    };
    let key = DecodingKey::from_rsa_raw_components(rsa.modulus, rsa.exponent);
    let mut validation = Validation::new(alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    let data =
        jsonwebtoken::decode::<Value>(assertion, &key, &validation).expect("signature verifies");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(assertion.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    (header, data.claims)
}

async fn captured_assertion(options: AssertionOptions) -> (String, String, i64) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(FormIs(vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", CLIENT_ID.into()),
            ("scope", "https://graph.microsoft.com/.default".into()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ),
            ("client_assertion", "*".into()),
        ]))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_body(&v1_graph_token("cert"), 3599)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let credential = Credential::Certificate {
        certificate: Box::new(pfx("daemon.pfx", CANARY_PFX_PASSWORD).unwrap()),
        options,
    };
    let request = request(&server, credential, "https://graph.microsoft.com/.default");
    let now = Utc::now();
    TokenClient::new(ClientOptions::default())
        .unwrap()
        .acquire(&request, now)
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    let form = crate::support::form_of(&received[0]);
    (
        form["client_assertion"].clone(),
        format!("{}{}", server.uri(), token_path()),
        now.timestamp(),
    )
}

#[tokio::test]
async fn rs256_assertion_has_every_header_and_claim_entra_expects() {
    let (assertion, endpoint, now) = captured_assertion(AssertionOptions::default()).await;
    let (header, claims) = verify(&assertion, Algorithm::RS256, &endpoint);
    let der = leaf_der();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5t"], URL_SAFE_NO_PAD.encode(Sha1::digest(&der)));
    assert_eq!(
        header["x5t#S256"],
        URL_SAFE_NO_PAD.encode(Sha256::digest(&der))
    );
    assert!(header.get("x5c").is_none(), "x5c only with --send-x5c");
    assert_eq!(claims["aud"], endpoint);
    assert_eq!(claims["iss"], CLIENT_ID);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["nbf"], now);
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 600);
    let jti = claims["jti"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(jti).is_ok_and(|u| u.get_version_num() == 4),
        "{jti}"
    );
}

#[tokio::test]
async fn ps256_with_x5c_sends_the_chain() {
    let options = AssertionOptions {
        alg: AssertionAlg::Ps256,
        send_x5c: true,
    };
    let (assertion, endpoint, _) = captured_assertion(options).await;
    let (header, _) = verify(&assertion, Algorithm::PS256, &endpoint);
    assert_eq!(header["alg"], "PS256");
    assert_eq!(
        header["x5c"],
        serde_json::json!([STANDARD.encode(leaf_der())])
    );
}

#[tokio::test]
async fn each_assertion_is_fresh() {
    let (first, ..) = captured_assertion(AssertionOptions::default()).await;
    let (second, ..) = captured_assertion(AssertionOptions::default()).await;
    assert_ne!(first, second, "a new jti every time");
}

/// A PEM whose base64 is broken, a path that is not UTF-8, a file that is empty: each a clear
/// message naming the file, exit 2, never a panic.
#[cfg(unix)]
#[test]
fn malformed_files_and_odd_paths_are_named() {
    use std::os::unix::ffi::OsStrExt as _;
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nMIIB!!!not base64???\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let odd = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9-\xff.pem"));
    std::fs::write(&odd, std::fs::read(fixture("daemon-pkcs8.pem")).unwrap()).unwrap();
    let missing_odd = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"gone-\xff.pem"));
    for (path, says) in [
        (&broken, "broken.pem: is not valid PEM"),
        (&empty, "empty.pem: is empty"),
        (&missing_odd, "gone-\u{fffd}.pem"),
    ] {
        let output = crate::cli::entra_doctor()
            .args(["token", "--tenant", "contoso.onmicrosoft.com"])
            .args(["--client-id", crate::support::CLIENT_ID])
            .args([
                "--scope",
                "https://graph.microsoft.com/.default",
                "--certificate",
            ])
            .arg(path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A certificate at a non-UTF-8 path loads: the path is only displayed lossily.
    let loaded = ClientCertificate::load(&CertificateSource::Pem {
        path: odd,
        key: None,
    });
    assert!(loaded.is_ok(), "{loaded:?}");
}
