//! The tenant model: what the demo tenant knows, read from a TOML file (the shipped
//! `assets/demo/tenant.toml`, or a user's own through `--tenant-file`). It holds the tenant, the
//! resource APIs (service principals with app roles, token version and routes) and the demo
//! applications (secrets, registered certificates, the credentials handed to the operator, and
//! the app roles an admin consented to). Loading checks that the model agrees with itself and
//! reads every key and certificate file it names, so a bad file fails at load, not mid-request.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::{Error, Result};

/// The shipped tenant file and the PEM files it names, embedded in the binary.
const BUILTIN_TOML: &str = include_str!("../../assets/demo/tenant.toml");
const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "tenant-signing.key.pem",
        include_str!("../../assets/demo/tenant-signing.key.pem"),
    ),
    (
        "tenant-signing.crt.pem",
        include_str!("../../assets/demo/tenant-signing.crt.pem"),
    ),
    (
        "healthy.crt.pem",
        include_str!("../../assets/demo/healthy.crt.pem"),
    ),
    (
        "healthy.key.pem",
        include_str!("../../assets/demo/healthy.key.pem"),
    ),
    (
        "unregistered-registered.crt.pem",
        include_str!("../../assets/demo/unregistered-registered.crt.pem"),
    ),
    (
        "unregistered-presented.crt.pem",
        include_str!("../../assets/demo/unregistered-presented.crt.pem"),
    ),
    (
        "unregistered-presented.key.pem",
        include_str!("../../assets/demo/unregistered-presented.key.pem"),
    ),
    (
        "github-actions-issuer.key.pem",
        include_str!("../../assets/demo/github-actions-issuer.key.pem"),
    ),
    (
        "github-actions-issuer.crt.pem",
        include_str!("../../assets/demo/github-actions-issuer.crt.pem"),
    ),
    (
        "aks-issuer.key.pem",
        include_str!("../../assets/demo/aks-issuer.key.pem"),
    ),
    (
        "aks-issuer.crt.pem",
        include_str!("../../assets/demo/aks-issuer.crt.pem"),
    ),
];

/// A throw-away demo credential (secret value, private key). Its `Debug` is redacted so that it
/// never reaches a log; [`DemoSecret::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DemoSecret(String);

impl DemoSecret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Print it only where the operator asked for the demo credentials.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DemoSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DemoSecret(<redacted>)")
    }
}

/// The whole demo tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantModel {
    pub tenant: Tenant,
    pub resources: Vec<Resource>,
    pub applications: Vec<Application>,
    /// Managed identities: service principals without an app registration (see
    /// [`super::identity_model`]).
    #[serde(default)]
    pub managed_identities: Vec<super::identity_model::ManagedIdentity>,
    /// The Azure host the demo's managed identity endpoints play.
    #[serde(default)]
    pub identity_host: Option<super::identity_model::IdentityHost>,
    /// External identity providers the demo plays (GitHub Actions, an AKS cluster).
    #[serde(default)]
    pub issuers: Vec<ExternalIssuer>,
    /// Contents of the PEM files the model names, by the name used in the model.
    #[serde(skip)]
    files: BTreeMap<String, DemoSecret>,
}

/// The directory itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub id: String,
    pub domain: String,
    pub display_name: String,
    pub signing_key: String,
    pub signing_certificate: String,
}

/// Which access-token format a resource asks for (its `accessTokenAcceptedVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u8")]
pub enum TokenVersion {
    V1,
    V2,
}

impl TryFrom<u8> for TokenVersion {
    type Error = String;
    fn try_from(value: u8) -> std::result::Result<Self, String> {
        match value {
            1 => Ok(Self::V1),
            2 => Ok(Self::V2),
            other => Err(format!("access_token_version must be 1 or 2, not {other}")),
        }
    }
}

/// How a resource API words its 401 and 403 answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorStyle {
    /// Microsoft Graph: JSON `error.code` + `innerError`.
    Graph,
    /// Azure Resource Manager and other Azure services.
    Azure,
    /// An ASP.NET Core web API with `JwtBearer`: empty bodies, details in `WWW-Authenticate`.
    Aspnet,
}

