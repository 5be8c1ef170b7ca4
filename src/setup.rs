//! How a credential becomes a token request: the one path that the command line's options, the
//! `AZURE_*` variables, the saved profile and the TUI's form all take.
//!
//! A [`Spec`] is what the operator said, as plain values. [`Spec::fill_from`] completes it from
//! the environment and the profile, always in one precedence: what was given explicitly (a flag,
//! a form field) wins over an `AZURE_*` variable, which wins over the saved profile. [`prepare`]
//! then turns it into the [`Prepared`] request, its client options and the preflight warnings —
//! or, when inputs are missing, one error that names all of them at once, in the words of the
//! surface they are typed into ([`Surface`]).
//!
//! A credential kind that was chosen is exactly the credential used: a certificate chosen with no
//! file is "certificate missing", never a quiet fall-back to `AZURE_CLIENT_SECRET`. Only a spec
//! that chose nothing ([`CredentialSpec::FromEnvironment`]) reads the credential variables, in the
//! Azure SDKs' EnvironmentCredential order.
//!
//! A managed identity ([`CredentialSpec::ManagedIdentity`]) needs only the scope: its source is
//! detected from the environment here, when the request is prepared, so an environment entra-
//! doctor cannot use is a finding before anything is sent. Its tenant and client id are what its
//! token says (`tid`, `appid`); the request holds stand-ins that are never shown as ids (see
//! [`TokenRequest::known_tenant`]).

mod inputs;
mod network;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

pub use inputs::{Input, missing_error};
pub use network::{
    DEFAULT_CONNECT_TIMEOUT_SECS, DEFAULT_TIMEOUT_SECS, Network, client_options, transport,
};

use crate::auth::client::UNKNOWN_CLIENT_ID;
use crate::auth::managed_identity::{self, ArcKeys};
use crate::auth::{
    AssertionOptions, Authority, AuthorityHost, CertificateSource, ClientCertificate,
    ClientOptions, Cloud, Credential, IdentitySelector, ScopeSet, Tenant, TokenRequest,
    tenant::is_guid,
};
use crate::diagnose::{Finding, FixContext, preflight};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::secret::Secret;

/// Where the Azure SDKs look for a PFX's password.
pub const PFX_PASSWORD_VAR: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
/// The variables that carry a credential, in the order EnvironmentCredential tries them.
pub const CREDENTIAL_VARS: [&str; 3] = [
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
];

/// Where the operator types: messages about missing inputs name flags or form fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Surface {
    #[default]
    CommandLine,
    Form,
}

/// What the operator said about the app and its credential.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub cloud: Option<Cloud>,
    pub authority_host: Option<String>,
    pub token_endpoint: Option<String>,
    pub credential: CredentialSpec,
    pub assertion: AssertionOptions,
    pub network: Network,
    pub surface: Surface,
}

/// The credential: chosen by kind, or left to the environment.
#[derive(Debug, Clone, Default)]
pub enum CredentialSpec {
    /// None chosen: `AZURE_CLIENT_SECRET`, then `AZURE_CLIENT_CERTIFICATE_PATH`, then
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    #[default]
    FromEnvironment,
    /// A secret read from standard input.
    SecretStdin,
    /// A secret typed in (the TUI); `None` when the field is empty.
    Secret(Option<Secret>),
    /// A PEM (certificate and key, or with a separate key) or a PFX.
    Certificate {
        path: Option<PathBuf>,
        private_key: Option<PathBuf>,
        password: Password,
    },
    /// A federated credential: a file holding a JWT from another identity provider.
    Assertion { path: Option<PathBuf> },
    /// A federated credential pasted as the token itself (the TUI's Assertion field).
    AssertionToken(Secret),
    /// The managed identity of the Azure resource this runs on: no tenant, client id or secret.
    ManagedIdentity(IdentitySelector),
    /// A credential typed in that names nothing usable (the TUI's Identity field with text
    /// that is no identity): [`prepare`] refuses it by name, never replaces it.
    Unreadable { what: String, reason: String },
}

