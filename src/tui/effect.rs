//! Side effects `update` asks for, and how they run: each in a tokio task that calls the domain
//! and sends its result back as an [`Action`]. Nothing here touches the state.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::action::{Action, WalkFixApplied};
use super::form::Form;
use super::state::{RequestId, TokenView};
use crate::auth::managed_identity::detect::IMDS_HOST_VARIABLE;
use crate::auth::{ClientOptions, Credential, TokenClient};
use crate::cache::TokenCache;
use crate::demo::DemoControl;
use crate::diagnose::{
    self, Finding, FixContext, Severity, api, preflight, signature, token_checks, token_version,
};
use crate::environment::Environment;
use crate::error::Result;
use crate::probe::{self, ProbeRequest};
use crate::profile::Profile;
use crate::registration;
use crate::secret::Secret;
use crate::setup::{self, Network, Spec};
use crate::token::{DecodedToken, Verifier, VerifyTarget, decode};
use crate::walkthrough::{self, DemoFix, Session, Setup, StepId};

mod signins;
mod tenant;

#[derive(Debug, Clone)]
pub enum Effect {
    Acquire {
        id: RequestId,
        form: Box<Form>,
        force: bool,
        /// Also match the credential to its app registration and say its expiry (`d`).
        expiry: bool,
        now: DateTime<Utc>,
    },
    Probe {
        id: RequestId,
        url: String,
        token: Secret,
        decoded: Option<Box<DecodedToken>>,
        context: FixContext,
        now: DateTime<Utc>,
    },
    /// The consent audit with the form's credential.
    Consent {
        id: RequestId,
        form: Box<Form>,
        /// The token on screen: its roles and issue time are what staleness is judged on.
        token: Option<Secret>,
        now: DateTime<Utc>,
    },
    /// The sign-in log entry of a refused token request (`l`), read with the form's admin app
    /// or the app's own credential.
    SignIns {
        id: RequestId,
        form: Box<Form>,
        correlation_id: String,
        now: DateTime<Utc>,
    },
    /// The federated token beside the app's federated credentials.
    Federation {
        id: RequestId,
        form: Box<Form>,
        now: DateTime<Utc>,
    },
    /// Check the token of request `id` against its tenant's published keys.
    Verify {
        id: RequestId,
        raw: Secret,
        decoded: Box<DecodedToken>,
        target: VerifyTarget,
        now: DateTime<Utc>,
    },
    /// Walkthrough: check one step, or every step in order (`step` = None).
    Walk {
        id: RequestId,
        form: Box<Form>,
        step: Option<StepId>,
        now: DateTime<Utc>,
    },
    /// Walkthrough: apply a fix (to the demo tenant, or the scope to the form).
    WalkFix {
        id: RequestId,
        form: Box<Form>,
        fix: Box<DemoFix>,
        now: DateTime<Utc>,
    },
    /// The tenant audit, as the form's admin app when it names one, else its own credential.
    TenantAudit {
        id: RequestId,
        form: Box<Form>,
        now: DateTime<Utc>,
    },
    /// Abort the task of this request.
    Cancel(RequestId),
    ClearCache,
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    SaveProfile(Box<Profile>),
}

/// What effects share: the token cache, the signature checker (whose key sets are cached for
/// the run), where the profile lives, and how to reach servers.
#[derive(Debug, Clone)]
pub struct Services {
    pub cache: Arc<Mutex<TokenCache>>,
    /// The signature checker, built on the first check with this run's network settings and
    /// shared by every task after (it caches the tenants' key sets for the run); `None` only
    /// when no HTTP client can be built, and then nothing else works either.
    verifier: Arc<OnceLock<Option<Verifier>>>,
    pub profile_path: Option<std::path::PathBuf>,
    /// Where tasks report progress (retries) before their result; the runtime sets it.
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<Action>>,
    /// The embedded demo tenant, when the TUI runs on it: walkthrough fixes change it.
    pub demo: Option<DemoControl>,
    /// `--ca-file` of the command line the TUI was started with.
    pub ca_file: Option<PathBuf>,
    /// `SSL_CERT_FILE`, the proxy variables and the managed identity variables of the
    /// environment it was started in (in the demo, the demo's IMDS address instead of the
    /// machine's managed identity variables).
    pub network: Environment,
    /// The demo's address, standing in for the IMDS when the TUI runs on the demo tenant: a
    /// demo never asks the machine's own managed identity endpoint.
    pub demo_imds: Option<String>,
}

