//! The embedded demo tenant: a local emulator of the parts of Microsoft Entra ID that a daemon
//! app touches (token endpoints, OIDC discovery, JWKS), plus resource APIs that judge tokens the
//! way Microsoft Graph, Azure SQL and an ASP.NET Core web API do.
//!
//! Everything it answers comes from the request and the tenant model ([`TenantModel`], loaded
//! from `assets/demo/tenant.toml` or a user's file), never from a "make this fail" switch, so the
//! tool logic that diagnoses it works unchanged against the real service. Start it with
//! [`start`]; the returned [`RunningDemo`] says where it listens and which demo apps it holds,
//! and shuts the server down when dropped.
//!
//! Layout: `model` (the tenant file), `keys` (signing key, JWKS, registered certificates),
//! `handout` (credential files written for the operator), `server` + `tls` (axum on loopback),
//! `sts` + `sts_error` + `scope` + `assertion` + `token` (the token endpoint, its checks in a
//! plausible order), `resource_api` + `resource_errors` + `refusals` (the APIs that check
//! tokens, in their services' words), `changes` (a walkthrough's fixes, applied to the running
//! tenant through [`DemoControl`]), `local_urls` (the demo's API URLs, so nothing pointed at it
//! calls the internet), `identity_model` + `managed_identity` (managed identities and the IMDS /
//! App Service endpoints that hand out their tokens).

mod assertion;
mod changes;
mod error;
mod federated;
mod graph_directory;
mod graph_listing;
mod handout;
mod identity_model;
mod issuer;
mod keys;
pub mod local_urls;
mod managed_identity;
mod model;
mod model_check;
mod refusals;
mod registrations;
mod resource_api;
mod resource_errors;
mod scope;
mod serve;
mod server;
mod signin_log;
mod sts;
mod sts_error;
mod tls;
mod token;

pub use changes::{Applied, TenantChange};
pub use error::{Error, Result};
pub use graph_listing::Listings;
pub use identity_model::{IdentityHost, IdentityKind, ManagedIdentity};
pub use model::{
    AppRole, Application, ClientSecret, DemoFederatedCredential, DemoSecret, ErrorStyle,
    ExternalIssuer, FederatedHandout, Grant, Handout, HandoutCertificate, RateLimit, Resource,
    Route, Tenant, TenantModel, TokenVersion,
};
pub use scope::resource_from_scope;
pub use serve::ServeLimits;
pub use server::{
    DemoApp, DemoControl, DemoManagedIdentity, DemoOptions, IdentityEndpoint, RunningDemo, start,
};
