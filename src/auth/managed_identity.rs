//! Managed identity: a token for code running in Azure, with no credential to hold.
//!
//! The source is detected from the environment the way the Azure SDKs (MSAL's
//! `ManagedIdentity`, azure-identity) detect it ([`detect`]): App Service / Functions
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`,
//! its challenge-file handshake in [`arc`]), else the VM's Instance Metadata Service ([`imds`],
//! `169.254.169.254`, or `AZURE_POD_IDENTITY_AUTHORITY_HOST` as the SDKs allow). [`acquire`]
//! asks it for a token and returns the raw token with its expiry ([`ManagedToken`]), so it flows
//! into decode, probe and doctor like any other; every failure is a [`ManagedIdentityError`]
//! with a finding id.
//!
//! These endpoints are local and hand out tokens to whoever asks, so the client is careful:
//! no proxy (the header must not travel), no redirect followed, bodies read up to a cap, the
//! App Service header sent only to `IDENTITY_ENDPOINT`'s own URL, and the Arc key file
//! validated before a byte of it is read.

pub mod app_service;
pub mod arc;
pub mod detect;
mod error;
mod http;
pub mod imds;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use url::Url;

pub use arc::ArcKeys;
pub use detect::{Source, detect};
pub use error::ManagedIdentityError;

use super::{ClientOptions, ScopeSet};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Which identity of the resource to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySelector {
    /// The resource's own (system-assigned) identity.
    SystemAssigned,
    /// A user-assigned identity by its client (application) id.
    ClientId(String),
    /// A user-assigned identity by its object (principal) id.
    ObjectId(String),
    /// A user-assigned identity by its ARM resource id.
    ResourceId(String),
}

impl IdentitySelector {
    pub fn is_user_assigned(&self) -> bool {
        !matches!(self, Self::SystemAssigned)
    }

    /// The id given, for a user-assigned identity.
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::SystemAssigned => None,
            Self::ClientId(id) | Self::ObjectId(id) | Self::ResourceId(id) => Some(id),
        }
    }
}

/// `the system-assigned identity`, `the user-assigned identity with client id …`.
impl fmt::Display for IdentitySelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SystemAssigned => f.write_str("the system-assigned identity"),
            Self::ClientId(id) => write!(f, "the user-assigned identity with client id {id}"),
            Self::ObjectId(id) => write!(f, "the user-assigned identity with object id {id}"),
            Self::ResourceId(id) => write!(f, "the user-assigned identity {id}"),
        }
    }
}

/// The `--managed-identity` syntax: `system`, `client-id=GUID`, `object-id=GUID`,
/// `resource-id=/subscriptions/…`.
impl FromStr for IdentitySelector {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |reason: &str| Error::InvalidInput {
            what: format!("--managed-identity {text:?}"),
            reason: format!(
                "{reason}; give system, client-id=GUID, object-id=GUID or \
                 resource-id=/subscriptions/…/userAssignedIdentities/NAME"
            ),
        };
        if text.eq_ignore_ascii_case("system") || text.eq_ignore_ascii_case("system-assigned") {
            return Ok(Self::SystemAssigned);
        }
        let Some((kind, value)) = text.split_once('=') else {
            return Err(invalid(
                if super::tenant::is_guid(&text.to_ascii_lowercase()) {
                    "a bare GUID could be a client id or an object id"
                } else {
                    "it names no identity"
                },
            ));
        };
        let value = value.trim();
        let guid = |make: fn(String) -> Self| {
            if super::tenant::is_guid(&value.to_ascii_lowercase()) {
                Ok(make(value.to_owned()))
            } else {
                Err(invalid("the id is not a GUID"))
            }
        };
        match kind.trim().to_ascii_lowercase().as_str() {
            "client-id" | "client_id" => guid(Self::ClientId),
            "object-id" | "object_id" | "principal-id" => guid(Self::ObjectId),
            "resource-id" | "resource_id" => {
                let lower = value.to_ascii_lowercase();
                if lower.starts_with("/subscriptions/")
                    && lower
                        .contains("/providers/microsoft.managedidentity/userassignedidentities/")
                    && value.chars().all(|c| c.is_ascii_graphic())
                {
                    Ok(Self::ResourceId(value.to_owned()))
                } else {
                    Err(invalid(
                        "the resource id is not a user-assigned identity's ARM id \
                         (/subscriptions/…/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME)",
                    ))
                }
            }
            _ => Err(invalid("unknown kind of id")),
        }
    }
}

/// One managed identity token request: which identity, for which resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedIdentityRequest {
    pub identity: IdentitySelector,
    /// The resource (a v1 `resource`): the scope without `/.default`, slashes kept.
    pub resource: String,
}

impl ManagedIdentityRequest {
    /// The request for `scopes`: `X/.default` asks for resource `X` (a trailing slash before
    /// `/.default` is kept, as the Azure CLI keeps it); a scope without `/.default` is taken as
    /// the resource itself, as azure-identity takes it.
    pub fn new(identity: IdentitySelector, scopes: &ScopeSet) -> Self {
        let scope = scopes.as_slice().first().map_or("", String::as_str);
        let resource = scope.strip_suffix("/.default").unwrap_or(scope);
        Self {
            identity,
            resource: resource.to_owned(),
        }
    }

    /// The request for the `--scope` values as typed: the glue for the CLI and the TUI.
    pub fn from_scopes<S: AsRef<str>>(identity: IdentitySelector, scopes: &[S]) -> Result<Self> {
        Ok(Self::new(identity, &ScopeSet::parse(scopes)?))
    }
}

/// Where the token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// The Instance Metadata Service of an Azure VM or scale set (also AKS nodes).
    Imds,
    /// App Service, Functions, Container Apps (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`).
    AppService,
    /// An Azure Arc-enabled server's local agent (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`).
    AzureArc,
}

