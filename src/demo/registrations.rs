//! App registrations the demo tenant holds for the tenant audit only (no lesson, no handout):
//! one per state the audit reports — a secret expiring in 12 days, one expired 3 days ago, a
//! certificate expiring, a credential never used and one unused for 200 days, no owner,
//! privileged Graph permissions, delegated permissions on an app with no redirect URI, a
//! multi-tenant app with no service principal, and a healthy one — plus `--synthetic-apps N`
//! generated ones, computed from their index when a page asks for them (never stored).
//!
//! Their dates are days from the demo's clock (`ENTRA_DOCTOR_NOW`, else now), half a day past
//! the whole day, so "expires in 12 days" reads the same whenever the demo runs.

use chrono::{DateTime, Duration, Utc};

/// One credential: key id, hint (secrets) or SHA-1 thumbprint hex (certificates), display
/// name, end in days from the clock, last sign-in in days before it (`None`: never).
pub(super) struct Credential {
    pub key_id: &'static str,
    pub hint_or_thumbprint: &'static str,
    pub display_name: &'static str,
    pub ends_in_days: i64,
    pub last_sign_in_days_ago: Option<i64>,
}

pub(super) struct Registration {
    pub display_name: &'static str,
    pub app_id: &'static str,
    pub object_id: &'static str,
    /// Its service principal here (`None`: the app has none in this tenant).
    pub service_principal_id: Option<&'static str>,
    pub sign_in_audience: &'static str,
    pub owners: &'static [&'static str],
    pub secrets: &'static [Credential],
    pub certificates: &'static [Credential],
    /// Graph application permissions granted (values of Graph's app roles).
    pub graph_roles: &'static [&'static str],
    /// Graph delegated permissions requested (values of its scopes).
    pub graph_scopes: &'static [&'static str],
    pub redirect_uri: Option<&'static str>,
}

/// The demo administrator who owns most registrations.
pub(super) const OWNER: &str = "6e1b3f2a-4c8d-4e5f-9a7b-1c2d3e4f5a6b";

