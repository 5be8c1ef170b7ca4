//! The credentials form: its fields, the text inputs behind them, and how it becomes a request.

use std::fmt;

use tui_input::Input;

use crate::auth::IdentitySelector;
use crate::consent::AdminApp;
use crate::profile::Profile;
use crate::secret::Secret;
use crate::setup::{CredentialSpec, Network, Password, Spec, Surface};

/// The fields, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Tenant,
    ClientId,
    Authority,
    Kind,
    Secret,
    Certificate,
    /// A PFX's password (a PEM needs none).
    CertificatePassword,
    AssertionFile,
    /// Which managed identity: `system` (or empty), `client-id=…`, `object-id=…`,
    /// `resource-id=…`.
    Identity,
    Scope,
    ProbeUrl,
    /// An app that may read app registrations (Application.Read.All), for the consent audit
    /// when the daemon itself may not.
    AdminClientId,
    AdminSecret,
}

impl Field {
    pub const ALL: [Field; 13] = [
        Field::Tenant,
        Field::ClientId,
        Field::Authority,
        Field::Kind,
        Field::Secret,
        Field::Certificate,
        Field::CertificatePassword,
        Field::AssertionFile,
        Field::Identity,
        Field::Scope,
        Field::ProbeUrl,
        Field::AdminClientId,
        Field::AdminSecret,
    ];

    /// A field whose value is masked unless revealed, and never saved.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Field::Secret | Field::CertificatePassword | Field::AdminSecret
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Tenant => "Tenant",
            Field::ClientId => "Client id",
            Field::Authority => "Authority",
            Field::Kind => "Credential",
            Field::Secret => "Secret",
            Field::Certificate => "Certificate",
            Field::CertificatePassword => "PFX password",
            Field::AssertionFile => "Assertion",
            Field::Identity => "Identity",
            Field::Scope => "Scope",
            Field::ProbeUrl => "Probe URL",
            Field::AdminClientId => "Admin app",
            Field::AdminSecret => "Admin secret",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialKind {
    #[default]
    Secret,
    Certificate,
    /// A federated credential: a file holding a JWT from another identity provider.
    Assertion,
    /// The managed identity of the Azure resource the TUI runs on.
    ManagedIdentity,
}

impl CredentialKind {
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            CredentialKind::Secret => CredentialKind::Certificate,
            CredentialKind::Certificate => CredentialKind::Assertion,
            CredentialKind::Assertion => CredentialKind::ManagedIdentity,
            CredentialKind::ManagedIdentity => CredentialKind::Secret,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Secret => "secret",
            CredentialKind::Certificate => "certificate",
            CredentialKind::Assertion => "assertion",
            CredentialKind::ManagedIdentity => "managed-identity",
        }
    }
}

/// A text input whose `Debug` never shows its value.
#[derive(Clone, Default)]
pub struct SecretInput(pub Input);

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput([REDACTED])")
    }
}

#[derive(Debug, Clone, Default)]
pub struct Form {
    pub tenant: Input,
    pub client_id: Input,
    /// Empty means the public cloud.
    pub authority: Input,
    pub kind: CredentialKind,
    pub secret: SecretInput,
    pub certificate: Input,
    pub certificate_password: SecretInput,
    pub assertion_file: Input,
    pub identity: Input,
    pub scope: Input,
    pub probe_url: Input,
    pub admin_client_id: Input,
    pub admin_secret: SecretInput,
}

impl Form {
    pub fn input(&self, field: Field) -> Option<&Input> {
        match field {
            Field::Tenant => Some(&self.tenant),
            Field::ClientId => Some(&self.client_id),
            Field::Authority => Some(&self.authority),
            Field::Kind => None,
            Field::Secret => Some(&self.secret.0),
            Field::Certificate => Some(&self.certificate),
            Field::CertificatePassword => Some(&self.certificate_password.0),
            Field::AssertionFile => Some(&self.assertion_file),
            Field::Identity => Some(&self.identity),
            Field::Scope => Some(&self.scope),
            Field::ProbeUrl => Some(&self.probe_url),
            Field::AdminClientId => Some(&self.admin_client_id),
            Field::AdminSecret => Some(&self.admin_secret.0),
        }
    }

