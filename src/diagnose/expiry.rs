//! Findings about the credential in use against its end date: expired, expiring soon, its
//! expiry (info), not registered at all; and an AADSTS7000222 told which secret expired and
//! which others still work.
//!
//! Everything named here came from Microsoft Graph (display names, hints) and is escaped
//! before it lands in a title or a fix; a key id or app id enters a suggested command only when
//! it is a GUID. The renewal commands use a fixed display name, never one Graph sent.

use chrono::{DateTime, Utc};

use super::{Finding, FixContext, Severity};
use crate::registration::Expiry;
use crate::registration::in_use::{InUse, Standing};
use crate::registration::lookup::HOW_TO_READ;

const CREDENTIALS_DOC: &str =
    "https://learn.microsoft.com/entra/identity-platform/how-to-add-credentials";
const AZ_RESET_DOC: &str =
    "https://learn.microsoft.com/cli/azure/ad/app/credential#az-ad-app-credential-reset";

/// The catalog id of an expired client secret.
pub const EXPIRED_SECRET_CODE: &str = "AADSTS7000222";

/// The finding (at most one) about the credential in use's expiry.
pub fn findings(in_use: &InUse, context: &FixContext, now: DateTime<Utc>) -> Vec<Finding> {
    if !matches!(in_use.kind, "secret" | "certificate") {
        return Vec::new();
    }
    let Some(registration) = &in_use.registration else {
        return unread(in_use).into_iter().collect();
    };
    let app_id = app_id(&registration.app_id, context);
    if registration.matched.is_empty() {
        return vec![not_registered(in_use, &app_id)];
    }
    let Some(expiry) = in_use.expiry() else {
        return Vec::new();
    };
    let lines: Vec<String> = registration
        .matched
        .iter()
        .map(|s| format!("in use: {}", describe(s)))
        .chain(
            registration
                .others
                .iter()
                .map(|s| format!("also registered: {}", describe(s))),
        )
        .collect();
    let end = registration
        .matched
        .iter()
        .filter_map(|s| s.credential.end)
        .min();
    let what = format!("The {} in use", in_use.kind);
    let dated = |words: String| match end {
        Some(_) => format!("{words} ({})", date(end)),
        None => words,
    };
    let mut finding = match expiry {
        Expiry::Expired { .. } => Finding::new(
            "credential.expired",
            Severity::Error,
            dated(format!("{what} {expiry}")),
        )
        .cause("Entra ID refuses a credential past its end date; only another one helps"),
        Expiry::ExpiresSoon { .. } => Finding::new(
            "credential.expires-soon",
            Severity::Warning,
            dated(format!("{what} {expiry}")),
        )
        .cause(format!(
            "within {} days of its end date: after it, the app gets no token",
            in_use.warn_days
        )),
        Expiry::Valid { .. } | Expiry::Unknown => Finding::new(
            "credential.expiry",
            Severity::Info,
            dated(format!("{what} {expiry}")),
        ),
    };
    for line in lines {
        finding = finding.evidence(line);
    }
    if expiry.needs_action() {
        finding = renewal_fixes(finding, in_use, &app_id, now);
    }
    vec![finding.doc(CREDENTIALS_DOC)]
}

/// Adds the expiry findings to `found`; an AADSTS7000222 among them is told which secret
/// expired and which others still work (or how to learn it), instead of a second finding.
pub fn apply(found: &mut Vec<Finding>, in_use: &InUse, context: &FixContext, now: DateTime<Utc>) {
    let mine = findings(in_use, context, now);
    let Some(refusal) = found.iter_mut().find(|f| f.id == EXPIRED_SECRET_CODE) else {
        found.extend(mine);
        return;
    };
    name_expired_secret(refusal, in_use, context, now);
    // The refusal is the verdict; a second error saying the same would only repeat it.
    found.extend(mine.into_iter().filter(|f| f.id != "credential.expired"));
}

