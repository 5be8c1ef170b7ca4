//! The public corpus (`tests/fixtures/real-world/`): failure texts as admins paste them — bodies,
//! raw responses, headers, SDK exceptions, CLI and Terraform log lines, tokens — each copied from
//! a public source named in the index beside it. Every case is explained as `entra-doctor explain`
//! explains it; the first finding must be the expected one and must name the real cause.

use std::path::{Path, PathBuf};

use chrono::DateTime;
use entra_doctor::auth::scope::resource_of;
use entra_doctor::diagnose::FixContext;
use entra_doctor::diagnose::explain::{Extra, explain};
use serde::Deserialize;

use crate::cli::entra_doctor;
use crate::support::{NOW, fixture};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    source: String,
    what: String,
    /// The id of the finding that must come first.
    expect: String,
    /// Phrases naming the real cause; the first finding's title, cause and fixes carry each.
    mentions: Vec<String>,
    /// Ids of further findings that must be there too.
    #[serde(default)]
    also: Vec<String>,
    scope: Option<String>,
    url: Option<String>,
}

fn corpus() -> PathBuf {
    fixture("real-world")
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut indexes: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    indexes.sort();
    for index in indexes {
        let text = std::fs::read_to_string(&index).unwrap();
        let parsed: Index =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", index.display()));
        cases.extend(parsed.case);
    }
    cases
}

/// What went wrong with one case, or `None` when it is explained as expected.
fn check(case: &Case) -> Option<String> {
    let text =
        String::from_utf8_lossy(&std::fs::read(corpus().join(&case.file)).unwrap()).into_owned();
    let extra = Extra {
        scope: case.scope.as_deref(),
        url: case.url.as_deref(),
        token: None,
        context: FixContext {
            resource: case.scope.as_deref().map(|s| resource_of(s).to_owned()),
            scope: case.scope.clone(),
            ..FixContext::default()
        },
    };
    let now = DateTime::from_timestamp(NOW, 0).unwrap();
    let findings = match explain(&text, &extra, now) {
        Ok((_, findings)) => findings,
        Err(e) => return Some(format!("refused: {e}")),
    };
    let Some(first) = findings.first() else {
        return Some("no findings".into());
    };
    if first.id != case.expect {
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        return Some(format!("first finding {} (all: {ids:?})", first.id));
    }
    let absent: Vec<&String> = case
        .also
        .iter()
        .filter(|id| !findings.iter().any(|f| &f.id == *id))
        .collect();
    if !absent.is_empty() {
        return Some(format!("no {absent:?} among the findings"));
    }
    let said = format!("{} {} {}", first.title, first.cause, first.fixes.join(" ")).to_lowercase();
    let missing: Vec<&String> = case
        .mentions
        .iter()
        .filter(|m| !said.contains(&m.to_lowercase()))
        .collect();
    (!missing.is_empty()).then(|| format!("{} does not mention {missing:?}", first.id))
}

