//! How getting a managed identity token fails, one variant per finding.
//!
//! Each variant keeps what the diagnosis needs (the source, the endpoint, the status, the
//! service's own words) and names its finding id ([`ManagedIdentityError::id`]); the wording of
//! the finding (cause, fixes, docs) is data in `assets/managed-identity.toml`. No variant holds
//! a secret: the App Service header and the Arc key never reach a message.

use super::{IdentitySelector, SourceKind};
use crate::error::Failure;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManagedIdentityError {
    /// IMDS did not accept a connection: off Azure, or the address is blocked.
    #[error(
        "no managed identity endpoint answered at {url} ({detail}): this machine is not an Azure \
         VM or VM scale set, or the IMDS address is blocked"
    )]
    NotOnAzure { url: String, detail: String },

    /// App Service's or Arc's local endpoint, named by the environment, could not be reached.
    #[error("the {kind} managed identity endpoint {url} could not be reached ({detail})")]
    EndpointUnreachable {
        kind: SourceKind,
        url: String,
        detail: String,
    },

    /// The system-assigned identity was asked for and the resource has none.
    #[error(
        "{kind} at {url} answered HTTP {status}: {said:?}: no identity is assigned to this resource"
    )]
    NotAssigned {
        kind: SourceKind,
        url: String,
        status: u16,
        said: String,
    },

    /// A user-assigned identity was named and none with that id is assigned to the resource.
    #[error(
        "{kind} at {url} answered HTTP {status}: {said:?}: {identity} is not assigned to this resource"
    )]
    WrongId {
        kind: SourceKind,
        url: String,
        identity: IdentitySelector,
        status: u16,
        said: String,
    },

    /// HTTP 429 after the bounded retries (or with a `Retry-After` too long to wait out).
    #[error(
        "{kind} at {url} is throttling token requests (HTTP 429, {attempts} attempt(s){})",
        retry_after.as_deref().map(|v| format!(", Retry-After: {v}")).unwrap_or_default()
    )]
    Throttled {
        kind: SourceKind,
        url: String,
        retry_after: Option<String>,
        attempts: u32,
    },

    /// App Service refused the `X-IDENTITY-HEADER` value.
    #[error("App Service at {url} refused the IDENTITY_HEADER value (HTTP {status})")]
    AppServiceHeader { url: String, status: u16 },

    /// Azure Arc's challenge could not be answered safely.
    #[error("Azure Arc's challenge from {url} was not answered: {reason}")]
    ArcChallenge { url: String, reason: String },

    /// Azure Arc serves only the machine's system-assigned identity.
    #[error(
        "Azure Arc serves only the machine's system-assigned identity, not {identity}: use \
         --managed-identity system"
    )]
    ArcSystemOnly { identity: IdentitySelector },

    /// An endpoint variable is not a URL the tool will send a secret to.
    #[error("{variable}={value:?} is not usable: {reason}")]
    BadEndpoint {
        variable: &'static str,
        value: String,
        reason: String,
    },

    /// The environment names a managed identity source entra-doctor does not speak.
    #[error(
        "this environment is {name} ({variables} are set), which entra-doctor does not support yet"
    )]
    UnsupportedSource {
        name: &'static str,
        variables: &'static str,
    },

    /// A redirect (never followed: it would carry the header or key to another host).
    #[error(
        "{kind} at {url} answered HTTP {status} with a redirect to {location:?}, which was not followed"
    )]
    Redirected {
        kind: SourceKind,
        url: String,
        status: u16,
        location: String,
    },

    /// Anything else: not a token and not a known error.
    #[error("{kind} at {url} answered HTTP {status} ({content_type}), not a token: {snippet:?}")]
    Unexpected {
        kind: SourceKind,
        url: String,
        status: u16,
        content_type: String,
        snippet: String,
    },
}

impl ManagedIdentityError {
    /// The stable finding id (`managed-identity.*`), as `assets/managed-identity.toml` lists it.
    pub fn id(&self) -> &'static str {
        match self {
            Self::NotOnAzure { .. } => "managed-identity.not-on-azure",
            Self::EndpointUnreachable { .. } => "managed-identity.endpoint-unreachable",
            Self::NotAssigned { .. } => "managed-identity.not-assigned",
            Self::WrongId { .. } => "managed-identity.wrong-client-id",
            Self::Throttled { .. } => "managed-identity.throttled",
            Self::AppServiceHeader { .. } => "managed-identity.app-service-header",
            Self::ArcChallenge { .. } => "managed-identity.arc-challenge",
            Self::ArcSystemOnly { .. } => "managed-identity.arc-system-only",
            Self::BadEndpoint { .. } => "managed-identity.bad-endpoint",
            Self::UnsupportedSource { .. } => "managed-identity.unsupported-source",
            Self::Redirected { .. } | Self::Unexpected { .. } => {
                "managed-identity.unexpected-response"
            }
        }
    }

    /// The exit-code class, as [`crate::Error::failure`] gives it.
    pub fn failure(&self) -> Failure {
        match self {
            Self::NotAssigned { .. } | Self::WrongId { .. } | Self::AppServiceHeader { .. } => {
                Failure::Refused
            }
            Self::NotOnAzure { .. }
            | Self::EndpointUnreachable { .. }
            | Self::Throttled { .. }
            | Self::Redirected { .. }
            | Self::Unexpected { .. } => Failure::Network,
            Self::ArcChallenge { .. }
            | Self::ArcSystemOnly { .. }
            | Self::BadEndpoint { .. }
            | Self::UnsupportedSource { .. } => Failure::Input,
        }
    }

    /// The source that failed, when one was reached.
    pub fn source_kind(&self) -> Option<SourceKind> {
        match self {
            Self::NotOnAzure { .. } => Some(SourceKind::Imds),
            Self::AppServiceHeader { .. } => Some(SourceKind::AppService),
            Self::ArcChallenge { .. } | Self::ArcSystemOnly { .. } => Some(SourceKind::AzureArc),
            Self::EndpointUnreachable { kind, .. }
            | Self::NotAssigned { kind, .. }
            | Self::WrongId { kind, .. }
            | Self::Throttled { kind, .. }
            | Self::Redirected { kind, .. }
            | Self::Unexpected { kind, .. } => Some(*kind),
            Self::BadEndpoint { .. } | Self::UnsupportedSource { .. } => None,
        }
    }
}

impl From<ManagedIdentityError> for crate::error::Error {
    fn from(error: ManagedIdentityError) -> Self {
        crate::error::Error::ManagedIdentity(Box::new(error))
    }
}
