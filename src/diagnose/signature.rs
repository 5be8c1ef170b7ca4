//! What checking a token against the tenant's keys means for the operator: one finding per
//! [`Verification`], worded so that a Graph token is "not verifiable by design" and a key
//! rollover is told apart from a token of another tenant or cloud. Only a verified signature
//! passes: every other outcome, and keys that could not be fetched, is a [`Failure`].

use chrono::{DateTime, Utc};

use super::{Finding, Severity};
use crate::error::Failure;
use crate::token::verify::{LEEWAY_SECONDS, TimeCheck, Verification};
use crate::token::{DecodedToken, relative};

const VALIDATION_DOC: &str =
    "https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens";

/// The finding for a verification outcome.
pub fn finding(outcome: &Verification, token: &DecodedToken, now: DateTime<Utc>) -> Finding {
    match outcome {
        Verification::Verified {
            key_id,
            issuer,
            metadata_url,
            jwks_uri,
            jwks_fetched,
            time,
        } => verified(
            key_id,
            issuer,
            metadata_url,
            &format!("{jwks_uri} (fetched {})", stamp(*jwks_fetched)),
            time,
            now,
        ),
        Verification::GraphNonce => graph_nonce(token),
        Verification::UntrustedIssuer { issuer } => untrusted_issuer(issuer),
        Verification::UntrustedKeys {
            metadata_url,
            jwks_uri,
            authority,
        } => untrusted_keys(metadata_url, jwks_uri, authority),
        Verification::BadSignature {
            key_id,
            jwks_uri,
            reason,
        } => Finding::new(
            "token.bad-signature",
            Severity::Error,
            "The signature does not verify with the tenant's key",
        )
        .cause(reason.clone())
        .evidence(format!("key {key_id} from {jwks_uri}"))
        .fix("Use the token exactly as the token endpoint returned it: a copy that was cut, re-encoded or edited fails here and at the API")
        .fix("Acquire a fresh one: entra-doctor token --force-refresh")
        .doc(VALIDATION_DOC),
        Verification::UnknownKey {
            kid,
            x5t,
            jwks_uri,
            jwks_fetched,
            known,
        } => Finding::new(
            "token.unknown-key",
            Severity::Error,
            "The key that signed the token is not in the tenant's published key set",
        )
        .cause(
            "either the signing key rolled over (the token was signed by a key since removed, or an API cached an old \
             key set), or the token comes from another tenant or cloud than the keys were fetched from, or the app \
             uses custom signing keys (published only with ?appid=)",
        )
        .evidence(format!(
            "token kid {}, x5t {}",
            kid.as_deref().unwrap_or("-"),
            x5t.as_deref().unwrap_or("-")
        ))
        .evidence(format!(
            "{jwks_uri} (fetched {}) lists: {}",
            stamp(*jwks_fetched),
            if known.is_empty() { "no key".to_owned() } else { known.join(", ") }
        ))
        .fix("Acquire a new token (entra-doctor token --force-refresh): new tokens are signed with a published key")
        .fix("An API that rejects new tokens must refresh its key set (every 24 h, and on an unknown kid)")
        .fix("Check --tenant and --cloud/--authority-host point at the tenant that issued the token (its iss)")
        .fix("For an app with custom signing keys: decode --verify --appid <that app's client id>")
        .doc("https://learn.microsoft.com/entra/identity-platform/signing-key-rollover"),
        Verification::WrongTenant {
            token_issuer,
            expected_issuer,
            token_tenant,
            metadata_url,
        } => Finding::new(
            "token.wrong-tenant",
            Severity::Error,
            "The token was issued by another tenant (or cloud) than the one expected",
        )
        .cause(
            "its iss is not the issuer in the tenant's metadata; an API validating issuers rejects it with 401 even \
             though the signature is good (Entra ID signs all tenants' tokens with shared keys)",
        )
        .evidence(format!("iss: {token_issuer}; tid: {}", token_tenant.as_deref().unwrap_or("-")))
        .evidence(format!("expected: {expected_issuer} (from {metadata_url})"))
        .fix("Request the token from the API's tenant (--tenant), or register the app as multitenant and let the API accept that issuer")
        .doc(VALIDATION_DOC),
    }
}

/// A Graph token: not verifiable outside Graph, by design (and so never verified here).
fn graph_nonce(token: &DecodedToken) -> Finding {
    Finding::new(
        "token.graph-nonce",
        Severity::Info,
        "A Microsoft Graph token: its signature cannot be verified outside Graph, by design",
    )
    .cause(
        "the header carries a nonce; Graph signs over a transformed nonce, so every standard JWT library reports \
         an invalid signature. That does not mean the token is forged: only Graph is meant to validate it (and so it is not \
         verified here either)",
    )
    .evidence(format!(
        "header: nonce present, kid {}",
        token.header.kid.as_deref().unwrap_or("-")
    ))
    .fix("Nothing to fix: let Graph validate it (call the API: entra-doctor probe); validate only tokens issued for your own API")
    .doc(VALIDATION_DOC)
}

