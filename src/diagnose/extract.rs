//! The failure inside whatever was pasted: a log line, an exception with its stack trace, an SDK's
//! error printout, several errors in a row, JSON quoted inside a string.
//!
//! [`scan`] reads the whole text (never a shortened copy) and pulls out what a diagnosis needs:
//! the HTTP status, the service's error codes and message, AADSTS codes, request and correlation
//! ids, a `WWW-Authenticate` challenge, the URLs named, and every JSON or XML error body inside.
//! It knows the shapes of the Azure SDKs (Python, .NET, Java, JS, Go), MSAL, az, PowerShell and
//! Terraform by their common forms (`Status=403 Code="…" Message="…"`, `Status: 403 (Forbidden)`,
//! `ErrorCode:…`, `(Code) message`), not by one parser per tool.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

/// How far one embedded JSON body is read: an error body is small; a runaway string is not.
const MAX_BODY_BYTES: usize = 256 * 1024;
/// How many `{` are tried as the start of a JSON body, so that a paste of braces stays linear.
const MAX_BODY_STARTS: usize = 256;

/// What [`scan`] found, in the order it appears in the text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scan {
    /// HTTP statuses of failures (4xx, 5xx) named in the text.
    pub statuses: Vec<u16>,
    /// Service error codes (`AuthorizationFailed`, `ForbiddenByRbac`), outermost first.
    pub codes: Vec<String>,
    /// The services' own messages.
    pub messages: Vec<String>,
    pub aadsts: Vec<u64>,
    /// Request, trace, correlation and activity ids, with their label.
    pub ids: Vec<(String, String)>,
    /// The value of a `WWW-Authenticate` header.
    pub challenge: Option<String>,
    pub urls: Vec<String>,
    /// The URL that was called: one after an HTTP method or a "request URL" label.
    pub called: Option<String>,
    /// JSON objects and XML error documents found inside the text, verbatim.
    #[serde(skip)]
    pub bodies: Vec<String>,
}

impl Scan {
    pub fn status(&self) -> Option<u16> {
        self.statuses.first().copied()
    }

    /// What was read, as short labelled parts for a "read:" line (`HTTP 403`, `code X`).
    pub fn summary(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(status) = self.status() {
            parts.push(format!("HTTP {status}"));
        }
        if !self.codes.is_empty() {
            parts.push(format!("code {}", self.codes.join(", ")));
        }
        parts.extend(self.aadsts.iter().map(|c| format!("AADSTS{c}")));
        if self.challenge.is_some() {
            parts.push("a WWW-Authenticate challenge".into());
        }
        parts.extend(self.ids.iter().map(|(label, id)| format!("{label} {id}")));
        parts
    }

    /// What the service rules read of free text `text` this scan was made of: no API answer and
    /// no token around it, so no audience is known.
    pub fn subject<'a>(&'a self, text: &'a str) -> super::service_errors::Subject<'a> {
        super::service_errors::Subject {
            text,
            quote: self.messages.first().map_or(text, String::as_str),
            codes: &self.codes,
            status: self.status(),
            called: self.called.as_deref(),
            urls: &self.urls,
            audience: None,
        }
    }

    /// Whether anything a diagnosis can use was found.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.codes.is_empty()
            && self.aadsts.is_empty()
            && self.challenge.is_none()
            && self.bodies.is_empty()
    }
}

/// The text with one level of string escaping undone, when it has any: JSON quoted inside a log
/// message (`{\"error\":…}`, `\r\n`) reads as JSON again. `None` when nothing was escaped.
pub fn unescaped(text: &str) -> Option<String> {
    if !text.contains("\\\"") && !text.contains("\\n") && !text.contains("\\u0027") {
        return None;
    }
    let mut out = text.to_owned();
    // Doubly escaped first, so `\\\"` does not leave a stray backslash.
    for (from, to) in [
        ("\\\\\\\"", "\""),
        ("\\\\r\\\\n", "\n"),
        ("\\\\n", "\n"),
        ("\\\"", "\""),
        ("\\r\\n", "\n"),
        ("\\n", "\n"),
        ("\\t", " "),
        ("\\/", "/"),
        ("\\u0027", "'"),
        ("\\u0026", "&"),
        ("\\u003c", "<"),
        ("\\u003e", ">"),
    ] {
        out = out.replace(from, to);
    }
    Some(out)
}

