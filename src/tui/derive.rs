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
    // A lint quotes what was typed; a 2,000-character paste must not fill the pane twice.
    for lint in &mut lints {
        for field in state.form.visible() {
            let Some(value) = state.form.input(field).map(|i| i.value().trim()) else {
                continue;
            };
            if value.chars().count() > QUOTE_MAX {
                let short = quoted(value);
                lint.title = lint.title.replace(value, &short);
                lint.cause = lint.cause.replace(value, &short);
                for text in lint.evidence.iter_mut().chain(lint.fixes.iter_mut()) {
                    *text = text.replace(value, &short);
                }
            }
        }
    }
    state.lints = lints;
}

/// The most of a typed value a lint quotes whole.
const QUOTE_MAX: usize = 48;

/// A long value as a lint quotes it: its start, and how long it is.
fn quoted(value: &str) -> String {
    let start: String = value.chars().take(24).collect();
    format!("{start}… ({} characters)", value.chars().count())
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

/// The command in a fix, when it has one, with its language: an `az:` or `PowerShell:` line, or
/// T-SQL that follows a sentence saying where to run it.
pub fn command_in(fix: &str) -> Option<(&'static str, &str)> {
    if let Some((label, text)) = diagnose::split_fix_label(fix) {
        return match label {
            "az" => Some(("az", text.trim())),
            "PowerShell" => Some(("PowerShell", text.trim())),
            _ => None,
        };
    }
    ["CREATE USER ", "ALTER ROLE ", "GRANT "]
        .iter()
        .filter_map(|keyword| fix.find(keyword))
        .min()
        .map(|at| ("T-SQL", fix[at..].trim()))
}

/// What `c` copies from a finding: its command when a fix has one (that is what gets pasted
/// into a shell), else its first fix; and the words for the status bar.
fn finding_copy(finding: &diagnose::Finding) -> Option<(String, String)> {
    if let Some((language, command)) = finding.fixes.iter().find_map(|f| command_in(f)) {
        let what = format!("the {language} command");
        return Some((command.to_owned(), what));
    }
    let fix = finding.fixes.first()?;
    let text = diagnose::split_fix_label(fix).map_or(fix.as_str(), |(_, text)| text);
    Some((text.to_owned(), "the fix".to_owned()))
}

/// The start of what was copied, for the status bar: enough to recognise it.
fn preview(text: &str) -> String {
    const SHOWN: usize = 40;
    let count = text.chars().count();
    if count <= SHOWN {
        return format!("\"{text}\"");
    }
    let start: String = text.chars().take(SHOWN).collect();
    format!("\"{start}…\" ({count} characters)")
}

pub(super) fn copy(state: &mut State) -> Vec<Effect> {
    let copied = match state.focus {
        Pane::Findings => state
            .all_findings()
            .get(state.selected_finding)
            .and_then(|f| finding_copy(f)),
        Pane::Token => match &state.token {
            Load::Ready(view) => view
                .decoded
                .as_ref()
                .and_then(|d| serde_json::to_string_pretty(&d.raw_claims).ok())
                .map(|claims| (claims, "the token's claims (not the token)".to_owned())),
            _ => None,
        },
        Pane::Probe => match &state.probe {
            Load::Ready(report) => Some((report.pretty_body(), "the response body".to_owned())),
            _ => None,
        },
        Pane::Walkthrough => state
            .walk
            .selected_step()
            .and_then(|r| r.fix.as_ref())
            .and_then(|f| {
                f.az.clone()
                    .map(|az| (az, "the fix's az command".to_owned()))
                    .or_else(|| f.portal.clone().map(|p| (p, "the portal path".to_owned())))
            }),
        // The selected app's first fix: its most severe issue's first command.
        Pane::Tenant => state
            .tenant
            .selected_row()
            .and_then(|row| row.issues.iter().find_map(|i| i.fix.first()))
            .map(|fix| (fix.clone(), "the selected app's first fix".to_owned())),
        Pane::Credentials | Pane::Cache => None,
    };
    if let Some((text, what)) = copied {
        state.status = match state.focus {
            Pane::Findings | Pane::Walkthrough | Pane::Tenant => format!(
                "Copied {what} to the clipboard: {}",
                super::panes::clean(&preview(&text))
            ),
            _ => format!("Copied {what} to the clipboard."),
        };
        vec![Effect::Copy(text)]
    } else {
        state.status =
            "Nothing to copy here: select a finding, or focus the Token or Probe pane.".into();
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::command_in;

    #[test]
    fn the_command_in_a_fix_is_found_with_its_language() {
        assert_eq!(
            command_in("az: az ad app permission admin-consent --id x"),
            Some(("az", "az ad app permission admin-consent --id x"))
        );
        assert_eq!(
            command_in("PowerShell: Get-MgApplication -Filter \"appId eq 'x'\""),
            Some(("PowerShell", "Get-MgApplication -Filter \"appId eq 'x'\""))
        );
        // As assets/api-errors.toml words Azure SQL's fix: where to run it, then the T-SQL.
        assert_eq!(
            command_in(
                "In the database (not master), connected as its Entra admin: CREATE USER [app] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [app];"
            ),
            Some((
                "T-SQL",
                "CREATE USER [app] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [app];"
            ))
        );
        assert_eq!(command_in("Portal: App registrations › x"), None);
        assert_eq!(command_in("Add a new secret, then roll it out"), None);
    }
}
