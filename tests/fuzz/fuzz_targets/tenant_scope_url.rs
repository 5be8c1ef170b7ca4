//! What the operator types: a tenant, an authority host URL, scopes; and the fix templates the
//! answers are filled into.
#![no_main]

use entra_doctor::auth::authority::ensure_secure;
use entra_doctor::auth::scope::{lint, resource_of};
use entra_doctor::auth::{Authority, AuthorityHost, ScopeSet, Tenant};
use entra_doctor::diagnose::FixContext;
use entra_doctor::diagnose::api::host_of;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tenant = Tenant::parse(text).ok();
    if let Some(tenant) = &tenant {
        // A tenant reads back as itself.
        assert_eq!(Tenant::parse(tenant.as_str()).ok().as_ref(), Some(tenant));
        let _ = tenant.is_id();
    }
    let host = AuthorityHost::parse(text).ok();
    if let Some(host) = &host {
        let again = AuthorityHost::parse(host.as_str()).expect("a host reads back");
        assert_eq!(again.as_str(), host.as_str());
        ensure_secure(host.url()).expect("a validated host is secure");
    }
    // Host and tenant validated: the token endpoint is a secure URL.
    let tenant = tenant.unwrap_or_else(|| Tenant::parse("contoso.com").expect("a tenant"));
    let host = host.unwrap_or_else(|| {
        AuthorityHost::parse("https://login.microsoftonline.com").expect("a host")
    });
    let authority = Authority::new(host, tenant);
    for endpoint in [authority.token_endpoint(), authority.discovery_url()] {
        let url = url::Url::parse(&endpoint).expect("the endpoint is a URL");
        ensure_secure(&url).expect("the endpoint is secure");
    }

    // Scopes, one per line as the form takes them, or the text whole as --scope does.
    let lines: Vec<&str> = text.lines().collect();
    for inputs in [&lines[..], &[text][..]] {
        if let Ok(scopes) = ScopeSet::parse(inputs) {
            assert!(!scopes.as_slice().is_empty());
            let again = ScopeSet::parse(&[scopes.to_request_value()]).expect("scopes read back");
            assert_eq!(again.normalized(), scopes.normalized());
            let _ = (scopes.resource(), scopes.lints());
        }
    }
    for advice in lint(text) {
        assert_eq!(advice.scope, text);
    }
    assert!(
        text.starts_with(resource_of(text)) || resource_of(text) == "https://graph.microsoft.com"
    );
    let _ = host_of(text);

    // The text as a fix template, with and without the values known.
    let known = FixContext {
        tenant: Some("contoso.com".into()),
        client_id: Some("{client_id}".into()),
        resource: Some("https://graph.microsoft.com".into()),
        scope: Some("https://graph.microsoft.com/.default".into()),
        role: None,
    };
    let _ = known.render(text);
    let _ = FixContext::default().render(text);
});