    pub fn input_mut(&mut self, field: Field) -> Option<&mut Input> {
        match field {
            Field::Tenant => Some(&mut self.tenant),
            Field::ClientId => Some(&mut self.client_id),
            Field::Authority => Some(&mut self.authority),
            Field::Kind => None,
            Field::Secret => Some(&mut self.secret.0),
            Field::Certificate => Some(&mut self.certificate),
            Field::CertificatePassword => Some(&mut self.certificate_password.0),
            Field::AssertionFile => Some(&mut self.assertion_file),
            Field::Identity => Some(&mut self.identity),
            Field::Scope => Some(&mut self.scope),
            Field::ProbeUrl => Some(&mut self.probe_url),
            Field::AdminClientId => Some(&mut self.admin_client_id),
            Field::AdminSecret => Some(&mut self.admin_secret.0),
        }
    }

    /// Fields that apply to the chosen credential kind.
    pub fn visible(&self) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|f| match f {
                Field::Secret => self.kind == CredentialKind::Secret,
                Field::Certificate => self.kind == CredentialKind::Certificate,
                // Only a PFX has a password.
                Field::CertificatePassword => {
                    self.kind == CredentialKind::Certificate && !self.certificate_is_pem()
                }
                Field::AssertionFile => self.kind == CredentialKind::Assertion,
                Field::Identity => self.kind == CredentialKind::ManagedIdentity,
                // A managed identity's tenant and app are its token's: nothing to type; and it
                // has no app registration for the consent audit to read.
                Field::Tenant | Field::ClientId | Field::AdminClientId => {
                    self.kind != CredentialKind::ManagedIdentity
                }
                Field::AdminSecret => {
                    self.kind != CredentialKind::ManagedIdentity
                        && !self.admin_client_id.value().trim().is_empty()
                }
                _ => true,
            })
            .collect()
    }

    pub fn set(&mut self, field: Field, value: &str) {
        if let Some(input) = self.input_mut(field) {
            *input = Input::new(value.to_owned());
        }
    }

    /// The scope field as the scopes it names (space separated).
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .value()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    /// A certificate path that names a PEM file by its extension (a PFX, `.pfx`/`.p12`, or a
    /// path not typed yet may need a password).
    fn certificate_is_pem(&self) -> bool {
        let path = self.certificate.value().trim().to_ascii_lowercase();
        [".pem", ".crt", ".cer", ".key"]
            .iter()
            .any(|ext| path.ends_with(ext))
    }

    /// The Assertion field holds a JWT (pasted), not a path: it is a credential, masked like
    /// the secret and never saved.
    pub fn assertion_is_token(&self) -> bool {
        let value = self.assertion_file.value().trim();
        value.starts_with("eyJ")
            && value.matches('.').count() == 2
            && !value.contains(['/', '\\', ' '])
    }

    /// The form as a setup spec: exactly the credential kind on screen, nothing from the
    /// environment; `network` is the run's.
    pub fn to_spec(&self, network: Network) -> Spec {
        let path = |input: &Input| text(input).map(std::path::PathBuf::from);
        let credential = match self.kind {
            CredentialKind::Secret => CredentialSpec::Secret(
                Some(Secret::new(self.secret.0.value().trim())).filter(|s| !s.is_empty()),
            ),
            CredentialKind::Certificate => CredentialSpec::Certificate {
                path: path(&self.certificate),
                private_key: None,
                password: Password::Given(Secret::new(self.certificate_password.0.value())),
            },
            // The field holds a path, or the token itself when one was pasted into it.
            CredentialKind::Assertion if self.assertion_is_token() => {
                CredentialSpec::AssertionToken(Secret::new(self.assertion_file.value().trim()))
            }
            CredentialKind::Assertion => CredentialSpec::Assertion {
                path: path(&self.assertion_file),
            },
            CredentialKind::ManagedIdentity => self.identity_spec(),
        };
        // Hidden for a managed identity: what they hold is not used.
        let is_managed = self.kind == CredentialKind::ManagedIdentity;
        let shown = |input: &Input| text(input).filter(|_| !is_managed);
        Spec {
            tenant: shown(&self.tenant),
            client_id: shown(&self.client_id),
            scopes: self.scopes(),
            authority_host: text(&self.authority),
            credential,
            network,
            surface: Surface::Form,
            ..Spec::default()
        }
    }

    /// The Identity field as a credential: empty is the system-assigned identity; text that
    /// names no identity is refused by name when the request is prepared, never replaced.
    fn identity_spec(&self) -> CredentialSpec {
        let Some(typed) = text(&self.identity) else {
            return CredentialSpec::ManagedIdentity(IdentitySelector::SystemAssigned);
        };
        match typed.parse::<IdentitySelector>() {
            Ok(identity) => CredentialSpec::ManagedIdentity(identity),
            Err(crate::Error::InvalidInput { reason, .. }) => CredentialSpec::Unreadable {
                what: format!("Identity {typed:?}"),
                reason,
            },
            Err(other) => CredentialSpec::Unreadable {
                what: format!("Identity {typed:?}"),
                reason: other.to_string(),
            },
        }
    }

    /// The admin app of the Admin fields, when its client id is given.
    pub fn admin(&self) -> Option<AdminApp> {
        text(&self.admin_client_id).map(|client_id| AdminApp {
            client_id,
            credential: CredentialSpec::Secret(
                Some(Secret::new(self.admin_secret.0.value().trim())).filter(|s| !s.is_empty()),
            ),
        })
    }

    /// A form showing `spec`: the kind it chose (a secret when it left it to the environment and
    /// `secret` is given).
    pub fn from_spec(spec: &Spec, secret: Option<&str>) -> Self {
        let mut form = Form::default();
        let set = |form: &mut Form, field: Field, value: Option<&String>| {
            if let Some(value) = value {
                form.set(field, value);
            }
        };
        set(&mut form, Field::Tenant, spec.tenant.as_ref());
        set(&mut form, Field::ClientId, spec.client_id.as_ref());
        set(&mut form, Field::Authority, spec.authority_host.as_ref());
        form.set(Field::Scope, &spec.scopes.join(" "));
        match &spec.credential {
            CredentialSpec::Certificate { path, password, .. } => {
                form.kind = CredentialKind::Certificate;
                if let Some(path) = path {
                    form.set(Field::Certificate, &path.display().to_string());
                }
                if let Password::Given(value) = password {
                    form.set(Field::CertificatePassword, value.expose());
                }
            }
            CredentialSpec::Assertion { path } => {
                form.kind = CredentialKind::Assertion;
                if let Some(path) = path {
                    form.set(Field::AssertionFile, &path.display().to_string());
                }
            }
            CredentialSpec::AssertionToken(token) => {
                form.kind = CredentialKind::Assertion;
                form.set(Field::AssertionFile, token.expose());
            }
            CredentialSpec::ManagedIdentity(identity) => {
                form.kind = CredentialKind::ManagedIdentity;
                form.set(Field::Identity, &identity_text(identity));
            }
            CredentialSpec::Secret(Some(value)) => form.set(Field::Secret, value.expose()),
            CredentialSpec::Unreadable { .. }
            | CredentialSpec::FromEnvironment
            | CredentialSpec::SecretStdin
            | CredentialSpec::Secret(None) => {
                if let Some(secret) = secret {
                    form.set(Field::Secret, secret);
                }
            }
        }
        form
    }

    pub fn to_profile(&self) -> Profile {
        Profile {
            tenant: self.tenant.value().trim().into(),
            client_id: self.client_id.value().trim().into(),
            authority_host: self.authority.value().trim().into(),
            credential_kind: self.kind.name().into(),
            certificate: self.certificate.value().trim().into(),
            // A pasted token is a credential: never in the profile.
            assertion_file: if self.assertion_is_token() {
                String::new()
            } else {
                self.assertion_file.value().trim().into()
            },
            managed_identity: self.identity.value().trim().into(),
            scopes: self.scopes(),
            probe_url: self.probe_url.value().trim().into(),
            admin_client_id: self.admin_client_id.value().trim().into(),
        }
    }
}

/// The Identity field's text for `identity`, in the `--managed-identity` syntax.
fn identity_text(identity: &IdentitySelector) -> String {
    match identity {
        IdentitySelector::SystemAssigned => "system".to_owned(),
        IdentitySelector::ClientId(id) => format!("client-id={id}"),
        IdentitySelector::ObjectId(id) => format!("object-id={id}"),
        IdentitySelector::ResourceId(id) => format!("resource-id={id}"),
    }
}

/// A field's trimmed value, `None` when empty.
fn text(input: &Input) -> Option<String> {
    Some(input.value().trim().to_owned()).filter(|v| !v.is_empty())
}