/// Reads `text` (and its unescaped form) for everything a diagnosis can use.
pub fn scan(text: &str) -> Scan {
    let unescaped = unescaped(text);
    let text = unescaped.as_deref().unwrap_or(text);
    let mut scan = Scan::default();
    for body in json_bodies(text) {
        read_json_body(&body, &mut scan);
        scan.bodies.push(body);
    }
    for body in xml_bodies(text) {
        read_xml_body(&body, &mut scan);
        scan.bodies.push(body);
    }
    read_lines(text, &mut scan);
    scan.aadsts.extend(
        AADSTS
            .captures_iter(text)
            .filter_map(|c| c[1].parse::<u64>().ok()),
    );
    dedup(&mut scan.aadsts);
    dedup(&mut scan.statuses);
    dedup(&mut scan.codes);
    dedup(&mut scan.messages);
    dedup(&mut scan.ids);
    dedup(&mut scan.urls);
    scan
}

fn dedup<T: PartialEq + Clone>(items: &mut Vec<T>) {
    let mut seen: Vec<T> = Vec::with_capacity(items.len());
    items.retain(|item| {
        let fresh = !seen.contains(item);
        if fresh {
            seen.push(item.clone());
        }
        fresh
    });
}

static AADSTS: LazyLock<Regex> = LazyLock::new(|| re(r"AADSTS(\d{4,9})\b"));

/// Status forms of the SDKs and tools: `StatusCode=403`, `Status: 403 (Forbidden)`,
/// `HTTP/1.1 403`, `status code 403`, `Status code 403, …`, `403 Forbidden`, `(403)`.
static STATUS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r#"(?i)\b(?:http[ _-]?)?status(?:[ _-]?code)?["']?\s*(?:[=:]|is)?\s*["']?([1-5]\d\d)\b"#,
        r"(?i)\bHTTP/\d(?:\.\d)?\s+([1-5]\d\d)\b",
        r"(?i)\bresponse status code does not indicate success:\s*([1-5]\d\d)\b",
        r"(?i)\b([45]\d\d)\s*[(\s-]\s*(?:forbidden|unauthori[sz]ed|bad request|not found|conflict|too many requests|internal server error|service unavailable|gateway timeout|bad gateway)\b",
        r"(?i)\b(?:forbidden|unauthori[sz]ed|badrequest|bad request)\s*\(([45]\d\d)\)",
        r"(?i)\b(?:error|failed|failure)\s*[:(]?\s*([45]\d\d)\b[\s:)]",
        r"(?i)\bunexpected status ([45]\d\d)\b",
    ]
    .iter()
    .map(|p| re(p))
    .collect()
});

/// Code forms: `Code="Forbidden"`, `ErrorCode:AuthorizationPermissionMismatch`, `Code: X`,
/// `(AuthorizationFailed) The client…` (Python's azure-core), `error: InvalidAuthenticationToken`.
static CODE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r#"(?i)\b(?:error[ _-]?code|code)["']?\s*[=:]\s*["']?([A-Za-z][A-Za-z0-9_.]{2,80})"#,
        r"(?m)^\s*(?:[A-Za-z.]+(?:Error|Exception):\s*)?\(([A-Z][A-Za-z0-9_]{2,80})\)\s",
        r"(?i)\bwith error:\s*([A-Z][A-Za-z0-9_]{2,80}):",
    ]
    .iter()
    .map(|p| re(p))
    .collect()
});

/// Message forms: `Message="…"`, `Message: …` to the end of the line.
static MESSAGE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r#"(?i)\bmessage\s*=\s*"((?:[^"\\]|\\.){3,})""#,
        r"(?im)\bmessage\s*:\s*(\S.{2,})$",
    ]
    .iter()
    .map(|p| re(p))
    .collect()
});

static IDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b(trace[ _-]?id|correlation[ _-]?id|(?:x-ms-)?(?:client-)?request[ _-]?id|activity[ _-]?id)["']?\s*[=:]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"#,
    )
});

