//! The external token, decoded and linted before it is sent: its `iss`, `sub`, `aud` and times,
//! and the findings a local look can already make (`federation.expired`,
//! `federation.expires-soon`, `federation.not-yet-valid`, `federation.audience`,
//! `federation.subject-shape`, `federation.missing-claim`, `federation.entra-issued`,
//! `federation.not-a-jwt`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::subject::{IssuerKind, SubjectShape};
use super::{DOCS, DOCS_CREATE, TOKEN_EXCHANGE_AUDIENCES};
use crate::diagnose::{Finding, Severity};
use crate::token::time::relative_to_expiry;

/// Below this many seconds left, a token is about to expire: the exchange (and its retries)
/// must reach Entra ID before `exp`. Projected tokens rotate well before that (the kubelet
/// refreshes a projected service-account token at 80 % of its life, one hour by default:
/// <https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken>; a
/// GitHub Actions token lives five minutes from `iat`, per GitHub's documented example claims:
/// <https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect>),
/// so one this close to its end was read too early or is not being refreshed.
pub const EXPIRES_SOON_SECONDS: i64 = 60;

/// The skew Entra ID tolerates on assertion times (as on certificate assertions).
const LEEWAY_SECONDS: i64 = 300;

/// What an external token says, for display and comparison. Holds no raw token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalClaims {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Vec<String>,
    pub exp: Option<DateTime<Utc>>,
    pub iat: Option<DateTime<Utc>>,
    pub nbf: Option<DateTime<Utc>>,
    pub issuer_kind: IssuerKind,
    pub subject_shape: SubjectShape,
    /// Every claim as sent (a flexible credential's expression may name any of them).
    #[serde(skip)]
    pub raw: Map<String, Value>,
}

impl ExternalClaims {
    /// The claims of a decoded token.
    pub fn from_json(raw: &Map<String, Value>) -> Self {
        let text = |name: &str| raw.get(name).and_then(Value::as_str).map(str::to_owned);
        let time = |name: &str| {
            raw.get(name)
                .and_then(|v| {
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                })
                .and_then(|s| DateTime::from_timestamp(s, 0))
        };
        let aud = match raw.get("aud") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let iss = text("iss");
        let sub = text("sub");
        Self {
            issuer_kind: iss.as_deref().map_or(IssuerKind::Other, IssuerKind::of),
            subject_shape: sub
                .as_deref()
                .map_or(SubjectShape::Unknown, SubjectShape::parse),
            iss,
            sub,
            aud,
            exp: time("exp"),
            iat: time("iat"),
            nbf: time("nbf"),
            raw: raw.clone(),
        }
    }

    /// A claim as text, for flexible-credential expressions (`claims['job_workflow_ref']`).
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Value::as_str)
    }
}

/// The external token's claims and what a local look found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// `None` when the text is not a JWT (then a `federation.not-a-jwt` finding says why).
    pub claims: Option<ExternalClaims>,
    pub findings: Vec<Finding>,
}

impl Inspection {
    /// `federation.presented` (information): what the token says, before it is sent — its
    /// issuer, subject, audience and lifetime, the values Entra ID matches against the app's
    /// federated credentials.
    pub fn presented(&self, now: DateTime<Utc>) -> Option<Finding> {
        let claims = self.claims.as_ref()?;
        let or_none = |v: Option<&String>| v.map_or_else(|| "(none)".to_owned(), Clone::clone);
        let expiry = claims.exp.map_or_else(
            || "(none)".to_owned(),
            |exp| {
                let left = (exp - now).num_seconds();
                let when = if left >= 0 {
                    format!("in {} min {} s", left / 60, left % 60)
                } else {
                    format!("{} min ago", -left / 60)
                };
                format!("{} ({when})", exp.format("%Y-%m-%d %H:%M:%S UTC"))
            },
        );
        Some(
            Finding::new(
                "federation.presented",
                Severity::Info,
                "The federated token to present (checked before sending)",
            )
            .cause(format!(
                "Entra ID matches issuer, subject and audience exactly against the app's federated \
                 credentials; this one is issued by {}, and its subject names {}",
                claims.issuer_kind.label(),
                claims.subject_shape.describe()
            ))
            .evidence(format!("iss: {}", or_none(claims.iss.as_ref())))
            .evidence(format!("sub: {}", or_none(claims.sub.as_ref())))
            .evidence(format!("aud: {}", claims.aud.join(", ")))
            .evidence(format!("exp: {expiry}")),
        )
    }
}

/// Decodes and lints an external token for the public cloud's exchange audience (or any
/// national cloud's: all three are accepted).
pub fn inspect(token_text: &str, now: DateTime<Utc>) -> Inspection {
    inspect_for(token_text, None, now)
}