impl CredentialSpec {
    /// "secret", "certificate", "assertion", "managed identity", or "environment" when none
    /// was chosen.
    pub fn kind(&self) -> &'static str {
        match self {
            CredentialSpec::FromEnvironment => "environment",
            CredentialSpec::SecretStdin | CredentialSpec::Secret(_) => "secret",
            CredentialSpec::Certificate { .. } => "certificate",
            CredentialSpec::Assertion { .. } | CredentialSpec::AssertionToken(_) => "assertion",
            CredentialSpec::ManagedIdentity(_) | CredentialSpec::Unreadable { .. } => {
                "managed identity"
            }
        }
    }
}

/// A PFX's password: the variable that holds it, or the value typed in.
#[derive(Debug, Clone)]
pub enum Password {
    Variable(String),
    Given(Secret),
}

impl Default for Password {
    fn default() -> Self {
        Password::Variable(PFX_PASSWORD_VAR.to_owned())
    }
}

/// A validated request, the client options, and what preflight found.
#[derive(Debug)]
pub struct Prepared {
    pub request: TokenRequest,
    pub options: ClientOptions,
    /// Preflight findings: shown before the request is sent, which is still sent.
    pub warnings: Vec<Finding>,
}

impl Spec {
    /// Fills what the spec leaves out from the `AZURE_*` variables, then from the saved profile
    /// (which never holds a secret). A credential left to the environment takes the profile's
    /// certificate or assertion file only when no credential variable is set.
    #[must_use]
    pub fn fill_from(mut self, env: &Environment, profile: Option<&Profile>) -> Self {
        let empty = Profile::default();
        let profile = profile.unwrap_or(&empty);
        let fill = |slot: &mut Option<String>, var: &str, saved: &str| {
            if slot.as_deref().is_none_or(|v| v.trim().is_empty()) {
                *slot = env
                    .get(var)
                    .or(Some(saved).filter(|v| !v.trim().is_empty()))
                    .map(str::to_owned);
            }
        };
        fill(&mut self.tenant, "AZURE_TENANT_ID", &profile.tenant);
        fill(&mut self.client_id, "AZURE_CLIENT_ID", &profile.client_id);
        if self.cloud.is_none() {
            fill(
                &mut self.authority_host,
                "AZURE_AUTHORITY_HOST",
                &profile.authority_host,
            );
        }
        if self.scopes.iter().all(|s| s.trim().is_empty()) {
            self.scopes.clone_from(&profile.scopes);
        }
        let from_env = CREDENTIAL_VARS.iter().any(|var| env.get(var).is_some());
        if matches!(self.credential, CredentialSpec::FromEnvironment) && !from_env {
            let saved = |path: &str| Some(PathBuf::from(path)).filter(|_| !path.is_empty());
            match profile.credential_kind.as_str() {
                "certificate" if !profile.certificate.is_empty() => {
                    self.credential = CredentialSpec::Certificate {
                        path: saved(&profile.certificate),
                        private_key: None,
                        password: Password::default(),
                    };
                }
                "assertion" if !profile.assertion_file.is_empty() => {
                    self.credential = CredentialSpec::Assertion {
                        path: saved(&profile.assertion_file),
                    };
                }
                // Saved from the TUI's form; empty is the system-assigned identity there too.
                "managed-identity" => {
                    self.credential = match profile.managed_identity.trim() {
                        "" => CredentialSpec::ManagedIdentity(IdentitySelector::SystemAssigned),
                        text => match text.parse() {
                            Ok(identity) => CredentialSpec::ManagedIdentity(identity),
                            Err(error) => CredentialSpec::Unreadable {
                                what: format!("the saved profile's managed identity {text:?}"),
                                reason: error.to_string(),
                            },
                        },
                    };
                }
                _ => {}
            }
        }
        self
    }

    /// The ids as given, for the fixes of a setup that could not be prepared (once it is,
    /// [`FixContext::for_request`] knows more).
    pub fn fix_context(&self) -> FixContext {
        FixContext {
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            ..FixContext::default()
        }
    }

