//! The demo's resource APIs judge tokens as the real services do: 200 with the role, 403
//! `Authorization_RequestDenied` without it, 401 with `WWW-Authenticate` for missing, forged,
//! expired or wrong-audience tokens (the SQL-like API wants `https://database.windows.net/`
//! exactly, and a database user for the app, not a role), and 429 with `Retry-After` when
//! throttled.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pretty_assertions::assert_eq;
use reqwest::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use super::support::{GRAPH, asset, claims, start};

fn challenge(response: &reqwest::Response) -> String {
    response.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn healthy_probe_answers_200() {
    let fx = start().await;
    let token = fx.access_token("healthy", GRAPH).await;
    let response = fx.get("/graph/v1.0/users", Some(&token)).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"][0]["displayName"], "Adele Vance");
    let api = fx
        .access_token(
            "healthy",
            "api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default",
        )
        .await;
    assert_eq!(
        fx.get("/api/inventory/items", Some(&api)).await.status(),
        200
    );
}

#[tokio::test]
async fn no_consent_probe_gets_graphs_403() {
    let fx = start().await;
    let token = fx.access_token("no-consent", GRAPH).await;
    let probe = fx.app("no-consent").probe_url.clone();
    let response = fx
        .http
        .get(probe)
        .bearer_auth(&token)
        .header("client-request-id", "7d1a7b0e-1c1e-4c59-9f6f-1b1c1d1e1f10")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    let inner = &body["error"]["innerError"];
    assert_eq!(
        body,
        json!({"error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
            "innerError": {"date": inner["date"], "request-id": inner["request-id"], "client-request-id": "7d1a7b0e-1c1e-4c59-9f6f-1b1c1d1e1f10"},
        }})
    );
    assert!(inner["date"].is_string() && inner["request-id"].is_string());
}

#[tokio::test]
async fn the_sql_api_rejects_the_single_slash_token_and_accepts_the_double_slash_one() {
    let fx = start().await;
    let probe = "/sql/databases/orders/tables";
    let single = fx
        .access_token("trailing-slash", &fx.app("trailing-slash").scope.clone())
        .await;
    let response = fx.get(probe, Some(&single)).await;
    assert_eq!(response.status(), 401);
    let header = challenge(&response);
    assert!(
        header.starts_with("Bearer authorization_uri=\""),
        "{header}"
    );
    assert!(header.contains("error=\"invalid_token\", error_description=\"The access token has been obtained for wrong audience or resource 'https://database.windows.net'."), "{header}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationTokenAudience");

    let double = fx
        .access_token("trailing-slash", "https://database.windows.net//.default")
        .await;
    assert_eq!(claims(&double)["aud"], "https://database.windows.net/");
    assert_eq!(fx.get(probe, Some(&double)).await.status(), 200);
}

#[tokio::test]
async fn the_sql_api_admits_an_app_by_its_database_user_not_by_roles() {
    let fx = start().await;
    let probe = "/sql/databases/orders/tables";
    let sql = "https://database.windows.net//.default";
    // The healthy app has a user in the database; its token for SQL carries no roles.
    let healthy = fx.access_token("healthy", sql).await;
    assert!(claims(&healthy).get("roles").is_none());
    assert_eq!(fx.get(probe, Some(&healthy)).await.status(), 200);
    // The no-consent app has none: SQL refuses the login, in its own words.
    let stranger = fx.access_token("no-consent", sql).await;
    let response = fx.get(probe, Some(&stranger)).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {
            "code": "18456",
            "message": "Login failed for user '<token-identified principal>'.",
        }})
    );
}

#[tokio::test]
async fn missing_and_malformed_tokens_get_401_challenges() {
    let fx = start().await;
    let missing = fx.get("/graph/v1.0/users", None).await;
    assert_eq!(missing.status(), 401);
    let header = challenge(&missing);
    assert!(
        header.starts_with("Bearer realm=\"\", authorization_uri=") && !header.contains("error="),
        "{header}"
    );
    let garbage = fx.get("/graph/v1.0/users", Some("not-a-jwt")).await;
    assert_eq!(garbage.status(), 401);
    assert!(challenge(&garbage).contains("error=\"invalid_token\""));
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

fn sign(key_pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn expired_forged_and_wrong_issuer_tokens_get_401() {
    let fx = start().await;
    let good = fx.access_token("healthy", GRAPH).await;
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    let mut c = claims(&good);
    let now = chrono::Utc::now().timestamp();

    c["exp"] = json!(now - 3600);
    let expired = sign(&asset("tenant-signing.key.pem"), &kid, &c);
    let response = fx.get("/graph/v1.0/users", Some(&expired)).await;
    assert_eq!(response.status(), 401);
    assert!(challenge(&response).contains("Lifetime validation failed, the token is expired."));

    c["exp"] = json!(now + 3600);
    let forged = sign(&asset("healthy.key.pem"), &kid, &c);
    assert_eq!(
        fx.get("/graph/v1.0/users", Some(&forged)).await.status(),
        401
    );

    c["iss"] = json!("https://sts.windows.net/11111111-2222-3333-4444-555555555555/");
    let other_tenant = sign(&asset("tenant-signing.key.pem"), &kid, &c);
    let response = fx.get("/graph/v1.0/users", Some(&other_tenant)).await;
    assert!(challenge(&response).contains("Access token validation failure."));
}

#[tokio::test]
async fn an_aspnet_api_says_why_in_the_header_only() {
    let fx = start().await;
    let graph_token = fx.access_token("healthy", GRAPH).await;
    let response = fx.get("/api/inventory/items", Some(&graph_token)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        challenge(&response),
        "Bearer error=\"invalid_token\", error_description=\"The audience 'https://graph.microsoft.com' is invalid\""
    );
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_sign_in_log_throttles_a_listing_s_second_page_once_with_retry_after() {
    let fx = start().await;
    // Each token request is a sign-in in the demo's log.
    let _ = fx.access_token("healthy", GRAPH).await;
    let token = fx.access_token("healthy", GRAPH).await;
    let first = fx
        .get(
            "/graph/beta/auditLogs/signIns?$filter=signInEventTypes/any(t:%20t%20eq%20'servicePrincipal')&$top=1",
            Some(&token),
        )
        .await;
    assert_eq!(first.status(), 200);
    let page: Value = first.json().await.unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 1);
    let next = page["@odata.nextLink"].as_str().unwrap();
    let path = &next[next.find("/graph/").unwrap()..];
    let throttled = fx.get(path, Some(&token)).await;
    assert_eq!(throttled.status(), 429);
    let wait: u64 = throttled.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(fx.get(path, Some(&token)).await.status(), 200);
    // Graph v1.0 lists interactive user sign-ins only: the demo has none.
    let v1: Value = fx
        .get("/graph/v1.0/auditLogs/signIns", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v1["value"], serde_json::json!([]));
}