/// Keys not fetched: the token's `iss` is no known Entra authority, and none was named.
fn untrusted_issuer(issuer: &str) -> Finding {
    Finding::new(
        "token.untrusted-issuer",
        Severity::Error,
        "Not verified: the token's issuer is not a known Entra ID authority",
    )
    .cause(
        "its iss names no Entra ID host of the public, US Government or China cloud, so its keys were \
         not fetched: whoever minted the token would serve keys that match it",
    )
    .evidence(format!("iss: {}", shown(issuer)))
    .fix("If you trust that authority (a test or demo tenant), name it: --authority-host URL (or --cloud)")
    .fix("Tokens Entra ID issues name its own hosts (login.microsoftonline.com, sts.windows.net, login.microsoftonline.us, login.partner.microsoftonline.cn, …): treat one naming any other host as forged")
    .doc(VALIDATION_DOC)
}

/// Keys not fetched: the authority's metadata names them somewhere else.
fn untrusted_keys(metadata_url: &str, jwks_uri: &str, authority: &str) -> Finding {
    Finding::new(
        "token.untrusted-keys",
        Severity::Error,
        "Not verified: the metadata names a key set off the authority's own host",
    )
    .cause(format!(
        "the jwks_uri is not on {authority}: keys from anywhere else prove nothing, so they were not \
         fetched (a proxy or mirror in between may have rewritten the metadata)"
    ))
    .evidence(format!("jwks_uri: {}", shown(jwks_uri)))
    .evidence(format!("metadata: {metadata_url}"))
    .fix("Check that --authority-host names the real authority, and what answers for it on this network (a proxy)")
    .doc(VALIDATION_DOC)
}

fn shown(text: &str) -> &str {
    if text.is_empty() { "(none)" } else { text }
}

fn verified(
    key_id: &str,
    issuer: &str,
    metadata_url: &str,
    keys: &str,
    time: &TimeCheck,
    now: DateTime<Utc>,
) -> Finding {
    let time_text = match time {
        TimeCheck::Valid => format!("within its lifetime (leeway {LEEWAY_SECONDS} s)"),
        TimeCheck::Expired { exp } => format!(
            "expired {} (beyond the {LEEWAY_SECONDS} s leeway)",
            at(*exp, now)
        ),
        TimeCheck::NotYetValid { nbf } => format!(
            "not valid before {} (beyond the {LEEWAY_SECONDS} s leeway: check the clock)",
            at(*nbf, now)
        ),
    };
    let severity = if *time == TimeCheck::Valid {
        Severity::Info
    } else {
        Severity::Warning
    };
    Finding::new("token.verified", severity, "Signature verified with the tenant's published key")
                .cause(format!(
                    "the token is signed by the key {key_id} of the tenant's key set and its issuer is the tenant's; times: {time_text}"
                ))
                .evidence(format!("iss: {issuer}"))
                .evidence(format!("metadata: {metadata_url}"))
                .evidence(format!("keys: {keys}"))
                .doc(VALIDATION_DOC)
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn at(seconds: i64, now: DateTime<Utc>) -> String {
    DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |t| format!("{t} ({})", relative(t, now)),
    )
}

/// A signature check: what it found, its finding, and whether it failed.
#[derive(Debug, Clone)]
pub struct Checked {
    /// `None` when the keys could not be fetched.
    pub outcome: Option<Verification>,
    pub finding: Finding,
    /// `None` only when the signature was verified: [`Failure::Refused`] for every outcome that
    /// is not, the fetch error's own kind (a network failure, an unknown tenant) otherwise.
    pub failure: Option<Failure>,
}

/// Verifies `raw` and returns its finding. Keys that cannot be fetched fail the check (the
/// decoded token is still worth showing, so this is a finding, not an error).
pub async fn check(
    verifier: &crate::token::Verifier,
    raw: &str,
    token: &DecodedToken,
    target: &crate::token::VerifyTarget,
    now: DateTime<Utc>,
) -> Checked {
    match verifier.verify(raw, token, target, now).await {
        Ok(outcome) => Checked {
            finding: finding(&outcome, token, now),
            failure: (!outcome.is_verified()).then_some(Failure::Refused),
            outcome: Some(outcome),
        },
        Err(error) => Checked {
            outcome: None,
            finding: Finding::new(
                "token.not-verified",
                Severity::Error,
                "Not verified: the tenant's keys could not be fetched",
            )
            .cause(error.to_string())
            .fix("Check --tenant and --cloud/--authority-host, and that this machine reaches the authority host"),
            failure: Some(error.failure()),
        },
    }
}
