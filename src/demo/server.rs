//! Starting and stopping the demo tenant: binds 127.0.0.1 (port 0 = a free one), writes the
//! handed-out credential files, builds the axum router (token endpoints, OIDC discovery, JWKS,
//! resource APIs) and serves it over http or, with `tls`, https, within [`ServeLimits`]. [`RunningDemo`] is the handle:
//! it says where the tenant listens and what the demo apps are, and stops the server on
//! [`RunningDemo::shutdown`] or when dropped.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::changes::{Applied, TenantChange};
use super::error::{Error, Result};
use super::handout::{self, CredentialDir};
use super::keys::Keys;
use super::model::{DemoSecret, TenantModel, TokenVersion};
use super::serve::{self, ServeLimits};
use super::{managed_identity, resource_api, sts, tls, token};

/// Where the demo's App Service identity endpoint listens.
const APP_SERVICE_PATH: &str = "/msi/token";

/// How to start the demo tenant.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Loopback port; 0 picks a free one.
    pub port: u16,
    /// Serve https with a certificate made at start (see [`RunningDemo::ca_file`]).
    pub tls: bool,
    pub model: TenantModel,
    /// Connection cap and timeouts; tests set small ones.
    pub limits: ServeLimits,
    /// The audit's listings: clock, synthetic apps, the one 429.
    pub listings: super::graph_listing::Listings,
}

impl DemoOptions {
    /// Plain http on a free port.
    pub fn new(model: TenantModel) -> Self {
        Self {
            port: 0,
            tls: false,
            model,
            limits: ServeLimits::default(),
            listings: super::graph_listing::Listings {
                throttle_once: true,
                ..super::graph_listing::Listings::default()
            },
        }
    }
}

/// One demo application as an operator (or a test) uses it.
#[derive(Debug, Clone)]
pub struct DemoApp {
    pub scenario: String,
    pub display_name: String,
    pub client_id: String,
    pub secret: Option<DemoSecret>,
    /// PEM with the certificate and its private key.
    pub certificate_pem: Option<PathBuf>,
    pub certificate_pfx: Option<PathBuf>,
    pub pfx_password: Option<DemoSecret>,
    /// A federated token from one of the demo's external issuers (what
    /// `AZURE_FEDERATED_TOKEN_FILE` would name); minted at start, valid for an hour.
    pub assertion_file: Option<PathBuf>,
    pub scope: String,
    /// Full URL of the API call that shows the lesson.
    pub probe_url: String,
    pub teaches: String,
    pub reproduce: String,
}

/// Which managed identity endpoint of the demo a process uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityEndpoint {
    /// The VM's Instance Metadata Service.
    Imds,
    /// App Service's (and Functions') `IDENTITY_ENDPOINT`.
    AppService,
}

/// One demo managed identity as an operator (or a test) uses it.
#[derive(Debug, Clone)]
pub struct DemoManagedIdentity {
    pub scenario: String,
    pub display_name: String,
    pub client_id: String,
    pub object_id: String,
    pub resource_id: String,
    pub scope: String,
    /// Full URL of the API call that shows the lesson.
    pub probe_url: String,
    pub teaches: String,
    pub reproduce: String,
}

/// What the handlers read: one consistent view of the tenant. A change (see
/// [`DemoControl`]) builds a new one and swaps it in, so a request never sees half a change.
pub(super) struct AppState {
    pub model: TenantModel,
    pub keys: Keys,
    pub authority_host: String,
    /// Rate-limit windows per (route, client id): window start (unix s) and calls in it. Shared
    /// by every view, so a change does not reset them.
    pub throttle: Arc<Mutex<Throttle>>,
    /// The App Service identity endpoint's `IDENTITY_HEADER`, made at start.
    pub identity_header: DemoSecret,
    /// The service-principal sign-in log; shared by every view, like `throttle`.
    pub signins: Arc<super::signin_log::SigninLog>,
    /// The audit's listings (fixed at start, kept across changes).
    pub listings: Arc<super::graph_listing::Listings>,
}

pub(super) type Throttle = HashMap<(String, String), (i64, u32)>;

