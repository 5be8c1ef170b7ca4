//! The diagnosis layer against realistic inputs: every finding id from a fixture in
//! `tests/fixtures/diagnose/` (bodies and headers shaped as Entra ID, Graph, ARM, Key Vault,
//! Storage, Batch and SQL send them) or from the library's own errors, with a fixed `now`; the
//! catalog's fixes rendered; and `entra-doctor explain` as an operator runs it.

use chrono::{DateTime, TimeZone as _, Utc};
use entra_doctor::Error;
use entra_doctor::Secret;
use entra_doctor::auth::net_failure::NetworkFault;
use entra_doctor::auth::{AuthorityHost, CertificateSource, ClientCertificate, ScopeSet, Tenant};
use entra_doctor::diagnose::api::{self, ApiAnswer, ApiError};
use entra_doctor::diagnose::explain::{Extra, Recognised, explain};
use entra_doctor::diagnose::{
    self, Catalog, Finding, FixContext, Resources, Severity, http_text, preflight, token_checks,
    www_authenticate,
};
use entra_doctor::token::{DecodedToken, decode};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::assert_cli_snapshot;
use crate::cli::entra_doctor;
use crate::support::{CLIENT_ID, NOW, TENANT_ID, fixture, jwt};

// ---------------------------------------------------------------------------------------------
// Helpers

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).unwrap()
}

fn path(name: &str) -> std::path::PathBuf {
    fixture("diagnose").join(name)
}

/// A fixture as `explain` reads it (lossy UTF-8, so a BOM stays a BOM).
fn read(name: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(path(name)).unwrap()).into_owned()
}

/// What the tool knows in `doctor`: the operator's tenant, app, resource and scope.
fn context() -> FixContext {
    FixContext {
        tenant: Some(TENANT_ID.into()),
        client_id: Some(CLIENT_ID.into()),
        resource: Some("https://graph.microsoft.com".into()),
        scope: Some("https://graph.microsoft.com/.default".into()),
        role: None,
    }
}

fn extra<'a>(token: Option<&'a DecodedToken>, url: Option<&'a str>) -> Extra<'a> {
    Extra {
        scope: None,
        url,
        token,
        context: context(),
    }
}

fn run(text: &str, extra: &Extra) -> (Recognised, Vec<Finding>) {
    explain(text, extra, now()).unwrap_or_else(|e| panic!("not explained: {e}\n{text}"))
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.id.as_str()).collect()
}

fn find<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(findings)))
}

/// The finding that leads, checked to be `id`.
fn first<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    assert_eq!(
        findings.first().map(|f| f.id.as_str()),
        Some(id),
        "{findings:#?}"
    );
    &findings[0]
}

fn has_evidence(finding: &Finding, needle: &str) {
    assert!(
        finding.evidence.iter().any(|e| e.contains(needle)),
        "{}: no evidence quotes {needle:?}: {:#?}",
        finding.id,
        finding.evidence
    );
}

fn has_fix(finding: &Finding, needle: &str) {
    assert!(
        finding.fixes.iter().any(|e| e.contains(needle)),
        "{}: no fix names {needle:?}: {:#?}",
        finding.id,
        finding.fixes
    );
}

/// `{name}` with a name made of letters, digits and `_`: a template placeholder left unfilled.
/// JMESPath (`{name:displayName}`) and PowerShell (`@{DisplayName='x'}`) braces do not count.
fn unfilled_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}') {
            let name = &after[..close];
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Some(&rest[open..open + close + 2]);
            }
        }
        rest = after;
    }
    None
}

/// Every finding: no unfilled placeholder, docs are links.
fn well_formed(findings: &[Finding]) {
    for finding in findings {
        for text in std::iter::once(&finding.cause)
            .chain(&finding.fixes)
            .chain(std::iter::once(&finding.title))
        {
            assert_eq!(unfilled_placeholder(text), None, "{}: {text}", finding.id);
        }
        for doc in &finding.docs {
            assert!(doc.starts_with("https://"), "{}: {doc}", finding.id);
        }
    }
}

// Tokens made here from JSON, as Entra ID shapes them (v1: appid/ver 1.0, sts.windows.net
// issuer; v2: azp/ver 2.0, login.microsoftonline.com/…/v2.0 issuer).

const OID: &str = "99999999-8888-4777-8666-555555555555";

fn v1_token(aud: &str, roles: Option<&[&str]>, exp: i64) -> String {
    let mut claims = json!({
        "aud": aud,
        "iss": format!("https://sts.windows.net/{TENANT_ID}/"),
        "iat": exp - 3900, "nbf": exp - 3900, "exp": exp,
        "aio": "k2BgYGjSeNjrZ5f7mXx0Q1nV8gA=",
        "app_displayname": "contoso-daemon",
        "appid": CLIENT_ID, "appidacr": "1",
        "idp": format!("https://sts.windows.net/{TENANT_ID}/"),
        "idtyp": "app",
        "oid": OID, "rh": "0.AXEAPQ", "sub": OID,
        "tid": TENANT_ID, "uti": "dGhpcy1pcy1hLXV0aQ", "ver": "1.0",
    });
    if let Some(roles) = roles {
        claims["roles"] = json!(roles);
    }
    jwt(
        &json!({"typ":"JWT","alg":"RS256","x5t":"kid-1","kid":"kid-1"}),
        &claims,
    )
}

fn v2_token(aud: &str, roles: Option<&[&str]>, exp: i64) -> String {
    let mut claims = json!({
        "aud": aud,
        "iss": format!("https://login.microsoftonline.com/{TENANT_ID}/v2.0"),
        "iat": exp - 3900, "nbf": exp - 3900, "exp": exp,
        "azp": CLIENT_ID, "azpacr": "2",
        "idtyp": "app",
        "oid": OID, "sub": OID,
        "tid": TENANT_ID, "ver": "2.0",
    });
    if let Some(roles) = roles {
        claims["roles"] = json!(roles);
    }
    jwt(&json!({"typ":"JWT","alg":"RS256","kid":"kid-2"}), &claims)
}

/// A delegated (user) token for Graph: `scp`, no `idtyp`, no `roles`.
fn user_token() -> String {
    jwt(
        &json!({"typ":"JWT","nonce":"n0nce","alg":"RS256","x5t":"kid-1","kid":"kid-1"}),
        &json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{TENANT_ID}/"),
            "iat": NOW - 600, "nbf": NOW - 600, "exp": NOW + 3000,
            "acr": "1", "amr": ["pwd", "mfa"],
            "app_displayname": "Graph Explorer",
            "appid": "de8bc8b5-d9f9-48b1-a8ad-b748da725064", "appidacr": "0",
            "name": "Adele Vance", "oid": "0a654403-dc47-4ff8-b7aa-a553c9d8bdde",
            "scp": "User.Read Mail.Read openid profile email",
            "sub": "4HwQ1bX7", "tid": TENANT_ID,
            "unique_name": "adele@contoso.onmicrosoft.com",
            "upn": "adele@contoso.onmicrosoft.com", "ver": "1.0",
        }),
    )
}

fn decoded(token: &str) -> DecodedToken {
    decode(token).unwrap()
}

const IN_AN_HOUR: i64 = NOW + 3600;