/// An AADSTS7000222 finding, told which registered secret expired and which still work.
pub fn name_expired_secret(
    refusal: &mut Finding,
    in_use: &InUse,
    context: &FixContext,
    now: DateTime<Utc>,
) {
    let Some(registration) = in_use
        .registration
        .as_ref()
        .filter(|_| in_use.kind == "secret")
    else {
        refusal.fixes.insert(
            0,
            format!("To learn which secret expired and which others still work, {HOW_TO_READ}"),
        );
        if let Some(why) = &in_use.unread {
            refusal
                .evidence
                .push(format!("registration not read: {why}"));
        }
        return;
    };
    let app_id = app_id(&registration.app_id, context);
    let mut fixes = Vec::new();
    for expired in &registration.matched {
        refusal
            .evidence
            .push(format!("the secret in use: {}", describe(expired)));
    }
    let valid = in_use.valid_others();
    for other in &valid {
        refusal
            .evidence
            .push(format!("still valid: {}", describe(other)));
    }
    match valid.iter().find(|s| s.kind == "secret") {
        Some(secret) => fixes.push(format!(
            "Give the daemon the secret {} (hint {}…, valid until {}): its value was shown once, \
             to whoever created it; if nobody kept it, create a new one instead",
            name(secret),
            hint(secret),
            date(secret.credential.end)
        )),
        None => fixes.push(format!(
            "No other secret of the app is valid: create one and give it to the daemon: \
             az ad app credential reset --id {app_id} --append --display-name {}",
            renewal_name(now)
        )),
    }
    if registration.matched.is_empty() {
        refusal.evidence.push(format!(
            "no registered secret starts with the secret in use's first three characters (hint {}…)",
            in_use.hint.as_deref().map(clean).unwrap_or_default()
        ));
    }
    for expired in &registration.matched {
        fixes.push(format!(
            "Then delete the expired one: az ad app credential delete --id {app_id} --key-id {}",
            key_id(expired)
        ));
    }
    refusal.fixes.splice(0..0, fixes);
}

/// The ids of the findings about the credential in use's expiry.
pub const IDS: [&str; 4] = [
    "credential.expired",
    "credential.expires-soon",
    "credential.expiry",
    "credential.not-registered",
];

/// The credential in use's expiry as one line, from findings already made: the expired secret
/// an AADSTS7000222 was told of, else the expiry finding's title. For a pane beside the form.
pub fn headline(found: &[Finding]) -> Option<(Severity, String)> {
    let named = found
        .iter()
        .filter(|f| f.id == EXPIRED_SECRET_CODE)
        .find_map(|f| {
            f.evidence
                .iter()
                .find_map(|e| e.strip_prefix("the secret in use: "))
        });
    if let Some(named) = named {
        return Some((Severity::Error, named.to_owned()));
    }
    found
        .iter()
        .find(|f| IDS.contains(&f.id.as_str()))
        .map(|f| (f.severity, f.title.clone()))
}

/// One line for a checklist or a pane: the credential in use and where it stands.
pub fn summary(in_use: &InUse) -> String {
    let who = match (&in_use.hint, &in_use.thumbprint) {
        (Some(hint), _) => format!("secret {}…", clean(hint)),
        (None, Some(thumbprint)) => format!("certificate {}", clean(thumbprint)),
        (None, None) => in_use.kind.to_owned(),
    };
    if let Some(entry) = in_use.entry() {
        return format!(
            "{who} {}: {} ({})",
            name(entry),
            entry.expiry,
            date(entry.credential.end)
        );
    }
    match (&in_use.registration, in_use.local_expiry, in_use.local_end) {
        (Some(r), _, _) if r.matched.is_empty() => {
            format!("{who}: not registered on the app")
        }
        (Some(r), _, _) => format!(
            "{who}: {} registered secrets share its hint; the first {}",
            r.matched.len(),
            in_use.expiry().map(|e| e.to_string()).unwrap_or_default()
        ),
        (None, Some(expiry), Some(end)) => format!(
            "{who}: {expiry} ({}, from the file; registration not read)",
            end.format("%Y-%m-%d")
        ),
        (None, _, _) if in_use.kind == "secret" => format!(
            "{who}: expiry unknown (registration not read: {})",
            in_use.unread.as_deref().map(clean).unwrap_or_default()
        ),
        (None, _, _) => format!(
            "{who}: {}",
            in_use.unread.as_deref().unwrap_or("no end date")
        ),
    }
}

fn unread(in_use: &InUse) -> Option<Finding> {
    let why = in_use.unread.clone().unwrap_or_default();
    match (in_use.local_expiry, in_use.local_end) {
        (Some(expiry), Some(end)) => {
            // An expired certificate is preflight's `credential.certificate-expired` already.
            if matches!(expiry, Expiry::Expired { .. }) {
                return None;
            }
            let (id, severity) = if expiry.needs_action() {
                ("credential.expires-soon", Severity::Warning)
            } else {
                ("credential.expiry", Severity::Info)
            };
            Some(
                Finding::new(
                    id,
                    severity,
                    format!(
                        "The certificate in use {expiry} ({})",
                        end.format("%Y-%m-%d")
                    ),
                )
                .cause(
                    "its own end date (notAfter); whether the app registration lists it, and \
                     until when, only Graph says",
                )
                .evidence(format!("registration not read: {why}"))
                .doc(CREDENTIALS_DOC),
            )
        }
        _ => Some(
            Finding::new(
                "credential.expiry",
                Severity::Info,
                "The secret in use's expiry is unknown",
            )
            .cause(
                "a secret's end date is only in its app registration, and the registration was \
                 not read",
            )
            .evidence(format!("registration not read: {why}"))
            .fix(format!(
                "To see it (and the app's other secrets), {HOW_TO_READ}"
            ))
            .doc(CREDENTIALS_DOC),
        ),
    }
}

