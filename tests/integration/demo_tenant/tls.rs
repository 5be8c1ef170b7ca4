//! `--tls`: the demo serves https that a client trusting the written CA file accepts, and that a
//! client without it refuses.

use entra_doctor::demo::{self, DemoOptions, TenantModel};

#[tokio::test]
async fn https_is_trusted_through_the_printed_ca_file() {
    let mut options = DemoOptions::new(TenantModel::builtin().unwrap());
    options.tls = true;
    let demo = demo::start(options).await.unwrap();
    assert!(demo.authority_host().starts_with("https://127.0.0.1:"));
    let ca = std::fs::read(demo.ca_file().expect("a CA file with --tls")).unwrap();
    let trusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let jwks = trusting.get(demo.jwks_uri()).send().await.unwrap();
    assert_eq!(jwks.status(), 200);
    let app = demo.app("healthy").unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.secret.as_ref().unwrap().expose()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let answer = trusting
        .post(demo.token_endpoint())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(untrusting.get(demo.jwks_uri()).send().await.is_err());
    demo.shutdown().await;
}