/// The router's state: the current view of the tenant, swapped whole on a change.
pub(super) struct Live {
    current: RwLock<Arc<AppState>>,
    /// Held while a change is built from the current view and swapped in, so two changes at
    /// once cannot both start from the same view and lose one.
    changing: Mutex<()>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl Live {
    /// The view to answer one request from.
    pub(super) fn now(&self) -> Arc<AppState> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn swap(&self, next: AppState) {
        let next = Arc::new(next);
        match self.current.write() {
            Ok(mut current) => *current = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

/// Changes the running demo tenant, as an admin would in the portal (grant a role, add a
/// secret, upload a certificate). The change lives in this process only: a restart forgets it.
#[derive(Debug, Clone)]
pub struct DemoControl {
    live: Arc<Live>,
}

impl DemoControl {
    /// The control of the tenant a handler serves (Graph's writes go through it too).
    pub(super) fn of(live: &Arc<Live>) -> Self {
        Self {
            live: Arc::clone(live),
        }
    }

    /// Applies `change` and says what it did; a change that cannot apply leaves the tenant as
    /// it was.
    pub fn apply(&self, change: &TenantChange) -> Result<Applied> {
        let _one_at_a_time = self
            .live
            .changing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.live.now();
        let mut model = current.model.clone();
        let applied = super::changes::apply(&mut model, change, chrono::Utc::now())?;
        let keys = Keys::load(&model)?;
        self.live.swap(AppState {
            model,
            keys,
            authority_host: current.authority_host.clone(),
            throttle: Arc::clone(&current.throttle),
            identity_header: current.identity_header.clone(),
            signins: Arc::clone(&current.signins),
            listings: Arc::clone(&current.listings),
        });
        tracing::info!(change = change.label(), "demo tenant changed");
        Ok(applied)
    }
}

/// A running demo tenant. Dropping it stops the server and deletes its credential files.
#[derive(Debug)]
pub struct RunningDemo {
    addr: SocketAddr,
    authority_host: String,
    tenant_id: String,
    tenant_domain: String,
    apps: Vec<DemoApp>,
    ca_file: Option<PathBuf>,
    identity_header: DemoSecret,
    live: Arc<Live>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    acceptor: Option<JoinHandle<()>>,
    // Last, so that the files outlive the server task's shutdown signal.
    files: CredentialDir,
}

/// Starts the demo tenant on 127.0.0.1. Needs a tokio runtime.
pub async fn start(options: DemoOptions) -> Result<RunningDemo> {
    let DemoOptions {
        port,
        tls,
        model,
        limits,
        listings,
    } = options;
    let keys = Keys::load(&model)?;
    let tcp = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| Error::Bind { port, source })?;
    let addr = tcp
        .local_addr()
        .map_err(|source| Error::Bind { port, source })?;
    let scheme = if tls { "https" } else { "http" };
    let authority_host = format!("{scheme}://{addr}");
    let files = CredentialDir::create()?;
    let apps = handouts(&model, &keys, &files, &authority_host)?;
    let tenant_id = model.tenant.id.clone();
    let tenant_domain = model.tenant.domain.clone();
    let identity_header = DemoSecret::new(uuid::Uuid::new_v4().simple().to_string());
    let live = Arc::new(Live {
        current: RwLock::new(Arc::new(AppState {
            model,
            keys,
            authority_host: authority_host.clone(),
            throttle: Arc::new(Mutex::new(HashMap::new())),
            identity_header: identity_header.clone(),
            signins: Arc::default(),
            listings: Arc::new(listings),
        })),
        changing: Mutex::new(()),
    });
    let router = router(Arc::clone(&live));
    let (stop, stopped) = oneshot::channel::<()>();
    let signal = async move {
        let _ = stopped.await;
    };
    let (server, acceptor, ca_file) = if tls {
        let setup = tls::make()?;
        let ca_file = files.write("demo-ca.pem", setup.ca_pem.as_bytes())?;
        let (listener, acceptor) =
            tls::listen(tcp, setup.acceptor).map_err(|source| Error::Bind { port, source })?;
        let server = tokio::spawn(serve::serve(listener, router, limits, signal));
        (server, Some(acceptor), Some(ca_file))
    } else {
        let server = tokio::spawn(serve::serve(tcp, router, limits, signal));
        (server, None, None)
    };
    tracing::info!(%authority_host, "demo tenant started");
    Ok(RunningDemo {
        addr,
        authority_host,
        tenant_id,
        tenant_domain,
        apps,
        ca_file,
        identity_header,
        live,
        stop: Some(stop),
        server: Some(server),
        acceptor,
        files,
    })
}

/// How long a handed-out federated token lives: an hour, like a projected Kubernetes token, so
/// a lesson is not cut short (a real GitHub Actions token lives minutes).
const HANDOUT_TOKEN_LIFETIME: i64 = 3600;

fn handouts(
    model: &TenantModel,
    keys: &Keys,
    files: &CredentialDir,
    host: &str,
) -> Result<Vec<DemoApp>> {
    let password = DemoSecret::new(format!("demo-{}", uuid::Uuid::new_v4().simple()));
    model
        .applications
        .iter()
        .map(|app| {
            let cert = model.handout_certificate(app)?;
            let (pem, pfx) = match &cert {
                Some(cert) => {
                    let (pem, pfx) =
                        handout::write_certificate(files, &app.scenario, cert, password.expose())?;
                    (Some(pem), Some(pfx))
                }
                None => (None, None),
            };
            let assertion_file = match &app.handout.federated {
                Some(federated) => {
                    let issuer =
                        model
                            .issuer(&federated.issuer)
                            .ok_or_else(|| Error::KeyMaterial {
                                what: "federated handout",
                                file: federated.issuer.clone(),
                                message: "no such issuer in the tenant model".to_owned(),
                            })?;
                    let token = super::issuer::mint(
                        keys,
                        &super::issuer::Mint {
                            issuer,
                            host,
                            subject: &federated.subject,
                            audience: federated
                                .audience
                                .as_deref()
                                .unwrap_or(super::issuer::EXCHANGE_AUDIENCE),
                            now: chrono::Utc::now().timestamp(),
                            lifetime: HANDOUT_TOKEN_LIFETIME,
                        },
                    )?;
                    Some(files.write(
                        &format!("{}.federated-token", app.scenario),
                        token.as_bytes(),
                    )?)
                }
                None => None,
            };
            Ok(DemoApp {
                assertion_file,
                scenario: app.scenario.clone(),
                display_name: app.display_name.clone(),
                client_id: app.client_id.clone(),
                secret: app.handout.secret.clone(),
                pfx_password: pfx.as_ref().map(|_| password.clone()),
                certificate_pem: pem,
                certificate_pfx: pfx,
                scope: app.scope.clone(),
                probe_url: format!("{host}{}", app.probe_path),
                teaches: app.teaches.clone(),
                reproduce: app.reproduce.clone(),
            })
        })
        .collect()
}

fn router(state: Arc<Live>) -> Router {
    let view = state.now();
    let base = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(sts::token_v2))
        .route("/{tenant}/oauth2/token", post(sts::token_v1))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(jwks_v2))
        .route("/{tenant}/discovery/keys", get(jwks_v1))
        .route("/error", get(error_page))
        .route(
            crate::auth::managed_identity::detect::IMDS_PATH,
            get(managed_identity::imds),
        )
        .route(APP_SERVICE_PATH, get(managed_identity::app_service))
        .fallback(resource_api::handle);
    super::issuer::routes(&view.model, base).with_state(state)
}

impl RunningDemo {
    /// `http://127.0.0.1:PORT` (or `https://…` with TLS): what `--authority-host` takes.
    pub fn authority_host(&self) -> &str {
        &self.authority_host
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn tenant_domain(&self) -> &str {
        &self.tenant_domain
    }

    /// The v2 token endpoint of the tenant.
    pub fn token_endpoint(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_host, self.tenant_id
        )
    }

