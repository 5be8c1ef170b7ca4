use serde_json::json;

use super::index::guid;
use super::judge::{self, at};
use super::*;

fn settings() -> Settings {
    Settings {
        graph_url: "https://graph.microsoft.com".into(),
        warn_days: 30,
        unused_days: 90,
        now: at("2026-11-25T12:00:00Z"),
        page_size: PAGE_SIZE,
    }
}

const APP: &str = "9999d1be-e182-4efa-8b0d-029e5af3dbcf";
const SP: &str = "300a6f54-5c99-4d8f-9339-9cdc45f7f8af";
const KEY: &str = "7b1c9e44-2d6a-4f0e-9c35-8a1f6b2d4e07";

fn indexes(sign_ins: Option<i64>) -> Indexes {
    let mut indexes = Indexes::default();
    indexes
        .service_principals
        .push(guid(APP).unwrap(), guid(SP).unwrap());
    indexes.service_principals.seal();
    indexes.service_principals_read = true;
    if let Some(last) = sign_ins {
        indexes.sign_ins.push(guid(KEY).unwrap(), last);
        indexes.sign_ins_read = true;
    }
    indexes.sign_ins.seal();
    indexes.graph_sp_id = "ffad45b2-8452-46fb-ac5a-02667df95acd".into();
    indexes
}

fn ids(app: &AppAudit) -> Vec<&str> {
    app.issues.iter().map(|i| i.id).collect()
}

#[test]
fn expired_secret_with_no_owner_names_both_fixes() {
    let value = json!({
        "id": "obj", "appId": APP, "displayName": "daemon", "signInAudience": "AzureADMyOrg",
        "owners": [],
        "passwordCredentials": [{"keyId": KEY, "hint": "AU7", "displayName": "orders-sync 2024",
            "endDateTime": "2025-06-30T00:00:00Z", "startDateTime": "2024-06-30T00:00:00Z"}],
    });
    let app = judge::app(&value, &settings(), &indexes(None), &mut |_, _| None).unwrap();
    assert_eq!(ids(&app), ["audit.secret-expired", "audit.no-owner"]);
    assert_eq!(
        app.issues[0].words,
        format!("secret 'orders-sync 2024' (AU7…, key id {KEY}) expired 513 days ago")
    );
    assert_eq!(
        app.issues[0].fix,
        [
            format!(
                "az ad app credential reset --id {APP} --append --display-name 'orders-sync 2024 (renewed)' --years 1"
            ),
            format!("az ad app credential delete --id {APP} --key-id {KEY}"),
        ]
    );
    assert!(app.needs_action());
    assert_eq!(app.credentials[0].last_used, Usage::NotReadable);
}

#[test]
fn usage_is_judged_only_where_readable() {
    let value = json!({
        "id": "obj", "appId": APP, "displayName": "daemon",
        "passwordCredentials": [{"keyId": KEY, "hint": "abc", "endDateTime": "2099-01-01T00:00:00Z",
            "startDateTime": "2025-01-01T00:00:00Z"}],
    });
    let old = at("2026-05-01T00:00:00Z").timestamp();
    let app = judge::app(&value, &settings(), &indexes(Some(old)), &mut |_, _| None).unwrap();
    assert_eq!(ids(&app), ["audit.credential-unused"]);
    assert!(
        app.issues[0].words.ends_with("last sign-in 208 days ago"),
        "{}",
        app.issues[0].words
    );
    let recent = at("2026-11-20T00:00:00Z").timestamp();
    let app = judge::app(&value, &settings(), &indexes(Some(recent)), &mut |_, _| {
        None
    })
    .unwrap();
    assert!(app.issues.is_empty(), "{:?}", app.issues);
    // Readable, but no sign-in with this key.
    let mut none = indexes(Some(recent));
    none.sign_ins = GuidMap::default();
    let app = judge::app(&value, &settings(), &none, &mut |_, _| None).unwrap();
    assert_eq!(ids(&app), ["audit.credential-never-used"]);
}

#[test]
fn delegated_on_an_app_without_redirect_uris_and_multi_tenant_without_sp() {
    let value = json!({
        "id": "obj", "appId": "11111111-2222-3333-4444-555555555555", "displayName": "x",
        "signInAudience": "AzureADMultipleOrgs",
        "web": {"redirectUris": []}, "spa": {"redirectUris": []}, "publicClient": {"redirectUris": []},
        "isFallbackPublicClient": null,
        "requiredResourceAccess": [{"resourceAppId": "00000003-0000-0000-c000-000000000000",
            "resourceAccess": [{"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"},
                               {"id": "df021288-bdef-4463-88db-98f22de89214", "type": "Role"}]}],
    });
    let app = judge::app(&value, &settings(), &indexes(None), &mut |_, id| {
        (id == "e1fe6dd8-ba31-4d61-89e7-88639da4683d").then(|| "User.Read".to_owned())
    })
    .unwrap();
    assert_eq!(
        ids(&app),
        [
            "audit.delegated-on-app-only",
            "audit.multi-tenant-no-service-principal"
        ]
    );
    assert!(app.issues[0].words.contains("User.Read"));
    assert_eq!(app.owners, None, "no owners expanded: not judged");
    // A redirect URI makes delegated permissions usable.
    let mut web = value.clone();
    web["web"]["redirectUris"] = json!(["https://app.contoso.com/signin"]);
    let app = judge::app(&web, &settings(), &indexes(None), &mut |_, _| None).unwrap();
    assert_eq!(ids(&app), ["audit.multi-tenant-no-service-principal"]);
}

#[test]
fn privileged_grant_names_the_delete() {
    let value = json!({"id": "obj", "appId": APP, "displayName": "x"});
    let mut indexes = indexes(None);
    indexes.grants.push(index::Grant {
        principal: guid(SP).unwrap(),
        role: 2,
        assignment_id: "VG8Ks0-abc".into(),
    });
    let app = judge::app(&value, &settings(), &indexes, &mut |_, _| None).unwrap();
    assert_eq!(ids(&app), ["audit.privileged-role"]);
    assert_eq!(
        app.privileged_roles[0].permission,
        "Application.ReadWrite.All"
    );
    assert_eq!(
        app.issues[0].fix,
        [
            "az rest --method DELETE --uri 'https://graph.microsoft.com/v1.0/servicePrincipals/ffad45b2-8452-46fb-ac5a-02667df95acd/appRoleAssignedTo/VG8Ks0-abc'"
        ]
    );
}

#[test]
fn absurd_dates_and_missing_fields_never_panic() {
    for end in [
        "9999-12-31T23:59:59Z",
        "1601-01-01T00:00:00Z",
        "+275760-09-13T00:00:00Z",
        "soon",
        "",
    ] {
        let value = json!({"id": "o", "appId": "a", "keyCredentials": [{"keyId": "k", "endDateTime": end}],
            "passwordCredentials": "not a list", "owners": {"not": "a list"}});
        let app = judge::app(&value, &settings(), &indexes(None), &mut |_, _| None).unwrap();
        assert_eq!(app.credentials.len(), 1);
    }
    assert!(
        judge::app(
            &json!({"displayName": "no ids"}),
            &settings(),
            &indexes(None),
            &mut |_, _| None
        )
        .is_none()
    );
    assert!(
        judge::app(&json!([1, 2]), &settings(), &indexes(None), &mut |_, _| {
            None
        })
        .is_none()
    );
}
