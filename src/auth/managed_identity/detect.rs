//! Which managed identity source this environment offers, decided as MSAL's
//! `get_managed_identity_source` and azure-identity decide it: Service Fabric
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER` + `IDENTITY_SERVER_THUMBPRINT`), App Service
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), Azure Machine Learning (`MSI_ENDPOINT` +
//! `MSI_SECRET`), Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`), else IMDS. Service Fabric
//! and Machine Learning are recognised and refused (not supported yet) rather than silently
//! sent to IMDS, which would fail in a misleading way.

use std::net::IpAddr;

use url::Url;

use super::{ManagedIdentityError, SourceKind, Variables};
use crate::secret::Secret;

/// The IMDS address, and the variable the SDKs let replace it (AKS pod identity used it; tests
/// and the demo use it to point at loopback).
pub const IMDS_HOST: &str = "http://169.254.169.254";
pub const IMDS_HOST_VARIABLE: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token";

/// A source with what it needs to be asked.
#[derive(Clone)]
pub enum Source {
    Imds { endpoint: Url },
    AppService { endpoint: Url, header: Secret },
    AzureArc { endpoint: Url },
}

/// The App Service header is a secret: never in `Debug`.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("kind", &self.kind())
            .field("endpoint", &self.endpoint().as_str())
            .finish_non_exhaustive()
    }
}

impl Source {
    pub fn kind(&self) -> SourceKind {
        match self {
            Self::Imds { .. } => SourceKind::Imds,
            Self::AppService { .. } => SourceKind::AppService,
            Self::AzureArc { .. } => SourceKind::AzureArc,
        }
    }

    pub fn endpoint(&self) -> &Url {
        match self {
            Self::Imds { endpoint }
            | Self::AppService { endpoint, .. }
            | Self::AzureArc { endpoint } => endpoint,
        }
    }

    /// Why this source was picked, for the evidence: the variables that decided it.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Imds { endpoint } if endpoint.as_str().starts_with(IMDS_HOST) => {
                "no managed identity variable is set, so the VM's IMDS is asked (as the Azure SDKs do)"
            }
            Self::Imds { .. } => "AZURE_POD_IDENTITY_AUTHORITY_HOST replaces the IMDS address",
            Self::AppService { .. } => {
                "IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Functions, Container Apps)"
            }
            Self::AzureArc { .. } => {
                "IDENTITY_ENDPOINT and IMDS_ENDPOINT are set (an Azure Arc-enabled server)"
            }
        }
    }
}

/// The source `vars` describe.
pub fn detect(vars: &dyn Variables) -> Result<Source, ManagedIdentityError> {
    let identity_endpoint = vars.var("IDENTITY_ENDPOINT");
    let identity_header = vars.var("IDENTITY_HEADER");
    match (identity_endpoint, identity_header) {
        (Some(_), Some(_)) if vars.var("IDENTITY_SERVER_THUMBPRINT").is_some() => {
            return Err(ManagedIdentityError::UnsupportedSource {
                name: "Service Fabric",
                variables: "IDENTITY_ENDPOINT, IDENTITY_HEADER and IDENTITY_SERVER_THUMBPRINT",
            });
        }
        (Some(_), Some(header)) if !header.chars().all(|c| c.is_ascii_graphic()) => {
            return Err(ManagedIdentityError::BadEndpoint {
                variable: "IDENTITY_HEADER",
                value: "(its value is not shown)".into(),
                reason: "it holds characters no HTTP header can carry (spaces, line breaks, \
                         non-ASCII): it was not set by the platform"
                    .into(),
            });
        }
        (Some(endpoint), Some(header)) => {
            return Ok(Source::AppService {
                endpoint: endpoint_url("IDENTITY_ENDPOINT", endpoint)?,
                header: Secret::new(header),
            });
        }
        _ => {}
    }
    if vars.var("MSI_ENDPOINT").is_some() && vars.var("MSI_SECRET").is_some() {
        return Err(ManagedIdentityError::UnsupportedSource {
            name: "Azure Machine Learning",
            variables: "MSI_ENDPOINT and MSI_SECRET",
        });
    }
    if let (Some(endpoint), Some(_)) = (identity_endpoint, vars.var("IMDS_ENDPOINT")) {
        return Ok(Source::AzureArc {
            endpoint: endpoint_url("IDENTITY_ENDPOINT", endpoint)?,
        });
    }
    let host = vars.var(IMDS_HOST_VARIABLE).unwrap_or(IMDS_HOST);
    let variable = if vars.var(IMDS_HOST_VARIABLE).is_some() {
        IMDS_HOST_VARIABLE
    } else {
        "the IMDS address"
    };
    let endpoint = format!("{}{IMDS_PATH}", host.trim_end_matches('/'));
    Ok(Source::Imds {
        endpoint: endpoint_url(variable, &endpoint)?,
    })
}

