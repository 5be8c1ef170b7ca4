//! An API's error answer: its body in any dialect (JSON, XML, text), its headers, and the raw
//! HTTP response text (`curl -i`) it may be pasted as.
#![no_main]

#[path = "../common.rs"]
mod common;

use entra_doctor::diagnose::api::{self, ApiAnswer, ApiError};
use entra_doctor::diagnose::{FixContext, Resources, http_text, sort};
use libfuzzer_sys::fuzz_target;

const STATUSES: [Option<u16>; 6] = [Some(401), Some(403), Some(429), Some(500), Some(400), None];
const URLS: [Option<&str>; 4] = [
    Some("https://graph.microsoft.com/v1.0/users"),
    Some("https://myserver.database.windows.net/"),
    Some("https://acct.blob.core.windows.net/c/b"),
    None,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pick = usize::from(data.first().copied().unwrap_or(0));
    let _ = ApiError::parse(text);
    let _ = api::audience_complaint(text, Some("https://database.windows.net"), None);
    let sql = Resources::builtin().by_host("myserver.database.windows.net");
    let _ = api::audience_complaint(
        text,
        Some("https://database.windows.net"),
        sql.map(|r| r.audiences.as_slice()),
    );
    let _ = api::host_of(text);

    // The body as the API sent it, with the headers read from its first lines.
    let mut lines = text.lines();
    let headers = ["www-authenticate", "date", "retry-after"]
        .into_iter()
        .zip(lines.by_ref())
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let token = common::sample_token();
    let answer = ApiAnswer {
        method: "GET".into(),
        url: URLS[pick / STATUSES.len() % URLS.len()].map(str::to_owned),
        status: STATUSES[pick % STATUSES.len()],
        headers,
        body: text.to_owned(),
    };
    let with_token = (pick / 24) % 2 == 0;
    findings(&answer, with_token.then_some(&token));

    // The same text as a raw HTTP response.
    if let Some(mut parsed) = http_text::parse(text) {
        assert!(
            text.ends_with(&parsed.body),
            "the body is not the input's tail"
        );
        assert!(parsed.status.is_some());
        parsed.url = answer.url.clone();
        parsed.method = "POST".into();
        findings(&parsed, Some(&token));
    }
});

fn findings(answer: &ApiAnswer, token: Option<&entra_doctor::token::DecodedToken>) {
    let context = FixContext {
        tenant: Some("contoso.com".into()),
        ..FixContext::default()
    };
    let mut found = api::explain(answer, token, common::now(), &context);
    sort(&mut found);
    serde_json::to_string(&entra_doctor::diagnose::to_json(&found)).expect("findings serialise");
}