    /// The inputs that are missing, in the order a form shows them.
    pub fn missing(&self, env: &Environment) -> Vec<Input> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        let mut missing = Vec::new();
        let is_managed = matches!(
            self.credential,
            CredentialSpec::ManagedIdentity(_) | CredentialSpec::Unreadable { .. }
        );
        if is_managed {
            // The endpoint knows the identity: only what the token is for must be said.
            if self.scopes.is_empty() {
                missing.push(Input::Scope);
            }
            return missing;
        }
        if blank(&self.tenant) {
            missing.push(Input::Tenant);
        }
        if blank(&self.client_id) {
            missing.push(Input::ClientId);
        }
        match &self.credential {
            CredentialSpec::FromEnvironment
                if CREDENTIAL_VARS.iter().all(|var| env.get(var).is_none()) =>
            {
                missing.push(Input::Credential);
            }
            CredentialSpec::Secret(secret) if secret.as_ref().is_none_or(Secret::is_empty) => {
                missing.push(Input::Secret);
            }
            CredentialSpec::Certificate { path: None, .. } => missing.push(Input::Certificate),
            CredentialSpec::Assertion { path: None } => missing.push(Input::AssertionFile),
            _ => {}
        }
        if self.scopes.is_empty() {
            missing.push(Input::Scope);
        }
        missing
    }
}

/// Validates `spec` and builds the request; `stdin` is read only for
/// [`CredentialSpec::SecretStdin`].
pub fn prepare(
    spec: &Spec,
    env: &Environment,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    // What is given and wrong is named first (it is often why the rest is missing), then every
    // missing input at once.
    let tenant = given(spec.tenant.as_deref())
        .map(Tenant::parse)
        .transpose()?;
    let host = match (given(spec.authority_host.as_deref()), spec.cloud) {
        (Some(host), _) => AuthorityHost::parse(host)?,
        (None, Some(cloud)) => AuthorityHost::parse(cloud.host())?,
        (None, None) => AuthorityHost::parse(
            env.get("AZURE_AUTHORITY_HOST")
                .unwrap_or(Cloud::Public.host()),
        )?,
    };
    match &spec.credential {
        CredentialSpec::ManagedIdentity(identity) => {
            return managed(spec, identity, tenant, host, env);
        }
        CredentialSpec::Unreadable { what, reason } => {
            return Err(Error::InvalidInput {
                what: what.clone(),
                reason: reason.clone(),
            });
        }
        _ => {}
    }
    let client_id = given(spec.client_id.as_deref())
        .map(|id| client_id(id, spec.surface))
        .transpose()?;
    // An empty `--scope ""` is given, and wrong; no scope at all is missing.
    let scopes = if spec.scopes.is_empty() {
        None
    } else {
        Some(ScopeSet::parse(&spec.scopes)?)
    };
    let token_endpoint = given(spec.token_endpoint.as_deref())
        .map(parse_endpoint)
        .transpose()?;
    let missing = spec.missing(env);
    let (Some(tenant), Some(client_id), Some(scopes), true) =
        (tenant, client_id, scopes, missing.is_empty())
    else {
        return Err(missing_error(&missing, spec.surface));
    };
    let mut warnings: Vec<Finding> = scopes.lints().iter().map(preflight::scope).collect();
    let context = FixContext {
        tenant: Some(tenant.to_string()),
        client_id: Some(client_id.clone()),
        ..FixContext::default()
    };
    let mut made = Made {
        env,
        now,
        warnings: &mut warnings,
        context: &context,
    };
    let credential = credential(spec, stdin, &mut made)?;
    // A federated token is checked before it is sent: what it says, and what is wrong with it.
    if let Credential::Assertion { token, .. } = &credential {
        let expected = crate::federation::audience_for_authority(host.as_str());
        let inspection = crate::federation::inspect_for(token.expose(), Some(expected), now);
        warnings.extend(inspection.presented(now));
        warnings.extend(inspection.findings);
    }
    let mut options = client_options(&spec.network, env)?;
    // `--timeout` is the whole command's: its clock starts as the request is prepared.
    options.deadline = Some(crate::auth::Deadline::after(spec.network.timeout));
    Ok(Prepared {
        request: TokenRequest {
            authority: Authority::new(host, tenant),
            token_endpoint,
            client_id,
            scopes,
            credential,
            claims: None,
        },
        options,
        warnings,
    })
}