/// As [`inspect`], with the one audience the operator's cloud expects (see
/// [`super::audience_for_authority`]).
pub fn inspect_for(
    token_text: &str,
    expected_audience: Option<&str>,
    now: DateTime<Utc>,
) -> Inspection {
    let decoded = match crate::token::decode(token_text) {
        Ok(decoded) => decoded,
        Err(error) => {
            return Inspection {
                claims: None,
                findings: vec![
                    Finding::new(
                        "federation.not-a-jwt",
                        Severity::Error,
                        "The federated token is not a JWT",
                    )
                    .cause(
                        "Entra ID takes only a signed JWT from the external identity provider as a client assertion; this text cannot be one, so the exchange would fail (AADSTS50027).",
                    )
                    .evidence(error.to_string())
                    .fix("Point --assertion-file (or AZURE_FEDERATED_TOKEN_FILE) at the file the identity provider writes: for AKS /var/run/secrets/azure/tokens/azure-identity-token; for GitHub Actions the token from the OIDC endpoint (ACTIONS_ID_TOKEN_REQUEST_URL).")
                    .doc(DOCS),
                ],
            };
        }
    };
    let claims = ExternalClaims::from_json(&decoded.raw_claims);
    let mut findings = Vec::new();
    missing(&claims, &mut findings);
    times(&claims, now, &mut findings);
    audience(&claims, expected_audience, &mut findings);
    subject(&claims, &mut findings);
    entra_issued(&claims, &mut findings);
    crate::diagnose::sort(&mut findings);
    Inspection {
        claims: Some(claims),
        findings,
    }
}

fn missing(claims: &ExternalClaims, findings: &mut Vec<Finding>) {
    let absent: Vec<&str> = [
        ("iss", claims.iss.is_none()),
        ("sub", claims.sub.is_none()),
        ("aud", claims.aud.is_empty()),
        ("exp", claims.exp.is_none()),
    ]
    .iter()
    .filter(|(_, is_absent)| *is_absent)
    .map(|(name, _)| *name)
    .collect();
    if absent.is_empty() {
        return;
    }
    findings.push(
        Finding::new(
            "federation.missing-claim",
            Severity::Error,
            format!("The federated token has no {}", absent.join(", ")),
        )
        .cause("Entra ID matches a federated credential on the token's iss, sub and aud, and refuses a token without exp: a missing iss or aud is AADSTS90014 ('The required field … is missing'), a missing exp AADSTS700024 with an expiry of 1970-01-01.")
        .evidence(format!("claims present: {}", claims.raw.keys().cloned().collect::<Vec<_>>().join(", ")))
        .fix("Use the token the identity provider issues for workload identity federation (an OIDC ID token or a projected service-account token), not another kind of token.")
        .doc(DOCS),
    );
}

fn times(claims: &ExternalClaims, now: DateTime<Utc>, findings: &mut Vec<Finding>) {
    let rotation = match claims.issuer_kind {
        IssuerKind::AksOidc | IssuerKind::KubernetesDefault => {
            "A projected service-account token is rewritten by the kubelet before it expires (at 80 % of its life, one hour by default): a stale one means the file was copied, or the pod reads a token it cached instead of the file."
        }
        IssuerKind::GitHubActions => {
            "A GitHub Actions OIDC token lives minutes: request it (azure/login, or core.getIDToken) right before the exchange, in the same job, not at the start of a long one."
        }
        _ => {
            "External tokens are short-lived: read the token file again before every exchange (the Azure SDKs do), never cache its content."
        }
    };
    if let Some(exp) = claims.exp {
        let left = (exp - now).num_seconds();
        if left <= 0 {
            findings.push(
                Finding::new(
                    "federation.expired",
                    Severity::Error,
                    "The federated token has expired",
                )
                .cause(format!(
                    "Entra ID refuses an expired assertion with AADSTS700024 ('Client assertion is not within its valid time range'). {rotation}"
                ))
                .evidence(format!(
                    "exp {} ({})",
                    exp.format("%Y-%m-%d %H:%M:%S UTC"),
                    relative_to_expiry(exp, now)
                ))
                .fix("Get a fresh token from the identity provider (read the token file again) and exchange it at once.")
                .doc(DOCS),
            );
        } else if left < EXPIRES_SOON_SECONDS {
            findings.push(
                Finding::new(
                    "federation.expires-soon",
                    Severity::Warning,
                    "The federated token is about to expire",
                )
                .cause(format!(
                    "With {left} s left, the exchange may arrive after exp and get AADSTS700024. {rotation}"
                ))
                .evidence(format!(
                    "exp {} ({})",
                    exp.format("%Y-%m-%d %H:%M:%S UTC"),
                    relative_to_expiry(exp, now)
                ))
                .fix("Read the token file again right before the exchange; check that the identity provider still refreshes it.")
                .doc(DOCS),
            );
        }
    }
    if let Some(nbf) = claims.nbf
        && (nbf - now).num_seconds() > LEEWAY_SECONDS
    {
        findings.push(
            Finding::new(
                "federation.not-yet-valid",
                Severity::Error,
                "The federated token is not valid yet",
            )
            .cause("Its nbf lies more than five minutes ahead of this machine's clock: Entra ID answers AADSTS700024. One of the two clocks is wrong.")
            .evidence(format!("nbf {}", nbf.format("%Y-%m-%d %H:%M:%S UTC")))
            .fix("Synchronise the clocks (NTP) of this machine and of the identity provider's host.")
            .doc(DOCS),
        );
    }
}

