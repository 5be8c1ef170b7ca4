//! Issue 9: tokens checked against the demo tenant's keys (verified, tampered, rolled-over key,
//! another tenant, Graph nonce), the token version explained, and the claims challenge sent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use entra_doctor::Secret;
use entra_doctor::auth::{
    Authority, AuthorityHost, ClientOptions, Credential, ScopeSet, Tenant, TokenClient,
    TokenRequest,
};
use entra_doctor::demo::RunningDemo;
use entra_doctor::diagnose::{Severity, signature, token_version};
use entra_doctor::token::verify::TimeCheck;
use entra_doctor::token::{Verification, Verifier, VerifyTarget, decode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::{TENANT_ID, json_finding_ids, start_demo, v1_graph_token, v2_api_token};

async fn demo_token(demo: &RunningDemo, scope: &str) -> String {
    let app = demo.app("healthy").unwrap();
    let request = TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(demo.authority_host()).unwrap(),
            Tenant::parse(demo.tenant_domain()).unwrap(),
        ),
        token_endpoint: None,
        client_id: app.client_id.clone(),
        scopes: ScopeSet::parse(&[scope]).unwrap(),
        credential: Credential::Secret(Secret::new(app.secret.as_ref().unwrap().expose())),
        claims: None,
    };
    let response = TokenClient::new(ClientOptions::default())
        .unwrap()
        .acquire(&request, Utc::now())
        .await
        .unwrap();
    response.access_token.expose().to_owned()
}

fn target(demo: &RunningDemo, tenant: Option<&str>) -> VerifyTarget {
    VerifyTarget {
        host: Some(AuthorityHost::parse(demo.authority_host()).unwrap()),
        tenant: tenant.map(str::to_owned),
        app_id: None,
    }
}

fn verifier() -> Verifier {
    Verifier::new(TokenClient::new(ClientOptions::default()).unwrap())
}

async fn verify(demo: &RunningDemo, raw: &str, tenant: Option<&str>) -> Verification {
    verifier()
        .verify(
            raw,
            &decode(raw).unwrap(),
            &target(demo, tenant),
            Utc::now(),
        )
        .await
        .unwrap()
}

