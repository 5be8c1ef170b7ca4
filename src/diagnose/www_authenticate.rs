//! `WWW-Authenticate` challenges (RFC 7235), as Azure services really send them.
//!
//! The real headers bend the grammar: Graph and ARM quote their values and separate them with
//! commas, Storage leaves them unquoted and separates them with spaces, Key Vault says
//! `authorization` where others say `authorization_uri`. This parser accepts all of them and
//! never fails: what it cannot read it skips.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;

/// One challenge: a scheme and its parameters (names lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
    pub token68: Option<String>,
}

impl Challenge {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn error(&self) -> Option<&str> {
        self.get("error")
    }

    pub fn error_description(&self) -> Option<&str> {
        self.get("error_description")
    }

    pub fn authorization_uri(&self) -> Option<&str> {
        self.get("authorization_uri")
            .or_else(|| self.get("authorization"))
    }

    pub fn resource(&self) -> Option<&str> {
        self.get("resource")
            .or_else(|| self.get("resource_uri"))
            .or_else(|| self.get("resource_id"))
    }

    /// The tenant: the first path segment of the authorization URL.
    pub fn tenant(&self) -> Option<&str> {
        let uri = self.authorization_uri()?;
        let after_host = uri.split("://").nth(1)?.split_once('/')?.1;
        after_host.split('/').next().filter(|t| !t.is_empty())
    }

    /// The `claims` parameter of a claims challenge, decoded from base64 when it is encoded.
    pub fn claims(&self) -> Option<String> {
        decode_claims(self.get("claims")?)
    }
}

/// A claims challenge as JSON text: given as JSON, or base64 (standard or url-safe) as the
/// `claims=` parameter carries it.
pub fn decode_claims(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.starts_with('{') {
        return Some(raw.to_owned());
    }
    let bytes = STANDARD
        .decode(raw)
        .or_else(|_| URL_SAFE_NO_PAD.decode(raw.trim_end_matches('=')))
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Parses a whole header value into its challenges.
pub fn parse(header: &str) -> Vec<Challenge> {
    let chars: Vec<char> = header.chars().collect();
    let mut challenges: Vec<Challenge> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ',' && chars[i] != '=' {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        if token.is_empty() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let is_param =
            j < chars.len() && chars[j] == '=' && chars.get(j + 1).is_some_and(|c| *c != '=');
        if is_param && !challenges.is_empty() {
            let (value, next) = read_value(&chars, j + 1);
            if let Some(challenge) = challenges.last_mut() {
                challenge.params.push((token.to_ascii_lowercase(), value));
            }
            i = next;
        } else if j < chars.len() && chars[j] == '=' {
            // token68 (`Basic dXNlcjpwdw==`): the token and its padding.
            let mut end = j;
            while end < chars.len() && chars[end] == '=' {
                end += 1;
            }
            let value: String = chars[start..end].iter().collect();
            match challenges.last_mut() {
                Some(challenge) if challenge.params.is_empty() && challenge.token68.is_none() => {
                    challenge.token68 = Some(value);
                }
                _ => challenges.push(Challenge {
                    scheme: value,
                    ..Challenge::default()
                }),
            }
            i = end;
        } else {
            let previous_is_bare = challenges
                .last()
                .is_some_and(|c| c.params.is_empty() && c.token68.is_none());
            let looks_like_scheme = token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if previous_is_bare && !looks_like_scheme {
                if let Some(challenge) = challenges.last_mut() {
                    challenge.token68 = Some(token);
                }
            } else {
                challenges.push(Challenge {
                    scheme: token,
                    ..Challenge::default()
                });
            }
        }
    }
    challenges
}

/// A quoted string (with `\` escapes) or a bare value up to a space or comma.
fn read_value(chars: &[char], mut i: usize) -> (String, usize) {
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    let mut value = String::new();
    if chars.get(i) == Some(&'"') {
        i += 1;
        while i < chars.len() && chars[i] != '"' {
            if chars[i] == '\\' && i + 1 < chars.len() {
                i += 1;
            }
            value.push(chars[i]);
            i += 1;
        }
        return (value, i + 1);
    }
    while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ',' {
        value.push(chars[i]);
        i += 1;
    }
    (value, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_style_quoted_and_comma_separated() {
        let header = r#"Bearer authorization_uri="https://login.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47", error="invalid_token", error_description="The access token has been obtained for wrong audience or resource 'https://management.azure.com/x'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.azure.com/'.""#;
        let challenges = parse(header);
        assert_eq!(challenges.len(), 1);
        let c = &challenges[0];
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.error(), Some("invalid_token"));
        assert_eq!(c.tenant(), Some("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(
            c.error_description()
                .unwrap()
                .ends_with("'https://management.azure.com/'.")
        );
    }

    #[test]
    fn storage_style_unquoted_and_space_separated() {
        let header = "Bearer authorization_uri=https://login.microsoftonline.com/abc/oauth2/authorize resource_id=https://storage.azure.com";
        let c = &parse(header)[0];
        assert_eq!(c.tenant(), Some("abc"));
        assert_eq!(c.resource(), Some("https://storage.azure.com"));
    }

    #[test]
    fn key_vault_and_several_challenges() {
        let header = r#"Bearer authorization="https://login.windows.net/t1", resource="https://vault.azure.net", PoP realm="", authorization="https://login.windows.net/t1""#;
        let challenges = parse(header);
        assert_eq!(
            challenges
                .iter()
                .map(|c| c.scheme.as_str())
                .collect::<Vec<_>>(),
            ["Bearer", "PoP"]
        );
        assert_eq!(challenges[0].tenant(), Some("t1"));
        assert_eq!(challenges[0].resource(), Some("https://vault.azure.net"));
        assert_eq!(challenges[1].get("realm"), Some(""));
    }

    #[test]
    fn claims_challenge_is_decoded() {
        let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}"#;
        let header = format!(
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="{}""#,
            STANDARD.encode(claims)
        );
        let c = &parse(&header)[0];
        assert_eq!(c.error(), Some("insufficient_claims"));
        assert_eq!(c.claims().as_deref(), Some(claims));
    }

    #[test]
    fn token68_and_escapes_and_junk() {
        let c = &parse("Basic dXNlcjpwYXNz==")[0];
        assert_eq!(
            (c.scheme.as_str(), c.token68.as_deref()),
            ("Basic", Some("dXNlcjpwYXNz=="))
        );
        let c = &parse(r#"Bearer error_description="say \"hi\"""#)[0];
        assert_eq!(c.error_description(), Some(r#"say "hi""#));
        for junk in [
            "",
            ",,,",
            "=",
            "\"",
            "Bearer =",
            "Bearer a=\"unterminated",
            "= = =",
        ] {
            let _ = parse(junk);
        }
    }
}
