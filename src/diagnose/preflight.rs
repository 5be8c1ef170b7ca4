//! Preflight: what is wrong before anything is sent, and every library error as a finding.

use chrono::{DateTime, Utc};

use super::{Catalog, Finding, FixContext, Severity};
use crate::auth::net_failure::NetworkFault;
use crate::auth::{CertificateInfo, ScopeAdvice, Validity};
use crate::error::Error;
use crate::secret::Secret;
use crate::token::relative;

const SCOPES_DOC: &str =
    "https://learn.microsoft.com/entra/identity-platform/scopes-oidc#the-default-scope";

pub fn scope(advice: &ScopeAdvice) -> Finding {
    let title = match advice.id {
        "scope.trailing-slash-audience" => "The scope will lose the audience's trailing slash",
        "scope.delegated" => "The scope names a delegated permission, not an app-only resource",
        _ => "The scope lacks /.default",
    };
    let mut finding = Finding::new(
        advice.id,
        if advice.id == "scope.trailing-slash-audience" {
            Severity::Warning
        } else {
            Severity::Error
        },
        title,
    )
    .cause(advice.message.clone())
    .evidence(format!("scope: {}", advice.scope))
    .doc(SCOPES_DOC);
    if let Some(suggestion) = &advice.suggestion {
        finding = finding.fix(format!("Use --scope {suggestion}"));
    }
    finding
}

pub fn secret(secret: &Secret, context: &FixContext) -> Option<Finding> {
    crate::auth::tenant::is_guid(&secret.expose().to_ascii_lowercase()).then(|| {
        Finding::new("credential.secret-looks-like-id", Severity::Warning, "The client secret looks like a secret ID, not its value")
            .cause(
                "the secret is a GUID: the portal lists each secret's Secret ID (a GUID) beside its Value, and the value is \
                 shown only once, when the secret is created (Entra ID answers AADSTS7000215)",
            )
            .evidence(format!("the secret is a GUID of {} characters", secret.char_len()))
            .fix(context.render("Create a new client secret and copy its Value: az ad app credential reset --id {client_id} --append"))
    })
}

pub fn certificate(
    info: &CertificateInfo,
    now: DateTime<Utc>,
    context: &FixContext,
) -> Option<Finding> {
    let evidence = format!(
        "certificate {} ({}), valid {} to {}",
        info.thumbprint_sha1, info.subject, info.not_before, info.not_after
    );
    match info.validity_at(now) {
        Validity::Valid => None,
        Validity::Expired { since } => Some(
            Finding::new("credential.certificate-expired", Severity::Error, "The certificate has expired")
                .cause(format!("it expired {}; Entra ID refuses assertions signed with it", relative(since, now)))
                .evidence(evidence)
                .fix(context.render("Create a new certificate and upload it: az ad app credential reset --id {client_id} --cert @new.pem --append")),
        ),
        Validity::NotYetValid { from } => Some(
            Finding::new("credential.certificate-not-yet-valid", Severity::Error, "The certificate is not valid yet")
                .cause(format!("it becomes valid {}; until then Entra ID refuses it — or this machine's clock is wrong", relative(from, now)))
                .evidence(evidence)
                .fix("Wait until it is valid, or check the clock (NTP)"),
        ),
    }
}

