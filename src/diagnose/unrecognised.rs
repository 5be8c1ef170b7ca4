//! The finding for a failure no rule knows: never silent. It names what was recognised (the
//! service, status, code and ids), what that class of error usually means, and what to check
//! next, and says plainly that it is the usual meaning of the class, not a diagnosis.

use super::extract::Scan;
use super::service_errors::{ServiceErrors, Subject};
use super::{Finding, FixContext, Severity};

/// `status` is the HTTP status, when one is known.
pub fn finding(
    subject: &Subject,
    status: Option<u16>,
    scan: &Scan,
    context: &FixContext,
) -> Finding {
    let known = ServiceErrors::builtin();
    let service = known.service_of(subject);
    let code = subject.codes.first();
    let who = service.map_or("The service", |s| s.name.as_str());
    let what = match (status, code) {
        (Some(status), Some(code)) => format!("HTTP {status}, {code}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, Some(code)) => code.clone(),
        (None, None) => "an error".to_owned(),
    };
    let severity = if status.is_some() || code.is_some() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let class = known.class(status);
    let mut finding = Finding::new(
        "failure.unrecognised",
        severity,
        format!("{who} refused the request ({what}); entra-doctor has no rule for this one"),
    )
    .cause(format!(
        "Not a diagnosis: entra-doctor recognised the failure but knows no rule for it, so this is what \
         such an error usually means. {}",
        class.map_or("", |c| c.meaning.as_str())
    ));
    let mut read = Vec::new();
    if let Some(service) = service {
        read.push(format!("service {}", service.name));
    }
    if let Some(status) = status {
        read.push(format!("HTTP {status}"));
    }
    if !subject.codes.is_empty() {
        read.push(format!("code {}", subject.codes.join(", ")));
    }
    if !read.is_empty() {
        finding = finding.evidence(format!("recognised: {}", read.join("; ")));
    }
    finding = finding.evidence(super::service_errors::said(subject));
    for (label, id) in &scan.ids {
        finding = finding.evidence(format!("{label}: {id}"));
    }
    for check in class.map(|c| c.check.as_slice()).unwrap_or_default() {
        finding = finding.fix(context.render(check));
    }
    finding
}
