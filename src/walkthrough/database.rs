//! The steps for an API that reads no application roles: Azure SQL admits an app through a
//! contained database user made for it, so step 6 has nothing to check, and a login SQL refuses
//! with the right token (step 7) means the app has no user in the database; the fix is the T-SQL
//! that makes one.

use super::{Setup, Status, StepId, StepReport, fixes};
use crate::diagnose::api::{ApiAnswer, ApiError};
use crate::diagnose::{Authorization, Finding, Severity};
use crate::token::DecodedToken;

/// The finding id of a SQL login refused for want of a database user.
pub(super) const LOGIN_FAILED: &str = "sql.login-failed";

const DOC: &str =
    "https://learn.microsoft.com/azure/azure-sql/database/authentication-aad-service-principal";

/// True when the API call goes to a service that decides by database users, not roles.
pub(super) fn reads_no_roles(setup: &Setup) -> bool {
    fixes::known_api(setup).is_some_and(|r| r.authorization == Authorization::DatabaseUser)
}

/// Step 6 for such an API: nothing to check; step 7 checks the database user.
pub(super) fn role_step(setup: &Setup) -> StepReport {
    let api = fixes::known_api(setup).map_or("The API", |r| r.name.as_str());
    StepReport {
        status: Status::Skipped,
        evidence: vec![
            "its service principal defines no application permission (only the delegated user_impersonation), so the token carries no roles and needs none".to_owned(),
            "an app gets in through a contained database user made for it: step 7 checks it".to_owned(),
        ],
        ..StepReport::not_yet(
            StepId::Role,
            format!("{api} reads no application roles"),
        )
    }
}

/// SQL refused the login although the token is the one it wants (the audience with its
/// slash): the app has no user in the database.
pub(super) fn login_failed(
    setup: &Setup,
    answer: &ApiAnswer,
    token: Option<&DecodedToken>,
) -> Option<Finding> {
    let api = fixes::known_api(setup).filter(|r| r.authorization == Authorization::DatabaseUser)?;
    let error = ApiError::parse(&answer.body);
    let words = [error.code.as_deref(), error.message.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ");
    if !words
        .to_ascii_lowercase()
        .contains("token-identified principal")
    {
        return None;
    }
    let said = match answer.status {
        Some(status) => format!("HTTP {status}: {words}"),
        None => words,
    };
    let aud_ok = token
        .and_then(|t| t.claims.aud.as_ref())
        .is_some_and(|aud| aud.values().iter().any(|a| api.accepts_audience(a)));
    if !aud_ok {
        // A wrong audience fails the login too; the API explainer names the scope fix.
        return None;
    }
    let name = token
        .and_then(|t| t.raw_claims.get("app_displayname"))
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| "<app display name>".to_owned(), |n| n.replace(']', "]]"));
    let tsql = create_user_tsql(&name);
    Some(
        Finding::new(LOGIN_FAILED, Severity::Error, format!("{} refused the login: the app has no user in the database", api.name))
            .cause(
                "Azure SQL reads no application roles: an app logs in through a contained database user made for it. \
                 The token is the one SQL wants (its aud has the final slash), so the database has no user for this \
                 app — or it has one for another app with the same display name",
            )
            .evidence(said)
            .fix(format!(
                "In the database, connected as a Microsoft Entra admin of the server: {tsql}"
            ))
            .fix(format!(
                "Portal: SQL server › Microsoft Entra ID › set an admin; then the database › Query editor, signed in as that admin: {tsql}"
            ))
            .doc(DOC),
    )
}

/// The T-SQL that lets app `name` log in and read.
fn create_user_tsql(name: &str) -> String {
    format!(
        "CREATE USER [{name}] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [{name}];"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tsql_makes_the_user_and_lets_it_read() {
        assert_eq!(
            create_user_tsql("contoso-daemon"),
            "CREATE USER [contoso-daemon] FROM EXTERNAL PROVIDER; ALTER ROLE db_datareader ADD MEMBER [contoso-daemon];"
        );
    }
}
