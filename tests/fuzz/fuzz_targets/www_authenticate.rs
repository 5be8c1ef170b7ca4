//! `WWW-Authenticate` headers, and the claims challenges they carry.
#![no_main]

use entra_doctor::diagnose::www_authenticate::{decode_claims, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let challenges = parse(header);
    assert!(
        challenges.len() <= header.chars().count(),
        "more challenges than characters"
    );
    for challenge in &challenges {
        assert!(!challenge.scheme.is_empty(), "a challenge without a scheme");
        for (name, _) in &challenge.params {
            assert!(!name.is_empty(), "a parameter without a name");
            assert_eq!(
                *name,
                name.to_ascii_lowercase(),
                "parameter names are lower-cased"
            );
        }
        if let Some(tenant) = challenge.tenant() {
            let uri = challenge
                .authorization_uri()
                .expect("a tenant comes from the URI");
            assert!(
                uri.contains(tenant) && !tenant.contains('/'),
                "{tenant:?} from {uri:?}"
            );
        }
        let _ = (
            challenge.error(),
            challenge.error_description(),
            challenge.resource(),
        );
        let _ = challenge.claims();
    }
    let _ = decode_claims(header);
});
