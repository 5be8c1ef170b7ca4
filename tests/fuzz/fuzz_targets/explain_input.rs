//! `explain`'s input: whatever the operator pasted (a token-endpoint error, an API error, a
//! `WWW-Authenticate` header, a raw HTTP response, a JWT, an AADSTS code, text), recognised and
//! explained. The first byte picks what else is known: the scope, the URL and the token sent.
#![no_main]

#[path = "../common.rs"]
mod common;

use entra_doctor::diagnose::FixContext;
use entra_doctor::diagnose::explain::{Extra, Recognised, explain};
use libfuzzer_sys::fuzz_target;

const SCOPES: [Option<&str>; 3] = [
    None,
    Some("https://database.windows.net/.default"),
    Some("https://graph.microsoft.com/.default"),
];
const URLS: [Option<&str>; 3] = [
    None,
    Some("https://graph.microsoft.com/v1.0/users"),
    Some("https://myvault.vault.azure.net/secrets/x"),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pick = usize::from(data.first().copied().unwrap_or(0));
    let token = common::sample_token();
    let extra = Extra {
        scope: SCOPES[pick % 3],
        url: URLS[pick / 3 % 3],
        token: (pick / 9 % 2 == 1).then_some(&token),
        context: if pick / 18 % 2 == 1 {
            FixContext {
                tenant: Some("contoso.com".into()),
                client_id: Some("11111111-2222-3333-4444-555555555555".into()),
                ..FixContext::default()
            }
        } else {
            FixContext::default()
        },
    };
    match explain(text, &extra, common::now()) {
        Ok((kind, findings)) => {
            if kind == Recognised::Code {
                assert_eq!(findings.len(), 1, "one finding for a code");
            }
            // Sorted: most severe first, no id twice.
            assert!(findings.windows(2).all(|w| w[0].severity <= w[1].severity));
            let mut ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), findings.len(), "an id twice");
            serde_json::to_string(&entra_doctor::diagnose::to_json(&findings))
                .expect("findings serialise");
        }
        Err(message) => assert!(message.len() < 512, "an unbounded refusal: {message:?}"),
    }
});