    /// The tenant's JWKS (v2) URL.
    pub fn jwks_uri(&self) -> String {
        format!(
            "{}/{}/discovery/v2.0/keys",
            self.authority_host, self.tenant_id
        )
    }

    /// The demo apps, one per scenario, in the tenant file's order.
    pub fn apps(&self) -> &[DemoApp] {
        &self.apps
    }

    /// The demo app of a scenario.
    pub fn app(&self, scenario: &str) -> Option<&DemoApp> {
        self.apps.iter().find(|a| a.scenario == scenario)
    }

    /// The CA certificate (PEM) to trust for `--tls`; `None` over plain http.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The demo's managed identities, one per scenario, in the tenant file's order.
    pub fn managed_identities(&self) -> Vec<DemoManagedIdentity> {
        self.live
            .now()
            .model
            .managed_identities
            .iter()
            .map(|m| DemoManagedIdentity {
                scenario: m.scenario.clone(),
                display_name: m.display_name.clone(),
                client_id: m.client_id.clone(),
                object_id: m.object_id.clone(),
                resource_id: m.resource_id.clone(),
                scope: m.scope.clone(),
                probe_url: format!("{}{}", self.authority_host, m.probe_path),
                teaches: m.teaches.clone(),
                reproduce: m.reproduce.clone(),
            })
            .collect()
    }