static CHALLENGE: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?im)(?:www-authenticate["']?\s*[:=]\s*["']?|^\s*)(Bearer\s+[a-z_]+=.*)$"#)
});

static CALLED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?:\b(?:GET|POST|PUT|PATCH|DELETE|HEAD)\s+|request[ _-]?ur[il]["']?\s*(?:is|:|=)\s*["']?|\burl["']?\s*[:=]\s*["']?)(https?://[^\s'"<>`)\]},;\\]+)"#,
    )
});

static URL: LazyLock<Regex> = LazyLock::new(|| re(r#"https?://[^\s'"<>`)\]},;\\]+"#));

/// Compiles one of this module's constant patterns (a test compiles every one).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a constant pattern")
}

fn read_lines(text: &str, scan: &mut Scan) {
    for pattern in STATUS.iter() {
        for captures in pattern.captures_iter(text) {
            if let Ok(status) = captures[1].parse::<u16>()
                && status >= 400
            {
                scan.statuses.push(status);
            }
        }
    }
    for pattern in CODE.iter() {
        for captures in pattern.captures_iter(text) {
            let code = captures[1].trim_end_matches('.');
            if !code.chars().all(|c| c.is_ascii_digit()) && !is_noise_code(code) {
                scan.codes.push(code.to_owned());
            }
        }
    }
    for pattern in MESSAGE.iter() {
        for captures in pattern.captures_iter(text) {
            scan.messages.push(captures[1].trim().to_owned());
        }
    }
    for captures in IDS.captures_iter(text) {
        let label = id_label(&captures[1]);
        scan.ids.push((label, captures[2].to_ascii_lowercase()));
    }
    if scan.challenge.is_none() {
        scan.challenge = CHALLENGE
            .captures(text)
            .map(|c| c[1].trim().trim_end_matches(['"', '\'']).to_owned());
    }
    if scan.called.is_none() {
        scan.called = CALLED
            .captures(text)
            .map(|c| c[1].trim_end_matches(['.', ':']).to_owned());
    }
    scan.urls.extend(
        URL.find_iter(text)
            .map(|m| m.as_str().trim_end_matches(['.', ':']).to_owned()),
    );
}

/// One spelling per kind of id: `Trace ID`, `trace_id` and `traceId` are all "trace id".
fn id_label(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let label = if lower.contains("trace") {
        "trace id"
    } else if lower.contains("correlation") {
        "correlation id"
    } else if lower.contains("activity") {
        "activity id"
    } else if lower.contains("client") {
        "client request id"
    } else {
        "request id"
    };
    label.to_owned()
}

/// Words that follow `code:` in logs without being a service's error code.
fn is_noise_code(code: &str) -> bool {
    ["null", "none", "undefined", "the", "and", "for"]
        .iter()
        .any(|noise| code.eq_ignore_ascii_case(noise))
}

/// Every JSON object in the text that parses whole, outermost only.
fn json_bodies(text: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut from = 0;
    let mut tries = 0;
    while let Some(offset) = text[from..].find('{') {
        let start = from + offset;
        tries += 1;
        if tries > MAX_BODY_STARTS {
            break;
        }
        let end = floor_char_boundary(text, (start + MAX_BODY_BYTES).min(text.len()));
        let mut stream = serde_json::Deserializer::from_str(&text[start..end]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(Value::Object(object))) if !object.is_empty() => {
                let length = stream.byte_offset();
                bodies.push(text[start..start + length].to_owned());
                from = start + length;
            }
            _ => from = start + 1,
        }
    }
    bodies
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Azure Storage and Service Bus answer XML: `<Error><Code>…</Code><Message>…</Message></Error>`.
fn xml_bodies(text: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<Error>") {
        let after = &rest[start..];
        let Some(end) = after.find("</Error>") else {
            break;
        };
        let end = end + "</Error>".len();
        bodies.push(after[..end].to_owned());
        rest = &after[end..];
    }
    bodies
}

