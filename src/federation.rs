//! Workload identity federation: the external token a daemon presents as its client assertion
//! (a GitHub Actions or Kubernetes token, say), checked before it is sent and compared with the
//! federated identity credentials its app registration trusts.
//!
//! [`inspect`] decodes the external token and lints it locally (expired, about to expire, the
//! wrong audience, a subject of no known shape); [`compare`] sets its `iss`/`sub`/`aud` beside
//! each credential read from Microsoft Graph ([`graph`]) and names the exact difference (a
//! trailing slash, case only, a pull request instead of a branch, another service account),
//! evaluating flexible credentials' `claimsMatchingExpression` with the documented grammar
//! ([`expression`]). No network here except [`graph`]'s read; the CLI, `doctor` and the TUI
//! call these the same way.

pub mod advice;
pub mod assertion;
pub mod audit;
pub mod compare;
pub mod expression;
pub mod graph;
pub mod subject;

pub use advice::findings;
pub use assertion::{ExternalClaims, Inspection, inspect, inspect_for};
pub use audit::{FederationReport, FederationRequest, examine};
pub use compare::{Comparison, CredentialComparison, FederatedCredential, FieldVerdict, compare};
pub use subject::{IssuerKind, SubjectShape};

/// The audience Entra ID expects in an external token, per cloud: public, US Government, China.
///
/// Source: <https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity>
/// ("api://AzureADTokenExchange", "api://AzureADTokenExchangeUSGov",
/// "api://AzureADTokenExchangeChina").
pub const TOKEN_EXCHANGE_AUDIENCES: [&str; 3] = [
    "api://AzureADTokenExchange",
    "api://AzureADTokenExchangeUSGov",
    "api://AzureADTokenExchangeChina",
];

/// The exchange audience of the cloud an authority host belongs to.
pub fn audience_for_authority(host: &str) -> &'static str {
    let host = url::Url::parse(host)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    match host.as_str() {
        "login.microsoftonline.us" => TOKEN_EXCHANGE_AUDIENCES[1],
        "login.chinacloudapi.cn" | "login.partner.microsoftonline.cn" => {
            TOKEN_EXCHANGE_AUDIENCES[2]
        }
        _ => TOKEN_EXCHANGE_AUDIENCES[0],
    }
}

/// Where the portal shows an app's federated credentials.
pub fn portal_path(client_id: &str) -> String {
    format!(
        "Entra admin center › App registrations › {client_id} › Certificates & secrets › \
         Federated credentials"
    )
}

/// Docs every federation finding links.
pub const DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
/// How to create and update a federated credential (portal, az, Graph).
pub const DOCS_CREATE: &str =
    "https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust";
