//! Helpers: start a demo tenant, post token requests, build client assertions, check the exact
//! field set of Entra ID error bodies, decode and verify issued tokens against the JWKS.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_doctor::demo::{self, DemoOptions, RunningDemo, TenantModel};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha1::Digest as _;

pub const GRAPH: &str = "https://graph.microsoft.com/.default";

pub struct Fixture {
    pub demo: RunningDemo,
    pub http: reqwest::Client,
}

pub async fn start() -> Fixture {
    let model = TenantModel::builtin().expect("the shipped tenant loads");
    let demo = demo::start(DemoOptions::new(model))
        .await
        .expect("demo starts");
    Fixture {
        demo,
        http: reqwest::Client::new(),
    }
}

/// A token-endpoint answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Fixture {
    pub fn v2_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.demo.authority_host())
    }

    pub fn tenant(&self) -> String {
        self.demo.tenant_id().to_owned()
    }

    pub fn app(&self, scenario: &str) -> &demo::DemoApp {
        self.demo.app(scenario).expect("scenario exists")
    }

    pub fn secret(&self, scenario: &str) -> String {
        self.app(scenario)
            .secret
            .as_ref()
            .expect("has a secret")
            .expose()
            .to_owned()
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Answer {
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.expect("JSON body");
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Client credentials with the scenario's secret and `scope` on the v2 endpoint.
    pub async fn with_secret(&self, scenario: &str, scope: &str) -> Answer {
        let app = self.app(scenario);
        let secret = self.secret(scenario);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", scope),
        ];
        self.post(&self.v2_url(&self.tenant()), &form).await
    }

    /// Client credentials with a client assertion on the v2 endpoint.
    pub async fn with_assertion(&self, client_id: &str, assertion: &str) -> Answer {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
            ("scope", GRAPH),
        ];
        self.post(&self.v2_url(&self.tenant()), &form).await
    }

    pub async fn access_token(&self, scenario: &str, scope: &str) -> String {
        let answer = self.with_secret(scenario, scope).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .get(format!("{}{path}", self.demo.authority_host()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("API request sent")
    }

    /// Verifies an issued token's signature against the tenant's JWKS and returns its claims.
    pub async fn verify_with_jwks(&self, token: &str) -> Value {
        let jwks: Value = self
            .http
            .get(self.demo.jwks_uri())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        let key = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"].as_str() == header.kid.as_deref())
            .expect("the token's kid is in the JWKS");
        let decoding = DecodingKey::from_rsa_components(
            key["n"].as_str().unwrap(),
            key["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(&nonce_hashed(token), &decoding, &validation)
            .expect("signature verifies against the JWKS")
            .claims
    }
}

/// A Graph token as Graph checks it: the header `nonce` replaced by base64url(SHA-256(nonce)),
/// the community's known recipe; other tokens unchanged.
pub fn nonce_hashed(token: &str) -> String {
    let (header, rest) = token.split_once('.').unwrap();
    let mut json: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let Some(nonce) = json["nonce"].as_str().map(str::to_owned) else {
        return token.to_owned();
    };
    json["nonce"] = Value::String(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(nonce.as_bytes())));
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(json.to_string()))
}

/// The payload of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Asserts an Entra ID error answer: status, `error`, code, and exactly Entra's field set.
pub fn assert_aadsts(answer: &Answer, status: u16, error: &str, code: u64) {
    let body = &answer.body;
    assert_eq!(answer.status.as_u16(), status, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "correlation_id",
            "error",
            "error_codes",
            "error_description",
            "error_uri",
            "timestamp",
            "trace_id"
        ]
    );
    assert_eq!(body["error"], error);
    assert_eq!(body["error_codes"], json!([code]));
    let description = body["error_description"].as_str().unwrap();
    let tail = format!(
        "\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
        body["trace_id"].as_str().unwrap(),
        body["correlation_id"].as_str().unwrap(),
        body["timestamp"].as_str().unwrap()
    );
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.ends_with(&tail), "{description}");
    assert!(
        body["error_uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/error?code={code}"))
    );
}

pub fn asset(name: &str) -> String {
    std::fs::read_to_string(format!("{}/assets/demo/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

pub fn der(cert_pem: &str) -> Vec<u8> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).unwrap();
    pem.contents
}

/// Which thumbprint header an assertion carries.
#[derive(Clone, Copy)]
pub enum Thumb {
    Sha256,
    Sha1,
    None,
}

/// A client assertion signed with `key_pem`, naming `cert_pem` by thumbprint; `claims` are
/// merged over the defaults (`iss` = `sub` = `client_id`, `aud`, `exp` = now + 600, `nbf` = now, `jti`).
pub fn assertion(
    alg: Algorithm,
    thumb: Thumb,
    key_pem: &str,
    cert_pem: &str,
    claims: &Value,
) -> String {
    let der = der(cert_pem);
    let mut header = Header::new(alg);
    match thumb {
        Thumb::Sha256 => header.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der))),
        Thumb::Sha1 => header.x5t = Some(URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der))),
        Thumb::None => {}
    }
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(b"not a certificate"),
        _ => EncodingKey::from_rsa_pem(key_pem.as_bytes()).unwrap(),
    };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// Default assertion claims for a client at a token endpoint.
pub fn assertion_claims(client_id: &str, aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": client_id, "sub": client_id, "aud": aud,
        "nbf": now, "exp": now + 600, "jti": uuid::Uuid::new_v4().to_string(),
    })
}
