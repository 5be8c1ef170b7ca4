//! Hostile input: whatever bytes reach a parser, it answers with a value or a clear error —
//! never a panic, never a hang. Property tests over arbitrary text and over near-valid shapes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entra_doctor::auth::{AuthorityHost, ScopeSet, Tenant};
use entra_doctor::cache::TokenCache;
use entra_doctor::cli::render;
use entra_doctor::diagnose::api::{ApiAnswer, ApiError};
use entra_doctor::diagnose::explain::{Extra, explain};
use entra_doctor::diagnose::{FixContext, api, http_text, www_authenticate};
use entra_doctor::profile::Profile;
use entra_doctor::token::decode;
use proptest::prelude::*;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_608_000, 0).unwrap()
}

/// Text that looks like what the parsers expect, with the usual troublemakers mixed in.
fn near_valid() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "eyJhbGciOiJSUzI1NiJ9",
        ".",
        "..",
        "=",
        "\"",
        "\\",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\r\n",
        "\n\n",
        "HTTP/1.1 ",
        "401 ",
        "WWW-Authenticate: ",
        "Bearer ",
        "error=",
        "claims=",
        "AADSTS",
        "70011",
        "https://",
        "database.windows.net/",
        "/.default",
        "\u{feff}",
        "<Code>",
        "</Code>",
        "audience",
        "found: ",
        "'",
        "\u{0}",
        "\u{1b}[2J",
        "é",
        "💥",
        "-",
        "0",
        "ffffffff",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), near_valid()]
}

proptest! {
    // PROPTEST_CASES raises the count for a long local run; CI keeps the default.
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn decoder_never_panics(input in any_text()) {
        let _ = decode(&input);
    }

    #[test]
    fn www_authenticate_never_panics(input in any_text()) {
        for challenge in www_authenticate::parse(&input) {
            let _ = (challenge.tenant(), challenge.claims(), challenge.resource());
        }
    }

    #[test]
    fn http_text_and_api_errors_never_panic(input in any_text()) {
        let _ = http_text::parse(&input);
        let _ = ApiError::parse(&input);
        let answer = ApiAnswer { status: Some(401), body: input.clone(), headers: vec![("www-authenticate".into(), input.clone())], ..ApiAnswer::default() };
        let _ = api::explain(&answer, None, now(), &FixContext::default());
        let _ = api::audience_complaint(&input, Some("https://database.windows.net"), None);
    }

    #[test]
    fn explain_never_panics(input in any_text()) {
        let _ = explain(&input, &Extra { url: Some("https://graph.microsoft.com/v1.0/users"), ..Extra::default() }, now());
    }

    #[test]
    fn identity_parsers_never_panic(input in any_text()) {
        let _ = Tenant::parse(&input);
        let _ = AuthorityHost::parse(&input);
        let _ = ScopeSet::parse(&[input.as_str()]);
        let _ = entra_doctor::auth::scope::lint(&input);
        let _ = FixContext::default().render(&input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(200)))]

    /// A cache or profile file with any content opens (set aside when a damaged cache, refused
    /// and left alone when not a cache at all) — never a crash.
    #[test]
    fn cache_and_profile_files_never_crash(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("tokens.json");
        std::fs::write(&cache, &bytes).unwrap();
        if let Ok((opened, _)) = TokenCache::open(&cache) {
            prop_assert!(opened.len() <= 1);
        } else {
            prop_assert_eq!(std::fs::read(&cache).unwrap(), bytes.clone());
        }
        let profile = dir.path().join("profile.toml");
        std::fs::write(&profile, &bytes).unwrap();
        let _ = Profile::load(&profile);
    }
}

#[test]
fn huge_and_deep_inputs_stay_bounded() {
    let deep = "[".repeat(100_000);
    assert!(decode(&format!("eyJhbGciOiJub25lIn0.{deep}.x")).is_err());
    let _ = explain(&deep, &Extra::default(), now());
    let long_header = format!("Bearer {}", "a=\"b\", ".repeat(50_000));
    assert_eq!(www_authenticate::parse(&long_header).len(), 1);
}

/// Found by the `decode_jwt` fuzz target: a header field named `"\u{7f}"` was printed raw by
/// `decode`, so a hostile token could send control sequences to the terminal.
#[test]
fn printed_tokens_carry_no_control_characters() {
    for name in ["\u{7f}", "\u{1b}[2J", "\u{9b}31m", "a\rb"] {
        let header = serde_json::json!({ "alg": "none", name: name }).to_string();
        let claims = serde_json::json!({ "exp": 1, name: name }).to_string();
        let token = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let text = render::token_text(&decode(&token).unwrap(), now());
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }
}

/// A token endpoint error body that echoes a token (a misbehaving proxy, a debug page) is
/// quoted in the error message with the token scrubbed out.
#[test]
fn an_error_body_quoted_in_a_message_has_its_tokens_scrubbed() {
    let token = crate::support::v1_graph_token("echoed");
    let body = format!(
        r#"<html>debug: {{"access_token":"{token}"}} Authorization: Bearer {token}</html>"#
    );
    let snippet = entra_doctor::auth::client::snippet(body.as_bytes());
    assert!(!snippet.contains(&token), "{snippet}");
    assert!(snippet.contains("[REDACTED"), "{snippet}");
}
