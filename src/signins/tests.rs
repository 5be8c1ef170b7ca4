use chrono::{DateTime, Utc};
use pretty_assertions::assert_eq;

use super::*;
use crate::diagnose::{FixContext, Severity};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The first entry of "Example 1: List all sign-ins", shortened, from Graph's own reference:
/// microsoftgraph/microsoft-graph-docs-contrib `api-reference/beta/api/signin-list.md`
/// (commit 01746a3), <https://learn.microsoft.com/graph/api/signin-list?view=graph-rest-beta>.
const DOCUMENTED: &str = r#"{
  "@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns",
  "value": [
    {
      "id":"1691d37b-8579-43a7-966a-0f35583c1300",
      "createdDateTime":"2021-06-30T16:34:32Z",
      "appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
      "appDisplayName":"Azure Portal",
      "ipAddress":"131.107.159.37",
      "correlationId":"5d295068-919b-4017-85d8-44be2f5f5483",
      "conditionalAccessStatus":"notApplied",
      "resourceDisplayName":"Windows Azure Service Management API",
      "resourceId":"797f4846-ba00-4fd7-ba43-dac1f8f63013",
      "signInEventTypes":["interactiveUser"],
      "servicePrincipalId":"",
      "status":{
          "errorCode":50126,
          "failureReason":"Error validating credentials due to invalid username or password.",
          "additionalDetails":"The user didn't enter the right credentials. \u00a0It's expected to see some number of these errors in your logs due to users making mistakes."
        },
      "appliedConditionalAccessPolicies":[]
    }
  ]
}"#;

#[test]
fn the_documented_example_reads_into_a_sign_in() {
    let page: serde_json::Value = serde_json::from_str(DOCUMENTED).unwrap();
    let entry: SignIn = serde_json::from_value(page["value"][0].clone()).unwrap();
    assert_eq!(entry.error_code(), Some(50126));
    assert_eq!(entry.ip_address.as_deref(), Some("131.107.159.37"));
    assert_eq!(
        entry.resource_display_name.as_deref(),
        Some("Windows Azure Service Management API")
    );
    assert_eq!(entry.applied_conditional_access_policies, Some(Vec::new()));
    assert_eq!(entry.credential(), "none recorded");
    assert!(entry.blocking_policies().is_empty());
}

#[test]
fn the_filter_names_service_principals_and_each_condition() {
    let query = Query {
        correlation_id: Some("5D295068-919B-4017-85D8-44BE2F5F5483".into()),
        app_id: Some("9999d1be-e182-4efa-8b0d-029e5af3dbcf".into()),
        since: Some(now()),
        top: 10,
    };
    query.validate().unwrap();
    assert_eq!(
        query.filter(),
        "signInEventTypes/any(t: t eq 'servicePrincipal') and correlationId eq \
         '5d295068-919b-4017-85d8-44be2f5f5483' and appId eq \
         '9999d1be-e182-4efa-8b0d-029e5af3dbcf' and createdDateTime ge 2026-12-01T10:00:00Z"
    );
    let url = query.url("https://graph.microsoft.com/");
    assert!(
        url.starts_with("https://graph.microsoft.com/beta/auditLogs/signIns?%24filter=signInEventTypes%2Fany%28t%3A+t+eq+%27servicePrincipal%27%29"),
        "{url}"
    );
    assert!(url.ends_with("&%24top=10"), "{url}");
}

#[test]
fn anything_but_a_guid_is_refused_before_it_reaches_a_filter() {
    for bad in [
        "x' or appId ne '",
        "5d295068-919b-4017-85d8-44be2f5f548",
        "5d295068-919b-4017-85d8-44be2f5f5483 ",
        "\u{1b}[31m",
    ] {
        let query = Query {
            correlation_id: Some(bad.into()),
            top: 10,
            ..Query::default()
        };
        let error = query.validate().unwrap_err().to_string();
        assert!(error.contains("is not a GUID"), "{error}");
        assert!(!error.contains('\u{1b}'), "{error}");
    }
    let nothing = Query {
        top: 10,
        ..Query::default()
    };
    assert!(
        nothing
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--correlation-id")
    );
    let too_many = Query {
        app_id: Some("9999d1be-e182-4efa-8b0d-029e5af3dbcf".into()),
        top: 100_000,
        ..Query::default()
    };
    assert!(too_many.validate().is_err());
}

#[test]
fn since_reads_durations_and_dates_and_refuses_nonsense() {
    assert_eq!(
        parse_since("2h", now()).unwrap(),
        now() - chrono::Duration::hours(2)
    );
    assert_eq!(
        parse_since("2026-11-30", now()).unwrap().to_rfc3339(),
        "2026-11-30T00:00:00+00:00"
    );
    assert_eq!(
        parse_since("2026-11-30T08:00:00+02:00", now())
            .unwrap()
            .to_rfc3339(),
        "2026-11-30T06:00:00+00:00"
    );
    for bad in ["", "h", "2y", "99999999999999d", "-1d", "yesterday", "45d"] {
        assert!(parse_since(bad, now()).is_err(), "{bad}");
    }
}

