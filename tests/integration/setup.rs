//! The one setup path: a credential kind uses exactly that credential, missing inputs are named
//! all at once in the words of where they are typed, and one precedence — given, then
//! `AZURE_*`, then the profile — holds for every surface.

use chrono::Utc;
use entra_doctor::Error;
use entra_doctor::auth::Credential;
use entra_doctor::diagnose::{FixContext, preflight};
use entra_doctor::environment::Environment;
use entra_doctor::profile::Profile;
use entra_doctor::secret::Secret;
use entra_doctor::setup::{CredentialSpec, Password, Spec, Surface, prepare};

use crate::support::{CANARY_PFX_PASSWORD, fixture};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "9999d1be-e182-4efa-8b0d-029e5af3dbcf";
const GRAPH: &str = "https://graph.microsoft.com/.default";

fn spec(credential: CredentialSpec) -> Spec {
    Spec {
        tenant: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        scopes: vec![GRAPH.into()],
        credential,
        ..Spec::default()
    }
}

fn prepared(spec: &Spec, env: &Environment) -> Result<Credential, Error> {
    prepare(spec, env, &mut || Ok(String::new()), Utc::now()).map(|p| p.request.credential)
}

/// The false green: the certificate kind with no file must not borrow the secret of the
/// environment (or of anywhere else).
#[test]
fn a_chosen_kind_never_falls_back_to_another_credential() {
    let env = Environment::from_pairs([
        ("AZURE_CLIENT_SECRET", "an-env-secret-that-must-not-be-used"),
        ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/env.pem"),
    ]);
    for (credential, names) in [
        (
            CredentialSpec::Certificate {
                path: None,
                private_key: None,
                password: Password::default(),
            },
            "the certificate file",
        ),
        (
            CredentialSpec::Assertion { path: None },
            "the assertion file",
        ),
        (CredentialSpec::Secret(None), "the secret"),
        (CredentialSpec::Secret(Some(Secret::new(""))), "the secret"),
    ] {
        let kind = credential.kind();
        let error = prepared(&spec(credential), &env).expect_err(kind);
        let Error::MissingInputs { summary, ids, .. } = &error else {
            panic!("{kind}: {error:?}");
        };
        assert_eq!(summary, names, "{kind}");
        assert_eq!(ids, &["credential.missing"], "{kind}");
    }
    // The certificate kind with its file is a certificate, whatever the environment holds.
    let chosen = spec(CredentialSpec::Certificate {
        path: Some(fixture("daemon.pfx")),
        private_key: None,
        password: Password::Given(Secret::new(CANARY_PFX_PASSWORD)),
    });
    let credential = prepared(&chosen, &env).unwrap();
    assert_eq!(credential.kind(), "certificate");
}

