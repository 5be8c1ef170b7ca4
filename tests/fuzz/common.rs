//! Shared by the fuzz targets (each includes it with `#[path]`).
#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entra_doctor::token::{DecodedToken, decode};

/// A fixed clock, so a run is reproducible.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_608_000, 0).expect("a valid timestamp")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWT of the given header and payload (any bytes) and an empty signature.
pub fn jwt(header: &[u8], payload: &[u8], signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header), b64(payload), b64(signature))
}

/// An app-only Graph token with a role, for the targets that take a token as context.
pub fn sample_token() -> DecodedToken {
    let token = jwt(
        br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#,
        br#"{"aud":"https://graph.microsoft.com","iss":"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/","appid":"11111111-2222-3333-4444-555555555555","roles":["User.Read.All"],"tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","ver":"1.0","iat":1795600000,"nbf":1795600000,"exp":1795603600}"#,
        b"sig",
    );
    decode(&token).expect("the sample token decodes")
}

/// Panics when `text` carries a control character (other than `\n` when allowed): printed
/// output must never let a hostile value move the cursor or clear the screen.
pub fn assert_no_controls(what: &str, text: &str, allow_newline: bool) {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !(allow_newline && *c == '\n'))
    {
        panic!("{what} carries the control character {c:?}: {text:?}");
    }
}
