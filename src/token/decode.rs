//! Splitting and decoding a compact JWT, with precise errors for everything else.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Claims, TokenHeader};

const SEGMENT_NAMES: [&str; 3] = ["header", "payload", "signature"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("no token given: pass it as an argument, or '-' to read it from standard input")]
    Empty,
    #[error(
        "this is not a JWT: it has no '.' separators, so it is an opaque token (for example a \
         Microsoft account token); only the API it was issued for can read it"
    )]
    Opaque,
    #[error(
        "this is an encrypted token (JWE, 5 segments): only the API holding the decryption key \
         can read its claims"
    )]
    Encrypted,
    #[error("wrong number of segments: found {found}, a JWT has 3 (header.payload.signature)")]
    WrongSegments { found: usize },
    #[error("bad base64url in segment {index} ({name}) at character {position}: {reason}")]
    BadBase64 {
        index: usize,
        name: &'static str,
        position: usize,
        reason: String,
    },
    #[error("segment {index} ({name}) is not JSON: {reason}")]
    NotJson {
        index: usize,
        name: &'static str,
        reason: String,
    },
    #[error("segment {index} ({name}) is JSON but not an object")]
    NotObject { index: usize, name: &'static str },
}

/// A decoded JWT. Holds no raw token: only what it says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedToken {
    pub header: TokenHeader,
    pub claims: Claims,
    /// Every header field as sent.
    pub raw_header: Map<String, Value>,
    /// Every claim as sent.
    pub raw_claims: Map<String, Value>,
    pub signature_bytes: usize,
    /// Whether the third segment is a signature that could be checked at all.
    pub signature: SignatureState,
}

/// The state of the signature segment. Tokens are pasted from docs pages, chat and logs, where
/// the signature is often cut off; header and claims are still worth reading then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "lowercase")]
pub enum SignatureState {
    Present,
    /// No third segment, or an empty one (`alg: none`).
    Missing,
    /// A third segment that cannot be a whole signature; the reason says why.
    Damaged(String),
}

/// RSA signatures (RS*/PS*) are as long as the key: 2048 bits at least for Entra ID.
const MIN_RSA_SIGNATURE_BYTES: usize = 256;

/// Decodes a compact JWT. Accepts a `Bearer ` prefix, surrounding whitespace, and a whole token
/// response (`{"access_token": …}`), so whatever the operator pasted works.
pub fn decode(input: &str) -> Result<DecodedToken, DecodeError> {
    let token = strip_wrapping(input);
    if token.is_empty() {
        return Err(DecodeError::Empty);
    }
    let segments: Vec<&str> = token.split('.').collect();
    match segments.len() {
        1 => return Err(DecodeError::Opaque),
        2 | 3 => {}
        5 => return Err(DecodeError::Encrypted),
        found => return Err(DecodeError::WrongSegments { found }),
    }
    let (raw_header, raw_claims) =
        match (json_segment(segments[0], 0), json_segment(segments[1], 1)) {
            (Ok(header), Ok(claims)) => (header, claims),
            // Two segments that are not a header and claims: not a JWT with its signature cut off.
            _ if segments.len() == 2 => return Err(DecodeError::WrongSegments { found: 2 }),
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
    let header = TokenHeader::from_json(&raw_header);
    let (signature_bytes, signature) = signature_state(segments.get(2).copied(), &header);
    Ok(DecodedToken {
        header,
        claims: Claims::from_json(&raw_claims),
        raw_header,
        raw_claims,
        signature_bytes,
        signature,
    })
}

fn signature_state(segment: Option<&str>, header: &TokenHeader) -> (usize, SignatureState) {
    let segment = segment.unwrap_or_default();
    if segment.is_empty() {
        return (0, SignatureState::Missing);
    }
    match base64_segment(segment, 2) {
        Err(e) => (0, SignatureState::Damaged(e.to_string())),
        Ok(bytes) => {
            let is_rsa = header
                .alg
                .as_deref()
                .is_some_and(|alg| alg.starts_with("RS") || alg.starts_with("PS"));
            let state = if is_rsa && bytes.len() < MIN_RSA_SIGNATURE_BYTES {
                SignatureState::Damaged(format!(
                    "the signature is {} bytes; an RSA signature of Entra ID's keys has {MIN_RSA_SIGNATURE_BYTES} or more (cut off?)",
                    bytes.len()
                ))
            } else {
                SignatureState::Present
            };
            (bytes.len(), state)
        }
    }
}

/// The compact token inside what was pasted: a `Bearer ` prefix, quotes or a whole token
/// response removed.
pub fn strip_wrapping(input: &str) -> String {
    let trimmed = input.trim();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed)
        && let Some(Value::String(token)) = map.get("access_token")
    {
        return token.trim().to_owned();
    }
    let without_bearer = trimmed
        .strip_prefix("Bearer ")
        .or_else(|| trimmed.strip_prefix("bearer "))
        .unwrap_or(trimmed);
    without_bearer.trim().trim_matches('"').to_owned()
}