/// A managed identity's request: the source detected from `env` now (an unsupported or unsafe
/// one is an error, a finding), the given tenant or a stand-in, and the identity's client id
/// when it was named by it, else a stand-in. Never a secret from the environment: a managed
/// identity chosen is the credential used.
fn managed(
    spec: &Spec,
    identity: &IdentitySelector,
    tenant: Option<Tenant>,
    host: AuthorityHost,
    env: &Environment,
) -> Result<Prepared> {
    if spec.scopes.is_empty() {
        return Err(missing_error(&[Input::Scope], spec.surface));
    }
    let scopes = ScopeSet::parse(&spec.scopes)?;
    let warnings = scopes.lints().iter().map(preflight::scope).collect();
    let source = managed_identity::detect(env)?;
    let client_id = match identity {
        IdentitySelector::ClientId(id) => id.to_ascii_lowercase(),
        _ => UNKNOWN_CLIENT_ID.to_owned(),
    };
    let mut options = client_options(&spec.network, env)?;
    options.deadline = Some(crate::auth::Deadline::after(spec.network.timeout));
    Ok(Prepared {
        request: TokenRequest {
            authority: Authority::new(host, tenant.unwrap_or_else(Tenant::unknown)),
            token_endpoint: None,
            client_id,
            scopes,
            credential: Credential::ManagedIdentity {
                identity: identity.clone(),
                source,
                arc_keys: ArcKeys::platform(env),
            },
            claims: None,
        },
        options,
        warnings,
    })
}

fn given(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn client_id(value: &str, surface: Surface) -> Result<String> {
    let value = value.trim();
    if !is_guid(&value.to_ascii_lowercase()) {
        let page = match surface {
            Surface::CommandLine => {
                "copy \"Application (client) ID\" from the app registration's Overview page"
            }
            Surface::Form => {
                "copy \"Application (client) ID\" from the app registration's Overview page into Client id"
            }
        };
        return Err(Error::InvalidInput {
            what: format!("client id {value:?}"),
            reason: format!("Entra ID application (client) ids are GUIDs; {page}"),
        });
    }
    Ok(value.to_ascii_lowercase())
}

fn parse_endpoint(value: &str) -> Result<Url> {
    let url = Url::parse(value).map_err(|e| Error::InvalidAuthority {
        value: value.to_owned(),
        reason: format!("--token-endpoint is not a URL ({e})"),
    })?;
    crate::auth::authority::ensure_secure(&url)?;
    Ok(url)
}

/// What building a credential needs besides the spec.
struct Made<'a> {
    env: &'a Environment,
    now: DateTime<Utc>,
    warnings: &'a mut Vec<Finding>,
    context: &'a FixContext,
}

fn credential(
    spec: &Spec,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    made: &mut Made<'_>,
) -> Result<Credential> {
    let env = made.env;
    match &spec.credential {
        CredentialSpec::SecretStdin => {
            let text = stdin().map_err(|e| Error::file("standard input", e))?;
            secret(Secret::new(text.trim()), "standard input", made)
        }
        CredentialSpec::Secret(value) => secret(
            value.clone().unwrap_or_else(|| Secret::new("")),
            "the Secret field",
            made,
        ),
        CredentialSpec::Certificate {
            path,
            private_key,
            password,
        } => {
            let path = path.as_deref().unwrap_or(Path::new(""));
            certificate(path, private_key.as_deref(), password, spec.assertion, made)
        }
        CredentialSpec::Assertion { path } => assertion(path.as_deref().unwrap_or(Path::new(""))),
        CredentialSpec::AssertionToken(token) => {
            crate::token::decode(token.expose()).map_err(|e| Error::InvalidInput {
                what: "the pasted federated token".into(),
                reason: format!("is not a JWT: {e}"),
            })?;
            Ok(Credential::Assertion {
                token: token.clone(),
                path: PathBuf::from("(pasted)"),
            })
        }
        // `prepare` builds a managed identity's request apart, before it asks for ids.
        CredentialSpec::ManagedIdentity(_) | CredentialSpec::Unreadable { .. } => {
            Err(Error::InvalidInput {
                what: "a managed identity".into(),
                reason: "is not an app credential".into(),
            })
        }
        CredentialSpec::FromEnvironment => {
            if let Some(value) = env.get("AZURE_CLIENT_SECRET") {
                secret(Secret::new(value), "AZURE_CLIENT_SECRET", made)
            } else if let Some(path) = env.get("AZURE_CLIENT_CERTIFICATE_PATH") {
                let password = Password::default();
                certificate(Path::new(path), None, &password, spec.assertion, made)
            } else if let Some(path) = env.get("AZURE_FEDERATED_TOKEN_FILE") {
                assertion(Path::new(path))
            } else {
                Err(missing_error(&[Input::Credential], spec.surface))
            }
        }
    }
}