fn not_registered(in_use: &InUse, app_id: &str) -> Finding {
    let (title, cause) = match in_use.kind {
        "certificate" => (
            format!(
                "The certificate in use ({}) is not registered on the app",
                in_use.thumbprint.as_deref().map(clean).unwrap_or_default()
            ),
            "Entra ID only accepts an assertion signed with a registered certificate's key \
             (AADSTS700027 otherwise), whatever its own dates say",
        ),
        _ => (
            format!(
                "No registered secret starts with the secret in use's first three characters ({}…)",
                in_use.hint.as_deref().map(clean).unwrap_or_default()
            ),
            "the secret in use is not one of the app's (another app's, deleted, or mistyped): \
             Entra ID refuses it (AADSTS7000215)",
        ),
    };
    let mut finding = Finding::new("credential.not-registered", Severity::Warning, title)
        .cause(cause)
        .doc(CREDENTIALS_DOC);
    if let Some(registration) = &in_use.registration {
        for other in &registration.others {
            finding = finding.evidence(format!("registered: {}", describe(other)));
        }
    }
    let fix = if in_use.kind == "certificate" {
        format!(
            "az ad app credential reset --id {app_id} --append --cert @<the certificate>.pem \
             (the public part only)"
        )
    } else {
        "Use the secret's Value (not its Secret ID) of one of the app's registered secrets".into()
    };
    finding.fix(fix)
}

fn renewal_fixes(
    mut finding: Finding,
    in_use: &InUse,
    app_id: &str,
    now: DateTime<Utc>,
) -> Finding {
    if in_use.kind == "certificate" {
        finding = finding.fix(format!(
            "Register a new certificate beside it, then switch the daemon: az ad app credential \
             reset --id {app_id} --append --cert @<new certificate>.pem"
        ));
    } else {
        finding = finding.fix(format!(
            "Add a new secret beside it, then give it to the daemon: az ad app credential reset \
             --id {app_id} --append --display-name {}",
            renewal_name(now)
        ));
    }
    if let Some(entry) = in_use.entry() {
        finding = finding.fix(format!(
            "Then delete the old one: az ad app credential delete --id {app_id} --key-id {}{}",
            key_id(entry),
            if in_use.kind == "certificate" {
                " --cert"
            } else {
                ""
            }
        ));
    }
    finding.doc(AZ_RESET_DOC)
}

/// `secret "orders-sync 2025", hint Rt2…, key id c4e8…, valid until 2027-09-30 (expires in …)`.
pub fn describe(standing: &Standing) -> String {
    let c = &standing.credential;
    let which = match (&c.hint, &c.thumbprint) {
        (Some(_), _) => format!("hint {}…", hint(standing)),
        (None, Some(t)) => format!("thumbprint {}", clean(t)),
        (None, None) => "no hint".to_owned(),
    };
    let until = match standing.expiry {
        Expiry::Expired { .. } => format!("expired on {}", date(c.end)),
        Expiry::Unknown => "no end date".to_owned(),
        Expiry::ExpiresSoon { .. } | Expiry::Valid { .. } => {
            format!("valid until {}", date(c.end))
        }
    };
    format!(
        "{} {}, {which}, key id {}, {until} ({})",
        standing.kind,
        name(standing),
        clean(&c.key_id),
        standing.expiry
    )
}

fn name(standing: &Standing) -> String {
    standing.credential.display_name.as_deref().map_or_else(
        || "(no display name)".to_owned(),
        |n| format!("\"{}\"", clean(n)),
    )
}

fn hint(standing: &Standing) -> String {
    standing
        .credential
        .hint
        .as_deref()
        .map(clean)
        .unwrap_or_default()
}

fn date(end: Option<DateTime<Utc>>) -> String {
    end.map_or_else(|| "-".to_owned(), |d| d.format("%Y-%m-%d").to_string())
}

/// A key id in a command: a GUID, or a stand-in the operator fills.
fn key_id(standing: &Standing) -> String {
    let id = standing.credential.key_id.to_ascii_lowercase();
    if crate::auth::tenant::is_guid(&id) {
        id
    } else {
        "<key-id>".to_owned()
    }
}

/// The app id in a command: Graph's when it is a GUID, else the request's.
fn app_id(graph_app_id: &str, context: &FixContext) -> String {
    let id = graph_app_id.to_ascii_lowercase();
    if crate::auth::tenant::is_guid(&id) {
        id
    } else {
        context.render("{client_id}")
    }
}

/// A fixed, dated display name: nothing Graph sent goes into a command line.
fn renewal_name(now: DateTime<Utc>) -> String {
    format!("entra-doctor-{}", now.format("%Y-%m-%d"))
}