fn service_principal_entry() -> SignIn {
    serde_json::from_value(serde_json::json!({
        "createdDateTime": "2026-12-01T09:58:00Z",
        "appId": "89651b37-2886-47fc-946d-d19aaf0db309",
        "appDisplayName": "contoso-demo-expired-secret-daemon",
        "correlationId": "0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90",
        "ipAddress": "127.0.0.1",
        "resourceDisplayName": "Microsoft Graph",
        "status": {"errorCode": 7_000_222, "failureReason": "The provided client secret keys are expired."},
        "clientCredentialType": "clientSecret",
        "servicePrincipalCredentialKeyId": "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07",
        "conditionalAccessStatus": "failure",
        "appliedConditionalAccessPolicies": [
            {"id": "p1", "displayName": "Block workload identities outside Contoso", "result": "failure", "enforcedGrantControls": ["Block"]},
            {"id": "p2", "displayName": "Report only", "result": "reportOnlyFailure", "enforcedGrantControls": []}
        ]
    }))
    .unwrap()
}

#[test]
fn the_credential_is_named_by_its_kind_and_key() {
    let mut entry = service_principal_entry();
    assert_eq!(
        entry.credential(),
        "client secret, key id 7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07"
    );
    entry.client_credential_type = Some("certificate".into());
    entry.service_principal_credential_thumbprint = Some("AB12".into());
    assert_eq!(
        entry.credential(),
        "certificate, thumbprint AB12, key id 7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07"
    );
    entry.client_credential_type = Some("managedIdentity".into());
    entry.managed_service_identity = Some(ManagedIdentity {
        msi_type: Some("userAssigned".into()),
        associated_resource_id: None,
    });
    assert_eq!(entry.credential(), "managed identity, type userAssigned");
}

#[test]
fn a_failure_is_explained_by_its_code_and_the_policy_that_blocked_it() {
    let entry = service_principal_entry();
    let query = Query {
        correlation_id: entry.correlation_id.clone(),
        top: 10,
        ..Query::default()
    };
    let found = findings(&[entry], &query, &FixContext::default());
    let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["signins.blocked-by-conditional-access", "AADSTS7000222"]
    );
    assert!(
        found[0]
            .title
            .contains("Block workload identities outside Contoso")
    );
    assert!(
        found[1]
            .evidence
            .iter()
            .any(|e| e.contains("client secret keys are expired"))
    );
}

#[test]
fn nothing_found_says_the_log_lags() {
    let query = Query {
        correlation_id: Some("0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90".into()),
        top: 10,
        ..Query::default()
    };
    let found = findings(&[], &query, &FixContext::default());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "signins.none-yet");
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].cause.contains("minutes"));
}

#[test]
fn graph_refusals_name_the_permission_or_the_licence() {
    let missing = denied(
        403,
        "Authentication_MSGraphPermissionMissing: Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        "https://graph.microsoft.com/beta/auditLogs/signIns",
        "9999d1be-e182-4efa-8b0d-029e5af3dbcf",
    );
    assert_eq!(missing.id, "signins.permission-missing");
    assert!(
        missing
            .title
            .contains("AuditLog.Read.All (application permission, admin consent)")
    );
    assert!(missing.cause.contains("no directory role"));
    let unlicensed = denied(
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant doesn't have premium license",
        "https://graph.microsoft.com/beta/auditLogs/signIns",
        "9999d1be-e182-4efa-8b0d-029e5af3dbcf",
    );
    assert_eq!(unlicensed.id, "signins.tenant-not-premium");
    assert!(unlicensed.title.contains("P1 or P2"));
}

/// The TUI and `doctor` find the sign-in to offer where the catalog puts Entra ID's correlation
/// id: the evidence of the refusal's AADSTS finding.
#[test]
fn the_correlation_id_of_a_refusal_is_found_in_its_finding() {
    let refusal = crate::auth::EntraError {
        status: 401,
        error: "invalid_client".into(),
        error_codes: vec![7_000_222],
        correlation_id: Some("0C1D5D2E-4A8B-4F37-9D7E-2B1F8A6C3E90".into()),
        ..crate::auth::EntraError::default()
    };
    let finding = crate::diagnose::Catalog::builtin().explain(&refusal, &FixContext::default());
    let api = Finding::new("api.forbidden", Severity::Error, "403")
        .evidence("correlation id: 11111111-2222-4333-8444-555555555555");
    assert_eq!(
        correlation_in([&api, &finding]),
        Some("0c1d5d2e-4a8b-4f37-9d7e-2b1f8a6c3e90".to_owned())
    );
    // An API's correlation id is not a sign-in; a value that is no GUID is not looked up.
    assert_eq!(correlation_in([&api]), None);
    let odd = Finding::new("AADSTS7000222", Severity::Error, "expired")
        .evidence("correlation id: 0c1d5d2e' or 1 eq 1");
    assert_eq!(correlation_in([&odd]), None);
}
