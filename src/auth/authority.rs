//! Where token requests go: the cloud's authority host plus the tenant.
//!
//! The host is validated once, here: https, or plain http to a loopback address only (the demo
//! tenant and tests), because a client secret sent over plain http to anything else is a secret
//! given away.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use super::Tenant;
use crate::error::{Error, Result};

/// The Microsoft clouds with their own Entra ID instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Public,
    Usgov,
    China,
}

impl Cloud {
    /// The authority host, as Microsoft's national-cloud page lists it. For China it names
    /// `login.partner.microsoftonline.cn`; the older `login.chinacloudapi.cn` still answers and
    /// is accepted with `--authority-host`.
    pub fn host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::Usgov => "https://login.microsoftonline.us",
            Cloud::China => "https://login.partner.microsoftonline.cn",
        }
    }
}

/// A validated authority host: scheme, host and port, no path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthorityHost(Url);

impl AuthorityHost {
    pub fn parse(input: &str) -> Result<Self> {
        let value = input.trim();
        let invalid = |reason: &str| Error::InvalidAuthority {
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(value).map_err(|e| {
            invalid(&format!(
                "{e}; expected a URL such as https://login.microsoftonline.com"
            ))
        })?;
        let Some(host) = url.host_str() else {
            return Err(invalid("it has no host name"));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it carries a user name or password; remove them"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "it has a query or fragment; give only scheme, host and port",
            ));
        }
        if url.path() != "/" && !url.path().is_empty() {
            return Err(invalid(
                "it has a path; give only scheme, host and port (the tenant goes in --tenant, a \
                 non-standard token URL in --token-endpoint)",
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => {
                return Err(Error::InsecureAuthority {
                    url: value.to_owned(),
                });
            }
            other => return Err(invalid(&format!("scheme {other:?} is not https"))),
        }
        Ok(Self(url))
    }

    /// The host as `scheme://host[:port]`, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for AuthorityHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Refuse to send credentials to `url` unless it is https or loopback http.
pub fn ensure_secure(url: &Url) -> Result<()> {
    match (url.scheme(), url.host_str()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(host)) if is_loopback(host) => Ok(()),
        ("http", _) => Err(Error::InsecureAuthority {
            url: url.to_string(),
        }),
        _ => Err(Error::InvalidAuthority {
            value: url.to_string(),
            reason: "only https URLs (or http to a loopback address) can receive credentials"
                .into(),
        }),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Host + tenant: everything needed to build Entra ID's URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    pub host: AuthorityHost,
    pub tenant: Tenant,
}

impl Authority {
    pub fn new(host: AuthorityHost, tenant: Tenant) -> Self {
        Self { host, tenant }
    }

    /// The v2 token endpoint, `{host}/{tenant}/oauth2/v2.0/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.host, self.tenant)
    }

    /// The v2 OpenID Connect discovery document.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            self.host, self.tenant
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_entra_urls() {
        let authority = Authority::new(
            AuthorityHost::parse(Cloud::Usgov.host()).unwrap(),
            Tenant::parse("contoso.onmicrosoft.com").unwrap(),
        );
        assert_eq!(
            authority.token_endpoint(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            authority.discovery_url(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "https://x.y/",
        ] {
            assert!(AuthorityHost::parse(ok).is_ok(), "{ok}");
        }
        let err = AuthorityHost::parse("http://example.com").unwrap_err();
        assert!(matches!(err, Error::InsecureAuthority { .. }), "{err}");
        assert!(err.to_string().contains("plain http"));
    }

    #[test]
    fn refuses_paths_queries_and_junk() {
        for (bad, why) in [
            (
                "https://login.microsoftonline.com/contoso.com",
                "has a path",
            ),
            ("https://login.microsoftonline.com?x=1", "query"),
            ("ftp://login.microsoftonline.com", "not https"),
            ("login.microsoftonline.com", "expected a URL"),
            ("https://user:pw@login.microsoftonline.com", "user name"),
        ] {
            let err = AuthorityHost::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
