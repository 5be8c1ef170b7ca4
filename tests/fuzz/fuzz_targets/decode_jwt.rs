//! The JWT decoder, and everything that prints or checks what it decoded.
//!
//! Each input is tried twice: as pasted text, and as the header and payload of a token the
//! harness encodes itself (split at the first newline), so the fuzzer reaches the claims code
//! without having to discover base64.
#![no_main]

#[path = "../common.rs"]
mod common;

use entra_doctor::cli::{redact::redact, render};
use entra_doctor::diagnose::{FixContext, token_checks, token_version};
use entra_doctor::token::{decode, strip_wrapping};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        pasted(text);
    }
    let (header, payload) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"{}"[..]),
    };
    let token = common::jwt(header, payload, b"signature");
    pasted(&token);
});

fn pasted(text: &str) {
    match decode(text) {
        Ok(token) => {
            let now = common::now();
            // Claims are attacker-shaped text: printed, they must not carry control characters.
            common::assert_no_controls("token_text", &render::token_text(&token, now), true);
            let json = render::token_json(&token, now);
            serde_json::to_string(&json).expect("the token's JSON serialises");
            let _ = (token.claims.client_id(), token.claims.is_app_only());
            let resource = token
                .claims
                .aud
                .as_ref()
                .and_then(|a| a.values().first().map(|s| (*s).to_owned()));
            let _ = token_checks::check(&token, now, resource.as_deref(), &FixContext::default());
            let _ = token_checks::check(
                &token,
                now,
                Some("https://vault.azure.net"),
                &FixContext::default(),
            );
            let _ = token_version::check(&token, Some("https://graph.microsoft.com"));
            // A decoded token pasted anywhere is redacted from logs.
            let compact = strip_wrapping(text);
            if jwt_shaped(&compact) {
                assert!(
                    !redact(text).contains(&compact),
                    "a decodable JWT survives redaction: {text:?}"
                );
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.len() < 512,
                "an unbounded error message: {message:?}"
            );
            common::assert_no_controls("the decode error", &message, false);
        }
    }
}

/// What the log redaction calls a JWT: `eyJ` and three base64url segments, two of 4+ characters.
fn jwt_shaped(token: &str) -> bool {
    let url_safe = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[0].len() >= 7
        && parts[1].len() >= 4
        && parts.iter().all(|p| url_safe(p))
}