// ---------------------------------------------------------------------------------------------
// Token-endpoint errors: AADSTS<n>

#[test]
fn aadsts_token_errors_quote_code_trace_correlation_and_timestamp() {
    // (fixture, code, what the fixes must name from the context)
    let cases = [
        ("token-error-7000215.json", 7_000_215, CLIENT_ID),
        ("token-error-7000222.json", 7_000_222, CLIENT_ID),
        ("token-error-700027.json", 700_027, CLIENT_ID),
        ("token-error-700016-v1.json", 700_016, CLIENT_ID),
        ("token-error-1002012.json", 1_002_012, CLIENT_ID),
        (
            "token-error-70011.json",
            70011,
            "https://graph.microsoft.com",
        ),
    ];
    for (name, code, named) in cases {
        let text = read(name);
        let body: Value = serde_json::from_str(&text).unwrap();
        let (kind, findings) = run(&text, &extra(None, None));
        assert_eq!(kind, Recognised::TokenError, "{name}");
        assert_eq!(ids(&findings), [format!("AADSTS{code}")], "{name}");
        let finding = &findings[0];
        assert_eq!(finding.severity, Severity::Error);
        has_evidence(
            finding,
            &format!("{}: AADSTS{code}: ", body["error"].as_str().unwrap()),
        );
        for field in ["trace_id", "correlation_id", "timestamp"] {
            has_evidence(finding, body[field].as_str().unwrap());
        }
        // The description's first line only: the Trace ID lines are evidence of their own.
        assert!(
            !finding.evidence[0].contains("Trace ID:"),
            "{:?}",
            finding.evidence
        );
        has_fix(finding, named);
        for fix in &finding.fixes {
            for stand_in in ["<client-id>", "<tenant-id>"] {
                assert!(!fix.contains(stand_in), "{name}: {fix}");
            }
        }
        assert!(
            finding
                .docs
                .iter()
                .any(|d| d.contains(&format!("code={code}")) || d.contains("learn.microsoft.com")),
            "{:?}",
            finding.docs
        );
        well_formed(&findings);
    }
}

#[test]
fn aadsts_in_a_raw_token_endpoint_response_keeps_its_status() {
    let (kind, findings) = run(&read("token-error-7000215.http"), &extra(None, None));
    assert_eq!(kind, Recognised::HttpResponse);
    let finding = first(&findings, "AADSTS7000215");
    has_evidence(
        finding,
        "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided.",
    );
    has_evidence(finding, "trace id: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c14");
    has_fix(
        finding,
        &format!("az ad app credential reset --id {CLIENT_ID}"),
    );
}

#[test]
fn aadsts_in_a_log_line_is_read_from_the_text() {
    let log = format!(
        "2026-11-25 11:58:40.117 ERROR daemon MsalServiceException: AADSTS700016: Application with \
         identifier '{CLIENT_ID}' was not found in the directory 'Contoso'. Trace ID: \
         4c3b2a19-0817-4f6e-9d5c-4b3a29180710"
    );
    let (kind, findings) = run(&log, &extra(None, None));
    assert_eq!(kind, Recognised::Text);
    let finding = first(&findings, "AADSTS700016");
    has_evidence(finding, "was not found in the directory 'Contoso'");
}

#[test]
fn unknown_aadsts_code_quotes_entra_and_links_its_lookup_page() {
    assert!(
        Catalog::builtin().get(50107).is_none(),
        "pick another unknown code"
    );
    let (_, findings) = run(&read("token-error-unknown-code.json"), &extra(None, None));
    let finding = first(&findings, "AADSTS50107");
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.title.contains("50107"), "{}", finding.title);
    has_evidence(
        finding,
        "AADSTS50107: The requested federation realm object 'urn:federation:contoso' does not exist.",
    );
    has_evidence(finding, "trace id: 2b3c4d5e-6f70-4182-9394-a5b6c7d8e912");
    has_fix(
        finding,
        "https://login.microsoftonline.com/error?code=50107",
    );
    assert_eq!(
        finding.docs,
        ["https://login.microsoftonline.com/error?code=50107"]
    );
}

#[test]
fn oauth_error_without_a_code_is_still_a_finding() {
    let (kind, findings) = run(&read("token-error-no-code.json"), &extra(None, None));
    assert_eq!(kind, Recognised::TokenError);
    let finding = first(&findings, "oauth.invalid_request");
    has_evidence(
        finding,
        "must contain the following parameter: 'grant_type'",
    );
}

// ---------------------------------------------------------------------------------------------
// The catalog

#[test]
fn every_catalog_entry_renders_its_fixes_without_unfilled_placeholders() {
    let catalog = Catalog::builtin();
    let entries: Vec<_> = catalog.entries().collect();
    assert!(entries.len() >= 19, "{} entries", entries.len());
    let full = FixContext {
        tenant: Some(TENANT_ID.into()),
        client_id: Some(CLIENT_ID.into()),
        resource: Some("https://vault.azure.net".into()),
        scope: Some("https://vault.azure.net/.default".into()),
        role: Some("Secrets.Read.All".into()),
    };
    let values = [
        ("{tenant}", TENANT_ID, "<tenant-id>"),
        ("{client_id}", CLIENT_ID, "<client-id>"),
        ("{resource}", "https://vault.azure.net", "<resource>"),
        (
            "{scope}",
            "https://vault.azure.net/.default",
            "<resource>/.default",
        ),
        ("{role}", "Secrets.Read.All", "<app-role>"),
    ];
    for entry in entries {
        let templates = [
            Some(&entry.cause),
            Some(&entry.fix),
            entry.portal.as_ref(),
            entry.az.as_ref(),
            entry.powershell.as_ref(),
        ];
        let template = templates
            .iter()
            .flatten()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for context in [&FixContext::default(), &full] {
            let finding = catalog.finding(entry.code, context);
            assert_eq!(finding.id, format!("AADSTS{}", entry.code));
            assert!(!finding.fixes.is_empty(), "AADSTS{}", entry.code);
            assert!(!finding.docs.is_empty(), "AADSTS{}", entry.code);
            well_formed(std::slice::from_ref(&finding));
            let rendered = std::iter::once(&finding.cause)
                .chain(&finding.fixes)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            assert!(!rendered.contains("{{"), "AADSTS{}: {rendered}", entry.code);
            for (placeholder, value, stand_in) in values {
                if !template.contains(placeholder) {
                    continue;
                }
                let expected = if context == &full { value } else { stand_in };
                assert!(
                    rendered.contains(expected),
                    "AADSTS{}: {placeholder} should render as {expected}: {rendered}",
                    entry.code
                );
            }
            if context == &full {
                // No stand-in beyond the ones the catalog's own words contain.
                for (_, _, stand_in) in values {
                    assert_eq!(
                        rendered.matches(stand_in).count(),
                        template.matches(stand_in).count(),
                        "AADSTS{}: {stand_in} left with a full context: {rendered}",
                        entry.code
                    );
                }
            }
        }
    }
}