impl Services {
    pub fn new(profile_path: Option<std::path::PathBuf>) -> Self {
        Self {
            cache: Arc::new(Mutex::new(TokenCache::in_memory())),
            verifier: Arc::new(OnceLock::new()),
            profile_path,
            progress: None,
            demo: None,
            ca_file: None,
            network: Environment::default(),
            demo_imds: None,
        }
    }

    /// Answers managed identity requests from the demo at `host` (its IMDS emulator).
    #[must_use]
    pub fn with_demo_imds(mut self, host: &str) -> Self {
        self.network = self.network.with(IMDS_HOST_VARIABLE, host);
        self.demo_imds = Some(host.to_owned());
        self
    }

    /// Reaches servers with `ca_file` and the network variables of `env` (checked here, so a
    /// bad CA file is an error before the TUI opens, not on every request).
    pub fn with_network(mut self, ca_file: Option<PathBuf>, env: &Environment) -> Result<Self> {
        self.network = match &self.demo_imds {
            Some(host) => env.network().with(IMDS_HOST_VARIABLE, host),
            None => env.network_and_identity(),
        };
        self.client_options_with(ca_file.as_deref())?;
        self.ca_file = ca_file;
        Ok(self)
    }

    fn verifier(&self) -> Option<&Verifier> {
        self.verifier
            .get_or_init(|| {
                let options = self.client_options_with(self.ca_file.as_deref()).ok()?;
                TokenClient::new(options).ok().map(Verifier::new)
            })
            .as_ref()
    }

    fn client_options_with(&self, ca_file: Option<&Path>) -> Result<ClientOptions> {
        Ok(ClientOptions {
            transport: setup::transport(ca_file, &self.network)?,
            ..ClientOptions::default()
        })
    }

    /// The form as a setup spec, with this run's network settings. The environment it is
    /// prepared in holds only network variables: the form's credential is the one used.
    fn spec(&self, form: &Form) -> Spec {
        form.to_spec(Network {
            ca_file: self.ca_file.clone(),
            ..Network::default()
        })
    }
}

/// Runs an effect to completion and returns the action that reports its result.
/// `Cancel` and `Copy` are the runtime's own business and return nothing here.
pub async fn execute(effect: Effect, services: &Services) -> Option<Action> {
    match effect {
        Effect::Acquire {
            id,
            form,
            force,
            expiry,
            now,
        } => Some(acquire(id, &form, (force, expiry), now, services).await),
        Effect::Probe {
            id,
            url,
            token,
            decoded,
            context,
            now,
        } => Some(
            run_probe(
                id,
                &url,
                token,
                (decoded.as_deref(), &context),
                now,
                services,
            )
            .await,
        ),
        Effect::Verify {
            id,
            raw,
            decoded,
            target,
            now,
        } => {
            let verifier = services.verifier()?;
            let finding = signature::check(verifier, raw.expose(), &decoded, &target, now)
                .await
                .finding;
            Some(Action::TokenVerified {
                id,
                label: label(&finding),
                finding: Box::new(finding),
            })
        }
        Effect::Consent {
            id,
            form,
            token,
            now,
        } => Some(consent(id, &form, token.as_ref(), now, services).await),
        Effect::Walk {
            id,
            form,
            step,
            now,
        } => Some(walk(id, &form, step, now, services).await),
        Effect::Federation { id, form, now } => Some(federation(id, &form, now, services).await),
        Effect::SignIns {
            id,
            form,
            correlation_id,
            now,
        } => Some(signins::look_up(id, &form, correlation_id, now, services).await),
        Effect::WalkFix { id, form, fix, now } => Some(walk_fix(id, &form, &fix, now, services)),
        Effect::TenantAudit { id, form, now } => Some(tenant::run(id, &form, now, services).await),
        Effect::ClearCache => {
            let mut cache = services.cache.lock().await;
            let _ = cache.clear();
            Some(Action::CacheCleared {
                cache: cache.entries().cloned().collect(),
            })
        }
        Effect::SaveProfile(profile) => Some(Action::ProfileSaved(match &services.profile_path {
            None => Err("no config directory is known on this system".into()),
            Some(path) => profile
                .save(path)
                .map(|()| path.display().to_string())
                .map_err(|e| e.to_string()),
        })),
        Effect::Cancel(_) | Effect::Copy(_) => None,
    }
}

