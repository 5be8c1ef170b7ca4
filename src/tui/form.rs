//! The credentials form: its fields, the text inputs behind them, and how it becomes a request.

use std::fmt;

use tui_input::Input;

use crate::cli::args::{AlgArg, CredentialArgs};
use crate::profile::Profile;
use crate::secret::Secret;

/// The fields, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Tenant,
    ClientId,
    Authority,
    Kind,
    Secret,
    Certificate,
    AssertionFile,
    Scope,
    ProbeUrl,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::Tenant,
        Field::ClientId,
        Field::Authority,
        Field::Kind,
        Field::Secret,
        Field::Certificate,
        Field::AssertionFile,
        Field::Scope,
        Field::ProbeUrl,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Tenant => "Tenant",
            Field::ClientId => "Client id",
            Field::Authority => "Authority",
            Field::Kind => "Credential",
            Field::Secret => "Secret",
            Field::Certificate => "Certificate",
            Field::AssertionFile => "Assertion",
            Field::Scope => "Scope",
            Field::ProbeUrl => "Probe URL",
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
}

impl CredentialKind {
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            CredentialKind::Secret => CredentialKind::Certificate,
            CredentialKind::Certificate => CredentialKind::Assertion,
            CredentialKind::Assertion => CredentialKind::Secret,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Secret => "secret",
            CredentialKind::Certificate => "certificate",
            CredentialKind::Assertion => "assertion",
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
    pub assertion_file: Input,
    pub scope: Input,
    pub probe_url: Input,
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
            Field::AssertionFile => Some(&self.assertion_file),
            Field::Scope => Some(&self.scope),
            Field::ProbeUrl => Some(&self.probe_url),
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
            Field::AssertionFile => Some(&mut self.assertion_file),
            Field::Scope => Some(&mut self.scope),
            Field::ProbeUrl => Some(&mut self.probe_url),
        }
    }

    /// Fields that apply to the chosen credential kind.
    pub fn visible(&self) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|f| match f {
                Field::Secret => self.kind == CredentialKind::Secret,
                Field::Certificate => self.kind == CredentialKind::Certificate,
                Field::AssertionFile => self.kind == CredentialKind::Assertion,
                _ => true,
            })
            .collect()
    }

    pub fn set(&mut self, field: Field, value: &str) {
        if let Some(input) = self.input_mut(field) {
            *input = Input::new(value.to_owned());
        }
    }

    /// The form as the CLI's credential options, plus the secret, so the TUI validates and
    /// builds requests exactly as the CLI does.
    /// The scope field as the scopes it names (space separated).
    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .value()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }

    pub fn to_args(&self) -> (CredentialArgs, Secret) {
        let text = |input: &Input| Some(input.value().trim().to_owned()).filter(|v| !v.is_empty());
        let args = CredentialArgs {
            tenant: text(&self.tenant),
            client_id: text(&self.client_id),
            scopes: self.scopes(),
            cloud: None,
            authority_host: text(&self.authority),
            token_endpoint: None,
            secret_stdin: false,
            certificate: match self.kind {
                CredentialKind::Certificate => text(&self.certificate).map(Into::into),
                CredentialKind::Secret | CredentialKind::Assertion => None,
            },
            private_key: None,
            certificate_password_env: "AZURE_CLIENT_CERTIFICATE_PASSWORD".into(),
            assertion_file: match self.kind {
                CredentialKind::Assertion => text(&self.assertion_file).map(Into::into),
                CredentialKind::Secret | CredentialKind::Certificate => None,
            },
            assertion_alg: AlgArg::Rs256,
            send_x5c: false,
            connect_timeout: 10,
            timeout: 30,
            // The TUI's transport comes from the command line it was started with (`Services`).
            ca_file: None,
        };
        let secret = Secret::new(self.secret.0.value().trim());
        (args, secret)
    }

    pub fn to_profile(&self) -> Profile {
        Profile {
            tenant: self.tenant.value().trim().into(),
            client_id: self.client_id.value().trim().into(),
            authority_host: self.authority.value().trim().into(),
            credential_kind: self.kind.name().into(),
            certificate: self.certificate.value().trim().into(),
            assertion_file: self.assertion_file.value().trim().into(),
            scopes: self.scopes(),
            probe_url: self.probe_url.value().trim().into(),
        }
    }

    pub fn from_profile(profile: &Profile) -> Self {
        let mut form = Form::default();
        form.set(Field::Tenant, &profile.tenant);
        form.set(Field::ClientId, &profile.client_id);
        form.set(Field::Authority, &profile.authority_host);
        form.kind = match profile.credential_kind.as_str() {
            "certificate" => CredentialKind::Certificate,
            "assertion" => CredentialKind::Assertion,
            _ => CredentialKind::Secret,
        };
        form.set(Field::Certificate, &profile.certificate);
        form.set(Field::AssertionFile, &profile.assertion_file);
        form.set(Field::Scope, &profile.scopes.join(" "));
        form.set(Field::ProbeUrl, &profile.probe_url);
        form
    }
}
