//! `entra-doctor doctor`: preflight → token → decode → verify → probe → consent → findings, as a
//! checklist.

mod expiry;
mod report;
mod trust;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use std::sync::Arc;

use super::args::DoctorArgs;
use super::config::prepare;
use super::fleet::tokens::{Issued, TokenKey, TokenShare};
use super::probe_cmd::stdin_reader;
use super::token_cmd::acquire;
use super::{OutputFormat, Report};
use crate::auth::{Deadline, TokenClient};
use crate::cache::TokenCache;
use crate::diagnose::{
    self, Finding, FixContext, Severity, api, preflight, token_checks, token_version,
};
use crate::environment::Environment;
use crate::error::{Error, Failure, Result};
use crate::probe::{self, ProbeRequest};
use crate::token::{Audience, decode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Outcome {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct Step {
    pub(super) name: &'static str,
    pub(super) outcome: Outcome,
    pub(super) detail: String,
}

pub(super) struct Checklist {
    /// Which app the check is about, once its request was prepared.
    pub(super) about: Option<report::About>,
    pub(super) steps: Vec<Step>,
    /// The credential in use and its registration's expiry, once the credential step ran.
    pub(super) credential: Option<crate::registration::in_use::InUse>,
    findings: Vec<Finding>,
    failure: Option<Failure>,
}

impl Checklist {
    /// A checklist that stopped at preflight: `error` was found before anything was sent.
    pub(super) fn preflight_failed(error: &Error, context: &FixContext) -> Self {
        let mut list = Self {
            about: None,
            steps: Vec::new(),
            credential: None,
            findings: Vec::new(),
            failure: None,
        };
        list.fail("preflight", error, context);
        list.skip_rest(&["token", "decode", "verify", "probe", "consent"]);
        list
    }

    /// The exit code (0 all well, 1 refused, 3 network or server) and the findings, sorted.
    pub(super) fn verdict(&self) -> (u8, Vec<Finding>) {
        let mut found = self.findings.clone();
        diagnose::sort(&mut found);
        let has_error = found.iter().any(|f| f.severity == Severity::Error);
        let exit = match self.failure {
            Some(failure) => failure.exit_code(),
            None if has_error || self.steps.iter().any(|s| s.outcome == Outcome::Failed) => 1,
            None => 0,
        };
        (exit, found)
    }
}

impl Checklist {
    fn step(&mut self, name: &'static str, outcome: Outcome, detail: impl Into<String>) {
        self.steps.push(Step {
            name,
            outcome,
            detail: detail.into(),
        });
    }

    fn fail(&mut self, name: &'static str, error: &Error, context: &FixContext) {
        self.step(name, Outcome::Failed, error.to_string());
        // The failing step's finding leads: it is the verdict, the rest is context.
        self.findings.insert(0, preflight::error(error, context));
        self.failure = Some(error.failure());
    }

    fn skip_rest(&mut self, names: &[&'static str]) {
        for name in names {
            self.step(name, Outcome::Skipped, "an earlier step failed");
        }
    }
}

pub async fn run(
    args: &DoctorArgs,
    env: &Environment,
    format: OutputFormat,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<()> {
    if let Some(fleet) = &args.fleet {
        return super::fleet::run(fleet, args, env, format, now, report).await;
    }
    let checklist = check(args, env, now, None).await;
    let (exit, found) = checklist.verdict();
    report.exit = exit;
    if let Some(path) = &args.report {
        // Private (0600), atomic, never through a link, and through the choke point: a report
        // quotes the tenant's answers and is read in a terminal.
        let markdown = crate::scrub::printable(
            &report::markdown(
                &checklist
                    .about
                    .clone()
                    .unwrap_or_else(|| report::About::unprepared(&args.credential)),
                &checklist.steps,
                &found,
                now,
            ),
            crate::scrub::LINES,
        );
        crate::files::write_private(path, markdown.as_bytes()).map_err(|source| Error::Output {
            what: format!("the report {}", path.display()),
            source,
        })?;
    }
    // A refused token request is in the tenant's sign-in log: say how to read its entry, as
    // `explain` does.
    let refused = checklist
        .steps
        .iter()
        .any(|s| s.name == "token" && s.outcome == Outcome::Failed);
    let log = refused
        .then(|| crate::signins::correlation_in(&found))
        .flatten()
        .map(|id| {
            crate::signins::offer_as(
                &id,
                checklist.about.as_ref().map(report::About::client_id),
                args.graph.admin_client_id.as_deref(),
            )
        });
    report.stdout = match format {
        OutputFormat::Json => {
            let mut json = json!({"ok": report.exit == 0, "steps": checklist.steps,
                "credential": checklist.credential, "findings": found});
            if let Some(command) = &log {
                json["signins"] = json!({"command": command});
            }
            format!("{json}\n")
        }
        OutputFormat::Text => report::text(&checklist.steps, log.as_deref(), &found),
    };
    Ok(())
}

/// What the apps of a fleet share: the HTTP client and the transport it was built with, so a
/// thousand apps share its connections, and the fleet's token single flight with this app's
/// credential's key in it, so apps with one credential make one token request.
pub(super) struct Shared<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) transport: &'a crate::transport::Transport,
    pub(super) tokens: Option<(&'a TokenShare, TokenKey)>,
}

/// Runs every step for one app. `shared` is what a fleet's apps share; without it the steps
/// build their own client and ask for their own token.
// The steps in order, each its own function: splitting the sequence would hide it.
#[allow(clippy::too_many_lines)]
pub(super) async fn check(
    args: &DoctorArgs,
    env: &Environment,
    now: DateTime<Utc>,
    shared: Option<&Shared<'_>>,
) -> Checklist {
    let mut context = args.credential.fix_context();
    let mut stdin = stdin_reader();
    let mut prepared = match prepare(&args.credential, env, &mut stdin, now) {
        Ok(prepared) => prepared,
        Err(error) => return Checklist::preflight_failed(&error, &context),
    };
    // One deadline for every request of this check (of this app, in a fleet): token, keys,
    // probe and consent audit together.
    let deadline = Deadline::after(prepared.options.timeout);
    prepared.options.deadline = Some(deadline);
    let tokens = shared.and_then(|shared| shared.tokens);
    let shared = shared.map(|shared| {
        prepared.options.transport = shared.transport.clone();
        shared.http
    });
    let mut list = Checklist {
        about: Some(report::About::of(&prepared.request)),
        steps: Vec::new(),
        credential: None,
        findings: Vec::new(),
        failure: None,
    };
    let request = &prepared.request;
    context = FixContext::for_request(request);
    let preflight_errors = prepared
        .warnings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    list.step(
        "preflight",
        if preflight_errors > 0 {
            Outcome::Failed
        } else {
            Outcome::Passed
        },
        format!("{} finding(s) before sending", prepared.warnings.len()),
    );
    list.findings.extend(prepared.warnings.iter().cloned());

    let mut cache = TokenCache::in_memory();
    let client = match shared {
        Some(http) => Ok(TokenClient::with_http(
            http.clone(),
            prepared.options.clone(),
        )),
        None => super::token_cmd::cli_client(prepared.options.clone()),
    };
    let token = get_token(request, client, &mut cache, tokens, now).await;
    let token = match token {
        Ok(token) => token,
        Err(error) => {
            list.fail("token", &error, &context);
            let reach = expiry::Reach {
                token: None,
                in_fleet: shared.is_some(),
            };
            expiry::credential_step(&mut list, args, env, &prepared, reach, (now, deadline)).await;
            list.skip_rest(&["decode", "verify", "probe", "consent"]);
            return list;
        }
    };
    list.step(
        "token",
        Outcome::Passed,
        format!("issued for {}", request.scopes.resource()),
    );
    let reach = expiry::Reach {
        token: Some(&token),
        in_fleet: shared.is_some(),
    };
    expiry::credential_step(&mut list, args, env, &prepared, reach, (now, deadline)).await;
    let decoded = decode_step(
        &mut list,
        token.expose(),
        request.scopes.resource(),
        now,
        &context,
    );
    trust::verify_step(
        &mut list,
        token.expose(),
        decoded.as_ref(),
        request,
        (shared, prepared.options.clone()),
        now,
    )
    .await;

    let probed = probe_step(
        &mut list,
        args,
        request,
        token,
        decoded.as_ref(),
        (now, &context),
        (shared, &prepared.options),
    )
    .await;
    let roles = decoded
        .as_ref()
        .and_then(|token| token.claims.roles.clone())
        .unwrap_or_default();
    trust::consent_step(&mut list, args, env, (now, deadline), (probed, &roles)).await;
    list
}

/// The app's token: through the fleet's single flight when it shares one (the first app with
/// this credential asks, the others wait for its answer), else asked for here.
async fn get_token(
    request: &crate::auth::TokenRequest,
    client: Result<TokenClient>,
    cache: &mut TokenCache,
    tokens: Option<(&TokenShare, TokenKey)>,
    now: DateTime<Utc>,
) -> std::result::Result<crate::secret::Secret, Arc<Error>> {
    let client = client.map_err(Arc::new)?;
    let Some((tokens, key)) = tokens else {
        return acquire(request, &client, cache, true, now)
            .await
            .map(|acquired| acquired.token)
            .map_err(Arc::new);
    };
    let client = &client;
    tokens
        .get_or_acquire(key, move || async move {
            let acquired = acquire(request, client, cache, true, now)
                .await
                .map_err(Arc::new)?;
            let lifetime = (acquired.expires_on - now).to_std().unwrap_or_default();
            Ok(Issued::new(acquired.token, lifetime))
        })
        .await
        .map(|issued| issued.token)
}

/// The URL to probe: `--probe`, else [`probe::default_url`] (never the internet for the demo).
fn probe_url(args: &DoctorArgs, request: &crate::auth::TokenRequest) -> Option<String> {
    args.probe
        .clone()
        .or_else(|| probe::default_url(request).map(String::from))
}

/// What the probe learned about the API, for the consent step to say what is really known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probed {
    /// No API was called (no probe URL).
    NotCalled,
    /// The call never got an answer (bad URL, network, deadline).
    NotReached,
    /// The API answered with this status.
    Answered(u16),
}

async fn probe_step(
    list: &mut Checklist,
    args: &DoctorArgs,
    request: &crate::auth::TokenRequest,
    token: crate::secret::Secret,
    decoded: Option<&crate::token::DecodedToken>,
    (now, context): (DateTime<Utc>, &FixContext),
    (shared, options): (Option<&reqwest::Client>, &crate::auth::ClientOptions),
) -> Probed {
    let Some(url) = probe_url(args, request) else {
        let why = if request.authority.host.is_loopback() {
            "no --probe URL given; the authority is on this machine (the demo tenant?), so the \
             API's probe on the internet is not called with its token, and the demo serves no \
             route for this resource"
        } else {
            "no --probe URL given, and the resource has no known harmless probe"
        };
        list.step("probe", Outcome::Skipped, why);
        return Probed::NotCalled;
    };
    let probe_request = match url::Url::parse(&url) {
        Ok(url) => ProbeRequest {
            url,
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            token: Some(token),
        },
        Err(e) => {
            let error = Error::InvalidInput {
                what: format!("--probe {url:?}"),
                reason: format!("is not a URL ({e})"),
            };
            list.fail("probe", &error, context);
            return Probed::NotReached;
        }
    };
    let prober = match shared {
        Some(http) => Ok(probe::Prober::with_http(http.clone(), options)),
        None => probe::Prober::new(options),
    };
    let sent = match prober {
        Ok(prober) => prober.send(&probe_request).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(sent) => {
            let api_findings = api::explain(&sent.answer(), decoded, now, context);
            let outcome = if sent.is_success() {
                Outcome::Passed
            } else {
                Outcome::Failed
            };
            list.step(
                "probe",
                outcome,
                format!(
                    "GET {} → {} {} ({} ms)",
                    sent.url, sent.status, sent.reason, sent.elapsed_ms
                ),
            );
            if sent.is_success() {
                list.findings.extend(api_findings);
            } else {
                list.findings.splice(0..0, api_findings);
            }
            Probed::Answered(sent.status)
        }
        Err(error) => {
            list.fail("probe", &error, context);
            Probed::NotReached
        }
    }
}

fn decode_step(
    list: &mut Checklist,
    token: &str,
    scope_resource: &str,
    now: DateTime<Utc>,
    context: &FixContext,
) -> Option<crate::token::DecodedToken> {
    match decode(token) {
        Ok(token) => {
            let token_findings = token_checks::check(&token, now, Some(scope_resource), context);
            let roles = token.claims.roles.as_ref().map_or_else(
                || "no roles".to_owned(),
                |r| format!("roles {}", r.join(", ")),
            );
            let aud = token
                .claims
                .aud
                .as_ref()
                .map(Audience::joined)
                .unwrap_or_default();
            let failed = token_findings.iter().any(|f| f.severity == Severity::Error);
            list.step(
                "decode",
                if failed {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                },
                format!("aud {aud}, {roles}"),
            );
            list.findings.extend(token_findings);
            list.findings
                .extend(token_version::check(&token, Some(scope_resource)));
            Some(token)
        }
        Err(error) => {
            list.step(
                "decode",
                Outcome::Skipped,
                format!("not a JWT ({error}); only the API can read it"),
            );
            None
        }
    }
}