#[test]
fn every_missing_input_is_named_at_once_in_the_forms_words() {
    let empty = Spec {
        credential: CredentialSpec::Secret(None),
        surface: Surface::Form,
        ..Spec::default()
    };
    let error = prepared(&empty, &Environment::default()).unwrap_err();
    let finding = preflight::error(&error, &FixContext::default());
    assert_eq!(finding.id, "setup.incomplete");
    assert_eq!(
        finding.title,
        "Missing: the tenant, the client id, the secret and the scope"
    );
    let fields: Vec<&str> = finding
        .fixes
        .iter()
        .map(|fix| fix.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(fields, ["Tenant", "Client id", "Secret", "Scope"]);
    assert!(
        finding.fixes.iter().all(|fix| !fix.contains("--")),
        "form words, not flags: {:#?}",
        finding.fixes
    );
}

#[test]
fn the_command_line_is_told_its_flags() {
    let error = prepared(
        &Spec {
            tenant: Some(TENANT.into()),
            ..Spec::default()
        },
        &Environment::default(),
    )
    .unwrap_err();
    let message = error.to_string();
    for flag in ["--client-id", "AZURE_CLIENT_SECRET", "--scope"] {
        assert!(message.contains(flag), "{flag}: {message}");
    }
    assert!(
        !message.contains("--tenant"),
        "the tenant was given: {message}"
    );
    // One missing input keeps its own finding id.
    let error = prepared(
        &Spec {
            scopes: Vec::new(),
            ..spec(CredentialSpec::Secret(Some(Secret::new("x~secret"))))
        },
        &Environment::default(),
    )
    .unwrap_err();
    let finding = preflight::error(&error, &FixContext::default());
    assert_eq!(
        (finding.id.as_str(), finding.title.as_str()),
        ("scope.missing", "No scope was given")
    );
}

#[test]
fn given_beats_the_environment_which_beats_the_profile() {
    let env = Environment::from_pairs([
        ("AZURE_TENANT_ID", "env-tenant.onmicrosoft.com"),
        ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"),
    ]);
    let profile = Profile {
        tenant: "profile-tenant.onmicrosoft.com".into(),
        client_id: CLIENT.into(),
        authority_host: "https://login.partner.microsoftonline.cn".into(),
        credential_kind: "certificate".into(),
        certificate: "/profile/daemon.pem".into(),
        scopes: vec![GRAPH.into()],
        ..Profile::default()
    };
    let given = Spec {
        tenant: Some("given-tenant.onmicrosoft.com".into()),
        ..Spec::default()
    }
    .fill_from(&env, Some(&profile));
    assert_eq!(
        given.tenant.as_deref(),
        Some("given-tenant.onmicrosoft.com")
    );
    assert_eq!(
        given.authority_host.as_deref(),
        Some("https://login.microsoftonline.us")
    );
    assert_eq!(given.client_id.as_deref(), Some(CLIENT));
    assert_eq!(given.scopes, [GRAPH]);
    let CredentialSpec::Certificate { path, .. } = &given.credential else {
        panic!("{:?}", given.credential)
    };
    assert_eq!(
        path.as_deref(),
        Some(std::path::Path::new("/profile/daemon.pem"))
    );
    let blank = Spec::default().fill_from(&Environment::default(), Some(&profile));
    assert_eq!(
        blank.tenant.as_deref(),
        Some("profile-tenant.onmicrosoft.com")
    );
    // A credential variable wins over the profile's certificate: EnvironmentCredential's order.
    let with_secret = Spec::default().fill_from(
        &Environment::from_pairs([("AZURE_CLIENT_SECRET", "s")]),
        Some(&profile),
    );
    assert!(matches!(
        with_secret.credential,
        CredentialSpec::FromEnvironment
    ));
}

#[test]
fn a_pfx_opens_with_the_password_typed_in() {
    let with = |password: &str| {
        prepared(
            &spec(CredentialSpec::Certificate {
                path: Some(fixture("daemon.pfx")),
                private_key: None,
                password: Password::Given(Secret::new(password)),
            }),
            &Environment::default(),
        )
    };
    assert!(with(CANARY_PFX_PASSWORD).is_ok());
    let wrong = with("not the password").unwrap_err();
    assert!(matches!(wrong, Error::PfxPassword { .. }), "{wrong:?}");
    assert!(
        wrong.to_string().contains("PFX password field"),
        "says where the password came from: {wrong}"
    );
}

/// A managed identity is the credential used, whatever `AZURE_*` holds: it needs only the
/// scope, never reads `AZURE_CLIENT_SECRET`, and its tenant and client id are not taken from
/// `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` as facts (its token says them).
#[test]
fn a_managed_identity_never_falls_back_to_the_environments_secret() {
    use entra_doctor::auth::IdentitySelector;
    use entra_doctor::auth::managed_identity::SourceKind;
    let env = Environment::from_pairs([
        ("AZURE_CLIENT_SECRET", "an-env-secret-that-must-not-be-used"),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT),
        // Loopback, never the real IMDS: nothing is sent by prepare anyway.
        ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9"),
    ]);
    let only_scope = Spec {
        scopes: vec![GRAPH.into()],
        credential: CredentialSpec::ManagedIdentity(IdentitySelector::SystemAssigned),
        ..Spec::default()
    }
    .fill_from(&env, None);
    let prepared = prepare(&only_scope, &env, &mut || Ok(String::new()), Utc::now()).unwrap();
    let request = &prepared.request;
    assert!(
        matches!(
            &request.credential,
            Credential::ManagedIdentity { source, identity: IdentitySelector::SystemAssigned, .. }
                if source.kind() == SourceKind::Imds
        ),
        "{:?}",
        request.credential
    );
    assert_eq!(request.credential.source(), "managed identity (imds)");
    assert!(!format!("{prepared:?}").contains("an-env-secret"));
    // Neither the environment's tenant nor its client id is the identity's.
    assert_eq!(request.known_tenant(), None);
    assert_eq!(request.known_client_id(), None);
    let context = FixContext::for_request(request);
    assert_eq!((context.tenant, context.client_id), (None, None));
    assert_eq!(
        request.token_endpoint(),
        "http://127.0.0.1:9/metadata/identity/oauth2/token"
    );
    // Named by its client id, that id is known; nothing but the scope is ever missing.
    let named = Spec {
        credential: CredentialSpec::ManagedIdentity(IdentitySelector::ClientId(CLIENT.into())),
        ..Spec::default()
    };
    assert_eq!(named.missing(&env), vec![entra_doctor::setup::Input::Scope]);
    let error = prepared_error(&named, &env);
    assert!(error.contains("scope"), "{error}");
    let named = Spec {
        scopes: vec![GRAPH.into()],
        ..named
    };
    let request = prepare(&named, &env, &mut || Ok(String::new()), Utc::now())
        .unwrap()
        .request;
    assert_eq!(request.known_client_id(), Some(CLIENT));
    // An environment entra-doctor cannot use is refused at prepare time, as a finding.
    let fabric = Environment::from_pairs([
        (
            "IDENTITY_ENDPOINT",
            "https://10.0.0.4:2377/metadata/identity/oauth2/token",
        ),
        ("IDENTITY_HEADER", "h"),
        ("IDENTITY_SERVER_THUMBPRINT", "ab"),
        ("AZURE_CLIENT_SECRET", "an-env-secret-that-must-not-be-used"),
    ]);
    let error = prepare(&named, &fabric, &mut || Ok(String::new()), Utc::now()).unwrap_err();
    assert_eq!(
        preflight::error(&error, &FixContext::default()).id,
        "managed-identity.unsupported-source"
    );
}

