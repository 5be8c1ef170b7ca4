//! `entra-doctor doctor`: preflight → token → decode → probe → findings, as a checklist.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::args::{ConsentArgs, DoctorArgs};
use super::config::{Environment, prepare};
use super::consent_cmd;
use super::probe_cmd::stdin_reader;
use super::token_cmd::acquire;
use super::{OutputFormat, Report, findings};
use crate::cache::TokenCache;
use crate::diagnose::{
    self, Finding, FixContext, Resources, Severity, api, preflight, signature, token_checks,
    token_version,
};
use crate::error::{Error, Failure, Result};
use crate::probe::{self, ProbeRequest};
use crate::token::{Verification, Verifier, VerifyTarget, decode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
struct Step {
    name: &'static str,
    outcome: Outcome,
    detail: String,
}

struct Checklist {
    steps: Vec<Step>,
    findings: Vec<Finding>,
    failure: Option<Failure>,
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
    let checklist = check(args, env, now).await;
    let mut found = checklist.findings.clone();
    diagnose::sort(&mut found);
    let has_error = found.iter().any(|f| f.severity == Severity::Error);
    report.exit = match checklist.failure {
        Some(failure) => failure.exit_code(),
        None if has_error || checklist.steps.iter().any(|s| s.outcome == Outcome::Failed) => 1,
        None => 0,
    };
    if let Some(path) = &args.report {
        std::fs::write(path, markdown(&checklist.steps, &found, now))
            .map_err(|e| Error::file(path, e))?;
    }
    report.stdout = match format {
        OutputFormat::Json => format!(
            "{}\n",
            json!({"ok": report.exit == 0, "steps": checklist.steps, "findings": found})
        ),
        OutputFormat::Text => text(&checklist.steps, &found),
    };
    Ok(())
}

async fn check(args: &DoctorArgs, env: &Environment, now: DateTime<Utc>) -> Checklist {
    let mut list = Checklist {
        steps: Vec::new(),
        findings: Vec::new(),
        failure: None,
    };
    let mut context = FixContext {
        tenant: args.credential.tenant.clone(),
        client_id: args.credential.client_id.clone(),
        ..FixContext::default()
    };
    let mut stdin = stdin_reader();
    let prepared = match prepare(&args.credential, env, &mut stdin, now) {
        Ok(prepared) => prepared,
        Err(error) => {
            list.fail("preflight", &error, &context);
            list.skip_rest(&["token", "decode", "verify", "probe", "consent"]);
            return list;
        }
    };
    let request = &prepared.request;
    context.tenant = Some(request.authority.tenant.to_string());
    context.client_id = Some(request.client_id.clone());
    context.resource = Some(request.scopes.resource().to_owned());
    context.scope = Some(request.scopes.to_request_value());
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
    let acquired = match acquire(request, prepared.options, &mut cache, true, now).await {
        Ok(acquired) => acquired,
        Err(error) => {
            list.fail("token", &error, &context);
            list.skip_rest(&["decode", "verify", "probe", "consent"]);
            return list;
        }
    };
    list.step(
        "token",
        Outcome::Passed,
        format!("issued for {}", request.scopes.resource()),
    );
    let decoded = decode_step(
        &mut list,
        acquired.token.expose(),
        request.scopes.resource(),
        now,
        &context,
    );
    verify_step(
        &mut list,
        acquired.token.expose(),
        decoded.as_ref(),
        request,
        prepared.options,
        now,
    )
    .await;

    probe_step(
        &mut list,
        args,
        request.scopes.resource(),
        acquired.token,
        decoded.as_ref(),
        now,
        &context,
    )
    .await;
    consent_step(&mut list, args, env, now).await;
    list
}

/// The consent audit, when the token lacks roles or the API said 403: that is where the
/// answer sits in the app registration.
async fn consent_step(
    list: &mut Checklist,
    args: &DoctorArgs,
    env: &Environment,
    now: DateTime<Utc>,
) {
    let needed = list
        .findings
        .iter()
        .any(|f| f.id == "api.forbidden" || f.id == "token.no-roles");
    if !needed {
        list.step(
            "consent",
            Outcome::Skipped,
            "not needed: the token carries roles the API accepted",
        );
        return;
    }
    if args.credential.secret_stdin {
        list.step(
            "consent",
            Outcome::Skipped,
            "the secret was read from standard input once; run entra-doctor consent",
        );
        return;
    }
    let consent_args = ConsentArgs {
        credential: args.credential.clone(),
        graph_url: args.graph_url.clone(),
        admin_client_id: None,
        admin_secret_env: String::new(),
    };
    match consent_cmd::audit(&consent_args, env, now).await {
        Ok(audit) => {
            let failed = audit.findings.iter().any(|f| f.severity == Severity::Error);
            let detail = match &audit.directory {
                Some(d) => format!(
                    "{} permission(s) of {} audited",
                    audit.rows.len(),
                    d.resource_name
                ),
                None => audit
                    .findings
                    .first()
                    .map(|f| f.title.clone())
                    .unwrap_or_default(),
            };
            let outcome = match (failed, &audit.directory) {
                (true, _) => Outcome::Failed,
                (false, Some(_)) => Outcome::Passed,
                (false, None) => Outcome::Skipped,
            };
            list.step("consent", outcome, detail);
            list.findings.extend(audit.findings);
        }
        Err(error) => list.step("consent", Outcome::Skipped, error.to_string()),
    }
}

fn mark(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "✓",
        Outcome::Failed => "✗",
        Outcome::Skipped => "-",
    }
}

