//! Certificate credentials: client assertions accepted (PS256 + `x5t#S256`, RS256 + `x5t`,
//! MSAL.NET's string times, client id taken from the assertion) and refused with Entra ID's codes.

use jsonwebtoken::Algorithm;
use pretty_assertions::assert_eq;
use serde_json::json;

use super::support::{
    Fixture, Thumb, assert_aadsts, assertion, assertion_claims, asset, claims, start,
};

fn healthy(fx: &Fixture) -> (String, String) {
    let client_id = fx.app("healthy").client_id.clone();
    (client_id, fx.v2_url(&fx.tenant()))
}

#[allow(clippy::needless_pass_by_value)] // call sites build the claims inline
fn signed(claims: serde_json::Value, alg: Algorithm, thumb: Thumb) -> String {
    assertion(
        alg,
        thumb,
        &asset("healthy.key.pem"),
        &asset("healthy.crt.pem"),
        &claims,
    )
}

#[tokio::test]
async fn a_registered_certificate_signs_in_with_ps256_or_rs256() {
    let fx = start().await;
    let (client_id, aud) = healthy(&fx);
    for (alg, thumb) in [
        (Algorithm::PS256, Thumb::Sha256),
        (Algorithm::RS256, Thumb::Sha1),
    ] {
        let jwt = signed(assertion_claims(&client_id, &aud), alg, thumb);
        let answer = fx.with_assertion(&client_id, &jwt).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let token = answer.body["access_token"].as_str().unwrap();
        assert_eq!(claims(token)["appidacr"], "2", "2 = certificate");
    }
}

#[tokio::test]
async fn msal_dotnet_style_string_times_and_a_missing_client_id_are_accepted() {
    let fx = start().await;
    let (client_id, aud) = healthy(&fx);
    let now = chrono::Utc::now().timestamp();
    let mut c = assertion_claims(&client_id, &aud);
    c["nbf"] = json!(now.to_string());
    c["exp"] = json!((now + 600).to_string());
    let jwt = signed(c, Algorithm::PS256, Thumb::Sha256);
    let form = [
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", jwt.as_str()),
        ("scope", super::support::GRAPH),
    ];
    let answer = fx.post(&aud, &form).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn msal_python_style_float_times_without_nbf_are_accepted() {
    let fx = start().await;
    let (client_id, aud) = healthy(&fx);
    #[allow(clippy::cast_precision_loss)]
    let now = chrono::Utc::now().timestamp() as f64 + 0.25;
    let mut c = assertion_claims(&client_id, &aud);
    c.as_object_mut().unwrap().remove("nbf");
    c["iat"] = json!(now);
    c["exp"] = json!(now + 600.0);
    let answer = fx
        .with_assertion(&client_id, &signed(c, Algorithm::PS256, Thumb::Sha256))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn an_unregistered_certificate_gets_700027_key_not_found() {
    let fx = start().await;
    let app = fx.app("unregistered-certificate");
    let aud = fx.v2_url(&fx.tenant());
    let pem = std::fs::read_to_string(app.certificate_pem.as_ref().unwrap()).unwrap();
    let jwt = assertion(
        Algorithm::PS256,
        Thumb::Sha256,
        &asset("unregistered-presented.key.pem"),
        &pem,
        &assertion_claims(&app.client_id, &aud),
    );
    let answer = fx.with_assertion(&app.client_id, &jwt).await;
    assert_aadsts(&answer, 401, "invalid_client", 700_027);
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("[Reason - The key was not found.")
    );
}

#[tokio::test]
async fn a_bad_signature_gets_700027() {
    let fx = start().await;
    let (client_id, aud) = healthy(&fx);
    // Names the registered certificate but is signed by another key.
    let jwt = assertion(
        Algorithm::RS256,
        Thumb::Sha1,
        &asset("unregistered-presented.key.pem"),
        &asset("healthy.crt.pem"),
        &assertion_claims(&client_id, &aud),
    );
    let answer = fx.with_assertion(&client_id, &jwt).await;
    assert_aadsts(&answer, 401, "invalid_client", 700_027);
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("did not match the expected signature value")
    );
}

#[tokio::test]
async fn assertion_claim_errors() {
    let fx = start().await;
    let (client_id, aud) = healthy(&fx);
    let now = chrono::Utc::now().timestamp();

    let mut expired = assertion_claims(&client_id, &aud);
    expired["nbf"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let answer = fx
        .with_assertion(
            &client_id,
            &signed(expired, Algorithm::PS256, Thumb::Sha256),
        )
        .await;
    assert_aadsts(&answer, 401, "invalid_client", 700_024);
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("is not within its valid time range")
    );

    let mut no_exp = assertion_claims(&client_id, &aud);
    no_exp.as_object_mut().unwrap().remove("exp");
    let answer = fx
        .with_assertion(&client_id, &signed(no_exp, Algorithm::PS256, Thumb::Sha256))
        .await;
    assert_aadsts(&answer, 401, "invalid_client", 700_024);
    assert!(
        answer.body["error_description"]
            .as_str()
            .unwrap()
            .contains("expiry time of assertion 1970-01-01")
    );

    let wrong_aud = assertion_claims(
        &client_id,
        "https://login.microsoftonline.com/other/oauth2/v2.0/token",
    );
    let answer = fx
        .with_assertion(
            &client_id,
            &signed(wrong_aud, Algorithm::PS256, Thumb::Sha256),
        )
        .await;
    assert_aadsts(&answer, 401, "invalid_client", 700_023);

    let other_iss = assertion_claims("b31380ba-12b8-4a66-855e-70dadb7b3b7b", &aud);
    let answer = fx
        .with_assertion(
            &client_id,
            &signed(other_iss, Algorithm::PS256, Thumb::Sha256),
        )
        .await;
    assert_aadsts(&answer, 401, "invalid_client", 700_021);

    let mut no_iss = assertion_claims(&client_id, &aud);
    no_iss.as_object_mut().unwrap().remove("iss");
    let answer = fx
        .with_assertion(&client_id, &signed(no_iss, Algorithm::PS256, Thumb::Sha256))
        .await;
    assert_aadsts(&answer, 400, "invalid_request", 90014);
}

#[tokio::test]
async fn assertion_header_errors() {
    let fx = start().await;
    let (client_id, aud) = healthy(&fx);
    let hs256 = signed(
        assertion_claims(&client_id, &aud),
        Algorithm::HS256,
        Thumb::Sha256,
    );
    let answer = fx.with_assertion(&client_id, &hs256).await;
    assert_aadsts(&answer, 401, "invalid_client", 5_002_738);
    let no_thumb = signed(
        assertion_claims(&client_id, &aud),
        Algorithm::PS256,
        Thumb::None,
    );
    let answer = fx.with_assertion(&client_id, &no_thumb).await;
    assert_aadsts(&answer, 401, "invalid_client", 5_002_723);
}