/// Any library error as a finding, so `doctor` and the TUI can show every failure the same way.
pub fn error(error: &Error, context: &FixContext) -> Finding {
    let message = error.to_string();
    let simple =
        |id: &str, title: &str| Finding::new(id, Severity::Error, title).cause(message.clone());
    match error {
        Error::Entra(entra) => Catalog::builtin().explain(entra, context),
        Error::ManagedIdentity(failure) => super::managed_identity::finding(failure, context.resource.as_deref()),
        Error::InvalidTenant { tenant, .. } if matches!(tenant.to_ascii_lowercase().as_str(), "common" | "organizations" | "consumers") => {
            simple("tenant.not-allowed", "common, organizations and consumers cannot be used for app-only tokens")
                .evidence(format!("tenant: {tenant}"))
                .fix("Use the Directory (tenant) ID from the app registration's Overview page, or a verified domain")
        }
        Error::InvalidTenant { tenant, .. } if tenant.is_empty() => simple("tenant.missing", "No tenant was given")
            .fix("Pass --tenant with the Directory (tenant) ID from the app registration's Overview page, or set AZURE_TENANT_ID"),
        Error::InvalidTenant { tenant, .. } => simple("tenant.invalid", "The tenant is malformed").evidence(format!("tenant: {tenant:?}")),
        Error::InsecureAuthority { url } => simple("authority.insecure", "Credentials would travel over plain http")
            .evidence(format!("authority: {url}"))
            .fix("Use https (plain http is allowed only to loopback addresses such as the demo tenant)"),
        Error::InvalidAuthority { value, .. } => simple("authority.invalid", "The authority host is malformed").evidence(format!("authority: {value}")),
        Error::ScopesNameTwoResources { first, second } => simple("scope.multiple-resources", "The scopes name two resources")
            .evidence(format!("resources: {first}, {second}"))
            .fix("Request one token per resource"),
        Error::InvalidScope { scope, .. } => simple("scope.invalid", "The scope is malformed").evidence(format!("scope: {scope:?}")),
        Error::KeyMismatch { certificate, key } => simple("credential.key-mismatch", "The private key does not belong to the certificate")
            .evidence(format!("certificate: {}, key: {}", certificate.display(), key.display()))
            .fix("Use the key the certificate was issued for (compare: openssl x509 -noout -modulus -in cert.pem | openssl sha256, and the same with openssl rsa -noout -modulus -in key.pem)"),
        Error::PfxPassword { .. } => simple("credential.pfx-password", "The PFX cannot be opened with this password"),
        Error::Certificate { .. } => simple("credential.certificate-unreadable", "The certificate cannot be used"),
        Error::MissingCredential { .. } => simple("credential.missing", "No credential was given"),
        Error::MissingInputs { summary, ids, how } => {
            let (id, title) = match ids.as_slice() {
                [one] => (*one, format!("No {} was given", summary.trim_start_matches("the ").trim_start_matches("a "))),
                _ => ("setup.incomplete", format!("Missing: {summary}")),
            };
            how.iter().fold(Finding::new(id, Severity::Error, title), |finding, how| finding.fix(capitalised(how)))
        }
        Error::Timeout { url, hint, .. } => simple("network.timeout", "The request timed out")
            .evidence(format!("url: {url}"))
            .fix(capitalised(hint)),
        Error::Network { fault, url, hint, .. } => match fault {
            NetworkFault::Dns => simple("network.dns", "The host name does not resolve (DNS)"),
            NetworkFault::Interrupted => simple("network.interrupted", "The connection broke before the whole answer arrived"),
            NetworkFault::Tls => simple("network.tls", "The TLS handshake failed"),
            NetworkFault::Refused | NetworkFault::Other => simple("network.unreachable", "The server could not be reached"),
        }
        .evidence(format!("url: {url}"))
        .fix(capitalised(hint)),
        Error::Throttled { retry_after, .. } => simple("throttled", "Entra ID is throttling this app (429)")
            .evidence(format!("Retry-After: {}", retry_after.as_deref().unwrap_or("not given")))
            .fix("Wait for the Retry-After time, then try again")
            .fix("Reuse a token until it nears expiry instead of asking for one per call (--persist-cache keeps them between runs)"),
        Error::UntrustedCertificate { url, .. } => simple("network.untrusted-certificate", "The server's TLS certificate is not trusted")
            .evidence(format!("url: {url}"))
            .fix("Behind a TLS-inspecting proxy, trust its root CA: --ca-file PATH or SSL_CERT_FILE=PATH (a PEM bundle)"),
        Error::Redirected { .. } => simple("network.redirect", "The token endpoint redirected the request"),
        Error::UnexpectedResponse { .. } => simple("network.unexpected-response", "The answer was not a token response"),
        Error::ImplausibleLifetime { from, field, value, .. } => simple("network.implausible-lifetime", "The token response gives a lifetime no token has")
            .evidence(format!("{field}: {value} (from {from})"))
            .fix("Check that --authority-host / --token-endpoint point at Entra ID and that no proxy rewrites its answers"),
        Error::Decode(_) => simple("token.malformed", "The token cannot be decoded"),
        _ => simple("input.invalid", "The input cannot be used"),
    }
}

/// A hint written to follow a colon, as a sentence of its own.
fn capitalised(hint: &str) -> String {
    let mut chars = hint.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
