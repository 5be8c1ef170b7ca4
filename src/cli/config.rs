//! From typed arguments and the environment to a validated [`TokenRequest`].
//!
//! The `AZURE_*` variables are read here and nowhere else, the way the Azure SDKs'
//! EnvironmentCredential reads them; an explicit flag always wins over a variable.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::args::{AlgArg, CloudArg, CredentialArgs};
use crate::auth::{
    AssertionAlg, AssertionOptions, Authority, AuthorityHost, CertificateSource, ClientCertificate,
    ClientOptions, Cloud, Credential, ScopeSet, Tenant, TokenRequest, tenant::is_guid,
};
use crate::diagnose::{Finding, FixContext, preflight};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::transport::{CaBundle, Proxies, Transport};

/// The process environment, captured once so tests can pass their own.
#[derive(Clone, Default)]
pub struct Environment {
    vars: HashMap<String, String>,
}

/// Names only: the environment holds secrets (`AZURE_CLIENT_SECRET`).
impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Environment")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

impl Environment {
    pub fn capture() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v): (OsString, OsString)| {
                Some((k.into_string().ok()?, v.into_string().ok()?))
            })
            .collect();
        Self { vars }
    }

    pub fn from_pairs<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        Self {
            vars: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The time to act at: now, or `ENTRA_DOCTOR_NOW` (RFC 3339) for reproducible demos and
    /// snapshots of relative times.
    pub fn now(&self) -> Result<DateTime<Utc>> {
        match self.get("ENTRA_DOCTOR_NOW") {
            None => Ok(Utc::now()),
            Some(text) => DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| Error::InvalidInput {
                    what: format!("ENTRA_DOCTOR_NOW {text:?}"),
                    reason: format!("is not an RFC 3339 time such as 2026-11-25T12:00:00Z ({e})"),
                }),
        }
    }

    /// A copy that holds only some variables, each `(name in the copy, name here)`: a fleet app
    /// sees its own secret as `AZURE_CLIENT_SECRET` and none of the process's other credentials.
    #[must_use]
    pub fn pick(&self, names: &[(&str, &str)]) -> Self {
        let vars = names
            .iter()
            .filter_map(|(to, from)| Some(((*to).to_owned(), self.get(from)?.to_owned())))
            .collect();
        Self { vars }
    }

    /// Only the variables that say how to reach servers ([`NETWORK_VARS`]): what the TUI keeps
    /// from the environment it was started in.
    #[must_use]
    pub fn network(&self) -> Self {
        let pairs: Vec<(&str, &str)> = NETWORK_VARS.iter().map(|name| (*name, *name)).collect();
        self.pick(&pairs)
    }

    /// A copy with one more variable.
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A variable's value; an empty one counts as unset, as the Azure SDKs treat it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The variables [`transport`] reads.
pub const NETWORK_VARS: [&str; 9] = [
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A validated request, the client options, and what preflight found.
#[derive(Debug)]
pub struct Prepared {
    pub request: TokenRequest,
    pub options: ClientOptions,
    /// Preflight findings: shown before the request is sent, which is still sent.
    pub warnings: Vec<Finding>,
}

impl CredentialArgs {
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

pub fn prepare(
    args: &CredentialArgs,
    env: &Environment,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let tenant = args.tenant.as_deref().ok_or_else(|| Error::InvalidTenant {
        tenant: String::new(),
        reason: "none given; pass --tenant or set AZURE_TENANT_ID".into(),
    })?;
    let tenant = Tenant::parse(tenant)?;
    let host = match (&args.authority_host, args.cloud) {
        (Some(host), _) => AuthorityHost::parse(host)?,
        (None, Some(cloud)) => AuthorityHost::parse(cloud_of(cloud).host())?,
        (None, None) => AuthorityHost::parse(
            env.get("AZURE_AUTHORITY_HOST")
                .unwrap_or(Cloud::Public.host()),
        )?,
    };
    let client_id = client_id(args.client_id.as_deref())?;
    let scopes = ScopeSet::parse(&args.scopes)?;
    let token_endpoint = args
        .token_endpoint
        .as_deref()
        .map(parse_endpoint)
        .transpose()?;
    let mut warnings: Vec<Finding> = scopes.lints().iter().map(preflight::scope).collect();
    let context = FixContext {
        tenant: Some(tenant.to_string()),
        client_id: Some(client_id.clone()),
        ..FixContext::default()
    };
    let credential = credential(args, env, stdin, now, &mut warnings, &context)?;
    let options = client_options(args, env)?;
    let request = TokenRequest {
        authority: Authority::new(host, tenant),
        token_endpoint,
        client_id,
        scopes,
        credential,
        claims: None,
    };
    Ok(Prepared {
        request,
        options,
        warnings,
    })
}

/// The timeouts, CA bundles and proxies of `args` and the environment.
pub fn client_options(args: &CredentialArgs, env: &Environment) -> Result<ClientOptions> {
    Ok(ClientOptions {
        connect_timeout: Duration::from_secs(args.connect_timeout),
        timeout: Duration::from_secs(args.timeout),
        transport: transport(args.ca_file.as_deref(), env)?,
        ..ClientOptions::default()
    })
}

/// `--ca-file`, `SSL_CERT_FILE` and the proxy variables, read as curl reads them:
/// `HTTPS_PROXY` for https, `HTTP_PROXY` for http, `ALL_PROXY` for both, `NO_PROXY` for
/// exceptions; upper case first, then lower case.
pub fn transport(ca_file: Option<&Path>, env: &Environment) -> Result<Transport> {
    let mut ca_bundles = Vec::new();
    if let Some(path) = ca_file {
        ca_bundles.push(CaBundle::load(path, "--ca-file")?);
    }
    // Also read by the platform-roots loader, where it replaces the platform's store; loading it
    // here too turns a missing or empty file into a clear error instead of "not trusted".
    if let Some(path) = env.get("SSL_CERT_FILE") {
        ca_bundles.push(CaBundle::load(Path::new(path), "SSL_CERT_FILE")?);
    }
    let first = |names: [&str; 2]| -> Result<Option<Url>> {
        names
            .iter()
            .find_map(|name| Some((*name, env.get(name)?)))
            .map(|(name, value)| Proxies::parse_url(name, value))
            .transpose()
    };
    let all = first(["ALL_PROXY", "all_proxy"])?;
    let proxies = Proxies {
        https: first(["HTTPS_PROXY", "https_proxy"])?.or_else(|| all.clone()),
        http: first(["HTTP_PROXY", "http_proxy"])?.or(all),
        no_proxy: env
            .get("NO_PROXY")
            .or_else(|| env.get("no_proxy"))
            .unwrap_or_default()
            .to_owned(),
    };
    Ok(Transport {
        ca_bundles,
        proxies,
    })
}

pub(super) fn cloud_of(cloud: CloudArg) -> Cloud {
    match cloud {
        CloudArg::Public => Cloud::Public,
        CloudArg::Usgov => Cloud::Usgov,
        CloudArg::China => Cloud::China,
    }
}

fn client_id(value: Option<&str>) -> Result<String> {
    let value = value.map(str::trim).unwrap_or_default();
    let invalid = |reason: &str| Error::InvalidInput {
        what: format!("client id {value:?}"),
        reason: reason.into(),
    };
    if value.is_empty() {
        return Err(invalid(
            "none given; pass --client-id or set AZURE_CLIENT_ID",
        ));
    }
    if !is_guid(&value.to_ascii_lowercase()) {
        return Err(invalid(
            "Entra ID application (client) ids are GUIDs; copy \"Application (client) ID\" from \
             the app registration's Overview page",
        ));
    }
    Ok(value.to_ascii_lowercase())
}

fn parse_endpoint(value: &str) -> Result<Url> {
    let url = Url::parse(value.trim()).map_err(|e| Error::InvalidAuthority {
        value: value.to_owned(),
        reason: format!("--token-endpoint is not a URL ({e})"),
    })?;
    crate::auth::authority::ensure_secure(&url)?;
    Ok(url)
}

fn credential(
    args: &CredentialArgs,
    env: &Environment,
    stdin: &mut dyn FnMut() -> std::io::Result<String>,
    now: DateTime<Utc>,
    warnings: &mut Vec<Finding>,
    context: &FixContext,
) -> Result<Credential> {
    let chosen = [
        args.secret_stdin,
        args.certificate.is_some(),
        args.assertion_file.is_some(),
    ];
    if chosen.iter().filter(|c| **c).count() > 1 {
        return Err(Error::InvalidInput {
            what: "the credential options".into(),
            reason: "choose one of --secret-stdin, --certificate and --assertion-file".into(),
        });
    }
    if args.secret_stdin {
        let text = stdin().map_err(|e| Error::file("standard input", e))?;
        return secret(
            Secret::new(text.trim()),
            "standard input",
            warnings,
            context,
        );
    }
    if let Some(path) = &args.certificate {
        return certificate(args, path, env, now, warnings, context);
    }
    if let Some(path) = &args.assertion_file {
        return assertion(path);
    }
    if let Some(value) = env.get("AZURE_CLIENT_SECRET") {
        return secret(Secret::new(value), "AZURE_CLIENT_SECRET", warnings, context);
    }
    if let Some(path) = env.get("AZURE_CLIENT_CERTIFICATE_PATH") {
        return certificate(args, Path::new(path), env, now, warnings, context);
    }
    if let Some(path) = env.get("AZURE_FEDERATED_TOKEN_FILE") {
        return assertion(Path::new(path));
    }
    Err(Error::MissingCredential {
        hint: "set AZURE_CLIENT_SECRET, or pass --secret-stdin, --certificate PATH or \
               --assertion-file PATH (a secret is never taken as an argument: it would land in \
               shell history and ps)"
            .into(),
    })
}

fn secret(
    secret: Secret,
    from: &str,
    warnings: &mut Vec<Finding>,
    context: &FixContext,
) -> Result<Credential> {
    if secret.is_empty() {
        return Err(Error::MissingCredential {
            hint: format!(
                "the client secret from {from} is empty (Entra ID would answer AADSTS7000218)"
            ),
        });
    }
    warnings.extend(preflight::secret(&secret, context));
    Ok(Credential::Secret(secret))
}

fn certificate(
    args: &CredentialArgs,
    path: &Path,
    env: &Environment,
    now: DateTime<Utc>,
    warnings: &mut Vec<Finding>,
    context: &FixContext,
) -> Result<Credential> {
    let source = if is_pfx(path)? {
        let var = args.certificate_password_env.as_str();
        // AZURE_CLIENT_CERTIFICATE_PASSWORD is how the Azure SDKs name it; an unset variable
        // means a PFX exported without a password.
        let password = env.get(var).unwrap_or_default();
        CertificateSource::Pfx {
            path: path.to_owned(),
            password: Secret::new(password),
            password_source: if env.get(var).is_some() {
                format!("${var}")
            } else {
                format!("${var}, which is not set")
            },
        }
    } else {
        CertificateSource::Pem {
            path: path.to_owned(),
            key: args.private_key.clone(),
        }
    };
    let certificate = ClientCertificate::load(&source)?;
    warnings.extend(preflight::certificate(&certificate.info, now, context));
    let options = AssertionOptions {
        alg: match args.assertion_alg {
            AlgArg::Rs256 => AssertionAlg::Rs256,
            AlgArg::Ps256 => AssertionAlg::Ps256,
        },
        send_x5c: args.send_x5c,
    };
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
