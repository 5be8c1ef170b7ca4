//! Minting app-only access tokens with the claims Entra ID puts in them, in the format the
//! resource asks for: v1 (`iss` = `https://sts.windows.net/{tid}/`, `appid`/`appidacr`, `aud` =
//! the resource exactly as requested, header `x5t` + `kid`) or v2 (`iss` =
//! `https://login.microsoftonline.com/{tid}/v2.0`, `azp`/`azpacr`, `aud` = the resource's app id,
//! header `kid`). Microsoft Graph's tokens also carry a header `nonce`, signed in hashed form, as
//! the real Graph's do. `roles` lists the granted app roles and is absent when none are granted.
//! Like Entra ID, `iat`/`nbf` are back-dated five minutes and `expires_in` is 3599.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Map, Value, json};

use super::keys::Keys;
use super::model::{Application, ErrorStyle, Resource, TenantModel, TokenVersion};
use super::sts_error::{Code, StsError};

/// Seconds a token lives after issuance, as announced in `expires_in`.
pub(super) const EXPIRES_IN: i64 = 3599;
/// Entra ID back-dates `iat`/`nbf` by five minutes to absorb clock skew.
const BACKDATE: i64 = 300;

/// The issuer of tokens of a version, for a tenant.
pub(super) fn issuer(version: TokenVersion, tenant_id: &str) -> String {
    match version {
        TokenVersion::V1 => format!("https://sts.windows.net/{tenant_id}/"),
        TokenVersion::V2 => format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
    }
}

/// A signed access token and its times.
pub(super) struct Issued {
    pub access_token: String,
    pub not_before: i64,
    pub expires_on: i64,
}

/// How the client authenticated: `1` secret, `2` certificate (`appidacr`/`azpacr`).
#[derive(Debug, Clone, Copy)]
pub(super) enum ClientAuth {
    Secret,
    Certificate,
}

impl ClientAuth {
    fn acr(self) -> &'static str {
        match self {
            Self::Secret => "1",
            Self::Certificate => "2",
        }
    }
}

/// What to mint.
pub(super) struct Grant<'a> {
    pub model: &'a TenantModel,
    pub app: &'a Application,
    pub resource: &'a Resource,
    /// The resource identifier as the request named it (the v1 `aud`).
    pub requested: &'a str,
    pub auth: ClientAuth,
    pub now: i64,
    /// Authentication context classes a claims challenge asked for (`acrs`).
    pub acrs: Vec<String>,
}

pub(super) fn mint(keys: &Keys, grant: &Grant<'_>) -> Result<Issued, StsError> {
    let tid = &grant.model.tenant.id;
    let version = grant.resource.access_token_version;
    let iat = grant.now - BACKDATE;
    let exp = grant.now + EXPIRES_IN + 1;
    let acr = grant.auth.acr();
    let mut claims = Map::new();
    let mut put = |k: &str, v: Value| {
        claims.insert(k.to_owned(), v);
    };
    match version {
        TokenVersion::V1 => put("aud", json!(grant.requested)),
        TokenVersion::V2 => put("aud", json!(grant.resource.app_id)),
    }
    put("iss", json!(issuer(version, tid)));
    put("iat", json!(iat));
    put("nbf", json!(iat));
    put("exp", json!(exp));
    put("aio", json!(opaque(48)));
    if version == TokenVersion::V1 {
        put("app_displayname", json!(grant.app.display_name));
        put("appid", json!(grant.app.client_id));
        put("appidacr", json!(acr));
        put("idp", json!(issuer(TokenVersion::V1, tid)));
    } else {
        put("azp", json!(grant.app.client_id));
        put("azpacr", json!(acr));
    }
    put("idtyp", json!("app"));
    put("oid", json!(grant.app.service_principal_id));
    put("rh", json!(format!("1.{}.", opaque(60))));
    if !grant.acrs.is_empty() {
        put("acrs", json!(grant.acrs));
    }
    let roles = grant.model.granted_roles(grant.app, grant.resource);
    if !roles.is_empty() {
        put("roles", json!(roles));
    }
    put("sub", json!(grant.app.service_principal_id));
    put("tid", json!(tid));
    put("uti", json!(opaque(22)));
    put(
        "ver",
        json!(match version {
            TokenVersion::V1 => "1.0",
            TokenVersion::V2 => "2.0",
        }),
    );
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(keys.kid());
    if version == TokenVersion::V1 {
        header.x5t = Some(keys.kid());
    }
    // Like Microsoft Graph: a header nonce, signed in its hashed form, so only Graph (here, the
    // demo's Graph) can check the signature.
    let nonce = (grant.resource.error_style == ErrorStyle::Graph).then(|| opaque(43));
    header.nonce = nonce.as_deref().map(hashed_nonce);
    let server_error = || {
        StsError::new(
            Code::IssuanceFailed,
            "server_error",
            "There was an error issuing a token.",
        )
    };
    let mut access_token =
        jsonwebtoken::encode(&header, &claims, keys.signing_key()).map_err(|_| server_error())?;
    if let Some(nonce) = nonce {
        access_token = with_header_nonce(&access_token, &nonce).ok_or_else(server_error)?;
    }
    Ok(Issued {
        access_token,
        not_before: iat,
        expires_on: exp,
    })
}

/// Random base64url text of about `len` characters, for opaque claims (`aio`, `rh`, `uti`).
fn opaque(len: usize) -> String {
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() * 4 / 3 < len {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    let mut text = URL_SAFE_NO_PAD.encode(bytes);
    text.truncate(len);
    text
}

/// base64url SHA-256 of a Graph header nonce: the form the signature covers.
fn hashed_nonce(nonce: &str) -> String {
    use sha2::Digest as _;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(nonce.as_bytes()))
}

/// The token with its header's `nonce` set to `nonce`; the signature is left as it is.
fn with_header_nonce(token: &str, nonce: &str) -> Option<String> {
    let (header, rest) = token.split_once('.')?;
    let mut json: Map<String, Value> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    json.insert("nonce".into(), json!(nonce));
    Some(format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(Value::Object(json).to_string())
    ))
}

/// What Graph checks the signature of: a token whose header nonce is replaced by its hash.
/// Tokens without a nonce are returned as they are.
pub(super) fn graph_signed_form(token: &str) -> String {
    let nonce = token
        .split_once('.')
        .and_then(|(header, _)| URL_SAFE_NO_PAD.decode(header).ok())
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .and_then(|json| json.get("nonce").and_then(Value::as_str).map(str::to_owned));
    match nonce {
        Some(nonce) => with_header_nonce(token, &hashed_nonce(&nonce)).unwrap_or_default(),
        None => token.to_owned(),
    }
}

/// The `acrs` values a `claims` request parameter asks for:
/// `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}` (or `"values":[…]`).
pub(super) fn requested_acrs(claims: &str) -> Option<Vec<String>> {
    let json: Value = serde_json::from_str(claims).ok()?;
    let acrs = json.get("access_token")?.get("acrs")?;
    let mut out: Vec<String> = acrs
        .get("values")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(one) = acrs.get("value").and_then(Value::as_str) {
        out.push(one.to_owned());
    }
    Some(out)
}
