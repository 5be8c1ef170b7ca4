//! The foundation's token client and CLI against the embedded demo tenant: secret, PEM and PFX
//! credentials, decoded claims, and the scenarios' errors read into typed Entra errors.

use chrono::Utc;
use entra_doctor::auth::{
    Authority, AuthorityHost, CertificateSource, ClientCertificate, ClientOptions, Credential,
    ScopeSet, Tenant, TokenClient, TokenRequest,
};
use entra_doctor::demo::RunningDemo;
use entra_doctor::token::decode;
use entra_doctor::{Error, Secret};
use pretty_assertions::assert_eq;

use crate::support::start_demo;

fn request(
    demo: &RunningDemo,
    scenario: &str,
    credential: Credential,
    scope: Option<&str>,
) -> TokenRequest {
    let app = demo.app(scenario).unwrap();
    TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(demo.authority_host()).unwrap(),
            Tenant::parse(demo.tenant_domain()).unwrap(),
        ),
        token_endpoint: None,
        client_id: app.client_id.clone(),
        scopes: ScopeSet::parse(&[scope.unwrap_or(&app.scope)]).unwrap(),
        credential,
        claims: None,
    }
}

fn secret_of(demo: &RunningDemo, scenario: &str) -> Credential {
    Credential::Secret(Secret::new(
        demo.app(scenario)
            .unwrap()
            .secret
            .as_ref()
            .unwrap()
            .expose(),
    ))
}

async fn acquire(request: &TokenRequest) -> Result<entra_doctor::auth::TokenResponse, Error> {
    TokenClient::new(ClientOptions::default())
        .unwrap()
        .acquire(request, Utc::now())
        .await
}

#[tokio::test]
async fn healthy_app_gets_a_v1_graph_token_with_every_credential() {
    let demo = start_demo().await;
    let app = demo.app("healthy").unwrap();
    let pem = ClientCertificate::load(&CertificateSource::Pem {
        path: app.certificate_pem.clone().unwrap(),
        key: None,
    })
    .unwrap();
    let pfx = ClientCertificate::load(&CertificateSource::Pfx {
        path: app.certificate_pfx.clone().unwrap(),
        password: Secret::new(app.pfx_password.as_ref().unwrap().expose()),
        password_source: "demo".into(),
    })
    .unwrap();
    let credentials = [
        (secret_of(&demo, "healthy"), "1"),
        (
            Credential::Certificate {
                certificate: Box::new(pem),
                options: entra_doctor::auth::AssertionOptions::default(),
            },
            "2",
        ),
        (
            Credential::Certificate {
                certificate: Box::new(pfx),
                options: entra_doctor::auth::AssertionOptions::default(),
            },
            "2",
        ),
    ];
    for (credential, acr) in credentials {
        let response = acquire(&request(&demo, "healthy", credential, None))
            .await
            .unwrap();
        assert_eq!(
            (response.token_type.as_str(), response.expires_in),
            ("Bearer", 3599)
        );
        let token = decode(response.access_token.expose()).unwrap();
        let claims = &token.claims;
        assert_eq!(claims.ver.as_deref(), Some("1.0"));
        assert_eq!(claims.appid.as_deref(), Some(app.client_id.as_str()));
        assert_eq!(claims.appidacr.as_deref(), Some(acr));
        assert_eq!(claims.idtyp.as_deref(), Some("app"));
        assert_eq!(
            claims.iss.as_deref(),
            Some(format!("https://sts.windows.net/{}/", demo.tenant_id()).as_str())
        );
        assert!(
            claims.roles.as_ref().is_some_and(|r| !r.is_empty()),
            "{claims:?}"
        );
        assert!(token.header.kid.is_some() && token.header.x5t.is_some());
    }
}

#[tokio::test]
async fn scenarios_fail_with_their_codes() {
    let demo = start_demo().await;
    let no_consent = acquire(&request(
        &demo,
        "no-consent",
        secret_of(&demo, "no-consent"),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(
        decode(no_consent.access_token.expose())
            .unwrap()
            .claims
            .roles,
        None
    );

    let slash = acquire(&request(
        &demo,
        "trailing-slash",
        secret_of(&demo, "trailing-slash"),
        None,
    ))
    .await
    .unwrap();
    let aud = decode(slash.access_token.expose()).unwrap().claims.aud;
    assert_eq!(
        aud,
        Some(entra_doctor::token::Audience::One(
            "https://database.windows.net".into()
        ))
    );
    let fixed = request(
        &demo,
        "trailing-slash",
        secret_of(&demo, "trailing-slash"),
        Some("https://database.windows.net//.default"),
    );
    let aud = decode(acquire(&fixed).await.unwrap().access_token.expose())
        .unwrap()
        .claims
        .aud;
    assert_eq!(
        aud,
        Some(entra_doctor::token::Audience::One(
            "https://database.windows.net/".into()
        ))
    );

    for (scenario, code, status) in [
        ("wrong-scope", 1_002_012, 400),
        ("expired-secret", 7_000_222, 401),
    ] {
        let error = acquire(&request(&demo, scenario, secret_of(&demo, scenario), None))
            .await
            .unwrap_err();
        let Error::Entra(entra) = error else {
            panic!("{scenario}: {error:?}")
        };
        assert_eq!(
            (entra.code(), entra.status),
            (Some(code), status),
            "{scenario}"
        );
        assert!(entra.trace_id.is_some() && entra.correlation_id.is_some());
    }

    let app = demo.app("unregistered-certificate").unwrap();
    let certificate = ClientCertificate::load(&CertificateSource::Pem {
        path: app.certificate_pem.clone().unwrap(),
        key: None,
    })
    .unwrap();
    let credential = Credential::Certificate {
        certificate: Box::new(certificate),
        options: entra_doctor::auth::AssertionOptions::default(),
    };
    let error = acquire(&request(
        &demo,
        "unregistered-certificate",
        credential,
        None,
    ))
    .await
    .unwrap_err();
    let Error::Entra(entra) = error else {
        panic!("{error:?}")
    };
    assert_eq!(entra.code(), Some(700_027));
}

#[tokio::test]
async fn discovery_of_the_demo_tenant() {
    let demo = start_demo().await;
    let authority = Authority::new(
        AuthorityHost::parse(demo.authority_host()).unwrap(),
        Tenant::parse(demo.tenant_id()).unwrap(),
    );
    let metadata = TokenClient::new(ClientOptions::default())
        .unwrap()
        .discover(&authority)
        .await
        .unwrap();
    assert_eq!(metadata.token_endpoint, demo.token_endpoint());
}