/// Text from Graph on one line, hidden characters visible, secrets scrubbed.
fn clean(text: &str) -> String {
    crate::scrub::printable_line(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registration::AppCredentials;
    use crate::registration::in_use::Presented;
    use serde_json::json;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn app(secrets: &serde_json::Value) -> AppCredentials {
        AppCredentials::from_graph(&json!({
            "id": "obj", "appId": "89651b37-2886-47fc-946d-d19aaf0db309", "displayName": "daemon",
            "passwordCredentials": secrets
        }))
        .unwrap()
    }

    fn refusal() -> Finding {
        Finding::new(
            EXPIRED_SECRET_CODE,
            Severity::Error,
            "Client secret expired",
        )
        .fix("catalog fix")
    }

    #[test]
    fn an_expired_secret_is_named_with_the_one_still_valid() {
        let now = at("2026-01-05T00:00:00Z");
        let app = app(&json!([
            {"keyId": "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07", "hint": "AU7", "displayName": "orders-sync 2024",
             "endDateTime": "2025-06-30T00:00:00Z"},
            {"keyId": "c4e8a2f6-1b3d-4a5c-8e7f-9d0b2c4e6a81", "hint": "Rt2", "displayName": "orders-sync 2025",
             "endDateTime": "2027-09-30T00:00:00Z"}
        ]));
        let in_use = InUse::matched(&Presented::Secret { hint: "AU7".into() }, Ok(&app), now, 30);
        let mut found = vec![refusal()];
        apply(&mut found, &in_use, &FixContext::default(), now);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert!(f.evidence[0].contains("\"orders-sync 2024\", hint AU7…, key id 7b1c9e44"));
        assert!(f.evidence[0].contains("expired on 2025-06-30"));
        assert!(f.evidence[1].contains("still valid: secret \"orders-sync 2025\", hint Rt2…"));
        assert!(f.fixes[0].contains(
            "Give the daemon the secret \"orders-sync 2025\" (hint Rt2…, valid until 2027-09-30)"
        ));
        assert!(f.fixes[1].ends_with(
            "az ad app credential delete --id 89651b37-2886-47fc-946d-d19aaf0db309 --key-id 7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07"
        ));
        assert_eq!(f.fixes[2], "catalog fix");
    }

    #[test]
    fn no_valid_secret_left_says_reset() {
        let now = at("2026-01-05T00:00:00Z");
        let app = app(&json!([
            {"keyId": "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07", "hint": "AU7", "endDateTime": "2025-06-30T00:00:00Z"}
        ]));
        let in_use = InUse::matched(&Presented::Secret { hint: "AU7".into() }, Ok(&app), now, 30);
        let mut refused = refusal();
        name_expired_secret(&mut refused, &in_use, &FixContext::default(), now);
        assert!(refused.fixes[0].contains(
            "az ad app credential reset --id 89651b37-2886-47fc-946d-d19aaf0db309 --append --display-name entra-doctor-2026-01-05"
        ));
    }

    #[test]
    fn without_graph_the_catalog_words_stay_and_say_how_to_learn_the_names() {
        let now = at("2026-01-05T00:00:00Z");
        let in_use = InUse::matched(
            &Presented::Secret { hint: "AU7".into() },
            Err("no admin app".into()),
            now,
            30,
        );
        let mut found = vec![refusal()];
        apply(&mut found, &in_use, &FixContext::default(), now);
        let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, [EXPIRED_SECRET_CODE, "credential.expiry"]);
        assert!(found[0].fixes[0].contains("--admin-client-id"));
        assert_eq!(found[0].fixes[1], "catalog fix");
    }

    #[test]
    fn hostile_names_are_escaped_and_odd_key_ids_stay_out_of_commands() {
        let now = at("2026-01-05T00:00:00Z");
        let app = app(&json!([
            {"keyId": "k; rm -rf /", "hint": "AU7", "displayName": "evil\u{1b}[2J\nname",
             "endDateTime": "2026-01-10T00:00:00Z"}
        ]));
        let in_use = InUse::matched(&Presented::Secret { hint: "AU7".into() }, Ok(&app), now, 30);
        let found = findings(&in_use, &FixContext::default(), now);
        assert_eq!(found[0].id, "credential.expires-soon");
        let f = &found[0];
        let texts = [&f.title, &f.cause]
            .into_iter()
            .chain(&f.evidence)
            .chain(&f.fixes);
        for text in texts {
            assert!(!text.contains(['\u{1b}', '\n']), "{text:?}");
        }
        assert!(found[0].fixes.iter().all(|f| !f.contains("rm -rf")));
        assert!(
            found[0]
                .fixes
                .iter()
                .any(|f| f.contains("--key-id <key-id>"))
        );
    }
}
