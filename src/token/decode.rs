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
}

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
        3 => {}
        5 => return Err(DecodeError::Encrypted),
        found => return Err(DecodeError::WrongSegments { found }),
    }
    let raw_header = json_segment(segments[0], 0)?;
    let raw_claims = json_segment(segments[1], 1)?;
    let signature = base64_segment(segments[2], 2)?;
    Ok(DecodedToken {
        header: TokenHeader::from_json(&raw_header),
        claims: Claims::from_json(&raw_claims),
        raw_header,
        raw_claims,
        signature_bytes: signature.len(),
    })
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
            ("a.b.c.d".into(), "found 4, a JWT has 3"),
            (
                format!("{header}.{claims}.sig*"),
                "segment 3 (signature) at character 4",
            ),
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
            (format!("{header}.{claims}.a"), "segment 3 (signature)"),
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
        }
    }
}
