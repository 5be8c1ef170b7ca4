//! The token endpoint's answer: a token, Entra ID's error body, or anything else.
#![no_main]

#[path = "../common.rs"]
mod common;

use entra_doctor::Error;
use entra_doctor::auth::client::parse_token_body;
use entra_doctor::auth::response::aadsts_in;
use entra_doctor::diagnose::{Catalog, FixContext};
use libfuzzer_sys::fuzz_target;

const URL: &str = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token";

fuzz_target!(|data: &[u8]| {
    // The statuses that matter (success, Entra ID's 400/401, a proxy's 502) and one from the input.
    let own = u16::from_le_bytes([data.first().copied().unwrap_or(0), data.len() as u8]);
    for status in [200, 400, 401, 502, own] {
        answer(status, data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aadsts_in(text);
    }
});

fn answer(status: u16, body: &[u8]) {
    match parse_token_body(URL, status, "application/json; charset=utf-8", body) {
        Ok(token) => {
            assert!((200..300).contains(&status), "a token from HTTP {status}");
            let _ = (token.expires_in, token.access_token.char_len());
        }
        Err(Error::Entra(error)) => {
            assert_eq!(error.status, status);
            let _ = (error.code(), error.summary(), error.to_string());
            let finding = Catalog::builtin().explain(&error, &FixContext::default());
            let _ = finding.title;
        }
        Err(error @ Error::UnexpectedResponse { .. }) => {
            // The body appears only as a short snippet, control characters escaped.
            let message = error.to_string();
            assert!(
                message.chars().count() < 2_000,
                "an unbounded message: {message:?}"
            );
            common::assert_no_controls("the unexpected-response error", &message, false);
        }
        Err(other) => panic!("an error of an unexpected kind: {other}"),
    }
}
