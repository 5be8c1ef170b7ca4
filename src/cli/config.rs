//! From the command line's credential options to the library's [`Spec`]: the `AZURE_*`
//! variables, the profile and validation are [`crate::setup`]'s business, the same for the CLI
//! and the TUI.

use chrono::{DateTime, Utc};

use super::args::{AlgArg, CloudArg, CredentialArgs};
use crate::auth::{AssertionAlg, AssertionOptions, ClientOptions, Cloud};
use crate::diagnose::FixContext;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::setup::Prepared;
use crate::setup::{self, CredentialSpec, Network, Password, Spec, Surface};

impl CredentialArgs {
    /// The options as a spec; an error when they choose two credentials.
    pub fn spec(&self) -> Result<Spec> {
        let chosen = [
            self.secret_stdin,
            self.certificate.is_some(),
            self.assertion_file.is_some(),
            self.managed.managed_identity.is_some(),
        ];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err(Error::InvalidInput {
                what: "the credential options".into(),
                reason: "choose one of --secret-stdin, --certificate, --assertion-file and \
                         --managed-identity"
                    .into(),
            });
        }
        let credential = if let Some(identity) = &self.managed.managed_identity {
            CredentialSpec::ManagedIdentity(identity.clone())
        } else if self.secret_stdin {
            CredentialSpec::SecretStdin
        } else if let Some(path) = &self.certificate {
            CredentialSpec::Certificate {
                path: Some(path.clone()),
                private_key: self.private_key.clone(),
                password: Password::Variable(self.certificate_password_env.clone()),
            }
        } else if let Some(path) = &self.assertion_file {
            CredentialSpec::Assertion {
                path: Some(path.clone()),
            }
        } else {
            CredentialSpec::FromEnvironment
        };
        Ok(Spec {
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            cloud: self.cloud.map(cloud_of),
            authority_host: self.authority_host.clone(),
            token_endpoint: self.token_endpoint.clone(),
            credential,
            assertion: AssertionOptions {
                alg: match self.assertion_alg {
                    AlgArg::Rs256 => AssertionAlg::Rs256,
                    AlgArg::Ps256 => AssertionAlg::Ps256,
                },
                send_x5c: self.send_x5c,
            },
            network: self.network(),
            surface: Surface::CommandLine,
        })
    }

    /// The timeouts and `--ca-file`.
    pub fn network(&self) -> Network {
        Network {
            connect_timeout: std::time::Duration::from_secs(self.connect_timeout),
            timeout: std::time::Duration::from_secs(self.timeout),
            ca_file: self.ca_file.clone(),
        }
    }

    /// The operator's ids as the options give them, for the fixes of a setup that could not be
    /// prepared (once it is, [`FixContext::for_request`] knows more).
    pub fn fix_context(&self) -> FixContext {
        FixContext {
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            ..FixContext::default()
        }
    }
}

/// The options' request, through the one setup path.
pub fn prepare(
    args: &CredentialArgs,
    env: &Environment,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    setup::prepare(&args.spec()?, env, stdin, now)
}

/// The timeouts, CA bundles and proxies of `args` and the environment.
pub fn client_options(args: &CredentialArgs, env: &Environment) -> Result<ClientOptions> {
    setup::client_options(&args.network(), env)
}

pub(super) fn cloud_of(cloud: CloudArg) -> Cloud {
    match cloud {
        CloudArg::Public => Cloud::Public,
        CloudArg::Usgov => Cloud::Usgov,
        CloudArg::China => Cloud::China,
    }
}