impl SourceKind {
    /// The id used in JSON and in the findings' placeholders.
    pub fn id(self) -> &'static str {
        match self {
            Self::Imds => "imds",
            Self::AppService => "app-service",
            Self::AzureArc => "azure-arc",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Imds => "IMDS",
            Self::AppService => "App Service",
            Self::AzureArc => "Azure Arc",
        })
    }
}

/// A token from a managed identity endpoint.
#[derive(Debug)]
pub struct ManagedToken {
    /// The access token, remembered for scrubbing.
    pub token: Secret,
    pub expires_on: DateTime<Utc>,
    /// The resource the endpoint says the token is for.
    pub resource: Option<String>,
    /// The identity's client id, when the endpoint says it (App Service does).
    pub client_id: Option<String>,
    pub source: SourceKind,
    /// The URL asked (without query).
    pub endpoint: String,
}

impl ManagedToken {
    /// The token as the cache path serves one, so the CLI's and the TUI's token, decode, probe
    /// and doctor steps take it unchanged. Never from the cache (the endpoint keeps its own),
    /// so `miss` says there was none.
    pub fn into_served(self, now: DateTime<Utc>) -> crate::cache::Served {
        crate::cache::Served {
            token: self.token.clone(),
            expires_on: self.expires_on,
            miss: Some(crate::cache::Miss::Absent),
            response: Some(self.into_response(now)),
        }
    }

    /// The token as a token endpoint's answer, its lifetime counted from `now`.
    pub fn into_response(self, now: DateTime<Utc>) -> super::TokenResponse {
        let expires_in = u64::try_from((self.expires_on - now).num_seconds()).unwrap_or(0);
        super::TokenResponse {
            token_type: "Bearer".into(),
            expires_in,
            ext_expires_in: None,
            refresh_in: None,
            access_token: self.token,
        }
    }
}

/// The environment variables detection reads; an empty value counts as unset, as the Azure
/// SDKs for .NET and Go treat it.
pub trait Variables {
    fn var(&self, name: &str) -> Option<&str>;
}