    /// The environment a process on the demo's Azure host sees: for [`IdentityEndpoint::Imds`]
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST` (the IMDS address, moved to the demo), for
    /// [`IdentityEndpoint::AppService`] `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`.
    pub fn managed_identity_env(&self, endpoint: IdentityEndpoint) -> Vec<(String, DemoSecret)> {
        match endpoint {
            IdentityEndpoint::Imds => vec![(
                crate::auth::managed_identity::detect::IMDS_HOST_VARIABLE.to_owned(),
                DemoSecret::new(self.authority_host.clone()),
            )],
            IdentityEndpoint::AppService => vec![
                (
                    "IDENTITY_ENDPOINT".to_owned(),
                    DemoSecret::new(format!("{}{APP_SERVICE_PATH}", self.authority_host)),
                ),
                ("IDENTITY_HEADER".to_owned(), self.identity_header.clone()),
            ],
        }
    }

    /// A handle that changes this tenant while it runs (the walkthrough's fixes).
    pub fn control(&self) -> DemoControl {
        DemoControl {
            live: Arc::clone(&self.live),
        }
    }

    /// The directory holding the handed-out credential files.
    pub fn credentials_dir(&self) -> &Path {
        self.files.path()
    }

    /// Stops the server: open connections get up to five seconds to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
        }
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
        }
    }
}

/// `{tenant}` of a discovery or JWKS path: the tenant's id, `common` for the shared documents.
fn tenant_for_documents(
    state: &AppState,
    segment: &str,
    headers: &axum::http::HeaderMap,
) -> std::result::Result<String, Box<Response>> {
    let common = ["common", "organizations"].contains(&segment.to_ascii_lowercase().as_str());
    if common {
        return Ok("{tenantid}".to_owned());
    }
    sts::check_tenant(&state.model, segment)
        .map(|()| state.model.tenant.id.clone())
        .map_err(|e| Box::new(e.into_http(&state.authority_host, &sts::correlation_id(headers))))
}

async fn discovery_v2(
    State(live): State<Arc<Live>>,
    UrlPath(segment): UrlPath<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    discovery(&live.now(), &segment, &headers, TokenVersion::V2)
}

async fn discovery_v1(
    State(live): State<Arc<Live>>,
    UrlPath(segment): UrlPath<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    discovery(&live.now(), &segment, &headers, TokenVersion::V1)
}

fn discovery(
    state: &AppState,
    segment: &str,
    headers: &axum::http::HeaderMap,
    version: TokenVersion,
) -> Response {
    let tid = match tenant_for_documents(state, segment, headers) {
        Ok(tid) => tid,
        Err(answer) => return *answer,
    };
    let host = &state.authority_host;
    let (v, keys) = match version {
        TokenVersion::V1 => ("", "discovery/keys"),
        TokenVersion::V2 => ("/v2.0", "discovery/v2.0/keys"),
    };
    let t = if tid == "{tenantid}" {
        segment
    } else {
        tid.as_str()
    };
    axum::Json(json!({
        "token_endpoint": format!("{host}/{t}/oauth2{v}/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{host}/{t}/{keys}"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": token::issuer(version, &tid),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{host}/{t}/oauth2{v}/authorize"),
        "device_authorization_endpoint": format!("{host}/{t}/oauth2{v}/devicecode"),
        "end_session_endpoint": format!("{host}/{t}/oauth2{v}/logout"),
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }))
    .into_response()
}

async fn jwks_v2(
    State(live): State<Arc<Live>>,
    UrlPath(segment): UrlPath<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    jwks(&live.now(), &segment, &headers, TokenVersion::V2)
}

async fn jwks_v1(
    State(live): State<Arc<Live>>,
    UrlPath(segment): UrlPath<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    jwks(&live.now(), &segment, &headers, TokenVersion::V1)
}

/// The tenant's signing keys, with the issuer of the token version they are asked for under.
fn jwks(
    state: &AppState,
    segment: &str,
    headers: &axum::http::HeaderMap,
    version: TokenVersion,
) -> Response {
    match tenant_for_documents(state, segment, headers) {
        Ok(tid) => axum::Json(state.keys.jwks(&token::issuer(version, &tid))).into_response(),
        Err(answer) => *answer,
    }
}

/// The `error_uri` of token-endpoint errors points here.
async fn error_page(Query(query): Query<HashMap<String, String>>) -> Response {
    let code = query.get("code").map_or("", String::as_str);
    axum::Json(json!({
        "code": code,
        "explain": format!("entra-doctor explain AADSTS{code}"),
        "reference": "https://learn.microsoft.com/entra/identity-platform/reference-error-codes",
    }))
    .into_response()
}