/// A token signed with `key_file` of the demo assets, under `kid`.
fn signed(key_file: &str, kid: &str, claims: &Value) -> String {
    let path = format!("{}/assets/demo/{key_file}", env!("CARGO_MANIFEST_DIR"));
    let key = EncodingKey::from_rsa_pem(&std::fs::read(path).unwrap()).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn kid_of(raw: &str) -> String {
    decode(raw).unwrap().header.kid.unwrap()
}

#[tokio::test]
async fn v1_and_v2_demo_tokens_verify_with_the_tenant_keys() {
    let demo = start_demo().await;
    for (scope, ver, document) in [
        (
            "https://database.windows.net//.default",
            "1.0",
            "/.well-known/",
        ),
        (
            "api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default",
            "2.0",
            "/v2.0/.well-known/",
        ),
    ] {
        let raw = demo_token(&demo, scope).await;
        assert_eq!(decode(&raw).unwrap().claims.ver.as_deref(), Some(ver));
        let outcome = verify(&demo, &raw, Some(demo.tenant_domain())).await;
        let Verification::Verified {
            metadata_url, time, ..
        } = &outcome
        else {
            panic!("{scope}: {outcome:?}");
        };
        assert!(metadata_url.contains(document), "{metadata_url}");
        assert_eq!(*time, TimeCheck::Valid);
        let finding = signature::finding(&outcome, &decode(&raw).unwrap(), Utc::now());
        assert_eq!(
            (finding.id.as_str(), finding.severity),
            ("token.verified", Severity::Info)
        );
    }
}

#[tokio::test]
async fn a_tampered_token_is_rejected() {
    let demo = start_demo().await;
    let raw = demo_token(&demo, "https://database.windows.net//.default").await;
    let mut parts: Vec<String> = raw.split('.').map(str::to_owned).collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["roles"] = json!(["Directory.ReadWrite.All"]);
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let tampered = parts.join(".");
    let outcome = verify(&demo, &tampered, None).await;
    assert!(
        matches!(outcome, Verification::BadSignature { .. }),
        "{outcome:?}"
    );
    let finding = signature::finding(&outcome, &decode(&tampered).unwrap(), Utc::now());
    assert_eq!(finding.id, "token.bad-signature");
    assert_eq!(finding.severity, Severity::Error);
}

#[tokio::test]
async fn a_key_not_in_the_jwks_is_explained_as_rollover_or_other_tenant() {
    let demo = start_demo().await;
    let now = Utc::now().timestamp();
    let claims = json!({
        "aud": "https://graph.microsoft.com", "iss": format!("https://sts.windows.net/{}/", demo.tenant_id()),
        "tid": demo.tenant_id(), "ver": "1.0", "iat": now, "nbf": now, "exp": now + 3600,
        "appid": "9999d1be-e182-4efa-8b0d-029e5af3dbcf", "idtyp": "app",
    });
    let raw = signed("healthy.key.pem", "rolled-over-key-2019", &claims);
    let outcome = verify(&demo, &raw, None).await;
    let Verification::UnknownKey { kid, known, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(kid.as_deref(), Some("rolled-over-key-2019"));
    assert_eq!(known.len(), 1);
    let finding = signature::finding(&outcome, &decode(&raw).unwrap(), Utc::now());
    assert_eq!(finding.id, "token.unknown-key");
    assert!(finding.cause.contains("rolled over"), "{}", finding.cause);
    assert!(
        finding
            .evidence
            .iter()
            .any(|e| e.contains("rolled-over-key-2019"))
    );
}

#[tokio::test]
async fn a_token_of_another_tenant_is_told_apart_from_a_bad_signature() {
    let demo = start_demo().await;
    let genuine = demo_token(&demo, "https://database.windows.net//.default").await;
    let now = Utc::now().timestamp();
    let claims = json!({
        "aud": "https://database.windows.net/", "iss": format!("https://sts.windows.net/{TENANT_ID}/"),
        "tid": TENANT_ID, "ver": "1.0", "iat": now, "nbf": now, "exp": now + 3600,
    });
    // Entra ID signs every tenant's tokens with shared keys: same kid, another issuer.
    let raw = signed("tenant-signing.key.pem", &kid_of(&genuine), &claims);
    let outcome = verify(&demo, &raw, Some(demo.tenant_id())).await;
    let Verification::WrongTenant {
        token_issuer,
        expected_issuer,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(token_issuer.contains(TENANT_ID));
    assert!(expected_issuer.contains(demo.tenant_id()));
    let finding = signature::finding(&outcome, &decode(&raw).unwrap(), Utc::now());
    assert_eq!(finding.id, "token.wrong-tenant");
}

#[tokio::test]
async fn a_graph_token_with_a_nonce_is_not_verifiable_by_design_never_forged() {
    let demo = start_demo().await;
    // The demo's Graph tokens carry a header nonce, as the real ones do; so does the fixture.
    let from_demo = demo_token(&demo, "https://graph.microsoft.com/.default").await;
    assert!(decode(&from_demo).unwrap().header.has_nonce);
    assert_eq!(
        verify(&demo, &from_demo, None).await,
        Verification::GraphNonce
    );
    let raw = v1_graph_token("nonce");
    let outcome = verify(&demo, &raw, None).await;
    assert_eq!(outcome, Verification::GraphNonce);
    let finding = signature::finding(&outcome, &decode(&raw).unwrap(), Utc::now());
    assert_eq!(
        (finding.id.as_str(), finding.severity),
        ("token.graph-nonce", Severity::Info)
    );
    let text = format!("{} {}", finding.title, finding.cause).to_lowercase();
    assert!(text.contains("by design"));
    assert!(text.contains("not mean the token is forged"), "{text}");
}

#[tokio::test]
async fn keys_are_fetched_once_per_run_and_keep_their_fetch_time() {
    let demo = start_demo().await;
    let raw = demo_token(&demo, "https://database.windows.net//.default").await;
    let token = decode(&raw).unwrap();
    let verifier = verifier();
    let first = Utc::now();
    let later = first + TimeDelta::minutes(10);
    let fetched = |v: Verification| match v {
        Verification::Verified { jwks_fetched, .. } => jwks_fetched,
        other => panic!("{other:?}"),
    };
    let target = target(&demo, None);
    let one = verifier.verify(&raw, &token, &target, first).await.unwrap();
    let two = verifier.verify(&raw, &token, &target, later).await.unwrap();
    assert_eq!(fetched(one), first);
    assert_eq!(fetched(two), first);
}

#[test]
fn token_version_is_explained_and_a_mismatch_is_an_error() {
    let v1 = decode(&v1_graph_token("v")).unwrap();
    let info = token_version::check(&v1, Some("https://graph.microsoft.com")).unwrap();
    assert_eq!(
        (info.id.as_str(), info.severity),
        ("token.version", Severity::Info)
    );
    assert!(
        info.cause.contains("accessTokenAcceptedVersion"),
        "{}",
        info.cause
    );
    assert!(info.cause.contains("https://sts.windows.net/{tenant}/"));
    assert!(info.cause.contains("appid"));

    let v2 = decode(&v2_api_token()).unwrap();
    let custom = token_version::check(&v2, None).unwrap();
    assert_eq!(custom.severity, Severity::Info);
    assert!(custom.cause.contains("azp"));

    // A v2-shaped token presented to Graph, which issues and expects v1.
    let v2_for_graph = decode(&crate::support::jwt(
        &json!({"alg":"RS256","kid":"k"}),
        &json!({"aud":"00000003-0000-0000-c000-000000000000","ver":"2.0","azp":"x",
                "iss": format!("https://login.microsoftonline.com/{TENANT_ID}/v2.0")}),
    ))
    .unwrap();
    let error = token_version::check(&v2_for_graph, None).unwrap();
    assert_eq!(
        (error.id.as_str(), error.severity),
        ("token.version", Severity::Error)
    );
    assert!(
        error.title.contains("Microsoft Graph expects v1"),
        "{}",
        error.title
    );
}

fn decode_verify_json(demo: &RunningDemo, token: &str, extra: &[&str]) -> (Option<i32>, Value) {
    let output = assert_cmd::Command::new(env!("CARGO_BIN_EXE_entra-doctor"))
        .env_clear()
        .args([
            "decode",
            "-",
            "--verify",
            "--authority-host",
            demo.authority_host(),
            "-o",
            "json",
        ])
        .args(extra)
        .write_stdin(token.to_owned())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!stdout.contains(token), "the raw token is never printed");
    (output.status.code(), serde_json::from_str(&stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn decode_verify_reports_each_outcome_with_its_finding() {
    let demo = start_demo().await;
    let genuine = demo_token(&demo, "https://database.windows.net//.default").await;
    let (code, json) = decode_verify_json(&demo, &format!("Bearer {genuine}"), &[]);
    assert_eq!(code, Some(0), "{json:#}");
    assert_eq!(json["verification"]["outcome"], "verified");
    assert_eq!(json_finding_ids(&json), ["token.verified", "token.version"]);

    // Issue 14: not verified is never a pass, whatever the reason.
    let (code, json) = decode_verify_json(&demo, &v1_graph_token("cli"), &[]);
    assert_eq!(code, Some(1), "a Graph token is not verified: {json:#}");
    assert_eq!(json["verification"]["outcome"], "graph-nonce");
    assert!(json_finding_ids(&json).contains(&"token.graph-nonce"));

    let (code, json) = decode_verify_json(&demo, &genuine, &["--tenant", TENANT_ID]);
    assert_eq!(code, Some(1), "the demo knows one tenant: {json:#}");
    assert!(
        json_finding_ids(&json).contains(&"token.not-verified"),
        "{json:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn token_claims_sends_the_challenge_decoded_from_base64_and_skips_the_cache() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let claims = r#"{"access_token":{"nbf":{"essential":true,"value":"1795607700"}}}"#;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(crate::support::FormIs(vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", crate::support::CLIENT_ID.into()),
            ("scope", "https://graph.microsoft.com/.default".into()),
            ("client_secret", "*".into()),
            ("claims", claims.into()),
        ]))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(crate::support::token_body(&v1_graph_token("claims"), 3599)),
        )
        .expect(2)
        .mount(&server)
        .await;
    // As the header carries it (base64), and as JSON with spaces: both are sent compact.
    let spaced = claims.replace(':', ": ");
    for given in [
        base64::engine::general_purpose::STANDARD.encode(claims),
        spaced,
    ] {
        let output = crate::cli::entra_doctor()
            .args(crate::cli::token_args(&server))
            .args(["--claims", &given, "-o", "json"])
            .env("AZURE_CLIENT_SECRET", "s3cret-value-for-test")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let output = crate::cli::entra_doctor()
        .args(crate::cli::token_args(&server))
        .args(["--claims", "not json"])
        .env("AZURE_CLIENT_SECRET", "s3cret-value-for-test")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--claims"));
}

#[test]
fn a_claims_challenge_says_what_a_daemon_must_do() {
    use entra_doctor::diagnose::FixContext;
    use entra_doctor::diagnose::api::{ApiAnswer, explain};

    let claims = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;
    let answer = ApiAnswer {
        method: "GET".into(),
        url: Some("https://graph.microsoft.com/v1.0/users".into()),
        status: Some(401),
        headers: vec![(
            "WWW-Authenticate".into(),
            format!(
                r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="{}""#,
                base64::engine::general_purpose::STANDARD.encode(claims)
            ),
        )],
        body: r#"{"error":{"code":"InvalidAuthenticationToken","message":"Continuous access evaluation resulted in challenge with result: InteractionRequired and code: LocationConditionEvaluationSatisfied"}}"#.into(),
    };
    let findings = explain(&answer, None, Utc::now(), &FixContext::default());
    let finding = findings
        .iter()
        .find(|f| f.id == "api.claims-challenge")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(finding.evidence.iter().any(|e| e.contains(claims)));
    assert!(
        finding.cause.contains("claims parameter"),
        "{}",
        finding.cause
    );
    assert!(
        finding
            .fixes
            .iter()
            .any(|f| f.contains(&format!("entra-doctor token --claims '{claims}'"))),
        "{:?}",
        finding.fixes
    );
    assert!(finding.fixes.iter().any(|f| f.contains("allowed network")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claims_challenge_from_the_demo_is_explained_and_answered_with_claims() {
    use entra_doctor::diagnose::FixContext;
    use entra_doctor::diagnose::api::explain;
    use entra_doctor::probe::{ProbeRequest, Prober};

    let demo = start_demo().await;
    let url = format!("{}/graph/v1.0/security/alerts_v2", demo.authority_host());
    let prober = Prober::new(&entra_doctor::auth::ClientOptions::default()).unwrap();
    let call = |token: String| ProbeRequest {
        url: url::Url::parse(&url).unwrap(),
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        token: Some(Secret::new(token)),
    };
    let plain = demo_token(&demo, "https://graph.microsoft.com/.default").await;
    let refused = prober.send(&call(plain)).await.unwrap();
    assert_eq!(refused.status, 401);
    let findings = explain(&refused.answer(), None, Utc::now(), &FixContext::default());
    let finding = findings
        .iter()
        .find(|f| f.id == "api.claims-challenge")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    let claims = finding.evidence[0]
        .strip_prefix("claims: ")
        .unwrap()
        .to_owned();
    assert_eq!(
        claims,
        r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#
    );
    assert!(finding.fixes[0].contains(&format!("--claims '{claims}'")));

    // Re-acquire with the claims, as the finding says: the call goes through.
    let app = demo.app("healthy").unwrap();
    let request = TokenRequest {
        authority: Authority::new(
            AuthorityHost::parse(demo.authority_host()).unwrap(),
            Tenant::parse(demo.tenant_id()).unwrap(),
        ),
        token_endpoint: None,
        client_id: app.client_id.clone(),
        scopes: ScopeSet::parse(&["https://graph.microsoft.com/.default"]).unwrap(),
        credential: Credential::Secret(Secret::new(app.secret.as_ref().unwrap().expose())),
        claims: Some(claims),
    };
    let answered = TokenClient::new(ClientOptions::default())
        .unwrap()
        .acquire(&request, Utc::now())
        .await
        .unwrap();
    let token = answered.access_token.expose().to_owned();
    assert_eq!(decode(&token).unwrap().raw_claims["acrs"], json!(["c1"]));
    assert_eq!(prober.send(&call(token)).await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_signing_keys_are_found_under_appid() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let demo = start_demo().await;
    let api = "0580fc27-5a59-4256-bb3c-fa881957fdd7";
    let raw = demo_token(&demo, &format!("api://{api}/.default")).await;
    let token = decode(&raw).unwrap();
    let keys: Value = reqwest::get(demo.jwks_uri())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server = MockServer::start().await;
    let document = format!(
        "/{}/v2.0/.well-known/openid-configuration",
        demo.tenant_id()
    );
    let metadata = |keys: &str| {
        json!({"issuer": token.claims.iss, "jwks_uri": format!("{}/{keys}", server.uri()),
               "token_endpoint": format!("{}/t/oauth2/v2.0/token", server.uri())})
    };
    // The tenant's own key set does not have the app's custom key; the ?appid= one does.
    Mock::given(method("GET"))
        .and(path(document.clone()))
        .and(query_param("appid", api))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata("custom/keys")))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(document))
        .respond_with(ResponseTemplate::new(200).set_body_json(metadata("tenant/keys")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/tenant/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/custom/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(keys))
        .mount(&server)
        .await;
    let target = VerifyTarget {
        host: Some(AuthorityHost::parse(&server.uri()).unwrap()),
        tenant: None,
        app_id: None,
    };
    let outcome = verifier()
        .verify(&raw, &token, &target, Utc::now())
        .await
        .unwrap();
    let Verification::Verified { metadata_url, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert!(
        metadata_url.ends_with(&format!("?appid={api}")),
        "{metadata_url}"
    );
}