impl<S: std::hash::BuildHasher> Variables for HashMap<String, String, S> {
    fn var(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

impl Variables for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<&str> {
        self.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Detects the source from `vars` and asks it for a token for `request`.
///
/// The glue the CLI, `doctor` and the TUI call: the returned token is the raw access token
/// with its expiry; a failure is an [`Error::ManagedIdentity`] (a finding through
/// [`crate::diagnose::managed_identity::finding`]) or, when the endpoint passed on Entra ID's
/// own refusal, an [`Error::Entra`].
pub async fn acquire(
    request: &ManagedIdentityRequest,
    options: &ClientOptions,
    vars: &dyn Variables,
    now: DateTime<Utc>,
) -> Result<ManagedToken> {
    let source = detect(vars)?;
    acquire_from(&source, request, options, &ArcKeys::platform(vars), now).await
}

/// Asks a known `source` (tests and the demo name it; [`acquire`] detects it). `arc_keys` is
/// the only directory an Azure Arc key file may come from.
pub async fn acquire_from(
    source: &Source,
    request: &ManagedIdentityRequest,
    options: &ClientOptions,
    arc_keys: &ArcKeys,
    now: DateTime<Utc>,
) -> Result<ManagedToken> {
    acquire_observed(source, request, options, arc_keys, now, None).await
}

/// [`acquire_from`], telling `on_retry` about every retry before it happens, as
/// [`super::TokenClient`] does for Entra ID.
pub(crate) async fn acquire_observed(
    source: &Source,
    request: &ManagedIdentityRequest,
    options: &ClientOptions,
    arc_keys: &ArcKeys,
    now: DateTime<Utc>,
    on_retry: Option<super::client::RetryObserver>,
) -> Result<ManagedToken> {
    let client = http::Client::new(source.kind(), options)?.observed(on_retry);
    match source {
        Source::Imds { endpoint } => imds::acquire(&client, endpoint, request, now).await,
        Source::AppService { endpoint, header } => {
            app_service::acquire(&client, endpoint, header, request, now).await
        }
        Source::AzureArc { endpoint } => {
            arc::acquire(&client, endpoint, arc_keys, request, now).await
        }
    }
}

/// The endpoint's "this identity is not here": not assigned (the system-assigned one was
/// asked for) or a wrong id (a user-assigned one was named).
fn refused(
    kind: SourceKind,
    url: &Url,
    identity: &IdentitySelector,
    status: u16,
    said: String,
) -> Error {
    let url = http::endpoint_of(url);
    match identity {
        IdentitySelector::SystemAssigned => ManagedIdentityError::NotAssigned {
            kind,
            url,
            status,
            said,
        },
        named => ManagedIdentityError::WrongId {
            kind,
            url,
            identity: named.clone(),
            status,
            said,
        },
    }
    .into()
}

/// The endpoint URL with the request's query.
fn with_query(endpoint: &Url, pairs: &[(&str, &str)]) -> Url {
    let mut url = endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: &str = "5a1e1d0e-4b5c-4d7e-9f00-1a2b3c4d5e6f";

    #[test]
    fn the_flag_syntax_reads_every_kind_and_refuses_the_rest() {
        let parse = |s: &str| s.parse::<IdentitySelector>();
        assert_eq!(parse("system").ok(), Some(IdentitySelector::SystemAssigned));
        assert_eq!(
            parse(&format!("client-id={GUID}")).ok(),
            Some(IdentitySelector::ClientId(GUID.into()))
        );
        assert_eq!(
            parse(&format!("object-id={GUID}")).ok(),
            Some(IdentitySelector::ObjectId(GUID.into()))
        );
        let arm = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/orders";
        assert_eq!(
            parse(&format!("resource-id={arm}")).ok(),
            Some(IdentitySelector::ResourceId(arm.into()))
        );
        for bad in [
            GUID.to_owned(),
            "client-id=not-a-guid".to_owned(),
            "tenant-id=x".to_owned(),
            "resource-id=/subscriptions/x/resourceGroups/rg".to_owned(),
            String::new(),
        ] {
            let error = parse(&bad).expect_err(&bad);
            assert!(error.to_string().contains("client-id=GUID"), "{error}");
        }
    }

    #[test]
    fn the_resource_is_the_scope_without_default() {
        let scopes = ScopeSet::parse(&["https://database.windows.net//.default"]).unwrap();
        let request = ManagedIdentityRequest::new(IdentitySelector::SystemAssigned, &scopes);
        assert_eq!(request.resource, "https://database.windows.net/");
        let scopes = ScopeSet::parse(&["https://vault.azure.net/.default"]).unwrap();
        assert_eq!(
            ManagedIdentityRequest::new(IdentitySelector::SystemAssigned, &scopes).resource,
            "https://vault.azure.net"
        );
        let bare = ManagedIdentityRequest::from_scopes(
            IdentitySelector::SystemAssigned,
            &["https://management.azure.com/"],
        )
        .unwrap();
        assert_eq!(bare.resource, "https://management.azure.com/");
        assert!(
            ManagedIdentityRequest::from_scopes::<&str>(IdentitySelector::SystemAssigned, &[])
                .is_err()
        );
    }
}