/// A resource API (its service principal) in the tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub display_name: String,
    pub app_id: String,
    pub service_principal_id: String,
    pub identifier_uris: Vec<String>,
    pub access_token_version: TokenVersion,
    pub accepted_audiences: Vec<String>,
    pub error_style: ErrorStyle,
    pub app_roles: Vec<AppRole>,
    /// Delegated permissions (`oauth2PermissionScopes`): what a daemon must NOT request.
    #[serde(default)]
    pub delegated_scopes: Vec<AppRole>,
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Present on a database that admits an app only through a contained database user, as
    /// Azure SQL does (its service principal defines no application role): the client ids of
    /// the apps that have one (`CREATE USER [<app>] FROM EXTERNAL PROVIDER`, in
    /// `db_datareader`). Any other caller's login fails, whatever its token carries.
    #[serde(default)]
    pub database_users: Option<Vec<String>>,
}

impl Resource {
    /// True when `client_id` has a user in this database (GUIDs compare case-insensitively).
    pub fn has_database_user(&self, client_id: &str) -> bool {
        self.database_users
            .iter()
            .flatten()
            .any(|id| id.eq_ignore_ascii_case(client_id))
    }
}

/// An application permission a resource defines.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppRole {
    pub value: String,
    pub id: String,
}

/// One `GET` route of a resource API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub path: String,
    /// The caller needs one of these roles; empty means any valid token will do.
    #[serde(default)]
    pub any_role: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    /// An authentication context (`acrs`) the call requires, as a Conditional Access policy
    /// demands it; a token without it gets a claims challenge (401 `insufficient_claims`).
    #[serde(default)]
    pub auth_context: Option<String>,
    pub body: String,
}

/// At most `requests` calls per app within `window_seconds`; then 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub requests: u32,
    pub window_seconds: u64,
}

/// A demo daemon application (app registration + service principal).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub scenario: String,
    pub display_name: String,
    pub client_id: String,
    pub service_principal_id: String,
    pub scope: String,
    pub probe_path: String,
    pub teaches: String,
    pub reproduce: String,
    #[serde(default)]
    pub secrets: Vec<ClientSecret>,
    /// Certificate files registered on the app (public part only).
    #[serde(default)]
    pub certificates: Vec<String>,
    pub handout: Handout,
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// The app registration's `requiredResourceAccess` (API permissions); without it, the
    /// granted roles, requested as application permissions.
    #[serde(default)]
    pub requested: Option<Vec<Requested>>,
    /// Federated identity credentials: the external tokens the app registration trusts.
    #[serde(default)]
    pub federated_credentials: Vec<DemoFederatedCredential>,
}

/// An external OIDC issuer the demo tenant plays on loopback: its issuer URL is
/// `{authority host}/issuers/{name}` (plus `/` when `trailing_slash`, as AKS issuers have), with
/// a discovery document and JWKS under it, and it mints tokens for chosen subjects.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalIssuer {
    /// Path under `/issuers/`: letters, digits, `-` and `/`.
    pub name: String,
    pub display_name: String,
    /// The issuer URL ends with `/` (AKS OIDC issuers do; GitHub's does not).
    #[serde(default)]
    pub trailing_slash: bool,
    /// Path of the JWKS under the issuer URL (GitHub: `.well-known/jwks`; Kubernetes:
    /// `openid/v1/jwks`).
    pub jwks_path: String,
    /// Lifetime of a token minted on request, in seconds.
    pub lifetime_seconds: i64,
    pub signing_key: String,
    pub signing_certificate: String,
}

impl ExternalIssuer {
    /// The issuer URL without its trailing slash; `{issuer:NAME}` in a credential stands for it.
    pub fn base_url(&self, host: &str) -> String {
        format!("{}/issuers/{}", host.trim_end_matches('/'), self.name)
    }

