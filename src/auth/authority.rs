//! Where token requests go: the cloud's authority host plus the tenant.
//!
//! The host is validated once, here: https, or plain http to a loopback address only (the demo
//! tenant and tests), because a client secret sent over plain http to anything else is a secret
//! given away.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
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

/// The hosts Entra ID names in its tokens' `iss`, each with its cloud and the authority host
/// that serves that issuer's metadata and keys. `sts.*` are the v1 issuers; their documents are
/// served by the cloud's login host. This is the whole list of hosts whose keys are fetched
/// without the operator naming an authority: a token's own `iss` is unverified text, and
/// anyone can mint a token naming their own server.
const ENTRA_ISSUER_HOSTS: [(&str, Cloud, &str); 6] = [
    (
        "login.microsoftonline.com",
        Cloud::Public,
        "https://login.microsoftonline.com",
    ),
    (
        "sts.windows.net",
        Cloud::Public,
        "https://login.microsoftonline.com",
    ),
    (
        "login.microsoftonline.us",
        Cloud::Usgov,
        "https://login.microsoftonline.us",
    ),
    (
        "login.partner.microsoftonline.cn",
        Cloud::China,
        "https://login.partner.microsoftonline.cn",
    ),
    (
        "login.chinacloudapi.cn",
        Cloud::China,
        "https://login.chinacloudapi.cn",
    ),
    (
        "sts.chinacloudapi.cn",
        Cloud::China,
        "https://login.partner.microsoftonline.cn",
    ),
];

/// The cloud of a known Entra host, reached the standard way (https, default port).
fn entra_cloud(url: &Url) -> Option<(Cloud, &'static str)> {
    if url.scheme() != "https" || url.port().is_some() {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    ENTRA_ISSUER_HOSTS
        .iter()
        .find(|(known, _, _)| *known == host)
        .map(|(_, cloud, authority)| (*cloud, *authority))
}

/// The Entra authority whose keys sign tokens with issuer `iss`: only for the known hosts of
/// the supported clouds (`https://sts.windows.net/{tid}/` → `login.microsoftonline.com`);
/// `None` for any other host, whatever the token says.
pub fn entra_authority_of_issuer(iss: &str) -> Option<AuthorityHost> {
    let url = Url::parse(iss.trim()).ok()?;
    let (_, authority) = entra_cloud(&url)?;
    AuthorityHost::parse(authority).ok()
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

    /// The cloud whose Entra ID this is, when it is one of the known hosts.
    pub fn cloud(&self) -> Option<Cloud> {
        entra_cloud(&self.0).map(|(cloud, _)| cloud)
    }

    /// True when `url` is on this authority's own key host: the same scheme, host and port, or
    /// another known Entra host of the same cloud. A metadata document naming keys anywhere
    /// else is not trusted, even from a trusted authority (a proxy or a compromised mirror
    /// could rewrite it).
    pub fn serves_keys_at(&self, url: &Url) -> bool {
        let same_origin = url.origin() == self.0.origin();
        let same_cloud = match (self.cloud(), entra_cloud(url)) {
            (Some(mine), Some((theirs, _))) => mine == theirs,
            _ => false,
        };
        same_origin || same_cloud
    }

    /// True for the demo tenant and tests: an authority on this machine.
    pub fn is_loopback(&self) -> bool {
        self.0.host_str().is_some_and(is_loopback)
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

/// The time a client assertion for `url` is dated with: `given` (which may be a clock fixed for
/// reproducible demos, `ENTRA_DOCTOR_NOW`) only for an endpoint on this machine (the demo tenant,
/// tests); the real clock, `real`, for any other. A fixed clock would date assertions sent to a
/// real tenant wrongly (AADSTS700024), or far ahead, which keeps them valid for longer than ten
/// minutes.
pub fn assertion_clock(url: &Url, given: DateTime<Utc>, real: DateTime<Utc>) -> DateTime<Utc> {
    if url.host_str().is_some_and(is_loopback) {
        given
    } else {
        real
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
    fn only_known_entra_hosts_are_taken_from_an_issuer() {
        for (iss, authority) in [
            (
                "https://sts.windows.net/t/",
                Some("https://login.microsoftonline.com"),
            ),
            (
                "https://login.microsoftonline.com/t/v2.0",
                Some("https://login.microsoftonline.com"),
            ),
            (
                "https://LOGIN.microsoftonline.us/t/v2.0",
                Some("https://login.microsoftonline.us"),
            ),
            (
                "https://sts.chinacloudapi.cn/t/",
                Some("https://login.partner.microsoftonline.cn"),
            ),
            (
                "https://login.chinacloudapi.cn/t/v2.0",
                Some("https://login.chinacloudapi.cn"),
            ),
            ("http://127.0.0.1:8080/t/", None),
            ("https://evil.example/t/", None),
            ("http://login.microsoftonline.com/t/", None),
            ("https://login.microsoftonline.com:8443/t/", None),
            ("https://login.microsoftonline.com.evil.example/t/", None),
            ("https://user@sts.windows.net.evil.example/t/", None),
            ("not a url", None),
        ] {
            assert_eq!(
                entra_authority_of_issuer(iss)
                    .map(|h| h.to_string())
                    .as_deref(),
                authority,
                "{iss}"
            );
        }
    }

    #[test]
    fn keys_must_be_on_the_authoritys_own_host() {
        let public = AuthorityHost::parse(Cloud::Public.host()).unwrap();
        let demo = AuthorityHost::parse("http://127.0.0.1:5000").unwrap();
        let url = |text: &str| Url::parse(text).unwrap();
        assert!(public.serves_keys_at(&url(
            "https://login.microsoftonline.com/t/discovery/v2.0/keys"
        )));
        assert!(!public.serves_keys_at(&url(
            "https://login.microsoftonline.us/t/discovery/v2.0/keys"
        )));
        assert!(!public.serves_keys_at(&url("http://127.0.0.1:9/keys")));
        assert!(!public.serves_keys_at(&url("https://evil.example/keys")));
        let china = AuthorityHost::parse("https://login.chinacloudapi.cn").unwrap();
        assert!(china.serves_keys_at(&url(
            "https://login.partner.microsoftonline.cn/t/discovery/keys"
        )));
        assert!(demo.serves_keys_at(&url("http://127.0.0.1:5000/t/discovery/keys")));
        assert!(!demo.serves_keys_at(&url("http://127.0.0.1:5001/t/discovery/keys")));
        assert!(!demo.serves_keys_at(&url("https://login.microsoftonline.com/t/discovery/keys")));
        assert!(demo.is_loopback() && !public.is_loopback());
    }

    #[test]
    fn a_fixed_clock_dates_assertions_only_for_loopback() {
        let fixed = DateTime::parse_from_rfc3339("2001-02-03T04:05:06Z")
            .unwrap()
            .with_timezone(&Utc);
        let real = DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for (endpoint, expected) in [
            ("http://127.0.0.1:8080/t/oauth2/v2.0/token", fixed),
            ("https://localhost/t/oauth2/v2.0/token", fixed),
            ("http://[::1]:9/t/oauth2/v2.0/token", fixed),
            (
                "https://login.microsoftonline.com/t/oauth2/v2.0/token",
                real,
            ),
            ("https://127.0.0.1.evil.example/t/oauth2/v2.0/token", real),
        ] {
            let url = Url::parse(endpoint).unwrap();
            assert_eq!(assertion_clock(&url, fixed, real), expected, "{endpoint}");
        }
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
