//! Decoded tokens as text and as JSON, shared by `token` and `decode`.
//!
//! Claims are attacker-shaped text: control characters are escaped before they are printed.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::token::{DecodedToken, SignatureState, relative, relative_to_expiry};

const TYPED: &[&str] = &[
    "aud", "iss", "appid", "azp", "appidacr", "azpacr", "roles", "scp", "tid", "oid", "sub",
    "idtyp", "ver", "iat", "nbf", "exp",
];

/// Attacker-shaped text on one line through the choke point ([`crate::scrub`]): a hostile
/// claim can neither move the cursor nor hide text, and no secret of the run survives.
pub use crate::scrub::printable_line as clean;

fn utc(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, 0)
}

fn time_json(seconds: Option<i64>, now: DateTime<Utc>) -> Value {
    match seconds.and_then(|s| utc(s).map(|t| (s, t))) {
        Some((s, t)) => json!({"unix": s, "utc": t.to_rfc3339(), "relative": relative(t, now)}),
        None => Value::Null,
    }
}

pub fn token_json(token: &DecodedToken, now: DateTime<Utc>) -> Value {
    let claims = &token.claims;
    json!({
        "header": token.raw_header,
        "claims": token.raw_claims,
        "summary": {
            "version": claims.ver,
            "client_id": claims.client_id(),
            "app_only": claims.is_app_only(),
            "audience": claims.aud,
            "roles": claims.roles,
            "has_nonce": token.header.has_nonce,
            "issued_at": time_json(claims.iat, now),
            "not_before": time_json(claims.nbf, now),
            "expires": time_json(claims.exp, now),
            "expired": claims.exp.and_then(utc).is_some_and(|exp| exp <= now),
        },
        "signature_bytes": token.signature_bytes,
        "signature": token.signature,
    })
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => clean(s),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
        other => clean(&other.to_string()),
    }
}

/// Why a fresh token's `iat` and `nbf` read "5 min ago": Entra ID dates both five minutes
/// before it issues the token, to allow for clock skew. Microsoft does not document it; it is
/// seen on every Entra token (openid/AppAuth-iOS#264 "AzureAD always sets the issuedAt claim to
/// 5 minutes before you actually requested it"; psignoret/aad-sso-wordpress#34, by a Microsoft
/// identity PM: "Azure AD normally includes a 5-minute buffer in both the iat and nbf claims").
/// Said only where it explains the reading: an Entra token issued in the last few minutes.
fn backdated(
    name: &str,
    at: DateTime<Utc>,
    token: &DecodedToken,
    now: DateTime<Utc>,
) -> &'static str {
    let from_entra = token
        .claims
        .iss
        .as_deref()
        .is_some_and(|iss| crate::auth::entra_authority_of_issuer(iss).is_some());
    let age = now - at;
    let fresh = age >= chrono::TimeDelta::minutes(4) && age <= chrono::TimeDelta::minutes(10);
    match name {
        _ if !from_entra || !fresh => "",
        "iat" => "; Entra ID backdates iat and nbf by 5 min, for clock skew",
        "nbf" if token.claims.iat == token.claims.nbf => "; backdated like iat",
        _ => "",
    }
}

/// An expiry time as every command shows it: "2026-11-25 13:00:00 UTC (expires in 1 h)".
pub fn expiry(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "{} ({})",
        at.format("%Y-%m-%d %H:%M:%S UTC"),
        relative_to_expiry(at, now)
    )
}

pub fn token_text(token: &DecodedToken, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let width = token
        .raw_header
        .keys()
        .chain(token.raw_claims.keys())
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 24);
    let line = |out: &mut String, name: &str, value: String| {
        let _ = writeln!(out, "  {name:<width$} {value}");
    };
    out.push_str("Header\n");
    for (name, value) in &token.raw_header {
        if name == "nonce" {
            line(&mut out, name, "present: a Microsoft Graph token; only Graph can validate its signature (by design)".into());
        } else {
            line(&mut out, &clean(name), value_text(value));
        }
    }
    // Said up front: a token cut off in a docs page or a chat reads fine but proves nothing.
    let damage = match &token.signature {
        SignatureState::Present => None,
        SignatureState::Missing => Some("missing".to_owned()),
        SignatureState::Damaged(reason) => Some(format!("damaged: {reason}")),
    };
    if let Some(damage) = damage {
        out.push_str("Signature\n");
        line(&mut out, "state", clean(&damage));
        line(
            &mut out,
            "meaning",
            "nobody can verify this token, and an API refuses it; copy the whole token".into(),
        );
    }
    out.push_str("Claims\n");
    let raw = &token.raw_claims;
    for name in TYPED {
        let Some(value) = raw.get(*name) else {
            if *name == "roles" && token.claims.is_app_only() {
                line(
                    &mut out,
                    "roles",
                    "(none) — no application permission of this resource is granted to the app"
                        .into(),
                );
            }
            continue;
        };
        let text = match *name {
            "iat" | "nbf" | "exp" => match value.as_i64().and_then(utc) {
                Some(t) if *name == "exp" => expiry(t, now),
                Some(t) => format!(
                    "{} ({}{})",
                    t.format("%Y-%m-%d %H:%M:%S UTC"),
                    relative(t, now),
                    backdated(name, t, token, now)
                ),
                None => value_text(value),
            },
            "appidacr" | "azpacr" => {
                let how = match value_text(value).as_str() {
                    "0" => " (public client: no credential)",
                    "1" => " (client secret)",
                    "2" => " (certificate or federated assertion)",
                    _ => "",
                };
                format!("{}{how}", value_text(value))
            }
            _ => value_text(value),
        };
        line(&mut out, name, text);
    }
    let others: Vec<_> = raw
        .iter()
        .filter(|(k, _)| !TYPED.contains(&k.as_str()))
        .collect();
    if !others.is_empty() {
        out.push_str("Other claims\n");
        for (name, value) in others {
            line(&mut out, &clean(name), value_text(value));
        }
    }
    out
}

/// Like [`clean`], but keeps line breaks (for pretty-printed bodies).
pub fn clean_multiline(text: &str) -> String {
    text.lines().map(clean).collect::<Vec<_>>().join("\n")
}