fn base64_segment(segment: &str, index: usize) -> Result<Vec<u8>, DecodeError> {
    let name = SEGMENT_NAMES[index];
    // Some tools pad base64url; JWTs must not, but the meaning is the same.
    let unpadded = segment.trim_end_matches('=');
    URL_SAFE_NO_PAD.decode(unpadded).map_err(|e| {
        let (position, reason) = match e {
            base64::DecodeError::InvalidByte(at, byte) => (
                at + 1,
                format!("{:?} is not a base64url character", char::from(byte)),
            ),
            base64::DecodeError::InvalidLength(len) => (
                len,
                "the segment's length is impossible for base64url (truncated?)".into(),
            ),
            base64::DecodeError::InvalidLastSymbol(at, byte) => (
                at + 1,
                format!("{:?} cannot end a base64url segment", char::from(byte)),
            ),
            base64::DecodeError::InvalidPadding => (unpadded.len(), "bad padding".into()),
        };
        DecodeError::BadBase64 {
            index: index + 1,
            name,
            position,
            reason,
        }
    })
}

fn json_segment(segment: &str, index: usize) -> Result<Map<String, Value>, DecodeError> {
    let name = SEGMENT_NAMES[index];
    let bytes = base64_segment(segment, index)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(DecodeError::NotObject {
            index: index + 1,
            name,
        }),
        Err(e) => Err(DecodeError::NotJson {
            index: index + 1,
            name,
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(text)
    }

    #[test]
    fn every_malformed_input_has_its_message() {
        let header = b64(r#"{"alg":"RS256"}"#);
        let claims = b64(r#"{"aud":"x"}"#);
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "no token given"),
            ("   ".into(), "no token given"),
            ("EwBwA8l6BAAU".into(), "opaque token"),
            ("a.b.c.d.e".into(), "encrypted token (JWE, 5 segments)"),
            ("a.b".into(), "found 2, a JWT has 3"),
            (format!("{header}.!!"), "found 2, a JWT has 3"),
            ("a.b.c.d".into(), "found 4, a JWT has 3"),
            (
                format!("!!.{claims}.sig"),
                "segment 1 (header) at character 1",
            ),
            (
                format!("{header}.{}.sig", b64("not json")),
                "segment 2 (payload) is not JSON",
            ),
            (
                format!("{header}.{}.sig", b64("[1,2]")),
                "segment 2 (payload) is JSON but not an object",
            ),
        ];
        for (input, expected) in cases {
            let err = decode(&input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }

    #[test]
    fn accepts_bearer_prefix_and_token_responses() {
        let token = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"ver":"2.0"}"#));
        for wrapped in [
            format!("Bearer {token}"),
            format!("  {token}\n"),
            format!(r#"{{"token_type":"Bearer","access_token":"{token}"}}"#),
        ] {
            let decoded = decode(&wrapped).unwrap();
            assert_eq!(decoded.claims.ver.as_deref(), Some("2.0"));
            assert_eq!(decoded.signature_bytes, 0);
            assert_eq!(decoded.signature, SignatureState::Missing);
        }
    }

    #[test]
    fn a_cut_or_broken_signature_still_decodes_and_says_so() {
        let header = b64(r#"{"alg":"RS256","kid":"k"}"#);
        let claims = b64(r#"{"aud":"x"}"#);
        let whole = URL_SAFE_NO_PAD.encode([7u8; 256]);
        assert_eq!(
            decode(&format!("{header}.{claims}.{whole}"))
                .unwrap()
                .signature,
            SignatureState::Present
        );
        for (input, reason) in [
            (format!("{header}.{claims}"), None),
            (
                format!("{header}.{claims}.sig*"),
                Some("segment 3 (signature) at character 4"),
            ),
            (
                format!("{header}.{claims}.a"),
                Some("segment 3 (signature)"),
            ),
            (
                format!("{header}.{claims}.{}", &whole[..40]),
                Some("30 bytes"),
            ),
        ] {
            let decoded = decode(&input).unwrap();
            assert_eq!(decoded.claims.aud.map(|a| a.joined()).as_deref(), Some("x"));
            match (reason, decoded.signature) {
                (None, SignatureState::Missing) => {}
                (Some(reason), SignatureState::Damaged(said)) => {
                    assert!(said.contains(reason), "{input}: {said}");
                }
                (_, other) => panic!("{input}: {other:?}"),
            }
        }
    }
}