async fn acquire(
    id: RequestId,
    form: &Form,
    (force, expiry): (bool, bool),
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let spec = services.spec(form);
    let mut no_stdin = || Ok(String::new());
    let failed = |finding: Finding, findings: Vec<Finding>| Action::TokenAcquired {
        id,
        result: Err(Box::new(finding)),
        findings,
        cache: Vec::new(),
    };
    let prepared = match setup::prepare(&spec, &services.network, &mut no_stdin, now) {
        Ok(prepared) => prepared,
        Err(error) => return failed(preflight::error(&error, &spec.fix_context()), Vec::new()),
    };
    let request = &prepared.request;
    let context = FixContext::for_request(request);
    let admin = if expiry { form.admin() } else { None };
    let mut cache = services.cache.lock().await;
    let served = match TokenClient::new(prepared.options.clone()) {
        Ok(client) => {
            cache
                .get_or_acquire(&with_progress(client, id, services), request, force, now)
                .await
        }
        Err(error) => Err(error),
    };
    let (raw, expires_on, from_cache) = match served {
        Ok(served) => (served.token, served.expires_on, served.miss.is_none()),
        Err(error) => {
            let mut found = vec![preflight::error(&error, &context)];
            if expiry {
                // The refusal stays first: an AADSTS7000222 is told which secret expired.
                let lookup = credential_lookup(&prepared, &spec, admin.as_ref(), None);
                add_expiry(&mut found, &lookup, services, &context, now).await;
            }
            let refusal = found.remove(0);
            let mut warnings = prepared.warnings;
            warnings.extend(found);
            return failed(refusal, warnings);
        }
    };
    let decoded = decode(raw.expose()).ok();
    // A managed identity's tenant and app are the token's own.
    let context = match &decoded {
        Some(token) => context.with_token(&token.claims),
        None => context,
    };
    let mut findings = prepared.warnings.clone();
    if let Some(token) = &decoded {
        findings.extend(token_checks::check(
            token,
            now,
            Some(request.scopes.resource()),
            &context,
        ));
        findings.extend(token_version::check(token, Some(request.scopes.resource())));
    }
    if expiry {
        let lookup = credential_lookup(&prepared, &spec, admin.as_ref(), Some(&raw));
        add_expiry(&mut findings, &lookup, services, &context, now).await;
    }
    diagnose::sort(&mut findings);
    let certificate = match &request.credential {
        Credential::Certificate { certificate, .. } => Some(certificate.info.clone()),
        Credential::Secret(_)
        | Credential::Assertion { .. }
        | Credential::ManagedIdentity { .. } => None,
    };
    // The form's authority: the one the operator named, whose token this is (a managed
    // identity's tenant is the token's own `tid`).
    let verify_target = decoded.is_some().then(|| VerifyTarget {
        host: Some(request.authority.host.clone()),
        tenant: request.known_tenant().map(ToString::to_string),
        app_id: None,
    });
    Action::TokenAcquired {
        id,
        result: Ok(Box::new(TokenView {
            decoded,
            raw,
            expires_on,
            from_cache,
            resource: request.scopes.resource().to_owned(),
            certificate,
            verify_target,
            signature: None,
        })),
        findings,
        cache: cache.entries().cloned().collect(),
    }
}

/// The credential in use matched to its registration, and its expiry findings added.
async fn add_expiry(
    findings: &mut Vec<Finding>,
    lookup: &registration::lookup::Lookup<'_>,
    services: &Services,
    context: &FixContext,
    now: DateTime<Utc>,
) {
    let in_use = registration::lookup::look_up(
        lookup,
        &services.network,
        now,
        registration::DEFAULT_WARN_DAYS,
    )
    .await;
    diagnose::expiry::apply(findings, &in_use, context, now);
}

