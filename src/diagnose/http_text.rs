//! A raw HTTP response as pasted from `curl -i` or a browser: status line, headers, body.

use super::api::ApiAnswer;

/// Parses `HTTP/1.1 403 Forbidden\r\nHeader: v\r\n\r\nbody`. With several responses (a `100
/// Continue`, redirects followed by curl -L) the last one counts. `None` if it is not one.
pub fn parse(text: &str) -> Option<ApiAnswer> {
    let mut rest = text.trim_start();
    let mut answer = None;
    while rest.starts_with("HTTP/") {
        let (head, body) = split_head(rest);
        let mut lines = head.lines();
        let status_line = lines.next()?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())?;
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        answer = Some(ApiAnswer {
            status: Some(status),
            headers,
            body: body.to_owned(),
            ..ApiAnswer::default()
        });
        rest = body.trim_start();
    }
    answer
}

fn split_head(text: &str) -> (&str, &str) {
    for separator in ["\r\n\r\n", "\n\n"] {
        if let Some(index) = text.find(separator) {
            return (&text[..index], &text[index + separator.len()..]);
        }
    }
    (text, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_response() {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/2 403 \r\ncontent-type: application/json\r\nwww-authenticate: Bearer x=\"y\"\r\n\r\n{\"a\":1}";
        let answer = parse(text).unwrap();
        assert_eq!(answer.status, Some(403));
        assert_eq!(answer.header("Content-Type"), Some("application/json"));
        assert_eq!(answer.body, "{\"a\":1}");
        assert!(parse("not http").is_none());
        assert!(parse("HTTP/1.1 abc").is_none());
    }
}