fn secret(secret: Secret, from: &str, made: &mut Made<'_>) -> Result<Credential> {
    if secret.is_empty() {
        return Err(Error::MissingCredential {
            hint: format!(
                "the client secret from {from} is empty (Entra ID would answer AADSTS7000218)"
            ),
        });
    }
    made.warnings
        .extend(preflight::secret(&secret, made.context));
    Ok(Credential::Secret(secret))
}

fn certificate(
    path: &Path,
    private_key: Option<&Path>,
    password: &Password,
    options: AssertionOptions,
    made: &mut Made<'_>,
) -> Result<Credential> {
    let source = if is_pfx(path)? {
        let (password, password_source) = match password {
            Password::Given(value) => (value.clone(), "the PFX password field".to_owned()),
            // An unset variable means a PFX exported without a password.
            Password::Variable(var) => match made.env.get(var) {
                Some(value) => (Secret::new(value), format!("${var}")),
                None => (Secret::new(""), format!("${var}, which is not set")),
            },
        };
        CertificateSource::Pfx {
            path: path.to_owned(),
            password,
            password_source,
        }
    } else {
        CertificateSource::Pem {
            path: path.to_owned(),
            key: private_key.map(Path::to_path_buf),
        }
    };
    let certificate = ClientCertificate::load(&source)?;
    made.warnings.extend(preflight::certificate(
        &certificate.info,
        made.now,
        made.context,
    ));
    Ok(Credential::Certificate {
        certificate: Box::new(certificate),
        options,
    })
}

/// A PFX is DER (binary); a PEM file is text that starts a `-----BEGIN` block somewhere.
fn is_pfx(path: &Path) -> Result<bool> {
    if path.is_dir() {
        return Err(Error::certificate(
            path,
            "is a directory; give the certificate file",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let is_pem = bytes.windows(10).any(|w| w == b"-----BEGIN");
    Ok(!is_pem)
}

fn assertion(path: &Path) -> Result<Credential> {
    if path.is_dir() {
        return Err(Error::InvalidInput {
            what: format!("assertion file {}", path.display()),
            reason: "is a directory; give the file holding the federated token".into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::MissingCredential {
            hint: format!("the assertion file {} is empty", path.display()),
        });
    }
    // Check its shape now: a file of garbage would only earn a vague AADSTS error later.
    crate::token::decode(token).map_err(|e| Error::InvalidInput {
        what: format!("assertion file {}", path.display()),
        reason: format!("does not hold a JWT: {e}"),
    })?;
    Ok(Credential::Assertion {
        token: Secret::new(token),
        path: PathBuf::from(path),
    })
}

/// Standard input read at most once: a command that prepares the credential twice (the
/// daemon's token, then a Graph token) must give the second the same secret, not an empty
/// stream.
pub fn read_once(
    stdin: &mut (dyn FnMut() -> std::io::Result<String> + Send),
) -> impl FnMut() -> std::io::Result<String> + Send + '_ {
    let mut kept: Option<Secret> = None;
    move || {
        if kept.is_none() {
            kept = Some(Secret::new(stdin()?));
        }
        Ok(kept
            .as_ref()
            .map(|s| s.expose().to_owned())
            .unwrap_or_default())
    }
}