/// What may read the registration for `d`: the form's admin app, else the daemon's own token
/// when it is a Graph token, else a Graph token of its own (unless its sign-in was refused,
/// `token` = `None`).
fn credential_lookup<'a>(
    prepared: &'a setup::Prepared,
    spec: &'a Spec,
    admin: Option<&'a crate::consent::AdminApp>,
    token: Option<&'a Secret>,
) -> registration::lookup::Lookup<'a> {
    let request = &prepared.request;
    let graph_url = crate::consent::default_graph_url(&request.authority.host);
    let is_graph = request.scopes.resource().trim_end_matches('/')
        == crate::consent::graph_scope(&graph_url).trim_end_matches("/.default");
    registration::lookup::Lookup {
        request,
        options: &prepared.options,
        daemon: Some(spec),
        admin,
        graph_url: None,
        token: token.filter(|_| is_graph),
        refused: token.is_none(),
    }
}

async fn run_probe(
    id: RequestId,
    url: &str,
    token: Secret,
    (decoded, context): (Option<&DecodedToken>, &FixContext),
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let failed = |finding: Finding| Action::ProbeFinished {
        id,
        result: Err(Box::new(finding)),
        findings: Vec::new(),
    };
    let url = match url::Url::parse(url.trim()) {
        Ok(url) => url,
        Err(e) => {
            let error = crate::Error::InvalidInput {
                what: format!("probe URL {url:?}"),
                reason: format!("is not a URL ({e})"),
            };
            return failed(preflight::error(&error, context));
        }
    };
    let request = ProbeRequest {
        url,
        method: "GET".into(),
        headers: Vec::new(),
        body: None,
        token: Some(token),
    };
    let sent = match services
        .client_options_with(services.ca_file.as_deref())
        .and_then(|options| probe::Prober::new(&options))
    {
        Ok(prober) => prober.send(&request).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(report) => {
            let mut findings = api::explain(&report.answer(), decoded, now, context);
            diagnose::sort(&mut findings);
            Action::ProbeFinished {
                id,
                result: Ok(Box::new(report)),
                findings,
            }
        }
        Err(error) => failed(preflight::error(&error, context)),
    }
}

/// The walkthrough's setup from the form, as `entra-doctor walkthrough` builds it from options,
/// and the ids the form names, for the fixes of a setup that cannot be prepared.
fn walk_setup(
    form: &Form,
    now: DateTime<Utc>,
    services: &Services,
) -> (crate::Result<Setup>, FixContext) {
    let spec = services.spec(form);
    let mut no_stdin = || Ok(String::new());
    // The Admin fields read the app registration for step 3's expiry.
    let setup = walkthrough::setup(
        &spec,
        Some(form.probe_url.value()),
        &services.network,
        &mut no_stdin,
        now,
    )
    .map(|setup| setup.with_admin(form.admin()));
    (setup, spec.fix_context())
}

async fn walk(
    id: RequestId,
    form: &Form,
    step: Option<StepId>,
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let (setup, context) = walk_setup(form, now, services);
    let session = setup.and_then(|setup| {
        let client = TokenClient::new(setup.options.clone())?;
        Ok(Session::with_client(
            setup,
            with_progress(client, id, services),
        ))
    });
    let reports = match (session, step) {
        (Ok(mut session), Some(step)) => vec![session.check(step, now).await],
        (Ok(mut session), None) => session.run_all(now).await,
        (Err(error), _) => walkthrough::unprepared(&error, &context),
    };
    Action::WalkReported { id, reports }
}

fn walk_fix(
    id: RequestId,
    form: &Form,
    fix: &DemoFix,
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let result = walk_setup(form, now, services)
        .0
        .and_then(|mut setup| walkthrough::apply(&mut setup, fix, services.demo.as_ref()))
        .map(|outcome| WalkFixApplied {
            summary: outcome.summary,
            new_secret: outcome.new_secret,
            new_scope: outcome.new_scope,
        })
        .map_err(|e| e.to_string());
    Action::WalkFixed { id, result }
}

/// Reports retries to the status bar while the request goes on.
fn with_progress(client: TokenClient, id: RequestId, services: &Services) -> TokenClient {
    match services.retry_observer(id) {
        Some(observer) => client.on_retry(observer),
        None => client,
    }
}

impl Services {
    /// Tells the status bar of each retry of request `id`, when the TUI listens for progress.
    fn retry_observer(&self, id: RequestId) -> Option<crate::auth::client::RetryObserver> {
        let tx = self.progress.clone()?;
        Some(Arc::new(move |notice| {
            let _ = tx.send(Action::Retrying {
                id,
                notice: notice.to_string(),
            });
        }))
    }
}

