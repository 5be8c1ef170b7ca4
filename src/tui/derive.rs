//! What `update` derives from the form without changing anything else: the live preflight
//! lints, the fix context, and the text `c` copies.

use super::effect::Effect;
use super::form::CredentialKind;
use super::state::{Load, Pane, State};
use crate::diagnose::{self, FixContext, preflight};

/// Recomputes the live preflight lints from the form as typed.
pub fn refresh_lints(state: &mut State) {
    let mut lints = Vec::new();
    let scopes = state.form.scopes();
    if !scopes.is_empty() {
        match crate::auth::ScopeSet::parse(&scopes) {
            Ok(set) => lints.extend(set.lints().iter().map(preflight::scope)),
            Err(error) => lints.push(preflight::error(&error, &FixContext::default())),
        }
    }
    let tenant = state.form.tenant.value().trim();
    if !tenant.is_empty()
        && let Err(error) = crate::auth::Tenant::parse(tenant)
    {
        lints.push(preflight::error(&error, &FixContext::default()));
    }
    let host = state.form.authority.value().trim();
    if !host.is_empty()
        && let Err(error) = crate::auth::AuthorityHost::parse(host)
    {
        lints.push(preflight::error(&error, &FixContext::default()));
    }
    if state.form.kind == CredentialKind::Secret {
        lints.extend(preflight::secret(
            &crate::Secret::new(state.form.secret.0.value().trim()),
            &fix_context(state),
        ));
    }
    state.lints = lints;
}

pub(super) fn fix_context(state: &State) -> FixContext {
    let value = |s: &str| Some(s.trim().to_owned()).filter(|v| !v.is_empty());
    let scope = value(state.form.scope.value());
    FixContext {
        tenant: value(state.form.tenant.value()),
        client_id: value(state.form.client_id.value()),
        resource: scope
            .as_deref()
            .map(|s| crate::auth::scope::resource_of(s).to_owned()),
        scope,
        role: None,
    }
}

pub(super) fn copy(state: &mut State) -> Vec<Effect> {
    let text = match state.focus {
        Pane::Findings => state
            .all_findings()
            .get(state.selected_finding)
            .and_then(|f| f.fixes.first())
            .map(|fix| {
                diagnose::split_fix_label(fix)
                    .map_or(fix.as_str(), |(_, text)| text)
                    .to_owned()
            }),
        Pane::Token => match &state.token {
            Load::Ready(view) => view
                .decoded
                .as_ref()
                .and_then(|d| serde_json::to_string_pretty(&d.raw_claims).ok()),
            _ => None,
        },
        Pane::Probe => match &state.probe {
            Load::Ready(report) => Some(report.pretty_body()),
            _ => None,
        },
        Pane::Walkthrough => state
            .walk
            .selected_step()
            .and_then(|r| r.fix.as_ref())
            .and_then(|f| f.az.clone().or_else(|| f.portal.clone())),
        Pane::Credentials | Pane::Cache => None,
    };
    if let Some(text) = text {
        state.status = match state.focus {
            Pane::Token => "Copied the token's claims (not the token) to the clipboard.".into(),
            Pane::Probe => "Copied the response body to the clipboard.".into(),
            Pane::Walkthrough => "Copied the fix's az command to the clipboard.".into(),
            _ => "Copied the fix to the clipboard.".into(),
        };
        vec![Effect::Copy(text)]
    } else {
        state.status =
            "Nothing to copy here: select a finding, or focus the Token or Probe pane.".into();
        Vec::new()
    }
}