#[test]
fn every_real_world_failure_is_explained_with_its_real_cause() {
    let cases = cases();
    assert!(cases.len() >= 80, "the corpus holds {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).map(|why| format!("{} ({}): {why}", case.file, case.what)))
        .collect();
    eprintln!(
        "real-world corpus: {} of {} cases explained as expected",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_is_sourced_and_every_file_indexed() {
    let cases = cases();
    let mut indexed: Vec<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    for case in &cases {
        assert!(
            case.source.starts_with("https://") || case.source.starts_with("http://"),
            "{}",
            case.file
        );
        assert!(!case.mentions.is_empty(), "{}: no mentions", case.file);
        assert!(
            Path::new(&corpus().join(&case.file)).is_file(),
            "{} is missing",
            case.file
        );
    }
    indexed.sort_unstable();
    let before = indexed.len();
    indexed.dedup();
    assert_eq!(before, indexed.len(), "a file is indexed twice");
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.extension().is_none_or(|e| e != "toml") {
            assert!(
                indexed.contains(&name.as_str()),
                "{name} is not in an index"
            );
        }
    }
}

/// As an operator runs it: a log line is explained (exit 0), never refused as unreadable.
#[test]
fn explain_reads_pasted_log_lines_from_the_cli() {
    for file in [
        "terraform-403-authorization-failed-providers-list.txt",
        "storage-403-authorization-permission-mismatch-python.txt",
        "keyvault-403-forbidden-by-rbac-terraform-autorest.txt",
    ] {
        let output = entra_doctor()
            .args(["explain", "-o", "json"])
            .arg(corpus().join(file))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(!json["findings"].as_array().unwrap().is_empty(), "{file}");
    }
}

fn explained(text: &str, scope: Option<&str>) -> Vec<entra_doctor::diagnose::Finding> {
    let extra = Extra {
        scope,
        context: FixContext {
            resource: scope.map(|s| resource_of(s).to_owned()),
            scope: scope.map(str::to_owned),
            ..FixContext::default()
        },
        ..Extra::default()
    };
    explain(text, &extra, DateTime::from_timestamp(NOW, 0).unwrap())
        .unwrap()
        .1
}

fn read_case(file: &str) -> String {
    std::fs::read_to_string(corpus().join(file)).unwrap()
}

/// Rules read the whole text: Batch's audiences come out whole, never cut before parsing.
#[test]
fn issue_13_batch_audiences_are_read_whole() {
    let findings = explained(
        &read_case("batch-401-audience-forward-slash-dotnet.txt"),
        None,
    );
    let first = &findings[0];
    assert_eq!(first.id, "audience.trailing-slash");
    assert!(
        first.title.contains("https://batch.core.windows.net/"),
        "{}",
        first.title
    );
    assert!(
        first
            .evidence
            .contains(&"token aud: https://batch.core.windows.net".to_owned())
    );
}

/// SQL answers over TDS: with the slash-less scope known, the slash is the cause; without it,
/// the missing contained database user is named beside the slash.
#[test]
fn issue_13_sql_login_failure_names_the_slash_or_the_database_user() {
    let text = read_case("sql-login-failed-token-principal-dotnet-sp.txt");
    let with_scope = explained(&text, Some("https://database.windows.net/.default"));
    assert_eq!(with_scope[0].id, "audience.trailing-slash");
    assert!(with_scope[0].fixes[0].contains("https://database.windows.net//.default"));
    let without = explained(&text, None);
    assert_eq!(without[0].id, "sql.login-failed");
    assert!(without[0].fixes[0].contains("FROM EXTERNAL PROVIDER"));
    // A scope with the slash already: the user is what is missing.
    let slashed = explained(&text, Some("https://database.windows.net//.default"));
    assert_eq!(slashed[0].id, "sql.login-failed");
}

/// Every challenge that carries claims= is a claims challenge, whatever its error says.
#[test]
fn issue_13_a_cae_challenge_is_a_claims_challenge() {
    let findings = explained(
        &read_case("entra-401-claims-challenge-docs-example.http"),
        None,
    );
    assert_eq!(findings[0].id, "api.claims-challenge");
}

/// ARM's denial names everything the fix needs: it comes back in the az command.
#[test]
fn issue_13_arm_denial_fix_carries_the_ids_from_the_message() {
    let findings = explained(
        &read_case("arm-403-authorization-failed-azcli-group-create.txt"),
        None,
    );
    let first = &findings[0];
    assert_eq!(first.id, "arm.authorization-failed");
    assert_eq!(
        first.labelled_fix("az"),
        Some(
            "az role assignment create --assignee-object-id 8597a987-9608-4583-9082-5ee81471fc59 \
             --role \"Contributor\" \
             --scope /subscriptions/18974119-7a45-4077-9932-f95c83cee0e3/resourcegroups/myResourceGroup"
        )
    );
    // The source redacted its ids: the fix says what to fill in, never a redaction as an id.
    let findings = explained(
        &read_case("terraform-403-authorization-failed-providers-list.txt"),
        None,
    );
    let az = findings[0].labelled_fix("az").unwrap();
    assert!(az.contains("--assignee-object-id <object-id>"), "{az}");
}

/// No rule knows it, and still it is not silent: the fallback names what it recognised.
#[test]
fn issue_13_an_unknown_service_error_still_gets_a_finding() {
    let findings = explained(
        "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n\r\n{\"error\":{\"code\":\"EntraDoctorTestOnlyCode\",\"message\":\"test input\"}}",
        None,
    );
    assert_eq!(findings.len(), 1);
    let finding = &findings[0];
    assert_eq!(finding.id, "failure.unrecognised");
    assert!(
        finding.title.contains("HTTP 409, EntraDoctorTestOnlyCode"),
        "{}",
        finding.title
    );
    assert!(
        finding.cause.starts_with("Not a diagnosis"),
        "{}",
        finding.cause
    );
    // A log line with nothing but a failure word is still read as one.
    let findings = explained("ERROR: upload failed: connection reset by peer", None);
    assert_eq!(findings[0].id, "failure.unrecognised");
}