#[test]
fn the_codes_the_issue_names_are_in_the_catalog() {
    let catalog = Catalog::builtin();
    for code in [
        70011, 1_002_012, 7_000_215, 7_000_222, 700_016, 90002, 900_023, 700_027, 700_024, 500_011,
        7_000_112, 53003, 90014, 7_000_218, 700_025, 50049, 500_113, 50196,
    ] {
        let entry = catalog
            .get(code)
            .unwrap_or_else(|| panic!("AADSTS{code} is missing"));
        assert!(
            !entry.title.is_empty() && !entry.cause.is_empty(),
            "AADSTS{code}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Preflight: scope, credential, tenant, authority

fn scope_finding(scope: &str) -> Vec<Finding> {
    ScopeSet::parse(&[scope])
        .unwrap()
        .lints()
        .iter()
        .map(preflight::scope)
        .collect()
}

#[test]
fn scope_missing_default() {
    let findings = scope_finding("https://graph.microsoft.com");
    let finding = first(&findings, "scope.missing-default");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(finding, "scope: https://graph.microsoft.com");
    assert_eq!(
        finding.fixes,
        ["Use --scope https://graph.microsoft.com/.default"]
    );
    let findings = scope_finding("api://0580fc27-5a59-4256-bb3c-fa881957fdd7");
    has_fix(
        first(&findings, "scope.missing-default"),
        "api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default",
    );
    well_formed(&findings);
}

#[test]
fn scope_trailing_slash_audience_shows_the_double_slash_scope() {
    for (scope, slashed) in [
        (
            "https://database.windows.net/.default",
            "https://database.windows.net/",
        ),
        (
            "https://batch.core.windows.net/.default",
            "https://batch.core.windows.net/",
        ),
    ] {
        let findings = scope_finding(scope);
        let finding = first(&findings, "scope.trailing-slash-audience");
        assert_eq!(finding.severity, Severity::Warning);
        has_evidence(finding, &format!("scope: {scope}"));
        assert!(finding.cause.contains(slashed), "{}", finding.cause);
        assert_eq!(finding.fixes, [format!("Use --scope {slashed}/.default")]);
    }
    assert!(scope_finding("https://database.windows.net//.default").is_empty());
    assert!(scope_finding("https://graph.microsoft.com/.default").is_empty());
}

#[test]
fn scope_delegated() {
    for (scope, fix) in [
        (
            "https://graph.microsoft.com/User.Read.All",
            Some("Use --scope https://graph.microsoft.com/.default"),
        ),
        (
            "User.Read",
            Some("Use --scope https://graph.microsoft.com/.default"),
        ),
        ("offline_access", None),
    ] {
        let findings = scope_finding(scope);
        let finding = first(&findings, "scope.delegated");
        assert_eq!(finding.severity, Severity::Error, "{scope}");
        has_evidence(finding, &format!("scope: {scope}"));
        match fix {
            Some(fix) => assert_eq!(finding.fixes, [fix]),
            None => assert!(finding.cause.contains("/.default"), "{}", finding.cause),
        }
    }
}

#[test]
fn scope_multiple_resources() {
    let error = ScopeSet::parse(&[
        "https://graph.microsoft.com/.default",
        "https://vault.azure.net/.default",
    ])
    .unwrap_err();
    let finding = preflight::error(&error, &context());
    assert_eq!(finding.id, "scope.multiple-resources");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(
        &finding,
        "https://graph.microsoft.com, https://vault.azure.net",
    );
    has_fix(&finding, "one token per resource");
}

#[test]
fn scope_invalid() {
    let error = ScopeSet::parse(&["   "]).unwrap_err();
    let finding = preflight::error(&error, &context());
    assert_eq!(finding.id, "scope.invalid");
    has_evidence(&finding, "scope: \"   \"");
}

#[test]
fn credential_secret_looks_like_id_never_prints_the_secret() {
    // The portal's "Secret ID" column, pasted where the Value belongs.
    let secret_id = "e82aadd4-c697-4343-b022-2c59d85a1a9b";
    let finding = preflight::secret(&Secret::new(secret_id), &FixContext::default()).unwrap();
    assert_eq!(finding.id, "credential.secret-looks-like-id");
    assert_eq!(finding.severity, Severity::Warning);
    has_evidence(&finding, "GUID of 36 characters");
    has_fix(&finding, "az ad app credential reset");
    assert!(!format!("{finding:?}").contains(secret_id));
    assert!(
        preflight::secret(
            &Secret::new("72a8Q~1qQGE5To.U8f-XywdcJF3ASa9wOYEbmOJf"),
            &FixContext::default()
        )
        .is_none()
    );
}

#[test]
fn credential_secret_looks_like_id_fix_names_the_client_id() {
    let context = FixContext {
        client_id: Some(CLIENT_ID.into()),
        ..FixContext::default()
    };
    let finding = preflight::secret(
        &Secret::new("e82aadd4-c697-4343-b022-2c59d85a1a9b"),
        &context,
    )
    .unwrap();
    has_fix(&finding, CLIENT_ID);
}

fn pem(name: &str, key: Option<&str>) -> Result<ClientCertificate, Error> {
    ClientCertificate::load(&CertificateSource::Pem {
        path: fixture(name),
        key: key.map(fixture),
    })
}

#[test]
fn credential_certificate_expired() {
    let certificate = pem("expired.pem", None).unwrap();
    let finding = preflight::certificate(&certificate.info, now(), &FixContext::default()).unwrap();
    assert_eq!(finding.id, "credential.certificate-expired");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(&finding, &certificate.info.thumbprint_sha1);
    has_evidence(&finding, "2021-01-01");
    has_fix(&finding, "az ad app credential reset");
    assert!(
        preflight::certificate(
            &pem("daemon-pkcs8.pem", None).unwrap().info,
            now(),
            &FixContext::default()
        )
        .is_none()
    );
}

#[test]
fn credential_certificate_not_yet_valid() {
    // Valid from 2025-01-01: a machine whose clock says mid-2024 sees it as not yet valid.
    let certificate = pem("daemon-pkcs8.pem", None).unwrap();
    let early = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    let finding = preflight::certificate(&certificate.info, early, &FixContext::default()).unwrap();
    assert_eq!(finding.id, "credential.certificate-not-yet-valid");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(&finding, "2025-01-01");
    has_fix(&finding, "clock");
}

#[test]
fn credential_key_mismatch() {
    let error = pem("daemon.crt.pem", Some("other.key.pem")).unwrap_err();
    let finding = preflight::error(&error, &context());
    assert_eq!(finding.id, "credential.key-mismatch");
    has_evidence(&finding, "daemon.crt.pem");
    has_evidence(&finding, "other.key.pem");
    has_fix(&finding, "openssl x509 -noout -modulus");
    let combined = pem("mismatched.pem", None).unwrap_err();
    assert_eq!(
        preflight::error(&combined, &context()).id,
        "credential.key-mismatch"
    );
}

#[test]
fn credential_pfx_password() {
    let error = ClientCertificate::load(&CertificateSource::Pfx {
        path: fixture("daemon.pfx"),
        password: Secret::new("Wrong-Password-123"),
        password_source: "$AZURE_CLIENT_CERTIFICATE_PASSWORD".into(),
    })
    .unwrap_err();
    let finding = preflight::error(&error, &context());
    assert_eq!(finding.id, "credential.pfx-password");
    assert!(finding.cause.contains("$AZURE_CLIENT_CERTIFICATE_PASSWORD"));
    assert!(!format!("{finding:?}").contains("Wrong-Password-123"));
}

#[test]
fn credential_missing_and_unreadable() {
    let missing = Error::MissingCredential {
        hint: "set AZURE_CLIENT_SECRET, or pass --secret-stdin, --certificate PATH or --assertion-file PATH".into(),
    };
    let finding = preflight::error(&missing, &context());
    assert_eq!(finding.id, "credential.missing");
    assert!(finding.cause.contains("AZURE_CLIENT_SECRET"));
    let unreadable = pem("not-a-certificate.pem", None).unwrap_err();
    assert_eq!(
        preflight::error(&unreadable, &context()).id,
        "credential.certificate-unreadable"
    );
}

#[test]
fn tenant_not_allowed() {
    for tenant in ["common", "organizations", "Consumers"] {
        let error = Tenant::parse(tenant).unwrap_err();
        let finding = preflight::error(&error, &context());
        assert_eq!(finding.id, "tenant.not-allowed", "{tenant}");
        assert_eq!(finding.severity, Severity::Error);
        has_evidence(&finding, &format!("tenant: {tenant}"));
        has_fix(&finding, "Directory (tenant) ID");
    }
}

#[test]
fn tenant_invalid() {
    for tenant in [
        "7a1b2c3d-0000-4000-8000-00000000aaa",
        "contoso onmicrosoft com",
    ] {
        let error = Tenant::parse(tenant).unwrap_err();
        let finding = preflight::error(&error, &context());
        assert_eq!(finding.id, "tenant.invalid", "{tenant}");
        has_evidence(&finding, tenant);
    }
}

#[test]
fn authority_insecure_and_invalid() {
    let error = AuthorityHost::parse("http://login.microsoftonline.com").unwrap_err();
    let finding = preflight::error(&error, &context());
    assert_eq!(finding.id, "authority.insecure");
    has_evidence(&finding, "authority: http://login.microsoftonline.com");
    has_fix(&finding, "https");
    let error = AuthorityHost::parse("login.microsoftonline.com").unwrap_err();
    assert_eq!(preflight::error(&error, &context()).id, "authority.invalid");
}

#[test]
fn network_and_other_library_errors_are_findings() {
    let url =
        "https://login.microsoftonline.com/7a1b2c3d-0000-4000-8000-00000000aaaa/oauth2/v2.0/token";
    let cases = [
        (
            Error::Network {
                url: url.into(),
                fault: NetworkFault::Dns,
                detail: "dns error: failed to lookup address information".into(),
                hint: "check the host's spelling".into(),
            },
            "network.dns",
        ),
        (
            Error::Network {
                url: url.into(),
                fault: NetworkFault::Refused,
                detail: "tcp connect error: Connection refused (os error 111)".into(),
                hint: "nothing listens there".into(),
            },
            "network.unreachable",
        ),
        (
            Error::Throttled {
                url: url.into(),
                retry_after: Some("120".into()),
            },
            "throttled",
        ),
        (
            Error::Timeout {
                url: url.into(),
                phase: "the token request",
                limit: entra_doctor::auth::deadline::TimeLimit::Deadline {
                    budget: std::time::Duration::from_secs(30),
                    attempts: 3,
                },
                hint: "retry, or raise --timeout",
            },
            "network.timeout",
        ),
        (
            Error::Redirected {
                url: url.into(),
                status: 302,
                location: "https://proxy.contoso.com/login".into(),
            },
            "network.redirect",
        ),
        (
            Error::UnexpectedResponse {
                url: url.into(),
                status: 200,
                content_type: "text/html".into(),
                snippet: "<html><title>Sign in to the proxy</title>".into(),
            },
            "network.unexpected-response",
        ),
        (
            Error::Decode(decode("opaque-token").unwrap_err()),
            "token.malformed",
        ),
        (
            Error::InvalidInput {
                what: "--probe \"graph\"".into(),
                reason: "is not a URL".into(),
            },
            "input.invalid",
        ),
    ];
    for (error, id) in cases {
        let finding = preflight::error(&error, &context());
        assert_eq!(finding.id, id);
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.cause, error.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// API answers: 403, 401, 429, 5xx, claims challenges, clock skew

const GRAPH_USERS: &str = "https://graph.microsoft.com/v1.0/users?$select=id,displayName";

#[test]
fn api_forbidden_lists_the_roles_the_route_needs_and_the_ones_the_token_has() {
    let token = decoded(&v1_token(
        "https://graph.microsoft.com",
        Some(&["Group.Read.All"]),
        IN_AN_HOUR,
    ));
    let (kind, findings) = run(
        &read("graph-403-authorization-request-denied.http"),
        &extra(Some(&token), Some(GRAPH_USERS)),
    );
    assert_eq!(kind, Recognised::HttpResponse);
    let finding = first(&findings, "api.forbidden");
    assert_eq!(finding.severity, Severity::Error);
    assert!(
        finding.title.contains("Microsoft Graph"),
        "{}",
        finding.title
    );
    has_evidence(
        finding,
        "HTTP 403: Authorization_RequestDenied: Insufficient privileges to complete the operation.",
    );
    has_evidence(finding, "token roles: Group.Read.All");
    has_evidence(
        finding,
        "GET /v1.0/users needs one of: User.ReadBasic.All, User.Read.All",
    );
    has_fix(finding, "Application permission User.ReadBasic.All");
    has_fix(
        finding,
        &format!(
            "az ad app permission add --id {CLIENT_ID} --api 00000003-0000-0000-c000-000000000000"
        ),
    );
    has_fix(
        finding,
        &format!("az ad app permission admin-consent --id {CLIENT_ID}"),
    );
    has_fix(finding, "--force-refresh");
    well_formed(&findings);
}

#[test]
fn api_forbidden_from_a_pasted_body_without_status_line() {
    let (kind, findings) = run(
        &read("graph-403-authorization-request-denied.json"),
        &extra(None, None),
    );
    assert_eq!(kind, Recognised::ApiError);
    let finding = first(&findings, "api.forbidden");
    has_evidence(finding, "HTTP 403: ");
    has_fix(finding, CLIENT_ID);
    well_formed(&findings);

    // ARM authorises by role assignments: the fix is one, with the ids the message names.
    let (kind, findings) = run(
        &read("arm-403-authorization-failed.json"),
        &extra(None, None),
    );
    assert_eq!(kind, Recognised::ApiError);
    let finding = first(&findings, "arm.authorization-failed");
    has_evidence(
        finding,
        "HTTP 403 AuthorizationFailed: The client '11111111-2222-4333-8444-555555555555' with object id",
    );
    has_evidence(
        finding,
        "denied action: Microsoft.Resources/subscriptions/resourcegroups/read",
    );
    has_fix(
        finding,
        "az role assignment create --assignee-object-id 99999999-8888-4777-8666-555555555555 --role \"Reader\" --scope /subscriptions/0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e/resourcegroups/rg-daemon",
    );
    well_formed(&findings);
}

#[test]
fn api_forbidden_with_a_no_roles_token_says_so() {
    let token = decoded(&v1_token("https://graph.microsoft.com", None, IN_AN_HOUR));
    let (_, findings) = run(
        &read("graph-403-authorization-request-denied.json"),
        &extra(Some(&token), Some(GRAPH_USERS)),
    );
    assert_eq!(ids(&findings), ["api.forbidden", "token.no-roles"]);
    has_evidence(&findings[0], "token roles: none");
    has_evidence(find(&findings, "token.no-roles"), "roles: absent");
}

#[test]
fn api_unauthorized_quotes_the_api_and_its_challenge() {
    // Key Vault's "no token" is its own finding, with the service's words and challenge.
    let (_, findings) = run(&read("keyvault-401-missing-token.http"), &extra(None, None));
    let finding = first(&findings, "keyvault.missing-token");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(
        finding,
        "HTTP 401 Unauthorized: AKV10000: Request is missing a Bearer or PoP token.",
    );
    has_evidence(
        finding,
        &format!(
            "WWW-Authenticate: Bearer authorization=\"https://login.microsoftonline.com/{TENANT_ID}\", resource=\"https://vault.azure.net\""
        ),
    );
    has_fix(
        finding,
        "entra-doctor token --scope https://vault.azure.net/.default",
    );

    // Storage: an unquoted, space-separated challenge and an XML body.
    let (_, findings) = run(&read("storage-401-challenge.http"), &extra(None, None));
    let finding = first(&findings, "api.unauthorized");
    has_evidence(finding, "NoAuthenticationInformation");
    has_evidence(finding, "resource_id=\"https://storage.azure.com\"");
}

#[test]
fn api_claims_challenge_decodes_the_claims() {
    let (_, findings) = run(&read("graph-401-claims-challenge.http"), &extra(None, None));
    let finding = first(&findings, "api.claims-challenge");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(
        finding,
        r#"claims: {"access_token":{"nbf":{"essential":true, "value":"1795607700"}}}"#,
    );
    has_fix(finding, "--claims");
    assert!(
        !ids(&findings).contains(&"api.unauthorized"),
        "{:?}",
        ids(&findings)
    );
}

#[test]
fn api_server_error() {
    let (_, findings) = run(&read("graph-503.http"), &extra(None, None));
    let finding = first(&findings, "api.server-error");
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.title.contains("503"));
    has_evidence(finding, "HTTP 503: serviceNotAvailable Service unavailable");
}

#[test]
fn throttled_quotes_retry_after() {
    let (_, findings) = run(&read("graph-429.http"), &extra(None, None));
    assert_eq!(ids(&findings), ["throttled"]);
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    has_evidence(finding, "Retry-After: 48");
    has_fix(finding, "Wait 48 seconds");
}

#[test]
fn clock_skew_from_the_date_header() {
    let (_, findings) = run(&read("skewed-date.http"), &extra(None, None));
    assert_eq!(ids(&findings), ["clock.skew"]);
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    has_evidence(finding, "server Date: 2026-11-25 15:12:09 UTC");
    has_evidence(
        finding,
        "local clock: 2026-11-25 12:00:00 UTC (11529 s apart)",
    );
    has_fix(finding, "NTP");
    // Two seconds apart is no skew.
    let (_, findings) = run(&read("graph-429.http"), &extra(None, None));
    assert!(!ids(&findings).contains(&"clock.skew"));
}

#[test]
fn not_yet_valid_is_not_called_expired() {
    let (_, findings) = run(&read("graph-401-not-yet-valid.http"), &extra(None, None));
    assert!(
        !ids(&findings).contains(&"token.expired"),
        "{:?}",
        ids(&findings)
    );
    assert!(
        ids(&findings).contains(&"clock.skew"),
        "{:?}",
        ids(&findings)
    );
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[test]
fn token_expired_from_graph_401_and_from_the_token() {
    let exp = NOW - 3600;
    let token = decoded(&v1_token(
        "https://graph.microsoft.com",
        Some(&["User.Read.All"]),
        exp,
    ));
    let (kind, findings) = run(&read("graph-401-expired.json"), &extra(Some(&token), None));
    assert_eq!(kind, Recognised::ApiError);
    let finding = first(&findings, "token.expired");
    assert_eq!(finding.severity, Severity::Error);
    has_evidence(finding, "exp: 2026-11-25 11:00:00 UTC");
    has_evidence(finding, "Lifetime validation failed, the token is expired.");
    has_fix(finding, "--force-refresh");
    // The pasted token alone says the same.
    let (kind, findings) = run(
        &v1_token("https://graph.microsoft.com", Some(&["User.Read.All"]), exp),
        &extra(None, None),
    );
    assert_eq!(kind, Recognised::Token);
    has_evidence(
        first(&findings, "token.expired"),
        "exp: 2026-11-25 11:00:00 UTC",
    );
    // Without the token, Graph's words alone.
    let (_, findings) = run(&read("graph-401-expired.json"), &extra(None, None));
    first(&findings, "token.expired");
}

#[test]
fn token_no_roles_names_the_app_and_the_audience() {
    let api = "0580fc27-5a59-4256-bb3c-fa881957fdd7";
    let (kind, findings) = run(&v2_token(api, None, IN_AN_HOUR), &extra(None, None));
    assert_eq!(kind, Recognised::Token);
    assert_eq!(ids(&findings), ["token.no-roles"]);
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    has_evidence(finding, &format!("aud: {api}; roles: absent"));
    has_fix(
        finding,
        &format!("App registrations › {CLIENT_ID} › API permissions"),
    );
    has_fix(
        finding,
        &format!("az ad app permission admin-consent --id {CLIENT_ID}"),
    );
    has_fix(finding, "--force-refresh");
    // With an empty roles array, the same; with roles, nothing.
    let empty = decoded(&v1_token(
        "https://graph.microsoft.com",
        Some(&[]),
        IN_AN_HOUR,
    ));
    assert_eq!(
        ids(&token_checks::check(&empty, now(), None, &context())),
        ["token.no-roles"]
    );
    let granted = decoded(&v1_token(
        "https://graph.microsoft.com",
        Some(&["User.Read.All"]),
        IN_AN_HOUR,
    ));
    assert!(token_checks::check(&granted, now(), None, &context()).is_empty());
}

#[test]
fn token_not_app_only() {
    // A Graph user token carries the header nonce: said, as info, after the real point.
    let (_, findings) = run(&user_token(), &extra(None, None));
    assert_eq!(ids(&findings), ["token.not-app-only", "token.graph-nonce"]);
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    has_evidence(finding, "scp: User.Read Mail.Read openid profile email");
}

#[test]
fn audience_unexpected_when_the_token_names_another_resource_than_the_scope() {
    // A Graph token pasted while the scope named Key Vault: worth a note, not an error.
    let token = v1_token(
        "https://graph.microsoft.com",
        Some(&["User.Read.All"]),
        IN_AN_HOUR,
    );
    let given = Extra {
        scope: Some("https://graph.microsoft.com/.default"),
        ..extra(None, None)
    };
    assert!(run(&token, &given).1.is_empty());
    let given = Extra {
        scope: Some("https://vault.azure.net/.default"),
        ..given
    };
    let (_, findings) = run(&token, &given);
    assert_eq!(ids(&findings), ["audience.unexpected"]);
    assert_eq!(findings[0].severity, Severity::Info);
    has_evidence(
        &findings[0],
        "aud: https://graph.microsoft.com; scope's resource: https://vault.azure.net",
    );
    // A v2 token's aud is the API's app id, never the URI asked for: no note.
    let v2 = v2_token(
        "0580fc27-5a59-4256-bb3c-fa881957fdd7",
        Some(&["Inventory.Read"]),
        IN_AN_HOUR,
    );
    let given = Extra {
        scope: Some("api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default"),
        ..given
    };
    assert!(run(&v2, &given).1.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Audiences, in every dialect

#[test]
fn audience_mismatch_in_arm_graph_and_storage_words() {
    // ARM names both sides.
    let (_, findings) = run(&read("arm-401-wrong-audience.http"), &extra(None, None));
    let finding = first(&findings, "audience.mismatch");
    has_evidence(finding, "token aud: https://graph.microsoft.com");
    has_evidence(
        finding,
        "the API accepts: https://management.core.windows.net/",
    );
    has_evidence(finding, "InvalidAuthenticationTokenAudience");
    assert!(
        !ids(&findings).contains(&"api.unauthorized"),
        "{:?}",
        ids(&findings)
    );

    // Graph names neither: the token and the URL do.
    let vault = decoded(&v1_token(
        "https://vault.azure.net",
        Some(&["Secrets.Read"]),
        IN_AN_HOUR,
    ));
    let (_, findings) = run(
        &read("graph-401-invalid-audience.http"),
        &extra(
            Some(&vault),
            Some("https://graph.microsoft.com/v1.0/organization"),
        ),
    );
    let finding = first(&findings, "audience.mismatch");
    has_evidence(finding, "token aud: https://vault.azure.net");
    has_evidence(finding, "the API accepts: https://graph.microsoft.com");
    has_evidence(
        finding,
        "Access token validation failure. Invalid audience.",
    );
    has_fix(finding, "https://graph.microsoft.com/.default");

    // Storage's XML, with the token and the blob URL.
    let (_, findings) = run(
        &read("storage-403-audience.xml"),
        &extra(
            Some(&vault),
            Some("https://contosodata.blob.core.windows.net/reports?restype=container&comp=list"),
        ),
    );
    let finding = first(&findings, "audience.mismatch");
    has_evidence(finding, "token aud: https://vault.azure.net");
    has_evidence(finding, "https://storage.azure.com");
    has_evidence(
        finding,
        "Audience validation failed. Audience did not match.",
    );
    has_fix(finding, "https://storage.azure.com/.default");
}

#[test]
fn storage_xml_with_its_bom_is_read_as_xml() {
    let error = ApiError::parse(&read("storage-403-audience.xml"));
    assert_eq!(error.code.as_deref(), Some("AuthenticationFailed"));
    assert_eq!(
        error.detail.as_deref(),
        Some("Audience validation failed. Audience did not match.")
    );
}

#[test]
fn storage_403_authentication_failed_is_not_a_missing_permission() {
    let body = read("storage-403-audience.xml");
    let raw = format!(
        "HTTP/1.1 403 Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\r\n\
         Content-Length: {}\r\nContent-Type: application/xml\r\nServer: Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0\r\n\
         x-ms-request-id: b3a6f0e2-701e-0035-3c2a-5f8d1c000000\r\nx-ms-error-code: AuthenticationFailed\r\n\
         Date: Wed, 25 Nov 2026 11:59:57 GMT\r\n\r\n{body}",
        body.len()
    );
    let (_, findings) = run(&raw, &extra(None, None));
    first(&findings, "audience.mismatch");
    assert!(
        !ids(&findings).contains(&"api.forbidden"),
        "{:?}",
        ids(&findings)
    );
}

/// One way an API words "the token is for `actual`, I want `wanted`".
struct SlashCase {
    dialect: &'static str,
    input: String,
    token: Option<DecodedToken>,
    url: Option<&'static str>,
    actual: &'static str,
    wanted: &'static str,
}

fn trailing_slash_cases() -> Vec<SlashCase> {
    let sql_challenge = read("www-authenticate-trailing-slash.txt");
    let header = sql_challenge
        .trim()
        .strip_prefix("WWW-Authenticate: ")
        .unwrap()
        .to_owned();
    let arm_body = read("arm-401-trailing-slash.json");
    let raw = format!(
        "HTTP/1.1 401 Unauthorized\r\nCache-Control: no-cache\r\nContent-Type: application/json; charset=utf-8\r\n\
         WWW-Authenticate: Bearer authorization_uri=\"https://login.windows.net/{TENANT_ID}\", error=\"invalid_token\", error_description=\"The access token has been obtained from wrong audience or resource 'https://management.core.windows.net'. It should exactly match (including forward slash) with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'.\"\r\n\
         x-ms-failure-cause: gateway\r\nDate: Wed, 25 Nov 2026 11:59:57 GMT\r\n\r\n{}",
        arm_body.trim()
    );
    let arm = (
        "https://management.core.windows.net",
        "https://management.core.windows.net/",
    );
    let sql = (
        "https://database.windows.net",
        "https://database.windows.net/",
    );
    let batch = (
        "https://batch.core.windows.net",
        "https://batch.core.windows.net/",
    );
    let case =
        |dialect, input, token, url, (actual, wanted): (&'static str, &'static str)| SlashCase {
            dialect,
            input,
            token,
            url,
            actual,
            wanted,
        };
    vec![
        case("ARM JSON body", arm_body, None, None, arm),
        case(
            "raw HTTP response (curl -i) with ARM's challenge",
            raw,
            None,
            None,
            arm,
        ),
        case(
            "WWW-Authenticate header alone",
            sql_challenge,
            None,
            None,
            sql,
        ),
        case("bare Bearer challenge value", header, None, None, sql),
        case(
            "Batch's 'Audience claim is' wording, with the token and the URL",
            "The audience claim value is invalid for current resource. Audience claim is \
             'https://batch.core.windows.net', request url is \
             'https://contosobatch.westeurope.batch.azure.com/pools?api-version=2024-07-01.20.0', \
             resource type is 'Batch'."
                .to_owned(),
            Some(decoded(&v1_token(
                batch.0,
                Some(&["Batch.Read"]),
                IN_AN_HOUR,
            ))),
            Some(
                "https://contosobatch.westeurope.batch.azure.com/pools?api-version=2024-07-01.20.0",
            ),
            batch,
        ),
        case(
            "a JWT checked against the SQL endpoint",
            v1_token(sql.0, None, IN_AN_HOUR),
            None,
            Some("https://contoso-sql.database.windows.net/"),
            sql,
        ),
    ]
}

#[test]
fn trailing_slash_is_named_in_every_dialect() {
    for case in trailing_slash_cases() {
        let SlashCase {
            dialect,
            actual,
            wanted,
            ..
        } = case;
        let (_, findings) = explain(&case.input, &extra(case.token.as_ref(), case.url), now())
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        assert_eq!(
            findings.first().map(|f| f.id.as_str()),
            Some("audience.trailing-slash"),
            "{dialect}: {findings:#?}"
        );
        let finding = &findings[0];
        assert_eq!(finding.severity, Severity::Error, "{dialect}");
        assert!(
            finding
                .title
                .contains(&format!("wants aud {wanted}, the token has {actual}")),
            "{dialect}: {}",
            finding.title
        );
        has_evidence(finding, &format!("token aud: {actual}"));
        has_fix(finding, &format!("Request the scope {wanted}/.default"));
        well_formed(&findings);
    }
}

#[test]
fn audience_complaint_directly() {
    let accepted = vec!["https://database.windows.net/".to_owned()];
    let finding = api::audience_complaint(
        "Invalid audience",
        Some("https://database.windows.net"),
        Some(&accepted),
    )
    .unwrap();
    assert_eq!(finding.id, "audience.trailing-slash");
    let finding = api::audience_complaint(
        "Invalid audience",
        Some("https://graph.microsoft.com"),
        Some(&accepted),
    )
    .unwrap();
    assert_eq!(finding.id, "audience.mismatch");
    has_evidence(&finding, "the API accepts: https://database.windows.net/");
    assert!(api::audience_complaint("Insufficient privileges", None, None).is_none());
}

#[test]
fn key_vault_expected_and_found_are_read_the_right_way_round() {
    let (_, findings) = run(&read("keyvault-401-audience.json"), &extra(None, None));
    let finding = first(&findings, "audience.trailing-slash");
    has_evidence(finding, "token aud: https://vault.azure.net/");
    assert!(
        finding
            .title
            .contains("wants aud https://vault.azure.net, the token has https://vault.azure.net/"),
        "{}",
        finding.title
    );
    has_fix(
        finding,
        "Request the scope https://vault.azure.net/.default",
    );
}

#[test]
fn batch_forward_slash_detail_is_read() {
    let (_, findings) = run(&read("batch-401-forward-slash.json"), &extra(None, None));
    let finding = first(&findings, "audience.trailing-slash");
    has_evidence(finding, "token aud: https://batch.core.windows.net");
    has_fix(
        finding,
        "Request the scope https://batch.core.windows.net//.default",
    );
}

#[test]
fn aspnet_invalid_audience_names_the_tokens_audience() {
    let (_, findings) = run(&read("aspnet-401-audience.txt"), &extra(None, None));
    let finding = first(&findings, "audience.mismatch");
    has_evidence(finding, "token aud: https://graph.microsoft.com");
    assert!(
        !finding
            .fixes
            .iter()
            .any(|f| f.contains("https://graph.microsoft.com/.default")),
        "{:?}",
        finding.fixes
    );
}

#[test]
fn exchange_request_url_is_not_an_audience() {
    let (_, findings) = run(&read("exchange-401-audience.json"), &extra(None, None));
    let finding = first(&findings, "audience.mismatch");
    has_evidence(finding, "token aud: https://graph.microsoft.com/");
    for fix in &finding.fixes {
        assert!(!fix.contains("/messages/.default"), "{fix}");
    }
}

#[test]
fn sql_login_failed_with_a_slashless_token_is_the_trailing_slash() {
    // Azure SQL defines no application role: its tokens carry none.
    let token = decoded(&v1_token("https://database.windows.net", None, IN_AN_HOUR));
    let (_, findings) = run(
        &read("sql-login-failed.txt"),
        &extra(
            Some(&token),
            Some("https://contoso-sql.database.windows.net/"),
        ),
    );
    first(&findings, "audience.trailing-slash");
}

// ---------------------------------------------------------------------------------------------
// Parsers, on the real headers

#[test]
fn www_authenticate_as_each_service_sends_it() {
    let header_of = |name: &str| {
        http_text::parse(&read(name))
            .unwrap()
            .header("WWW-Authenticate")
            .unwrap()
            .to_owned()
    };
    // Graph: quoted, comma separated, realm="".
    let graph = www_authenticate::parse(&header_of("graph-401-invalid-audience.http"));
    assert_eq!(graph.len(), 1);
    assert_eq!(graph[0].get("realm"), Some(""));
    assert_eq!(graph[0].tenant(), Some("common"));
    assert_eq!(
        graph[0].get("client_id"),
        Some("00000003-0000-0000-c000-000000000000")
    );
    // ARM: error and description.
    let arm = www_authenticate::parse(&header_of("arm-401-wrong-audience.http"));
    assert_eq!(arm[0].error(), Some("invalid_token"));
    assert!(arm[0].error_description().unwrap().starts_with("The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'"));
    assert_eq!(arm[0].tenant(), None);
    // Key Vault: `authorization` and `resource`.
    let kv = www_authenticate::parse(&header_of("keyvault-401-missing-token.http"));
    assert_eq!(
        kv[0].authorization_uri(),
        Some(format!("https://login.microsoftonline.com/{TENANT_ID}").as_str())
    );
    assert_eq!(kv[0].tenant(), Some(TENANT_ID));
    assert_eq!(kv[0].resource(), Some("https://vault.azure.net"));
    // Storage: unquoted, space separated, `resource_id`.
    let storage = www_authenticate::parse(&header_of("storage-401-challenge.http"));
    assert_eq!(storage.len(), 1);
    assert_eq!(storage[0].tenant(), Some(TENANT_ID));
    assert_eq!(storage[0].resource(), Some("https://storage.azure.com"));
    // CAE: the base64 claims.
    let cae = www_authenticate::parse(&header_of("graph-401-claims-challenge.http"));
    assert_eq!(cae[0].error(), Some("insufficient_claims"));
    assert_eq!(
        cae[0].claims().as_deref(),
        Some(r#"{"access_token":{"nbf":{"essential":true, "value":"1795607700"}}}"#)
    );
    // Two challenges in one header, as Key Vault sends for PoP.
    let two = www_authenticate::parse(&format!(
        r#"Bearer authorization="https://login.microsoftonline.com/{TENANT_ID}", resource="https://vault.azure.net", PoP authorization="https://login.microsoftonline.com/{TENANT_ID}", resource="https://vault.azure.net", nonce="eyJub25jZSI6IngifQ""#
    ));
    assert_eq!(
        two.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
        ["Bearer", "PoP"]
    );
    assert_eq!(two[1].get("nonce"), Some("eyJub25jZSI6IngifQ"));
}

#[test]
fn http_text_reads_curl_output() {
    let answer = http_text::parse(&read("graph-403-authorization-request-denied.http")).unwrap();
    assert_eq!(answer.status, Some(403));
    assert_eq!(
        answer.header("Request-Id"),
        Some("6d2a4d0e-1f0b-4c6a-9b8e-3f7a5c2d1e4b")
    );
    assert!(
        answer
            .header("x-ms-ags-diagnostic")
            .unwrap()
            .starts_with("{\"ServerInfo\"")
    );
    assert!(
        answer
            .body
            .starts_with("{\"error\":{\"code\":\"Authorization_RequestDenied\"")
    );
    // A reason phrase with spaces, and LF-only line ends (copied from a browser).
    let storage = read("storage-401-challenge.http").replace("\r\n", "\n");
    let answer = http_text::parse(&storage).unwrap();
    assert_eq!(answer.status, Some(401));
    assert_eq!(
        answer.header("x-ms-error-code"),
        Some("NoAuthenticationInformation")
    );
    // curl -i after an expect-continue: the last response counts.
    let continued = format!("HTTP/1.1 100 Continue\r\n\r\n{}", read("graph-429.http"));
    assert_eq!(http_text::parse(&continued).unwrap().status, Some(429));
}

#[test]
fn api_explain_is_what_probe_and_doctor_call() {
    let answer = ApiAnswer {
        method: "GET".into(),
        url: Some(GRAPH_USERS.into()),
        status: Some(403),
        headers: vec![("date".into(), "Wed, 25 Nov 2026 11:59:58 GMT".into())],
        body: read("graph-403-authorization-request-denied.json"),
    };
    let token = decoded(&v1_token("https://graph.microsoft.com", None, IN_AN_HOUR));
    let findings = api::explain(&answer, Some(&token), now(), &context());
    assert_eq!(ids(&findings), ["api.forbidden"]);
    has_evidence(&findings[0], "token roles: none");
    has_fix(&findings[0], CLIENT_ID);
    assert_eq!(
        Resources::builtin()
            .by_host("graph.microsoft.com")
            .map(|r| r.id.as_str()),
        Some("graph")
    );
}

#[test]
fn explain_recognises_every_kind_of_input() {
    let cases = [
        ("AADSTS70011".to_owned(), Recognised::Code),
        (read("token-error-70011.json"), Recognised::TokenError),
        (
            read("graph-403-authorization-request-denied.http"),
            Recognised::HttpResponse,
        ),
        (read("keyvault-401-audience.json"), Recognised::ApiError),
        (
            read("www-authenticate-trailing-slash.txt"),
            Recognised::Challenge,
        ),
        (
            v2_token("0580fc27-5a59-4256-bb3c-fa881957fdd7", None, IN_AN_HOUR),
            Recognised::Token,
        ),
        (read("arm-401-trailing-slash.json"), Recognised::ApiError),
    ];
    for (input, kind) in cases {
        assert_eq!(
            explain(&input, &extra(None, None), now()).unwrap().0,
            kind,
            "{input}"
        );
    }
    for junk in ["", "   ", "hello there", "{\"access_token\":\"x\"}"] {
        assert!(
            explain(junk, &extra(None, None), now()).is_err(),
            "{junk:?}"
        );
    }
}

#[test]
fn findings_are_sorted_most_important_first_without_duplicates() {
    let mut findings = vec![
        Finding::new("clock.skew", Severity::Warning, "a"),
        Finding::new("audience.unexpected", Severity::Info, "b"),
        Finding::new("api.forbidden", Severity::Error, "c"),
        Finding::new("clock.skew", Severity::Warning, "d"),
        Finding::new("token.expired", Severity::Error, "e"),
    ];
    diagnose::sort(&mut findings);
    assert_eq!(
        ids(&findings),
        [
            "api.forbidden",
            "token.expired",
            "clock.skew",
            "audience.unexpected"
        ]
    );
    assert_eq!(
        diagnose::to_json(&findings[..1]),
        json!({"findings":[{"id":"api.forbidden","severity":"error","title":"c","cause":"","evidence":[],"fixes":[],"docs":[]}]})
    );
}

// ---------------------------------------------------------------------------------------------
// `entra-doctor explain`

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn explain_cli(args: &[&str]) -> std::process::Output {
    entra_doctor().arg("explain").args(args).output().unwrap()
}

#[test]
fn explain_cli_text_snapshots() {
    let token_error = path("token-error-7000215.json");
    let output = explain_cli(&[
        token_error.to_str().unwrap(),
        "--tenant",
        TENANT_ID,
        "--client-id",
        CLIENT_ID,
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_cli_snapshot!("explain_token_error_7000215", stdout(&output));

    let forbidden = path("graph-403-authorization-request-denied.http");
    let token = v1_token("https://graph.microsoft.com", None, IN_AN_HOUR);
    let output = explain_cli(&[
        forbidden.to_str().unwrap(),
        "--url",
        "https://graph.microsoft.com/v1.0/users",
        "--token",
        &token,
        "--client-id",
        CLIENT_ID,
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(!text.contains(&token), "the raw token is never printed");
    assert_cli_snapshot!("explain_graph_403_with_token", text);

    let output = entra_doctor()
        .args(["explain", "-"])
        .write_stdin(read("www-authenticate-trailing-slash.txt"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_cli_snapshot!("explain_trailing_slash_challenge", stdout(&output));
}

#[test]
fn explain_cli_json_is_findings_most_important_first() {
    let token = v1_token("https://graph.microsoft.com", None, NOW - 60);
    let forbidden = path("graph-403-authorization-request-denied.http");
    let output = explain_cli(&[
        forbidden.to_str().unwrap(),
        "--url",
        GRAPH_USERS,
        "--token",
        &token,
        "-o",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let object = document.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["findings", "read"]);
    // What explain understood of the input, said back.
    assert_eq!(
        document["read"],
        serde_json::json!({"kind": "http-response", "service": "Microsoft Graph", "status": 403,
            "codes": ["Authorization_RequestDenied"], "aadsts": [], "ids": [
                {"label": "request id", "id": "6d2a4d0e-1f0b-4c6a-9b8e-3f7a5c2d1e4b"},
                {"label": "client request id", "id": "6d2a4d0e-1f0b-4c6a-9b8e-3f7a5c2d1e4b"}],
            "challenge": false})
    );
    let findings = document["findings"].as_array().unwrap();
    let found: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("api.forbidden", "error"),
            ("token.expired", "error"),
            ("token.no-roles", "warning")
        ]
    );
    for finding in findings {
        assert_eq!(
            finding.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "id", "severity", "title", "cause", "evidence", "fixes", "docs"
            ]
        );
    }
}

#[test]
fn explain_cli_bare_codes() {
    let with_prefix = explain_cli(&["AADSTS70011", "-o", "json"]);
    let bare = explain_cli(&["70011", "-o", "json"]);
    assert_eq!(with_prefix.status.code(), Some(0), "{with_prefix:?}");
    assert_eq!(stdout(&with_prefix), stdout(&bare));
    let document: Value = serde_json::from_str(&stdout(&bare)).unwrap();
    assert_eq!(document["findings"][0]["id"], "AADSTS70011");
    assert_eq!(
        document["findings"][0]["title"],
        Catalog::builtin().get(70011).unwrap().title.as_str()
    );
    assert_eq!(document["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn explain_cli_unknown_code_links_the_lookup_page() {
    let output = explain_cli(&["99999", "-o", "json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let finding = &document["findings"][0];
    assert_eq!(finding["id"], "AADSTS99999");
    assert_eq!(finding["severity"], "error");
    assert_eq!(
        finding["docs"],
        json!(["https://login.microsoftonline.com/error?code=99999"])
    );
    assert!(
        finding["fixes"][0]
            .as_str()
            .unwrap()
            .contains("https://login.microsoftonline.com/error?code=99999")
    );
}

#[test]
fn explain_cli_unrecognised_input_exits_2() {
    let output = explain_cli(&["this is not an error message"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stdout(&output).is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("none of what explain reads"), "{stderr}");
    let empty = entra_doctor()
        .args(["explain", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(2), "{empty:?}");
    let bad_token = explain_cli(&["AADSTS70011", "--token", "not-a-jwt"]);
    assert_eq!(bad_token.status.code(), Some(2), "{bad_token:?}");
}
