//! Verifying a client assertion (certificate credential) as Entra ID does: the header's
//! `x5t#S256`, `x5t` or `kid` picks the registered certificate, the signature must verify with its
//! key (RS256/384/512 or PS256/384/512), `iss` = `sub` = the client id, `aud` = this token
//! endpoint, and now must lie within `nbf`..`exp` (five minutes of leeway). `nbf`/`exp` may be
//! integers, floats (MSAL Python) or numeric strings (MSAL.NET).

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::keys::{CertInfo, hex_upper};
use super::sts_error::{Code, StsError};

/// Clock skew Entra ID tolerates on assertion times.
const LEEWAY_SECONDS: i64 = 300;

/// What the assertion is checked against.
pub(super) struct Expected<'a> {
    pub client_id: &'a str,
    /// Token endpoint URLs of this tenant that `aud` may name.
    pub audiences: &'a [String],
    pub registered: &'a [CertInfo],
    pub now: i64,
}

/// The `iss` of an assertion, read without verifying it (to find the client when the request
/// names none).
pub(super) fn unverified_issuer(assertion: &str) -> Option<String> {
    let (_, claims, _) = split(assertion).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// Checks the assertion; the error is what Entra ID answers.
pub(super) fn verify(assertion: &str, expected: &Expected<'_>) -> Result<(), StsError> {
    let (header, claims, signature) = split(assertion)?;
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    let Ok(
        alg @ (Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512),
    ) = Algorithm::from_str(alg_name)
    else {
        return Err(StsError::client(
            Code::UnsupportedAlgorithm,
            format!(
                "Invalid JWT token. '{alg_name}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512'"
            ),
        ));
    };
    let thumbprint = Thumbprint::from_header(&header).ok_or_else(|| {
        StsError::client(
            Code::NoKeyInHeader,
            "Invalid JWT token. No certificate SHA-1 thumbprint, certificate SHA-256 thumbprint, nor keyId specified in token header.",
        )
    })?;
    for field in ["iss", "aud"] {
        if claims.get(field).is_none() {
            return Err(StsError::missing_field(field));
        }
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or(iss);
    if !iss.eq_ignore_ascii_case(expected.client_id)
        || !sub.eq_ignore_ascii_case(expected.client_id)
    {
        return Err(StsError::client(
            Code::AssertionIssuerMismatch,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
        ));
    }
    let invalid_signature = |reason: &str| {
        StsError::client(
            Code::InvalidSignature,
            format!(
                "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you need to see the key configured on the application.]",
                thumbprint.hex(),
                expected.client_id
            ),
        )
    };
    let cert = expected
        .registered
        .iter()
        .find(|c| thumbprint.matches(c))
        .ok_or_else(|| invalid_signature("The key was not found."))?;
    if cert.not_after < expected.now {
        return Err(invalid_signature("The key used is expired."));
    }
    let message = &assertion[..assertion.rfind('.').unwrap_or(0)];
    let verified =
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &cert.decoding_key(), alg)
            .unwrap_or(false);
    if !verified {
        return Err(invalid_signature(
            "The provided signature value did not match the expected signature value.",
        ));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => expected.audiences.iter().any(|a| a == aud),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| expected.audiences.iter().any(|a| a == aud)),
        _ => false,
    };
    if !aud_ok {
        return Err(StsError::client(
            Code::AssertionAudienceMismatch,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
        ));
    }
    check_times(&claims, expected.now)
}

/// AADSTS700024 unless now lies within `nbf`..`exp` (with Entra ID's leeway).
pub(super) fn check_times(claims: &Map<String, Value>, now: i64) -> Result<(), StsError> {
    let nbf = numeric(claims.get("nbf")).unwrap_or(0);
    let exp = numeric(claims.get("exp")).unwrap_or(0);
    // Saturating: a client may send any number, up to i64::MAX.
    if now > exp.saturating_add(LEEWAY_SECONDS) || now.saturating_add(LEEWAY_SECONDS) < nbf {
        return Err(StsError::client(
            Code::AssertionOutOfTime,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                entra_time(now),
                entra_time(nbf),
                entra_time(exp)
            ),
        ));
    }
    Ok(())
}

pub(super) type Parts<'a> = (Map<String, Value>, Map<String, Value>, &'a str);

pub(super) fn split(assertion: &str) -> Result<Parts<'_>, StsError> {
    let malformed = || StsError::client(Code::MalformedJwt, "JWT token is invalid or malformed.");
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let object = |part: &str| -> Option<Map<String, Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    };
    match (object(h), object(c)) {
        (Some(header), Some(claims)) => Ok((header, claims, s)),
        _ => Err(malformed()),
    }
}

// MSAL Python sends `exp`/`iat` as floats (`time.time() + 600`); whole seconds are enough.
#[allow(clippy::cast_possible_truncation)]
fn numeric(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Times as Entra ID writes them in 700024: `2024-05-01T10:00:00.0000000Z`.
fn entra_time(unix: i64) -> String {
    DateTime::<Utc>::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.0000000Z")
        .to_string()
}

/// The certificate reference in an assertion header.
enum Thumbprint {
    Sha256(Vec<u8>),
    Sha1(Vec<u8>),
    KeyId(String),
}

impl Thumbprint {
    fn from_header(header: &Map<String, Value>) -> Option<Self> {
        let b64 = |name: &str| {
            header
                .get(name)
                .and_then(Value::as_str)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
        };
        b64("x5t#S256")
            .map(Self::Sha256)
            .or_else(|| b64("x5t").map(Self::Sha1))
            .or_else(|| {
                header
                    .get("kid")
                    .and_then(Value::as_str)
                    .map(|k| Self::KeyId(k.to_owned()))
            })
    }

    fn matches(&self, cert: &CertInfo) -> bool {
        match self {
            Self::Sha256(bytes) => URL_SAFE_NO_PAD.encode(bytes) == cert.x5t_s256(),
            Self::Sha1(bytes) => URL_SAFE_NO_PAD.encode(bytes) == cert.x5t(),
            // MSAL and other clients put the hex SHA-1 thumbprint (or the x5t) in `kid`.
            Self::KeyId(kid) => {
                kid.eq_ignore_ascii_case(&cert.thumbprint_hex()) || kid == &cert.x5t()
            }
        }
    }

    fn hex(&self) -> String {
        match self {
            Self::Sha256(bytes) | Self::Sha1(bytes) => hex_upper(bytes),
            Self::KeyId(kid) => kid.to_ascii_uppercase(),
        }
    }
}
