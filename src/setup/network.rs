//! How to reach servers: the timeouts, `--ca-file`, `SSL_CERT_FILE` and the proxy variables.

use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::auth::ClientOptions;
use crate::environment::Environment;
use crate::error::Result;
use crate::transport::{CaBundle, Proxies, Transport};

/// Seconds to wait for one connection, unless told otherwise.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
/// Seconds a command's network work may take in all, unless told otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// How to reach servers.
#[derive(Debug, Clone)]
pub struct Network {
    /// Per connection.
    pub connect_timeout: Duration,
    /// The whole command's network work, retries included.
    pub timeout: Duration,
    /// Extra CA certificates (`--ca-file`).
    pub ca_file: Option<PathBuf>,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            ca_file: None,
        }
    }
}

/// The timeouts, CA bundles and proxies of `network` and the environment.
pub fn client_options(network: &Network, env: &Environment) -> Result<ClientOptions> {
    Ok(ClientOptions {
        connect_timeout: network.connect_timeout,
        timeout: network.timeout,
        transport: transport(network.ca_file.as_deref(), env)?,
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
    // Read by the platform-roots loader, where it replaces the platform's store, on the first
    // https certificate; checked here (cheaply) so a missing or empty file is a clear error
    // instead of "not trusted", and named in the messages about untrusted certificates.
    if let Some(path) = env.get("SSL_CERT_FILE") {
        ca_bundles.push(CaBundle::named(Path::new(path), "SSL_CERT_FILE")?);
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