    /// The `iss` this issuer puts in its tokens.
    pub fn url(&self, host: &str) -> String {
        let base = self.base_url(host);
        if self.trailing_slash {
            format!("{base}/")
        } else {
            base
        }
    }
}

/// A federated identity credential on a demo application. `issuer` may contain
/// `{issuer:NAME}`, which stands for the base URL of the demo issuer NAME.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoFederatedCredential {
    pub name: String,
    pub issuer: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub audiences: Vec<String>,
    /// A flexible credential's expression (`claims['sub'] matches '…'`), instead of `subject`.
    #[serde(default)]
    pub claims_matching_expression: Option<String>,
}

impl DemoFederatedCredential {
    /// The issuer with `{issuer:NAME}` filled in for a tenant served at `host`.
    pub fn issuer_url(&self, model: &TenantModel, host: &str) -> String {
        let mut out = self.issuer.clone();
        for issuer in &model.issuers {
            out = out.replace(
                &format!("{{issuer:{}}}", issuer.name),
                &issuer.base_url(host),
            );
        }
        out
    }
}

/// The federated token an app hands out: minted by demo issuer `issuer` for `subject`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedHandout {
    pub issuer: String,
    pub subject: String,
    /// Default: `api://AzureADTokenExchange`.
    #[serde(default)]
    pub audience: Option<String>,
}

/// Permissions an app registration lists for one resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requested {
    pub resource: String,
    #[serde(default)]
    pub application: Vec<String>,
    #[serde(default)]
    pub delegated: Vec<String>,
}

/// A client secret registered on an application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSecret {
    /// Graph's `keyId`.
    pub id: String,
    pub value: DemoSecret,
    pub expires: DateTime<Utc>,
    /// The description given when it was added (Graph's `displayName`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// When it was added (Graph's `startDateTime`); two years before `expires` when absent,
    /// the longest the admin center offers.
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
}

impl ClientSecret {
    /// The secret's first three characters: all of it Graph ever shows (`hint`).
    pub fn hint(&self) -> String {
        self.value.expose().chars().take(3).collect()
    }

    /// When it became valid.
    pub fn start(&self) -> DateTime<Utc> {
        self.created
            .unwrap_or_else(|| self.expires - chrono::Duration::days(730))
    }
}

/// What the demo hands the operator to sign in with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handout {
    pub secret: Option<DemoSecret>,
    pub certificate: Option<String>,
    pub private_key: Option<String>,
    /// A federated token (written to a file, as `AZURE_FEDERATED_TOKEN_FILE` names one).
    #[serde(default)]
    pub federated: Option<FederatedHandout>,
}

/// A certificate and key handed out, with their PEM text.
#[derive(Debug, Clone)]
pub struct HandoutCertificate {
    pub certificate_pem: String,
    pub private_key_pem: DemoSecret,
}

/// App roles of one resource that an admin consented to for an application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub resource: String,
    pub roles: Vec<String>,
    /// When the admin consented (the assignments' `createdDateTime`).
    #[serde(default = "default_consented")]
    pub consented: DateTime<Utc>,
}

fn default_consented() -> DateTime<Utc> {
    DateTime::from_timestamp(1_736_933_400, 0).unwrap_or_default() // 2025-01-15T09:30:00Z
}