pub(super) const REGISTRATIONS: &[Registration] = &[
    Registration {
        display_name: "contoso-payroll-export",
        app_id: "2b7e5c1a-8f3d-4a6b-9c2e-5d1f7a3b9e04",
        object_id: "c1a5e7b2-3d9f-4b8a-a6c4-2e8f1d7b5a93",
        service_principal_id: Some("5d2a8f4c-1e7b-4c9d-b3a6-8f2e4d1c7b05"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[OWNER],
        secrets: &[Credential {
            key_id: "a3f1c7e5-2b9d-4e8a-8c6f-4d2b9e7a1c36",
            hint_or_thumbprint: "Pay",
            display_name: "payroll-export 2025",
            ends_in_days: 12,
            last_sign_in_days_ago: Some(2),
        }],
        certificates: &[],
        graph_roles: &["User.Read.All"],
        graph_scopes: &[],
        redirect_uri: None,
    },
    Registration {
        display_name: "contoso-legacy-reports",
        app_id: "7c4e2a9b-5f1d-4b3e-8a7c-9e6d2f4b1a87",
        object_id: "e9b3d1f7-6a2c-4e5b-9d8f-3c7a1e5b9d21",
        service_principal_id: Some("8a6c4e2f-9b7d-4f1a-a5c3-1e9b7d5f3a62"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[],
        secrets: &[
            Credential {
                key_id: "d7b5a3f1-9e2c-4c6a-b8d4-6f1a3c9e7b58",
                hint_or_thumbprint: "Leg",
                display_name: "reports 2023",
                ends_in_days: -3,
                last_sign_in_days_ago: Some(4),
            },
            Credential {
                key_id: "f2d8b6a4-3c1e-4a9f-8e7d-5b3f1d9c7a24",
                hint_or_thumbprint: "Rp2",
                display_name: "reports spare",
                ends_in_days: 400,
                last_sign_in_days_ago: Some(200),
            },
        ],
        certificates: &[],
        graph_roles: &[],
        graph_scopes: &[],
        redirect_uri: None,
    },
    Registration {
        display_name: "contoso-invoice-signer",
        app_id: "4e8a6c2d-1b9f-4d7e-a3c5-7f2b8e4d6a19",
        object_id: "b4f8d2a6-7c3e-4b1f-8d9a-6e2c4a8f1b37",
        service_principal_id: Some("3f9d7b5e-2a4c-4e8b-9f1d-7c5a3e9b2d46"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[OWNER, "9a2c4e6f-8b1d-4f3a-b7c5-2d4f6a8c1e93"],
        secrets: &[],
        certificates: &[Credential {
            key_id: "c8e6a4d2-5f3b-4d1c-9a7e-3b1d5f9c7e62",
            hint_or_thumbprint: "3C9A1F7E5B2D8C4A6E0F1B3D5C7A9E2F4B6D8A1C",
            display_name: "CN=invoice-signer",
            ends_in_days: 20,
            last_sign_in_days_ago: Some(1),
        }],
        graph_roles: &[],
        graph_scopes: &[],
        redirect_uri: None,
    },
    Registration {
        display_name: "contoso-hr-sync",
        app_id: "9d1f3b5a-7e2c-4a6d-b8f4-1c3e5a7d9b20",
        object_id: "a7c1e5b9-4d8f-4a2c-9e6b-5f1d3b7a9c84",
        service_principal_id: Some("6b8d2f4a-1c9e-4b7d-a3f5-9e1c7b3d5f17"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[OWNER],
        secrets: &[Credential {
            key_id: "e4a2c8f6-7b5d-4f3e-8c1a-9d7b5f3e1a40",
            hint_or_thumbprint: "Hrs",
            display_name: "hr-sync",
            ends_in_days: 400,
            last_sign_in_days_ago: None,
        }],
        certificates: &[],
        graph_roles: &[],
        graph_scopes: &[],
        redirect_uri: None,
    },
    Registration {
        display_name: "contoso-directory-admin-tool",
        app_id: "1a3c5e7b-9d2f-4c4a-8b6e-3f5d7a9c1e52",
        object_id: "d2e6a4c8-1f7b-4d5e-b9a3-8c6e2a4f7d15",
        service_principal_id: Some("4c6e8a2d-5f1b-4a3c-9d7e-2b4d6f8a1c39"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[OWNER],
        secrets: &[Credential {
            key_id: "b1d9f7e5-6c4a-4b2d-a8e6-4f2a8c6e4b71",
            hint_or_thumbprint: "Dir",
            display_name: "admin-tool",
            ends_in_days: 300,
            last_sign_in_days_ago: Some(0),
        }],
        certificates: &[],
        graph_roles: &["Directory.ReadWrite.All", "Application.ReadWrite.All"],
        graph_scopes: &[],
        redirect_uri: None,
    },
    Registration {
        display_name: "contoso-mail-digest",
        app_id: "5f7b9d1e-3a6c-4e8f-9b2d-6a8c1e3f5b74",
        object_id: "f6a2c4e8-9b1d-4f7a-8e3c-1a5e9c3b7f26",
        service_principal_id: Some("7e9b1d3f-4a6c-4c8e-b2f4-5d7a9c1e3b68"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[OWNER],
        secrets: &[Credential {
            key_id: "a9c7e5b3-1d8f-4e6a-9c4b-2e8d6a4c2f93",
            hint_or_thumbprint: "Mdg",
            display_name: "mail-digest",
            ends_in_days: 500,
            last_sign_in_days_ago: Some(1),
        }],
        certificates: &[],
        graph_roles: &[],
        graph_scopes: &["User.Read", "User.Read.All"],
        redirect_uri: None,
    },
    Registration {
        display_name: "contoso-partner-portal",
        app_id: "8b2d4f6a-1c3e-4a5b-8d7f-9e1b3d5a7c41",
        object_id: "c3e7a1d5-8f2b-4c9e-a4d6-7b3f9e1c5a82",
        service_principal_id: None,
        sign_in_audience: "AzureADMultipleOrgs",
        owners: &[OWNER],
        secrets: &[Credential {
            key_id: "d5f3b1a9-7e4c-4d2b-b6a8-1c9e7a5d3f16",
            hint_or_thumbprint: "Prt",
            display_name: "portal",
            ends_in_days: 600,
            last_sign_in_days_ago: Some(3),
        }],
        certificates: &[],
        graph_roles: &[],
        graph_scopes: &["User.Read"],
        redirect_uri: Some("https://partners.contoso-demo.example/signin-oidc"),
    },
    Registration {
        display_name: "contoso-nightly-batch",
        app_id: "3e5a7c9b-2d4f-4b6e-a8c1-4f6b8d2a9e35",
        object_id: "e1b5d9a3-6c2f-4e8b-9a7d-3f1c5e7b9a48",
        service_principal_id: Some("9c1e3a5b-7d9f-4b2a-8e4c-6a8e2c4f7b93"),
        sign_in_audience: "AzureADMyOrg",
        owners: &[OWNER],
        secrets: &[Credential {
            key_id: "f8a6d4b2-2e9c-4a7f-b5d3-8c6a4e2b9f57",
            hint_or_thumbprint: "Ngt",
            display_name: "batch 2026",
            ends_in_days: 700,
            last_sign_in_days_ago: Some(0),
        }],
        certificates: &[],
        graph_roles: &["User.Read.All"],
        graph_scopes: &[],
        redirect_uri: None,
    },
];

/// The moment `days` whole days (and half a day) from `clock`.
pub(super) fn days_from(clock: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let half = if days < 0 {
        -Duration::hours(12)
    } else {
        Duration::hours(12)
    };
    clock + Duration::days(days) + half
}

/// A synthetic app's client id, object id and service principal id: GUIDs made of its index.
pub(super) fn synthetic_ids(index: u64) -> (String, String, String) {
    let id = |kind: u16| format!("5e5e{kind:04x}-0000-4000-8000-{index:012x}");
    (id(1), id(2), id(3))
}

/// A synthetic app's secret: ends in `-30 .. 700` days, last used `0 .. 179` days ago, so about
/// 4 % are expired, 4 % expiring, and a third unused for 90 days.
pub(super) fn synthetic_secret(index: u64) -> (String, i64, i64) {
    let key_id = format!("5e5e0004-0000-4000-8000-{index:012x}");
    let ends = i64::try_from(index.wrapping_mul(37) % 731).unwrap_or(0) - 30;
    let used = i64::try_from(index.wrapping_mul(13) % 180).unwrap_or(0);
    (key_id, ends, used)
}

/// Every 50th synthetic app has no owner; every 100th is multi-tenant without a service
/// principal.
pub(super) fn synthetic_has_owner(index: u64) -> bool {
    index % 50 != 7
}

pub(super) fn synthetic_has_service_principal(index: u64) -> bool {
    index % 100 != 13
}