/// The token pane's one-line verdict for a signature finding.
fn label(finding: &Finding) -> (Severity, String) {
    let text = match finding.id.as_str() {
        "token.verified" if finding.severity == Severity::Info => {
            "verified with the tenant's published key"
        }
        "token.verified" => "verified, but outside its lifetime",
        "token.graph-nonce" => "not verifiable by design (a Graph token: nonce header)",
        "token.bad-signature" => "INVALID: the token was altered or signed by someone else",
        "token.unknown-key" => {
            "signed by a key the tenant does not publish (rollover? other tenant?)"
        }
        "token.wrong-tenant" => "valid, but issued by another tenant",
        "token.untrusted-issuer" => "NOT VERIFIED: the issuer is not a known Entra authority",
        "token.untrusted-keys" => "NOT VERIFIED: the metadata names keys off the authority's host",
        _ => "NOT VERIFIED: the tenant's keys could not be fetched",
    };
    (finding.severity, text.to_owned())
}

async fn consent(
    id: RequestId,
    form: &Form,
    token: Option<&Secret>,
    now: DateTime<Utc>,
    services: &Services,
) -> Action {
    let request = crate::consent::AuditRequest {
        daemon: services.spec(form),
        graph_url: None,
        admin: form.admin(),
        token: token.cloned(),
    };
    let mut no_stdin = || Ok(String::new());
    let on_retry = services.retry_observer(id);
    match crate::consent::run(&request, &services.network, &mut no_stdin, now, on_retry).await {
        Ok(audit) => {
            let problems = audit
                .findings
                .iter()
                .filter(|f| f.severity != Severity::Info)
                .count();
            let summary = match &audit.directory {
                Some(d) => format!(
                    "Consent audit: {} permission(s) of {}, {problems} problem(s).",
                    audit.rows.len(),
                    d.resource_name
                ),
                None => format!(
                    "Consent audit: {}",
                    audit
                        .findings
                        .first()
                        .map_or("no answer", |f| f.title.as_str())
                ),
            };
            Action::ConsentAudited {
                id,
                summary,
                table: audit.directory.as_ref().map(|d| {
                    Box::new(super::state::ConsentTable {
                        resource: d.resource_name.clone(),
                        rows: audit.rows.clone(),
                    })
                }),
                findings: audit.findings,
            }
        }
        Err(error) => {
            let finding = preflight::error(&error, &FixContext::default());
            Action::ConsentAudited {
                id,
                summary: format!("Consent audit failed: {}", finding.title),
                table: None,
                findings: vec![finding],
            }
        }
    }
}

/// The federation check with the form's token file (or pasted token) and admin app.
async fn federation(id: RequestId, form: &Form, now: DateTime<Utc>, services: &Services) -> Action {
    let spec = services.spec(form);
    let token = match &spec.credential {
        crate::setup::CredentialSpec::AssertionToken(token) => Ok(token.clone()),
        crate::setup::CredentialSpec::Assertion { path: Some(path) } => {
            std::fs::read_to_string(path)
                .map(|text| Secret::new(text.trim()))
                .map_err(|e| crate::Error::file(path.clone(), e))
        }
        _ => Err(crate::Error::MissingCredential {
            hint: "the federation check needs the Assertion field: the federated token, or the file holding it".into(),
        }),
    };
    let result = match token {
        Ok(token) => {
            crate::scrub::remember(&token);
            let request = crate::federation::FederationRequest {
                daemon: spec.clone(),
                token,
                admin: form.admin(),
                graph_url: None,
                local_only: false,
            };
            crate::federation::examine(&request, &services.network, now).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(report) => {
            let problems = report
                .findings
                .iter()
                .filter(|f| f.severity != Severity::Info)
                .count();
            let summary = match &report.comparison {
                Some(c) => format!(
                    "Federation: the token beside {} federated credential(s), {problems} problem(s).",
                    c.credentials.len()
                ),
                None => format!(
                    "Federation: {}",
                    report
                        .findings
                        .first()
                        .map_or("no answer", |f| f.title.as_str())
                ),
            };
            Action::FederationChecked {
                id,
                summary,
                comparison: report.comparison.map(Box::new),
                findings: report.findings,
            }
        }
        Err(error) => {
            let finding = preflight::error(&error, &spec.fix_context());
            Action::FederationChecked {
                id,
                summary: format!("Federation check failed: {}", finding.title),
                comparison: None,
                findings: vec![finding],
            }
        }
    }
}
