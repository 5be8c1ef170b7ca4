//! Everything needed to ask Entra ID for an app-only token.
//!
//! [`Authority`] (cloud host + tenant) says where to ask, [`scope`] says what for, [`Credential`]
//! proves who asks, and [`TokenClient`] sends the client credentials request and reads the answer
//! into a [`TokenResponse`] or a typed [`EntraError`].
//! Code running in Azure asks its [`managed_identity`] endpoint instead.

pub mod assertion;
pub mod authority;
pub mod certificate;
pub mod client;
pub mod credential;
pub mod deadline;
pub mod discovery;
pub mod managed_identity;
pub mod net_failure;
pub mod response;
pub mod retry;
pub mod scope;
pub mod tenant;

pub use assertion::{AssertionAlg, AssertionOptions};
pub use authority::{Authority, AuthorityHost, Cloud, entra_authority_of_issuer};
pub use certificate::{CertificateInfo, CertificateSource, ClientCertificate, Validity};
pub use client::{ClientOptions, TokenClient, TokenRequest};
pub use credential::Credential;
pub use deadline::Deadline;
pub use discovery::OidcMetadata;
pub use managed_identity::{
    IdentitySelector, ManagedIdentityError, ManagedIdentityRequest, ManagedToken,
};
pub use response::{EntraError, TokenResponse};
pub use retry::RetryNotice;
pub use scope::{ScopeAdvice, ScopeSet};
pub use tenant::Tenant;