fn read_json_body(body: &str, scan: &mut Scan) {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return;
    };
    let error = super::api::ApiError::from_json(&value);
    if let Some(code) = error.code {
        scan.codes.push(code);
    }
    scan.messages.extend(error.message);
    scan.messages.extend(error.detail);
    // Inner errors (Graph, ARM `details`, Key Vault `innererror`) name the real code.
    collect_inner_codes(&value, scan, 0);
    if let Some(status) = ["status", "statusCode", "httpStatusCode"]
        .iter()
        .find_map(|key| value.get(key).and_then(Value::as_u64))
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| *s >= 400)
    {
        scan.statuses.push(status);
    }
}

fn collect_inner_codes(value: &Value, scan: &mut Scan, depth: usize) {
    if depth > 6 {
        return;
    }
    match value {
        Value::Object(object) => {
            for (key, inner) in object {
                let key = key.to_ascii_lowercase();
                if (key == "code" || key == "errorcode")
                    && let Some(code) = inner.as_str()
                    && !code.is_empty()
                {
                    scan.codes.push(code.to_owned());
                }
                collect_inner_codes(inner, scan, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items.iter().take(16) {
                collect_inner_codes(item, scan, depth + 1);
            }
        }
        _ => {}
    }
}

fn read_xml_body(body: &str, scan: &mut Scan) {
    let error = super::api::ApiError::parse(body);
    scan.codes.extend(error.code);
    scan.messages.extend(error.message);
    scan.messages.extend(error.detail);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        let count = STATUS.len() + CODE.len() + MESSAGE.len();
        let single = [&*AADSTS, &*IDS, &*CHALLENGE, &*CALLED, &*URL].len();
        assert_eq!(count + single, 17);
    }

    #[test]
    fn reads_an_autorest_line() {
        let scan = scan(
            "Error: reading Secret: keyvault.BaseClient#GetSecret: Failure responding to request: StatusCode=403 -- Original Error: autorest/azure: Service returned an error. Status=403 Code=\"Forbidden\" Message=\"Caller is not authorized to perform action on resource.\" InnerError={\"code\":\"ForbiddenByRbac\"}",
        );
        assert_eq!(scan.statuses, [403]);
        assert_eq!(scan.codes, ["ForbiddenByRbac", "Forbidden"]);
        assert_eq!(
            scan.messages.last().map(String::as_str),
            Some("Caller is not authorized to perform action on resource.")
        );
    }

    #[test]
    fn reads_escaped_json_inside_a_log_message() {
        let scan = scan(
            r#"level=error msg="request failed" body="{\"error\":{\"code\":\"ErrorAccessDenied\",\"message\":\"Access is denied. Check credentials and try again.\"}}""#,
        );
        assert_eq!(scan.codes, ["ErrorAccessDenied"]);
        assert_eq!(scan.bodies.len(), 1);
    }

    #[test]
    fn reads_a_dotnet_request_failed_exception() {
        let scan = scan(
            "Azure.RequestFailedException: This request is not authorized to perform this operation using this permission.\nRequestId:0b4c3b7e-201e-0013-5f45-c3d33f000000\nTime:2021-01-01T00:00:00.0000000Z\nStatus: 403 (This request is not authorized to perform this operation using this permission.)\nErrorCode: AuthorizationPermissionMismatch",
        );
        assert_eq!(scan.statuses, [403]);
        assert_eq!(scan.codes, ["AuthorizationPermissionMismatch"]);
        assert_eq!(
            scan.ids,
            [(
                "request id".to_owned(),
                "0b4c3b7e-201e-0013-5f45-c3d33f000000".to_owned()
            )]
        );
    }

    #[test]
    fn reads_several_errors_and_aadsts_codes() {
        let scan = scan(
            "first: AADSTS7000215: Invalid client secret provided.\nTrace ID: 0a1b2c3d-0000-4000-8000-000000000001\nthen: AADSTS700016: Application not found\nCorrelation ID: 0a1b2c3d-0000-4000-8000-000000000002",
        );
        assert_eq!(scan.aadsts, [7_000_215, 700_016]);
        assert_eq!(scan.ids.len(), 2);
    }

    #[test]
    fn a_paste_of_braces_stays_bounded() {
        let text = "{\"a\":".repeat(20_000);
        let scan = scan(&text);
        assert!(scan.bodies.is_empty());
    }
}