fn audience(claims: &ExternalClaims, expected: Option<&str>, findings: &mut Vec<Finding>) {
    if claims.aud.is_empty() {
        return;
    }
    let accepted: Vec<&str> = match expected {
        Some(one) => vec![one],
        None => TOKEN_EXCHANGE_AUDIENCES.to_vec(),
    };
    if claims.aud.iter().any(|a| accepted.contains(&a.as_str())) {
        return;
    }
    let want = expected.unwrap_or(TOKEN_EXCHANGE_AUDIENCES[0]);
    let near = claims.aud.iter().find(|a| {
        accepted
            .iter()
            .any(|w| w.eq_ignore_ascii_case(a.trim_end_matches('/')))
    });
    let how = match claims.issuer_kind {
        IssuerKind::GitHubActions => format!(
            "GitHub Actions: azure/login requests this audience by default; with core.getIDToken pass '{want}', and keep azure/login's `audience` input at its default"
        ),
        IssuerKind::AksOidc | IssuerKind::KubernetesDefault => format!(
            "Kubernetes: project the service-account token with `audience: {want}` (the AKS workload identity webhook does); the pod's default token has the API server as audience"
        ),
        _ => format!("Ask the identity provider for a token with audience '{want}'"),
    };
    let mut finding = Finding::new(
        "federation.audience",
        Severity::Error,
        format!("The federated token's audience is not {want}"),
    )
    .cause(format!(
        "A federated credential lists the audiences Entra ID accepts in the external token, and that is '{want}' for this cloud (api://AzureADTokenExchange, api://AzureADTokenExchangeUSGov, api://AzureADTokenExchangeChina). A token for another audience matches no credential: AADSTS700212."
    ))
    .evidence(format!("aud: {}", claims.aud.join(", ")));
    if let Some(near) = near {
        finding = finding.evidence(format!(
            "'{near}' differs from '{want}' only in case or a trailing slash: audiences compare exactly"
        ));
    }
    findings.push(
        finding
            .fix(format!("{how}."))
            .doc("https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity")
            .doc(DOCS_CREATE),
    );
}

fn subject(claims: &ExternalClaims, findings: &mut Vec<Finding>) {
    // Without an issuer there is nothing to hold the subject against (missing-claim says so).
    let (Some(sub), Some(_)) = (claims.sub.as_deref(), claims.iss.as_deref()) else {
        return;
    };
    let kind = claims.issuer_kind;
    let shape = &claims.subject_shape;
    if shape.fits(kind) {
        return;
    }
    let expected = kind.expected_shapes();
    // An issuer without documented shapes: an unknown subject is no sign of trouble.
    if expected.is_empty() && *shape == SubjectShape::Unknown {
        return;
    }
    let (severity, cause) = if expected.is_empty() {
        (
            Severity::Info,
            format!(
                "The subject looks like {}, but the issuer is {}: check that the credential names this issuer.",
                shape.describe(),
                kind.label()
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "Tokens from {} carry subjects of the form {}; this one fits none, so a federated credential written from the documented pattern will not match it (AADSTS700213). It may come from a customised subject template (GitHub) or another identity provider.",
                kind.label(),
                expected.join(" or ")
            ),
        )
    };
    findings.push(
        Finding::new(
            "federation.subject-shape",
            severity,
            "The federated token's subject has no known shape",
        )
        .cause(cause)
        .evidence(format!("sub: {sub}"))
        .evidence(format!("iss: {}", claims.iss.as_deref().unwrap_or("-")))
        .fix("Copy the subject exactly as the token carries it into the federated credential (entra-doctor federation compares them).")
        .doc(DOCS_CREATE),
    );
}