/// An endpoint the tool will send a header or a key to: https anywhere, or plain http to the
/// host itself or a private address (App Service's endpoint is `http://localhost:8081/…` or,
/// in a container, `http://172.16.x.x:8081/…`; IMDS is link-local). Plain http to a public
/// host would hand the identity header to the whole path.
fn endpoint_url(variable: &'static str, value: &str) -> Result<Url, ManagedIdentityError> {
    let bad = |reason: &str| ManagedIdentityError::BadEndpoint {
        variable,
        value: crate::scrub::printable_line(value),
        reason: reason.to_owned(),
    };
    let url = Url::parse(value.trim()).map_err(|e| bad(&format!("not a URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it carries a user name or password"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_local(&url) => Ok(url),
        "http" => Err(bad(
            "plain http to a host that is neither this machine nor a private address",
        )),
        _ => Err(bad("only http and https are spoken")),
    }
}

fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn detected_in_the_sdks_order() {
        let app_service = vars(&[
            ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
            ("IDENTITY_HEADER", "h"),
            ("IMDS_ENDPOINT", "http://localhost:40342"),
        ]);
        assert_eq!(detect(&app_service).unwrap().kind(), SourceKind::AppService);
        let arc = vars(&[
            (
                "IDENTITY_ENDPOINT",
                "http://localhost:40342/metadata/identity/oauth2/token",
            ),
            ("IMDS_ENDPOINT", "http://localhost:40342"),
        ]);
        assert_eq!(detect(&arc).unwrap().kind(), SourceKind::AzureArc);
        let imds = detect(&vars(&[])).unwrap();
        assert_eq!(
            imds.endpoint().as_str(),
            "http://169.254.169.254/metadata/identity/oauth2/token"
        );
        let pod = detect(&vars(&[(IMDS_HOST_VARIABLE, "http://127.0.0.1:9/")])).unwrap();
        assert_eq!(
            pod.endpoint().as_str(),
            "http://127.0.0.1:9/metadata/identity/oauth2/token"
        );
        // An endpoint alone (neither header nor IMDS_ENDPOINT) is not enough: IMDS, as the SDKs.
        let alone = vars(&[("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token")]);
        assert_eq!(detect(&alone).unwrap().kind(), SourceKind::Imds);
        // Empty counts as unset.
        let empty = vars(&[
            ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
            ("IDENTITY_HEADER", ""),
        ]);
        assert_eq!(detect(&empty).unwrap().kind(), SourceKind::Imds);
    }

    #[test]
    fn unsupported_sources_and_unsafe_endpoints_are_named() {
        let fabric = vars(&[
            (
                "IDENTITY_ENDPOINT",
                "https://10.0.0.4:2377/metadata/identity/oauth2/token",
            ),
            ("IDENTITY_HEADER", "h"),
            ("IDENTITY_SERVER_THUMBPRINT", "ab"),
        ]);
        assert_eq!(
            detect(&fabric).unwrap_err().id(),
            "managed-identity.unsupported-source"
        );
        let ml = vars(&[
            ("MSI_ENDPOINT", "http://localhost:46809/MSI/token"),
            ("MSI_SECRET", "s"),
        ]);
        assert_eq!(
            detect(&ml).unwrap_err().id(),
            "managed-identity.unsupported-source"
        );
        for endpoint in [
            "http://attacker.example/msi/token",
            "ftp://localhost/x",
            "http://user:pw@localhost:8081/msi/token",
            "not a url",
        ] {
            let hostile = vars(&[("IDENTITY_ENDPOINT", endpoint), ("IDENTITY_HEADER", "h")]);
            assert_eq!(
                detect(&hostile).unwrap_err().id(),
                "managed-identity.bad-endpoint",
                "{endpoint}"
            );
        }
        let broken = vars(&[
            ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
            ("IDENTITY_HEADER", "secret\r\nX-Injected: 1"),
        ]);
        let error = detect(&broken).unwrap_err();
        assert_eq!(error.id(), "managed-identity.bad-endpoint");
        assert!(!error.to_string().contains("secret"), "{error}");
        let container = vars(&[
            ("IDENTITY_ENDPOINT", "http://172.16.1.2:8081/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ]);
        assert!(detect(&container).is_ok());
    }

    #[test]
    fn the_header_never_shows_in_debug() {
        let source = detect(&vars(&[
            ("IDENTITY_ENDPOINT", "http://localhost:8081/msi/token"),
            ("IDENTITY_HEADER", "very-secret-header"),
        ]))
        .unwrap();
        assert!(!format!("{source:?}").contains("very-secret-header"));
    }
}
