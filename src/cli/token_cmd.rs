//! `entra-doctor token`: preflight, cache lookup, client credentials request, decoded output.

use std::fmt::Write as _;
use std::io::Read as _;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::args::TokenArgs;
use super::cache_cmd::cache_path;
use super::config::prepare;
use super::render::{expiry, token_json, token_text};
use super::{OutputFormat, Report};
use crate::auth::{
    CertificateInfo, Credential, Deadline, TokenClient, TokenRequest, TokenResponse,
};
use crate::cache::{Miss, TokenCache};
use crate::diagnose::www_authenticate::decode_claims;
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::setup::Prepared;
use crate::token::decode;

/// The token, where it came from, and which cache served or stored it.
pub(super) struct Acquired {
    pub(super) token: Secret,
    pub(super) expires_on: DateTime<Utc>,
    /// `None` when served from the cache.
    miss: Option<Miss>,
    response: Option<TokenResponse>,
    store: &'static str,
    file: Option<std::path::PathBuf>,
}

pub async fn run(
    args: &TokenArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    let mut stdin = || {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map(|_| text)
    };
    let Prepared {
        mut request,
        mut options,
        warnings,
    } = prepare(&args.credential, env, &mut stdin, now)?;
    options.deadline = Some(Deadline::after(options.timeout));
    request.claims = args.claims.as_deref().map(claims_challenge).transpose()?;
    let (mut cache, cache_warnings) = if args.cache.persist_cache {
        TokenCache::open(&cache_path(args.cache.cache_file.as_ref())?)?
    } else {
        (TokenCache::in_memory(), Vec::new())
    };
    report
        .stderr
        .extend(cache_warnings.iter().map(|w| format!("warning: {w}")));
    if format == OutputFormat::Text && !args.raw {
        report
            .stderr
            .extend(warnings.iter().map(super::findings::one_line));
    }
    // A cached token is the one the API just refused: a claims challenge always goes to Entra.
    let force_refresh = args.force_refresh || request.claims.is_some();
    let acquired = acquire(
        &request,
        &cli_client(options)?,
        &mut cache,
        force_refresh,
        now,
    )
    .await?;
    report.stdout_is_requested_secret = args.raw;
    report.stdout = if args.raw {
        format!("{}\n", acquired.token.expose())
    } else {
        match format {
            OutputFormat::Json => format!("{}\n", as_json(&request, &acquired, &warnings, now)),
            OutputFormat::Text => as_text(&request, &acquired, now),
        }
    };
    Ok(())
}

/// A token client whose retries are announced on standard error as they happen.
pub(super) fn cli_client(options: crate::auth::ClientOptions) -> Result<TokenClient> {
    Ok(
        TokenClient::new(options)?.on_retry(std::sync::Arc::new(|notice| {
            eprintln!(
                "note: {}",
                crate::scrub::printable_line(&notice.to_string())
            );
        })),
    )
}