fn entra_issued(claims: &ExternalClaims, findings: &mut Vec<Finding>) {
    if claims.issuer_kind != IssuerKind::EntraId {
        return;
    }
    findings.push(
        Finding::new(
            "federation.entra-issued",
            Severity::Warning,
            "The federated token was issued by Entra ID itself",
        )
        .cause("Entra ID refuses its own tokens as federated assertions ('AAD-issued tokens may not be used for federated identity flows', AADSTS700222), except a managed identity's token for audience api://AzureADTokenExchange when the app trusts that managed identity.")
        .evidence(format!("iss: {}", claims.iss.as_deref().unwrap_or("-")))
        .fix("Use a managed identity as the federated credential (Add credential › Managed identity), or the external identity provider's token.")
        .doc("https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity"),
    );
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    fn token(claims: &Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.{}",
            enc(&json!({"alg":"RS256","typ":"JWT","kid":"k1"})),
            enc(claims),
            URL_SAFE_NO_PAD.encode([7u8; 256])
        )
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default() // 2026-01-01
    }

    fn ids(inspection: &Inspection) -> Vec<&str> {
        inspection.findings.iter().map(|f| f.id.as_str()).collect()
    }

    fn github(sub: &str, aud: &str, exp_in: i64) -> String {
        let t = now().timestamp();
        token(&json!({
            "iss": "https://token.actions.githubusercontent.com",
            "sub": sub, "aud": aud, "iat": t - 10, "nbf": t - 310, "exp": t + exp_in,
            "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        }))
    }

    #[test]
    fn a_good_github_token_has_no_findings() {
        let inspection = inspect(
            &github(
                "repo:octo-org/octo-repo:ref:refs/heads/main",
                "api://AzureADTokenExchange",
                290,
            ),
            now(),
        );
        assert_eq!(ids(&inspection), Vec::<&str>::new());
        let claims = inspection.claims.expect("claims");
        assert_eq!(claims.issuer_kind, IssuerKind::GitHubActions);
        assert_eq!(
            claims
                .claim("job_workflow_ref")
                .map(|s| s.ends_with("main")),
            Some(true)
        );
    }

    #[test]
    fn expired_and_expiring_tokens_are_named() {
        let expired = inspect(
            &github("repo:o/r:pull_request", "api://AzureADTokenExchange", -30),
            now(),
        );
        assert_eq!(ids(&expired), vec!["federation.expired"]);
        assert!(expired.findings[0].cause.contains("AADSTS700024"));
        let soon = inspect(
            &github("repo:o/r:pull_request", "api://AzureADTokenExchange", 20),
            now(),
        );
        assert_eq!(ids(&soon), vec!["federation.expires-soon"]);
    }

    #[test]
    fn a_wrong_audience_names_the_expected_one() {
        let wrong = inspect(
            &github("repo:o/r:pull_request", "https://github.com/o", 200),
            now(),
        );
        assert_eq!(ids(&wrong), vec!["federation.audience"]);
        let near = inspect(
            &github("repo:o/r:pull_request", "api://azureadtokenexchange/", 200),
            now(),
        );
        assert!(near.findings[0].evidence[1].contains("only in case or a trailing slash"));
        let china = inspect_for(
            &github("repo:o/r:pull_request", "api://AzureADTokenExchange", 200),
            Some("api://AzureADTokenExchangeChina"),
            now(),
        );
        assert_eq!(ids(&china), vec!["federation.audience"]);
    }

    #[test]
    fn a_subject_of_no_known_shape_is_named() {
        let odd = inspect(
            &github("octo-org/octo-repo@main", "api://AzureADTokenExchange", 200),
            now(),
        );
        assert_eq!(ids(&odd), vec!["federation.subject-shape"]);
        assert_eq!(odd.findings[0].severity, Severity::Warning);
        let t = now().timestamp();
        let k8s = token(&json!({
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": "system:serviceaccount:payments:api-sa",
            "aud": ["api://AzureADTokenExchange"], "iat": t, "exp": t + 3600,
        }));
        assert_eq!(ids(&inspect(&k8s, now())), Vec::<&str>::new());
    }

    #[test]
    fn missing_claims_entra_tokens_and_garbage_are_findings_not_errors() {
        let t = now().timestamp();
        let bare = token(&json!({"sub": "x", "exp": t + 100, "aud": "api://AzureADTokenExchange"}));
        assert_eq!(
            ids(&inspect(&bare, now())),
            vec!["federation.missing-claim"]
        );
        let entra = token(&json!({
            "iss": "https://login.microsoftonline.com/4fd3b6a2-9c1e-4f7b-8a5d-2e6c0b9d7a31/v2.0",
            "sub": "0b1c", "aud": "api://AzureADTokenExchange", "exp": t + 3000,
        }));
        assert_eq!(
            ids(&inspect(&entra, now())),
            vec!["federation.entra-issued"]
        );
        let garbage = inspect("not a token", now());
        assert_eq!(ids(&garbage), vec!["federation.not-a-jwt"]);
        assert!(garbage.claims.is_none());
    }
}
