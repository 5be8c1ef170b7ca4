//! The TUI on the one setup path: the credential kind on screen is the credential used, an empty
//! form names every missing field in the form's words, the delegated-instead-of-application
//! lesson is named by `d` alone, and a demo session never writes the operator's profile.

#![cfg(feature = "tui")]

use crossterm::event::{KeyCode, KeyModifiers};
use entra_doctor::tui::effect::Services;
use entra_doctor::tui::form::{CredentialKind, Field, Form};
use entra_doctor::tui::state::{Load, State};

use crate::tui_harness::Harness;

fn ids(h: &Harness) -> Vec<&str> {
    h.state.findings.iter().map(|f| f.id.as_str()).collect()
}

/// The false green: the certificate kind with an empty Certificate field used to acquire with
/// the form's secret. It must use exactly the certificate, or say it is missing.
#[tokio::test(flavor = "multi_thread")]
async fn the_certificate_kind_with_no_file_never_uses_the_secret() {
    let mut h = Harness::demo(Some("healthy")).await;
    assert!(
        !h.state.form.secret.0.value().is_empty(),
        "the secret is there"
    );
    h.state.form.kind = CredentialKind::Certificate;
    assert_eq!(h.state.form.certificate.value(), "");
    h.press(KeyCode::Char('f'));
    h.settle().await;
    let Load::Failed(finding) = &h.state.token else {
        panic!("a token was issued: {}", h.state.status)
    };
    assert_eq!(finding.id, "credential.missing");
    assert_eq!(finding.title, "No certificate file was given");
    assert!(
        h.state.cache.is_empty(),
        "nothing may be cached: {:?}",
        h.state.cache
    );
    assert!(h.state.status.starts_with("No token"), "{}", h.state.status);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_form_names_every_missing_field_at_once() {
    let mut h = Harness {
        state: State::new(Form::default(), chrono::Utc::now()),
        services: Services::new(None),
        pending: Vec::new(),
        _demo: None,
    };
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(ids(&h), ["setup.incomplete"]);
    let finding = &h.state.findings[0];
    assert_eq!(
        finding.title,
        "Missing: the tenant, the client id, the secret and the scope"
    );
    assert!(
        finding.fixes.iter().all(|f| !f.contains("--")),
        "{finding:#?}"
    );
    crate::assert_frame!("tui_empty_form_doctor_80x24", h.frame(80, 24));
    crate::assert_frame!("tui_empty_form_doctor_120x40", h.frame(120, 40));
}

/// In the demo, the healthy app stands in as the consent audit's admin: `d` on the lesson ends
/// on the audit, which names the mistake.
#[tokio::test(flavor = "multi_thread")]
async fn d_names_a_permission_added_as_delegated() {
    let mut h = Harness::demo(Some("delegated-instead-of-application")).await;
    assert!(!h.state.form.admin_client_id.value().is_empty());
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(
        ids(&h).first(),
        Some(&"consent.delegated-only"),
        "the cause leads: {:?} / {}",
        ids(&h),
        h.state.status
    );
    let table = h.state.consent.as_deref().expect("the audit's table");
    assert!(
        table
            .rows
            .iter()
            .any(|r| r.permission == "User.Read.All" && r.delegated_only)
    );
    crate::assert_frame!("tui_delegated_doctor_80x24", h.frame(80, 24));
    crate::assert_frame!("tui_delegated_doctor_120x40", h.frame(120, 40));
    // No-consent is a different lesson, and `d` says so.
    let mut h = Harness::demo(Some("no-consent")).await;
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert!(ids(&h).contains(&"consent.missing"), "{:?}", ids(&h));
    assert!(!ids(&h).contains(&"consent.delegated-only"));
    // The healthy app needs no audit: its probe answers 200.
    let mut h = Harness::demo(Some("healthy")).await;
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert!(!ids(&h).iter().any(|id| id.starts_with("consent.")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_demo_session_never_writes_the_profile() {
    let mut h = Harness::demo(Some("healthy")).await;
    h.press_with(KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(h.pending.is_empty(), "{:?}", h.pending);
    assert!(
        h.state
            .status
            .starts_with("Demo sessions do not save a profile"),
        "{}",
        h.state.status
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pfx_shows_its_password_field_and_the_admin_secret_follows_the_admin_app() {
    let mut form = Form {
        kind: CredentialKind::Certificate,
        ..Form::default()
    };
    form.set(Field::Certificate, "/keys/daemon.pfx");
    assert!(form.visible().contains(&Field::CertificatePassword));
    form.set(Field::Certificate, "/keys/daemon.pem");
    assert!(!form.visible().contains(&Field::CertificatePassword));
    assert!(!form.visible().contains(&Field::AdminSecret));
    form.set(Field::AdminClientId, "9999d1be-e182-4efa-8b0d-029e5af3dbcf");
    assert!(form.visible().contains(&Field::AdminSecret));
    for field in [
        Field::Secret,
        Field::CertificatePassword,
        Field::AdminSecret,
    ] {
        assert!(field.is_secret(), "{field:?}");
    }
}

/// `d` on a refused federated token ends on the comparison with the app's federated
/// credentials, which names the one value that differs; the pane shows the token's value right
/// above the credential's.
#[tokio::test(flavor = "multi_thread")]
async fn d_compares_a_refused_federated_token_with_the_apps_credentials() {
    let mut h = Harness::demo(Some("federated-issuer-slash")).await;
    assert_eq!(h.state.form.kind, CredentialKind::Assertion);
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(
        ids(&h).first(),
        Some(&"federation.issuer-mismatch"),
        "{:?} / {}",
        ids(&h),
        h.state.status
    );
    assert!(ids(&h).contains(&"AADSTS700211"));
    assert!(ids(&h).contains(&"federation.presented"));
    let comparison = h.state.federation.as_deref().expect("the comparison");
    assert_eq!(comparison.credentials.len(), 1);
    assert!(!comparison.credentials[0].issuer.is_match);
    assert!(comparison.credentials[0].subject.is_match);
    // Paging reads the pane's size from the frame drawn last, as in the terminal.
    h.frame(80, 24);
    h.press(KeyCode::End);
    let narrow = h.frame(80, 24);
    assert!(narrow.contains("✗ trailing slash"), "{narrow}");
    crate::assert_frame!("tui_federation_issuer_slash_end_80x24", narrow);
    crate::assert_frame!("tui_federation_issuer_slash_120x40", h.frame(120, 40));

    // `g` on the assertion kind runs the same comparison without a token request.
    let mut h = Harness::demo(Some("federated-subject-mismatch")).await;
    h.press(KeyCode::Char('g'));
    h.settle().await;
    assert_eq!(ids(&h).first(), Some(&"federation.subject-mismatch"));
    let comparison = h.state.federation.as_deref().expect("the comparison");
    assert_eq!(
        comparison.credentials.len(),
        2,
        "the branch and the flexible one"
    );
    assert!(comparison.matching().is_none());
}

/// The demo's managed identity lesson from the picker: the form asks the system-assigned
/// identity of the demo's VM, whose IMDS is the demo; `d` names `managed-identity.not-assigned`
/// and its fix, and nothing is asked of the machine's own IMDS.
#[tokio::test(flavor = "multi_thread")]
async fn the_managed_identity_lesson_names_the_missing_assignment() {
    let mut h = Harness::demo(Some("managed-identity-not-assigned")).await;
    assert_eq!(h.state.form.kind, CredentialKind::ManagedIdentity);
    assert_eq!(h.state.form.identity.value(), "");
    let visible = h.state.form.visible();
    assert!(visible.contains(&Field::Identity));
    assert!(!visible.contains(&Field::Tenant) && !visible.contains(&Field::ClientId));
    h.press(KeyCode::Char('d'));
    h.settle().await;
    assert_eq!(
        ids(&h).first(),
        Some(&"managed-identity.not-assigned"),
        "{}",
        h.state.status
    );
    let finding = &h.state.findings[0];
    assert!(
        finding
            .fixes
            .iter()
            .any(|f| f.contains("az vm identity assign")),
        "{finding:#?}"
    );
    crate::assert_frame!("tui_managed_identity_not_assigned_80x24", h.frame(80, 24));
    crate::assert_frame!("tui_managed_identity_not_assigned_120x40", h.frame(120, 40));
}

/// Space cycles secret → certificate → assertion → managed identity → secret; the form and
/// the spec carry the identity both ways, and text that names no identity is refused by name.
#[test]
fn the_managed_identity_kind_round_trips_through_the_spec() {
    use entra_doctor::auth::IdentitySelector;
    use entra_doctor::setup::{CredentialSpec, Network};
    let mut kind = CredentialKind::Secret;
    let mut seen = Vec::new();
    for _ in 0..4 {
        kind = kind.next();
        seen.push(kind);
    }
    assert_eq!(
        seen,
        [
            CredentialKind::Certificate,
            CredentialKind::Assertion,
            CredentialKind::ManagedIdentity,
            CredentialKind::Secret
        ]
    );
    let mut form = Form {
        kind: CredentialKind::ManagedIdentity,
        ..Form::default()
    };
    form.set(Field::Tenant, "hidden-and-unused.example.com");
    form.set(Field::Scope, "https://vault.azure.net/.default");
    let spec = form.to_spec(Network::default());
    assert!(matches!(
        spec.credential,
        CredentialSpec::ManagedIdentity(IdentitySelector::SystemAssigned)
    ));
    assert_eq!(spec.tenant, None);
    let id = "748967b5-5273-4e73-a3fa-1ee44af271de";
    form.set(Field::Identity, &format!("client-id={id}"));
    let spec = form.to_spec(Network::default());
    let back = Form::from_spec(&spec, None);
    assert_eq!(back.kind, CredentialKind::ManagedIdentity);
    assert_eq!(back.identity.value(), format!("client-id={id}"));
    form.set(Field::Identity, "not an identity");
    let spec = form.to_spec(Network::default());
    let error = entra_doctor::setup::prepare(
        &spec,
        &entra_doctor::environment::Environment::default(),
        &mut || Ok(String::new()),
        chrono::Utc::now(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("Identity \"not an identity\""), "{error}");
    assert!(error.contains("client-id=GUID"), "{error}");
}

/// The federated kind takes the token itself as well as its file: pasted into the Assertion
/// field it is masked, used as the credential, and never saved in the profile.
#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_federated_token_is_the_credential_masked_and_never_saved() {
    let mut h = Harness::demo(Some("federated-issuer-slash")).await;
    let path = h.state.form.assertion_file.value().to_owned();
    let token = std::fs::read_to_string(&path).unwrap().trim().to_owned();
    h.state.form.set(Field::AssertionFile, &token);
    assert!(h.state.form.assertion_is_token());
    assert!(h.state.form.to_profile().assertion_file.is_empty());
    for frame in [h.frame(80, 24), h.frame(120, 40)] {
        assert!(!frame.contains(&token[..40]), "the token shows: {frame}");
    }
    h.press(KeyCode::Char('f'));
    h.settle().await;
    // The pasted token was presented: Entra ID refuses its issuer as it refuses the file's.
    assert!(ids(&h).contains(&"AADSTS700211"), "{:?}", ids(&h));
    let presented = h
        .state
        .findings
        .iter()
        .find(|f| f.id == "federation.presented")
        .expect("the token is checked before sending");
    assert!(
        presented
            .evidence
            .iter()
            .any(|e| e == "sub: system:serviceaccount:orders:orders-api"),
        "{presented:#?}"
    );
}

/// The walkthrough takes a managed identity as any other credential: there is no tenant to
/// discover and no app registration (steps 1 and 2 say so), and step 3 asks its endpoint.
#[tokio::test(flavor = "multi_thread")]
async fn the_walkthrough_leads_a_managed_identity_to_its_endpoint() {
    use entra_doctor::walkthrough::{Status, StepId};
    let mut h = Harness::demo(Some("managed-identity-not-assigned")).await;
    h.press(KeyCode::Char('6'));
    h.press(KeyCode::Char('r'));
    h.settle().await;
    let steps: Vec<(StepId, Status)> = h
        .state
        .walk
        .steps
        .iter()
        .map(|r| (r.step, r.status))
        .collect();
    assert_eq!(
        steps[..4],
        [
            (StepId::Tenant, Status::Skipped),
            (StepId::App, Status::Skipped),
            (StepId::Credential, Status::Failed),
            (StepId::Scope, Status::NotYet),
        ]
    );
    let failed = &h.state.walk.steps[2];
    assert_eq!(
        failed.finding.as_ref().map(|f| f.id.as_str()),
        Some("managed-identity.not-assigned")
    );
    assert_eq!(
        failed.checked,
        "asked the IMDS endpoint for the managed identity"
    );
    // Issue 17: no expiry line, a managed identity has no credential of its own to renew.
    assert!(failed.credential.is_none(), "{failed:#?}");
    assert!(
        failed.evidence.iter().all(|e| !e.starts_with("expiry: ")),
        "{failed:#?}"
    );
    crate::assert_frame!("tui_walkthrough_managed_identity_80x24", h.frame(80, 24));
}