fn prepared_error(spec: &Spec, env: &Environment) -> String {
    prepare(spec, env, &mut || Ok(String::new()), Utc::now())
        .unwrap_err()
        .to_string()
}

/// A managed identity saved from the TUI's form comes back from the profile as that identity,
/// and the App Service header it is prepared with never shows in `Debug`.
#[test]
fn a_saved_managed_identity_comes_back_and_its_header_stays_hidden() {
    use entra_doctor::auth::IdentitySelector;
    let profile = Profile {
        credential_kind: "managed-identity".into(),
        managed_identity: format!("client-id={CLIENT}"),
        scopes: vec![GRAPH.into()],
        ..Profile::default()
    };
    let env = Environment::from_pairs([
        ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
        ("IDENTITY_HEADER", "app-service-header-never-shown"),
    ]);
    let spec = Spec::default().fill_from(&env, Some(&profile));
    assert!(matches!(
        &spec.credential,
        CredentialSpec::ManagedIdentity(IdentitySelector::ClientId(id)) if id == CLIENT
    ));
    let prepared = prepare(&spec, &env, &mut || Ok(String::new()), Utc::now()).unwrap();
    assert_eq!(
        prepared.request.credential.source(),
        "managed identity (app-service)"
    );
    let debug = format!("{prepared:?}");
    assert!(!debug.contains("app-service-header-never-shown"), "{debug}");
}