/// The `--claims` value as compact JSON: JSON as given, or the base64 of a `claims=` parameter.
fn claims_challenge(value: &str) -> Result<String> {
    let bad = |reason: &str| Error::InvalidInput {
        what: "--claims".into(),
        reason: reason.into(),
    };
    let text = decode_claims(value).ok_or_else(|| {
        bad("is neither JSON nor the base64 claims= of a WWW-Authenticate header")
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(json @ Value::Object(_)) => Ok(json.to_string()),
        Ok(_) => Err(bad(
            "is JSON but not an object such as {\"access_token\":{…}}",
        )),
        Err(e) => Err(bad(&format!("is not valid JSON ({e})"))),
    }
}

/// Serves the token from the cache when it can, else asks Entra ID and caches the answer.
pub(super) async fn acquire(
    request: &TokenRequest,
    client: &TokenClient,
    cache: &mut TokenCache,
    force_refresh: bool,
    now: DateTime<Utc>,
) -> Result<Acquired> {
    let store = if cache.path().is_some() {
        "file"
    } else {
        "memory"
    };
    let file = cache.path().map(ToOwned::to_owned);
    let served = cache
        .get_or_acquire(client, request, force_refresh, now)
        .await?;
    Ok(Acquired {
        token: served.token,
        expires_on: served.expires_on,
        miss: served.miss,
        response: served.response,
        store,
        file,
    })
}

fn certificate_of(request: &TokenRequest) -> Option<&CertificateInfo> {
    match &request.credential {
        Credential::Certificate { certificate, .. } => Some(&certificate.info),
        Credential::Secret(_)
        | Credential::Assertion { .. }
        | Credential::ManagedIdentity { .. } => None,
    }
}

/// The tenant and client id to show: what the operator named, else (a managed identity) what
/// the token says, never a stand-in.
fn ids_of(request: &TokenRequest, acquired: &Acquired) -> (Option<String>, Option<String>) {
    let claims = decode(acquired.token.expose()).ok().map(|t| t.claims);
    let tenant = request
        .known_tenant()
        .map(ToString::to_string)
        .or_else(|| claims.as_ref().and_then(|c| c.tid.clone()));
    let client_id = request.known_client_id().map(str::to_owned).or_else(|| {
        claims
            .as_ref()
            .and_then(|c| c.client_id().map(str::to_owned))
    });
    (tenant, client_id)
}

/// A managed identity's source and identity, for the JSON.
fn managed_of(request: &TokenRequest) -> Option<Value> {
    match &request.credential {
        Credential::ManagedIdentity {
            identity, source, ..
        } => Some(json!({
            "source": source.kind().id(),
            "identity": identity.to_string(),
            "detected": source.reason(),
        })),
        _ => None,
    }
}

fn as_json(
    request: &TokenRequest,
    acquired: &Acquired,
    warnings: &[crate::diagnose::Finding],
    now: DateTime<Utc>,
) -> Value {
    let cache = json!({
        "hit": acquired.miss.is_none(),
        "miss": acquired.miss,
        "miss_reason": acquired.miss.map(Miss::describe),
        "store": acquired.store,
        "file": acquired.file,
    });
    let response = acquired.response.as_ref().map(|r| {
        json!({
            "token_type": r.token_type,
            "expires_in": r.expires_in,
            "ext_expires_in": r.ext_expires_in,
            "refresh_in": r.refresh_in,
        })
    });
    let (tenant, client_id) = ids_of(request, acquired);
    json!({
        "endpoint": request.token_endpoint(),
        "tenant": tenant,
        "client_id": client_id,
        "scopes": request.scopes.as_slice(),
        "resource": request.scopes.resource(),
        "credential": {
            "kind": request.credential.kind(),
            "certificate": certificate_of(request),
            "managed_identity": managed_of(request),
        },
        "warnings": warnings,
        "cache": cache,
        "response": response,
        "expires_on": acquired.expires_on,
        "token": match decode(acquired.token.expose()) {
            Ok(token) => token_json(&token, now),
            Err(e) => json!({"not_a_jwt": e.to_string()}),
        },
    })
}

fn as_text(request: &TokenRequest, acquired: &Acquired, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let source = match (&request.credential, acquired.miss) {
        (Credential::ManagedIdentity { source, .. }, _) => {
            format!("from the managed identity endpoint ({})", source.kind())
        }
        (_, None) => "from the cache".to_owned(),
        (_, Some(_)) => "from Entra ID".to_owned(),
    };
    let _ = writeln!(out, "Token for {} {source}", request.scopes.resource());
    let _ = writeln!(out, "  endpoint   {}", request.token_endpoint());
    if let Credential::ManagedIdentity { identity, .. } = &request.credential {
        // Its tenant and app are the token's own: named as such, never a stand-in.
        let (tenant, client_id) = ids_of(request, acquired);
        let said = |value: Option<String>, claim: &str| {
            value.map_or_else(
                || format!("unknown (the token does not say {claim})"),
                |v| format!("{v} (the token's {claim})"),
            )
        };
        let _ = writeln!(out, "  identity   {identity}");
        let _ = writeln!(out, "  tenant     {}", said(tenant, "tid"));
        let _ = writeln!(out, "  client id  {}", said(client_id, "appid"));
    } else {
        let _ = writeln!(out, "  client id  {}", request.client_id);
    }
    let _ = writeln!(out, "  credential {}", request.credential.source());
    if let Some(info) = certificate_of(request) {
        // Labelled as the portal (SHA-1 "Thumbprint") and Entra ID's messages (SHA-256) show them.
        let _ = writeln!(
            out,
            "  thumbprint {} (SHA-1, the portal's Thumbprint; SHA-256 {})",
            info.thumbprint_sha1, info.thumbprint_sha256
        );
        let _ = writeln!(
            out,
            "  subject    {}, valid until {}",
            info.subject,
            info.not_after.format("%Y-%m-%d")
        );
    }
    let cache_line = match acquired.miss {
        Some(miss) => format!("stored in {} ({})", acquired.store, miss.describe()),
        None => format!("served from {}", acquired.store),
    };
    let _ = writeln!(out, "  cache      {cache_line}");
    let decoded = decode(acquired.token.expose());
    // One time source with the exp line below: the token's own exp, which the API checks;
    // expires_in (counted from when the answer arrived, so a second or two earlier) only for a
    // token that is not a JWT.
    let expires = decoded
        .as_ref()
        .ok()
        .and_then(|token| token.claims.exp)
        .and_then(|exp| DateTime::from_timestamp(exp, 0))
        .unwrap_or(acquired.expires_on);
    let _ = writeln!(out, "  expires    {}\n", expiry(expires, now));
    match decoded {
        Ok(token) => out.push_str(&token_text(&token, now)),
        Err(e) => {
            let _ = writeln!(out, "The access token cannot be decoded: {e}");
        }
    }
    out
}