impl TenantModel {
    /// The tenant shipped with entra-doctor (`assets/demo/tenant.toml`).
    pub fn builtin() -> Result<Self> {
        Self::parse(BUILTIN_TOML, "assets/demo/tenant.toml", |name| {
            BUILTIN_FILES
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| (*text).to_owned())
                .ok_or_else(|| format!("{name} is not shipped with entra-doctor"))
        })
    }

    /// A tenant from a user's TOML file; the key and certificate files it names are read
    /// relative to the file's directory.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadTenantFile {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        Self::parse(&text, &path.display().to_string(), |name| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| e.to_string())
        })
    }

    fn parse(
        text: &str,
        origin: &str,
        read: impl Fn(&str) -> std::result::Result<String, String>,
    ) -> Result<Self> {
        let mut model: Self = toml::from_str(text).map_err(|e| Error::ParseTenantFile {
            origin: origin.to_owned(),
            message: e.message().to_owned(),
        })?;
        super::model_check::check(&model).map_err(|message| Error::InvalidModel {
            origin: origin.to_owned(),
            message,
        })?;
        for name in model.file_names() {
            let content = read(&name).map_err(|message| Error::KeyMaterial {
                what: "file",
                file: name.clone(),
                message,
            })?;
            model.files.insert(name, DemoSecret(content));
        }
        Ok(model)
    }

    fn file_names(&self) -> Vec<String> {
        let mut names = vec![
            self.tenant.signing_key.clone(),
            self.tenant.signing_certificate.clone(),
        ];
        for issuer in &self.issuers {
            names.push(issuer.signing_key.clone());
            names.push(issuer.signing_certificate.clone());
        }
        for app in &self.applications {
            names.extend(app.certificates.iter().cloned());
            names.extend(app.handout.certificate.iter().cloned());
            names.extend(app.handout.private_key.iter().cloned());
        }
        names
    }

    /// The PEM text of a file the model names (loaded with the model).
    pub(crate) fn file(&self, name: &str) -> Result<&str> {
        self.files
            .get(name)
            .map(DemoSecret::expose)
            .ok_or_else(|| Error::KeyMaterial {
                what: "file",
                file: name.to_owned(),
                message: "it was not loaded with the tenant model".to_owned(),
            })
    }

    /// Adds a PEM file to the model at run time (a certificate uploaded by a walkthrough fix).
    pub(super) fn add_file(&mut self, name: &str, content: &str) {
        self.files
            .insert(name.to_owned(), DemoSecret(content.to_owned()));
    }

    /// The certificate and key an application hands out, if it hands out one.
    pub fn handout_certificate(&self, app: &Application) -> Result<Option<HandoutCertificate>> {
        match (&app.handout.certificate, &app.handout.private_key) {
            (Some(cert), Some(key)) => Ok(Some(HandoutCertificate {
                certificate_pem: self.file(cert)?.to_owned(),
                private_key_pem: DemoSecret(self.file(key)?.to_owned()),
            })),
            _ => Ok(None),
        }
    }

    /// The demo issuer named `name`.
    pub fn issuer(&self, name: &str) -> Option<&ExternalIssuer> {
        self.issuers.iter().find(|i| i.name == name)
    }

    /// The scenario names, in file order.
    pub fn scenarios(&self) -> Vec<&str> {
        self.applications
            .iter()
            .map(|a| a.scenario.as_str())
            .collect()
    }

    /// The application of a scenario.
    pub fn application(&self, scenario: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.scenario == scenario)
    }

    /// The application with this client id (GUIDs compare case-insensitively).
    pub fn application_by_client_id(&self, client_id: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The resource Entra ID would find for a resource identifier taken from a scope or a v1
    /// `resource` parameter: an identifier URI (case-insensitive; a trailing slash more or less
    /// still finds it, as service principal names do) or the resource's app id.
    pub fn find_resource(&self, requested: &str) -> Option<&Resource> {
        let wanted = requested.trim_end_matches('/');
        self.resources.iter().find(|r| {
            r.app_id.eq_ignore_ascii_case(requested)
                || r.identifier_uris
                    .iter()
                    .any(|uri| uri.trim_end_matches('/').eq_ignore_ascii_case(wanted))
        })
    }

    /// The role values granted to `app` on `resource`, in the resource's role order.
    pub fn granted_roles(&self, app: &Application, resource: &Resource) -> Vec<String> {
        let granted: Vec<&String> = app
            .grants
            .iter()
            .filter(|g| {
                self.find_resource(&g.resource)
                    .is_some_and(|r| r.app_id == resource.app_id)
            })
            .flat_map(|g| g.roles.iter())
            .collect();
        resource
            .app_roles
            .iter()
            .filter(|role| granted.contains(&&role.value))
            .map(|role| role.value.clone())
            .collect()
    }
}
