//! The token endpoints: success tokens (v1 and v2 shapes, verified against the JWKS), every
//! AADSTS refusal with its status and body, the order of the checks, discovery and JWKS.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use super::support::{GRAPH, assert_aadsts, claims, start};

#[tokio::test]
async fn healthy_secret_gets_a_v1_graph_token_with_the_granted_roles() {
    let fx = start().await;
    let answer = fx.with_secret("healthy", GRAPH).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.headers["cache-control"], "no-store, no-cache");
    assert_eq!(answer.body["expires_in"], 3599);
    assert_eq!(answer.body["ext_expires_in"], 3599);
    let token = answer.body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert!(header.kid.is_some());
    assert_eq!(header.x5t, header.kid, "v1 tokens carry x5t = kid");
    let c = fx.verify_with_jwks(token).await;
    let tid = fx.tenant();
    let app = fx.app("healthy");
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert_eq!(c["iss"], format!("https://sts.windows.net/{tid}/"));
    assert_eq!(c["appid"], app.client_id.as_str());
    assert_eq!(c["appidacr"], "1");
    assert_eq!(
        c["roles"],
        json!(["User.Read.All", "AuditLog.Read.All", "Application.Read.All"])
    );
    assert_eq!(c["idtyp"], "app");
    assert_eq!(c["sub"], c["oid"]);
    assert_eq!(c["tid"], tid.as_str());
    assert_eq!(c["ver"], "1.0");
    assert!(c.get("azp").is_none() && c.get("scp").is_none());
    let (iat, nbf, exp) = (
        c["iat"].as_i64().unwrap(),
        c["nbf"].as_i64().unwrap(),
        c["exp"].as_i64().unwrap(),
    );
    assert_eq!(iat, nbf);
    assert!(
        exp - iat > 3599,
        "iat is back-dated, exp - iat = {}",
        exp - iat
    );
}

#[tokio::test]
async fn a_v2_resource_gets_a_v2_token_whatever_the_endpoint() {
    let fx = start().await;
    let api = "api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default";
    let token = fx.access_token("healthy", api).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert!(
        header.kid.is_some() && header.x5t.is_none(),
        "v2 tokens carry only kid"
    );
    let c = fx.verify_with_jwks(&token).await;
    assert_eq!(c["aud"], "0580fc27-5a59-4256-bb3c-fa881957fdd7");
    assert_eq!(
        c["iss"],
        format!("https://login.microsoftonline.com/{}/v2.0", fx.tenant())
    );
    assert_eq!(c["azp"], fx.app("healthy").client_id.as_str());
    assert_eq!(c["azpacr"], "1");
    assert_eq!(c["ver"], "2.0");
    assert_eq!(c["roles"], json!(["Inventory.Read"]));
    assert!(c.get("appid").is_none());
}

#[tokio::test]
async fn the_audience_is_everything_before_the_last_slash() {
    let fx = start().await;
    let single = fx
        .access_token("trailing-slash", "https://database.windows.net/.default")
        .await;
    assert_eq!(claims(&single)["aud"], "https://database.windows.net");
    let double = fx
        .access_token("trailing-slash", "https://database.windows.net//.default")
        .await;
    assert_eq!(claims(&double)["aud"], "https://database.windows.net/");
    // Azure SQL defines no application role: the token carries none (a database user decides).
    assert!(claims(&double).get("roles").is_none());
}

#[tokio::test]
async fn no_consent_gets_a_token_without_a_roles_claim() {
    let fx = start().await;
    let token = fx.access_token("no-consent", GRAPH).await;
    let c = fx.verify_with_jwks(&token).await;
    assert!(c.get("roles").is_none(), "{c}");
    assert_eq!(c["idtyp"], "app");
}

#[tokio::test]
async fn the_v1_endpoint_takes_resource_and_answers_strings() {
    let fx = start().await;
    let app = fx.app("healthy");
    let secret = fx.secret("healthy");
    let url = format!(
        "{}/{}/oauth2/token",
        fx.demo.authority_host(),
        fx.demo.tenant_domain()
    );
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("resource", "https://graph.microsoft.com/"),
    ];
    let answer = fx.post(&url, &form).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["expires_in"], "3599");
    assert_eq!(answer.body["resource"], "https://graph.microsoft.com/");
    assert!(answer.body["expires_on"].is_string() && answer.body["not_before"].is_string());
    let token = answer.body["access_token"].as_str().unwrap();
    assert_eq!(
        claims(token)["aud"],
        "https://graph.microsoft.com/",
        "aud as requested"
    );
}

