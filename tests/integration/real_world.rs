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