fn text(steps: &[Step], found: &[Finding]) -> String {
    let mut out = String::new();
    for step in steps {
        let _ = writeln!(
            out,
            "{} {:<10} {}",
            mark(step.outcome),
            step.name,
            super::render::clean(&step.detail)
        );
    }
    out.push('\n');
    out.push_str(&findings::text(found));
    out
}

fn markdown(steps: &[Step], found: &[Finding], now: DateTime<Utc>) -> String {
    let mut out = format!(
        "# entra-doctor report\n\nGenerated {now}. Contains no secret and no raw token.\n\n## Steps\n\n| | step | result |\n|---|---|---|\n"
    );
    for step in steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            mark(step.outcome),
            step.name,
            step.detail.replace('|', "\\|")
        );
    }
    out.push_str("\n## Findings\n");
    if found.is_empty() {
        out.push_str("\nNone.\n");
    }
    for finding in found {
        let _ = write!(
            out,
            "\n### {} `{}` ({})\n\n{}\n\n",
            finding.title,
            finding.id,
            finding.severity.label(),
            finding.cause
        );
        for evidence in &finding.evidence {
            let _ = writeln!(out, "- evidence: `{}`", evidence.replace('`', "'"));
        }
        for fix in &finding.fixes {
            let _ = writeln!(out, "- fix: {fix}");
        }
        for doc in &finding.docs {
            let _ = writeln!(out, "- docs: <{doc}>");
        }
    }
    out
}

async fn probe_step(
    list: &mut Checklist,
    args: &DoctorArgs,
    scope_resource: &str,
    token: crate::secret::Secret,
    decoded: Option<&crate::token::DecodedToken>,
    now: DateTime<Utc>,
    context: &FixContext,
) {
    let resource = Resources::builtin().by_identifier(scope_resource);
    let Some(url) = args
        .probe
        .clone()
        .or_else(|| resource.and_then(|r| r.probe.clone()))
    else {
        list.step(
            "probe",
            Outcome::Skipped,
            "no --probe URL given, and the resource has no known harmless probe",
        );
        return;
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
            return;
        }
    };
    let timeouts = (args.credential.connect_timeout, args.credential.timeout);
    let sent = match probe::Prober::new(
        std::time::Duration::from_secs(timeouts.0),
        std::time::Duration::from_secs(timeouts.1),
    ) {
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
        }
        Err(error) => list.fail("probe", &error, context),
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
                .map(|a| a.values().join(", "))
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

/// Checks the token against the tenant's published keys: a token the API cannot validate fails
/// there whatever its roles say.
async fn verify_step(
    list: &mut Checklist,
    raw: &str,
    decoded: Option<&crate::token::DecodedToken>,
    request: &crate::auth::TokenRequest,
    options: crate::auth::ClientOptions,
    now: DateTime<Utc>,
) {
    let Some(token) = decoded else {
        list.step("verify", Outcome::Skipped, "the token is not a JWT");
        return;
    };
    let verifier = match crate::auth::TokenClient::new(options) {
        Ok(client) => Verifier::new(client),
        Err(error) => {
            list.step("verify", Outcome::Skipped, error.to_string());
            return;
        }
    };
    let target = VerifyTarget {
        host: request.authority.host.clone(),
        tenant: Some(request.authority.tenant.to_string()),
        app_id: None,
    };
    let (outcome, finding) = signature::check(&verifier, raw, token, &target, now).await;
    let step = match outcome {
        Some(Verification::Verified { .. } | Verification::GraphNonce) => Outcome::Passed,
        Some(_) => Outcome::Failed,
        // The keys could not be fetched: say so, but that is not the token's fault.
        None => Outcome::Skipped,
    };
    list.step("verify", step, finding.title.clone());
    list.findings.push(finding);
}
