//! The header fields and claims that matter to a daemon app, typed; the rest kept as JSON.

use serde::Serialize;
use serde_json::{Map, Value};

/// JOSE header fields a diagnosis looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenHeader {
    pub alg: Option<String>,
    pub typ: Option<String>,
    pub kid: Option<String>,
    pub x5t: Option<String>,
    /// Microsoft Graph tokens carry a `nonce` in the header: their signature is over a
    /// transformed nonce, so no one but Graph can validate them. That is by design.
    pub has_nonce: bool,
}

impl TokenHeader {
    pub(crate) fn from_json(map: &Map<String, Value>) -> Self {
        Self {
            alg: string(map, "alg"),
            typ: string(map, "typ"),
            kid: string(map, "kid"),
            x5t: string(map, "x5t"),
            has_nonce: map.contains_key("nonce"),
        }
    }
}

/// `aud` is a string in Entra ID tokens, but JWT allows an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn values(&self) -> Vec<&str> {
        match self {
            Audience::One(one) => vec![one.as_str()],
            Audience::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }

    /// The audiences as one line, for evidence and messages.
    pub fn joined(&self) -> String {
        self.values().join(", ")
    }
}

/// The claims of an Entra ID access token that matter for app-only calls.
///
/// A claim of an unexpected type (a number where a string belongs) is left out here and kept
/// in [`super::DecodedToken::raw_claims`], so decoding never fails on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub aud: Option<Audience>,
    pub iss: Option<String>,
    /// Client id in v1 tokens.
    pub appid: Option<String>,
    /// Client id in v2 tokens.
    pub azp: Option<String>,
    /// How the client authenticated in v1 tokens: "0" public, "1" secret, "2" certificate.
    pub appidacr: Option<String>,
    pub azpacr: Option<String>,
    /// Application permissions (app roles) granted to the client; absent when none are.
    pub roles: Option<Vec<String>>,
    /// Delegated scopes: only in tokens issued for a user.
    pub scp: Option<String>,
    pub tid: Option<String>,
    pub oid: Option<String>,
    pub sub: Option<String>,
    /// "app" for app-only tokens, "user" for user tokens (an optional claim).
    pub idtyp: Option<String>,
    pub ver: Option<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

impl Claims {
    pub(crate) fn from_json(map: &Map<String, Value>) -> Self {
        Self {
            aud: match map.get("aud") {
                Some(Value::String(one)) => Some(Audience::One(one.clone())),
                Some(Value::Array(many)) => Some(Audience::Many(
                    many.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                )),
                _ => None,
            },
            iss: string(map, "iss"),
            appid: string(map, "appid"),
            azp: string(map, "azp"),
            appidacr: string_or_number(map, "appidacr"),
            azpacr: string_or_number(map, "azpacr"),
            roles: map.get("roles").and_then(Value::as_array).map(|roles| {
                roles
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            }),
            scp: string(map, "scp"),
            tid: string(map, "tid"),
            oid: string(map, "oid"),
            sub: string(map, "sub"),
            idtyp: string(map, "idtyp"),
            ver: string_or_number(map, "ver"),
            iat: seconds(map, "iat"),
            nbf: seconds(map, "nbf"),
            exp: seconds(map, "exp"),
        }
    }

    /// The client id, whichever version of token this is.
    pub fn client_id(&self) -> Option<&str> {
        self.appid.as_deref().or(self.azp.as_deref())
    }

    /// True when the token was issued to an app, not a user.
    pub fn is_app_only(&self) -> bool {
        self.idtyp.as_deref() == Some("app") || (self.scp.is_none() && self.client_id().is_some())
    }
}

fn string(map: &Map<String, Value>, name: &str) -> Option<String> {
    map.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn string_or_number(map: &Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// NumericDate: integer seconds, also accepted as a float or a numeric string.
fn seconds(map: &Map<String, Value>, name: &str) -> Option<i64> {
    match map.get(name)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(float_seconds)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[allow(clippy::cast_possible_truncation)] // NumericDate seconds fit in i64 for any real date
fn float_seconds(value: f64) -> i64 {
    value.clamp(-1e15, 1e15) as i64
}