#[tokio::test]
async fn http_basic_client_authentication_is_accepted() {
    let fx = start().await;
    let app = fx.app("healthy");
    let response = fx
        .http
        .post(fx.v2_url(fx.demo.tenant_domain()))
        .basic_auth(&app.client_id, Some(fx.secret("healthy")))
        .form(&[("grant_type", "client_credentials"), ("scope", GRAPH)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn tenant_errors_come_first() {
    let fx = start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "not-even-a-guid"),
    ];
    let malformed = fx.post(&fx.v2_url("{tenant}"), &form).await;
    assert_aadsts(&malformed, 400, "invalid_request", 900_023);
    let unknown = fx.post(&fx.v2_url("fabrikam.onmicrosoft.com"), &form).await;
    assert_aadsts(&unknown, 400, "invalid_tenant", 90002);
    let guid = fx
        .post(&fx.v2_url("11111111-2222-3333-4444-555555555555"), &form)
        .await;
    assert_aadsts(&guid, 400, "invalid_tenant", 90002);
    let common = fx.post(&fx.v2_url("common"), &form).await;
    assert_aadsts(&common, 400, "invalid_request", 50059);
}

#[tokio::test]
async fn client_and_credential_errors() {
    let fx = start().await;
    let url = fx.v2_url(&fx.tenant());
    let unknown = fx
        .post(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "00000000-1111-2222-3333-444444444444"),
                ("client_secret", "x"),
                ("scope", GRAPH),
            ],
        )
        .await;
    assert_aadsts(&unknown, 400, "unauthorized_client", 700_016);
    let healthy = fx.app("healthy").client_id.clone();
    let none = fx
        .post(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &healthy),
                ("scope", GRAPH),
            ],
        )
        .await;
    assert_aadsts(&none, 401, "invalid_client", 7_000_218);
    // The classic mistake: the secret's ID instead of its value.
    let secret_id = "e82aadd4-c697-4343-b022-2c59d85a1a9b";
    let wrong = fx
        .post(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &healthy),
                ("client_secret", secret_id),
                ("scope", GRAPH),
            ],
        )
        .await;
    assert_aadsts(&wrong, 401, "invalid_client", 7_000_215);
    assert!(
        wrong.body["error_description"]
            .as_str()
            .unwrap()
            .contains("client secret value, not the client secret ID")
    );
    let expired = fx.with_secret("expired-secret", GRAPH).await;
    assert_aadsts(&expired, 401, "invalid_client", 7_000_222);
    let no_grant = fx.post(&url, &[("client_id", &healthy)]).await;
    assert_aadsts(&no_grant, 400, "invalid_request", 900_144);
}

#[tokio::test]
async fn scope_and_resource_errors() {
    let fx = start().await;
    let wrong_scope = fx.app("wrong-scope").scope.clone();
    let answer = fx.with_secret("wrong-scope", &wrong_scope).await;
    assert_aadsts(&answer, 400, "invalid_scope", 1_002_012);
    let two = fx
        .with_secret(
            "healthy",
            "https://graph.microsoft.com/.default https://database.windows.net//.default",
        )
        .await;
    assert_aadsts(&two, 400, "invalid_scope", 70011);
    let empty = fx.with_secret("healthy", "/.default").await;
    assert_aadsts(&empty, 400, "invalid_scope", 70011);
    let missing = fx.with_secret("healthy", "").await;
    assert_aadsts(&missing, 400, "invalid_request", 90014);
    let nowhere = fx
        .with_secret("healthy", "api://no-such-api/.default")
        .await;
    assert_aadsts(&nowhere, 400, "invalid_resource", 500_011);
    assert!(
        nowhere.body["error_description"]
            .as_str()
            .unwrap()
            .contains("The resource principal named api://no-such-api was not found")
    );
    // Fixing the scope is enough for the wrong-scope app.
    assert_eq!(fx.with_secret("wrong-scope", GRAPH).await.status, 200);
}

#[tokio::test]
async fn credentials_are_checked_before_the_scope() {
    let fx = start().await;
    let app = fx.app("healthy");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.client_id.as_str()),
        ("client_secret", "wrong"),
        ("scope", "User.Read.All"),
    ];
    let answer = fx.post(&fx.v2_url(&fx.tenant()), &form).await;
    assert_aadsts(&answer, 401, "invalid_client", 7_000_215);
}

#[tokio::test]
async fn the_correlation_id_echoes_client_request_id() {
    let fx = start().await;
    let id = "0f0e0d0c-0b0a-4909-8807-060504030201";
    let response = fx
        .http
        .post(fx.v2_url(&fx.tenant()))
        .header("client-request-id", id)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "00000000-1111-2222-3333-444444444444"),
            ("client_secret", "x"),
            ("scope", GRAPH),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["correlation_id"], id);
}

#[tokio::test]
async fn discovery_documents_point_at_this_server() {
    let fx = start().await;
    let host = fx.demo.authority_host();
    let tid = fx.tenant();
    for tenant in [tid.as_str(), fx.demo.tenant_domain()] {
        let doc: Value = fx
            .http
            .get(format!(
                "{host}/{tenant}/v2.0/.well-known/openid-configuration"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            doc["issuer"],
            format!("https://login.microsoftonline.com/{tid}/v2.0")
        );
        assert_eq!(
            doc["token_endpoint"],
            format!("{host}/{tid}/oauth2/v2.0/token")
        );
        assert_eq!(doc["jwks_uri"], format!("{host}/{tid}/discovery/v2.0/keys"));
    }
    let common: Value = fx
        .http
        .get(format!("{host}/common/discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &common["keys"][0];
    assert_eq!(
        key["issuer"],
        "https://login.microsoftonline.com/{tenantid}/v2.0"
    );
    assert_eq!(
        (key["kty"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("sig"))
    );
    assert!(key["x5c"][0].is_string() && key["kid"] == key["x5t"]);
    let unknown = fx
        .http
        .get(format!(
            "{host}/fabrikam.com/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
}
