//! What the token endpoint answers: a token, or Entra ID's error body.
//!
//! Both are parsed leniently where Entra ID is inconsistent (the v1 endpoint sends numbers as
//! strings) and strictly where it matters (an error must name its AADSTS code, read from
//! `error_codes` or, failing that, from the `AADSTSnnnn:` prefix of the description).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::secret::Secret;

/// A successful client credentials response.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(deserialize_with = "number_or_string")]
    pub expires_in: u64,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub ext_expires_in: Option<u64>,
    #[serde(default, deserialize_with = "opt_number_or_string")]
    pub refresh_in: Option<u64>,
    #[serde(deserialize_with = "secret_string")]
    pub access_token: Secret,
}

/// The longest token lifetime believed, in seconds: a year. Entra ID issues access tokens for
/// 60–90 minutes (24 hours at most with a lifetime policy); a larger number is a broken or
/// hostile server, and near 10^13 seconds it is past the last date a timestamp can hold.
pub const MAX_LIFETIME_SECONDS: u64 = 366 * 86_400;

/// The lifetime fields of a token response, checked before they are read as numbers.
pub const LIFETIME_FIELDS: [&str; 3] = ["expires_in", "ext_expires_in", "refresh_in"];

/// Why a lifetime field of a token response cannot be believed: `(field, reason)`, or `None`
/// when every one present is a whole number of seconds (a number, or digits in a string as the
/// v1 endpoint sends them) up to [`MAX_LIFETIME_SECONDS`].
pub fn implausible_lifetime(body: &serde_json::Value) -> Option<(&'static str, &'static str)> {
    use serde_json::Value;
    LIFETIME_FIELDS.into_iter().find_map(|field| {
        let reason = match body.get(field)? {
            Value::Number(n) if n.as_u64().is_some_and(|n| n <= MAX_LIFETIME_SECONDS) => {
                return None;
            }
            Value::Number(n) if n.as_u64().is_some() => "more than a year",
            Value::Number(n) if n.is_i64() => "negative",
            Value::Number(_) => "not a whole number",
            Value::String(s) => match s.trim().parse::<u64>() {
                Ok(n) if n <= MAX_LIFETIME_SECONDS => return None,
                Ok(_) => "more than a year",
                Err(_) if s.trim().starts_with('-') => "negative",
                Err(_) if s.trim().bytes().all(|b| b.is_ascii_digit()) => "more than a year",
                Err(_) => "not a whole number",
            },
            Value::Null if field != "expires_in" => return None,
            _ => "not a number",
        };
        Some((field, reason))
    })
}

fn bearer() -> String {
    "Bearer".into()
}

/// Entra ID's error body, every field it sends, typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct EntraError {
    /// The HTTP status the body came with (not part of the body).
    #[serde(skip_deserializing)]
    pub status: u16,
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub error_uri: Option<String>,
    #[serde(default)]
    pub suberror: Option<String>,
    #[serde(default)]
    pub claims: Option<String>,
    /// The certificate the refused request signed its client assertion with: set by the token
    /// client (Entra ID does not send it), so a refused key can be compared with the portal's.
    #[serde(skip)]
    pub signed_with: Option<SigningCertificate>,
}

/// A certificate's thumbprints, named as the portal and Entra ID's messages name them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SigningCertificate {
    pub subject: String,
    /// SHA-1, upper-case hex: the portal's "Thumbprint".
    pub thumbprint_sha1: String,
    /// SHA-256, upper-case hex: the `x5t#S256` the assertion sent.
    pub thumbprint_sha256: String,
}

impl EntraError {
    /// The AADSTS code: `error_codes[0]`, else the number after `AADSTS` in the description.
    pub fn code(&self) -> Option<u64> {
        self.error_codes
            .first()
            .copied()
            .or_else(|| aadsts_in(&self.error_description))
    }

    /// The description's first line, without the Trace ID / Correlation ID / Timestamp lines.
    pub fn summary(&self) -> &str {
        self.error_description
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Entra ID refused the token request (HTTP {}, {}",
            self.status, self.error
        )?;
        if let Some(code) = self.code() {
            write!(f, ", AADSTS{code}")?;
        }
        write!(f, "): {}", self.summary())?;
        if let Some(trace) = &self.trace_id {
            write!(f, " [trace id {trace}]")?;
        }
        Ok(())
    }
}

/// The first `AADSTS<digits>` in a text.
pub fn aadsts_in(text: &str) -> Option<u64> {
    let start = text.find("AADSTS")? + "AADSTS".len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .take(10)
        .collect();
    digits.parse().ok()
}

fn secret_string<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    // A token received is scrubbed from whatever the run prints afterwards.
    String::deserialize(d).map(|value| {
        let token = Secret::new(value);
        crate::scrub::remember(&token);
        token
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrString {
    Number(u64),
    String(String),
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match NumberOrString::deserialize(d)? {
        NumberOrString::Number(n) => Ok(n),
        NumberOrString::String(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

fn opt_number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    number_or_string(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_code_from_error_codes_or_description() {
        let with_codes: EntraError = serde_json::from_str(
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: 2026-01-01 00:00:00Z","error_codes":[7000215],"trace_id":"t"}"#,
        )
        .unwrap();
        assert_eq!(with_codes.code(), Some(7_000_215));
        assert_eq!(
            with_codes.summary(),
            "AADSTS7000215: Invalid client secret provided."
        );
        let without: EntraError = serde_json::from_str(
            r#"{"error":"invalid_scope","error_description":"AADSTS70011: The provided value for the input parameter 'scope' is not valid."}"#,
        )
        .unwrap();
        assert_eq!(without.code(), Some(70011));
        assert_eq!(aadsts_in("no code here"), None);
        assert_eq!(aadsts_in("AADSTS"), None);
    }

    #[test]
    fn only_plausible_lifetimes_pass() {
        let check = |json: &str| implausible_lifetime(&serde_json::from_str(json).unwrap());
        assert_eq!(
            check(r#"{"expires_in":3599,"ext_expires_in":"3599"}"#),
            None
        );
        assert_eq!(check(r#"{"expires_in":3599,"refresh_in":null}"#), None);
        let cases = [
            (
                r#"{"expires_in":10000000000000}"#,
                ("expires_in", "more than a year"),
            ),
            (
                r#"{"expires_in":18446744073709551615}"#,
                ("expires_in", "more than a year"),
            ),
            (
                r#"{"expires_in":1,"ext_expires_in":-5}"#,
                ("ext_expires_in", "negative"),
            ),
            (
                r#"{"expires_in":1,"refresh_in":"-1"}"#,
                ("refresh_in", "negative"),
            ),
            (
                r#"{"expires_in":3599.5}"#,
                ("expires_in", "not a whole number"),
            ),
            (
                r#"{"expires_in":1e300}"#,
                ("expires_in", "not a whole number"),
            ),
            (
                r#"{"expires_in":"soon"}"#,
                ("expires_in", "not a whole number"),
            ),
            (
                r#"{"expires_in":"99999999999999999999999"}"#,
                ("expires_in", "more than a year"),
            ),
            (r#"{"expires_in":null}"#, ("expires_in", "not a number")),
            (r#"{"expires_in":[1]}"#, ("expires_in", "not a number")),
        ];
        for (json, expected) in cases {
            assert_eq!(check(json), Some(expected), "{json}");
        }
    }

    #[test]
    fn v1_numbers_as_strings() {
        let token: TokenResponse = serde_json::from_str(
            r#"{"token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599","access_token":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            (token.expires_in, token.ext_expires_in, token.refresh_in),
            (3599, Some(3599), None)
        );
    }
}
