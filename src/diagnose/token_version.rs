//! Which version a token is (v1 or v2), why, and what the API will check.
//!
//! Operators expect the endpoint they called (`/oauth2/v2.0/token`) to decide the version; it
//! does not. The resource's `accessTokenAcceptedVersion` does, so a v2 endpoint hands out v1
//! tokens for Microsoft Graph, and an API that validates only the v2 issuer rejects them.

use super::{Finding, Resources, Severity};
use crate::token::DecodedToken;

const DOC: &str = "https://learn.microsoft.com/entra/identity-platform/access-tokens#token-formats";

/// The `token.version` finding: info when the version is what the API expects (or nothing is
/// known about the API), error when a well-known API expects the other version.
/// `resource` is what the scope named, when known; otherwise the token's `aud` is looked up.
pub fn check(token: &DecodedToken, resource: Option<&str>) -> Option<Finding> {
    let claims = &token.claims;
    let ver = claims.ver.as_deref()?;
    let version: u8 = match ver {
        "1.0" => 1,
        "2.0" => 2,
        _ => return None,
    };
    let resources = Resources::builtin();
    let known = resource
        .and_then(|r| resources.by_identifier(r))
        .or_else(|| {
            claims.aud.as_ref().and_then(|a| {
                a.values()
                    .into_iter()
                    .find_map(|v| resources.by_identifier(v))
            })
        });
    let (iss_form, client_claim) = match version {
        1 => ("https://sts.windows.net/{tenant}/", "appid (and appidacr)"),
        _ => (
            "https://login.microsoftonline.com/{tenant}/v2.0",
            "azp (and azpacr)",
        ),
    };
    let evidence = format!(
        "ver: {ver}; iss: {}; client id claim: {}",
        claims.iss.as_deref().unwrap_or("-"),
        if claims.appid.is_some() {
            "appid"
        } else if claims.azp.is_some() {
            "azp"
        } else {
            "none"
        }
    );
    let expected = known.and_then(|r| r.token_version.map(|v| (r, v)));
    if let Some((api, wanted)) = expected.filter(|(_, wanted)| *wanted != version) {
        return Some(
            Finding::new(
                "token.version",
                Severity::Error,
                format!("A v{version} token, but {} expects v{wanted} tokens", api.name),
            )
            .cause(format!(
                "the token format follows the resource's accessTokenAcceptedVersion, not the endpoint called; this token \
                 has the v{version} issuer ({iss_form}) and carries the client id in {client_claim}, which {} does not expect",
                api.name
            ))
            .evidence(evidence)
            .fix("Check that the scope names the intended API: a token for another resource has that resource's version")
            .fix("For your own API: set accessTokenAcceptedVersion in its app manifest to the version its validation expects, or accept both issuers")
            .doc(DOC),
        );
    }
    let why = match expected {
        Some((api, _)) => format!(
            "{} accepts v{version} tokens (its accessTokenAcceptedVersion)",
            api.name
        ),
        None => format!(
            "the API's accessTokenAcceptedVersion is {} (null and 1 mean v1), whichever token endpoint (v1 or v2) was called",
            if version == 1 { "null or 1" } else { "2" }
        ),
    };
    Some(
        Finding::new("token.version", Severity::Info, format!("A v{version} access token"))
            .cause(format!(
                "{why}. The API will check iss = {iss_form} and read the client id from {client_claim}{}",
                if version == 1 {
                    "; aud is the resource exactly as requested (App ID URI or GUID)"
                } else {
                    "; aud is the API's client id (GUID)"
                }
            ))
            .evidence(evidence)
            .doc(DOC),
    )
}
