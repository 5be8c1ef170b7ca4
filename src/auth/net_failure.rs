//! Transport failures of the HTTP client every request uses (the answer never
//! came, or came broken) as errors that say what happened and what to try.
//!
//! reqwest reports a failure as a chain of causes whose top says little ("error decoding response
//! body" for a reset mid-body), so the kind is read from the chain: an `io::Error`'s kind where
//! there is one, hyper's wording where there is not.

use std::io::ErrorKind;
use std::time::Duration;

use super::deadline::TimeLimit;
use crate::error::Error;

/// Which transport failure it was; it picks the message and the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkFault {
    /// The host name did not resolve.
    Dns,
    /// Nothing accepted the connection.
    Refused,
    /// The connection broke (reset, closed) before the whole answer arrived.
    Interrupted,
    /// The TLS handshake failed: a certificate the tool does not trust, most often.
    Tls,
    Other,
}

impl std::fmt::Display for NetworkFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NetworkFault::Dns => "DNS lookup failed for",
            NetworkFault::Refused => "connection refused by",
            NetworkFault::Interrupted => "connection broken mid-answer from",
            NetworkFault::Tls => "TLS handshake failed with",
            NetworkFault::Other => "could not reach",
        })
    }
}

/// Who was called: it decides which option the advice names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The identity provider: token endpoint, discovery, keys.
    Authority,
    /// The API a probe calls.
    Api,
}

impl Target {
    fn host_option(self) -> &'static str {
        match self {
            Target::Authority => "--authority-host (or --token-endpoint, AZURE_AUTHORITY_HOST)",
            Target::Api => "--url",
        }
    }
}

/// The limits a request ran under, for the messages: `--connect-timeout` per connection, and
/// the budget of the command's deadline (`--timeout`), which any other timeout means was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub connect: Duration,
    pub total: Duration,
}

/// The system resolver, except for `.invalid` names, which RFC 6761 §6.4 says resolvers should
/// refuse at once: no query leaves the machine for them (the tests rely on that).
pub(crate) struct SpecialUseResolver;

impl reqwest::dns::Resolve for SpecialUseResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if host == "invalid" || host.ends_with(".invalid") {
                return Err(format!(
                    "{host} is under .invalid, a reserved name that never resolves (RFC 6761)"
                )
                .into());
            }
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A transport failure as the error to show: a timeout with its limit, or a network fault
/// with its advice.
pub fn error(url: &str, error: &reqwest::Error, limits: Limits, target: Target) -> Error {
    if error.is_timeout() {
        let deadline = TimeLimit::Deadline {
            budget: limits.total,
            attempts: 1,
        };
        let (phase, limit, hint) = if error.is_connect() {
            (
                "connecting",
                TimeLimit::Connect {
                    limit: limits.connect,
                },
                "check the host name, a proxy or firewall, or raise --connect-timeout",
            )
        } else if is_body(error) {
            (
                "reading the answer",
                deadline,
                "the server sent part of its answer, then stalled; retry, or raise --timeout \
                 (a proxy that buffers or inspects traffic can cause this)",
            )
        } else {
            (
                "the request",
                deadline,
                "the server accepted the connection but did not answer in time; retry, or \
                 raise --timeout",
            )
        };
        return Error::Timeout {
            url: url.to_owned(),
            phase,
            limit,
            hint,
        };
    }
    let fault = classify(error);
    let option = target.host_option();
    let hint = match fault {
        NetworkFault::Dns => format!(
            "check the host's spelling in {option}, and this machine's DNS, proxy \
             (HTTPS_PROXY) and VPN settings"
        ),
        NetworkFault::Refused => format!(
            "nothing listens there: check the host and port in {option}, that the server \
             runs, and any firewall in between"
        ),
        NetworkFault::Interrupted => "a proxy, firewall or load balancer in between, or the \
                                      server itself, cut it: try again, and if it persists \
                                      check the proxy (HTTPS_PROXY) or VPN"
            .to_owned(),
        NetworkFault::Tls => format!(
            "if a proxy inspects TLS, this machine must trust its root certificate; otherwise \
             check that {option} names the right host"
        ),
        NetworkFault::Other => {
            "check the network, and any proxy (HTTPS_PROXY), firewall or VPN in between".into()
        }
    };
    Error::Network {
        url: url.to_owned(),
        fault,
        detail: error_chain(error),
        hint,
    }
}

/// A failure while the body was being read (reqwest calls it a decode error).
fn is_body(error: &reqwest::Error) -> bool {
    error.is_body() || error.is_decode()
}

fn classify(error: &reqwest::Error) -> NetworkFault {
    for cause in causes(error) {
        if cause.is::<tokio_rustls::rustls::Error>() {
            return NetworkFault::Tls;
        }
        match cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
        {
            Some(ErrorKind::ConnectionRefused) => return NetworkFault::Refused,
            Some(
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof,
            ) => return NetworkFault::Interrupted,
            _ => {}
        }
    }
    let text = error_chain(error).to_ascii_lowercase();
    if text.contains("dns error") {
        NetworkFault::Dns
    } else if is_body(error)
        || text.contains("connection closed before message completed")
        || text.contains("end of file before message length")
    {
        NetworkFault::Interrupted
    } else if ["certificate", "tls", "handshake"]
        .iter()
        .any(|word| text.contains(word))
    {
        NetworkFault::Tls
    } else {
        NetworkFault::Other
    }
}

/// Every cause under `error`, including what an `io::Error` wraps: its `source` skips that
/// (rustls's error hides there, inside two of them).
fn causes(error: &reqwest::Error) -> Vec<&(dyn std::error::Error + 'static)> {
    let mut found = Vec::new();
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        found.push(cause);
        next = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner),
            None => cause.source(),
        };
    }
    found
}

/// reqwest's error and its causes on one line ("tcp connect error: Connection refused", "dns
/// error: …"), without the wrappers that only repeat the kind ("client error (Connect)",
/// "error decoding response body" for a body that was never decoded).
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![];
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        let wrapper = text.starts_with("client error (")
            || text == "request or response body error"
            || text == "error decoding response body";
        if !wrapper && !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invalid_names_fail_without_a_lookup() {
        let options = crate::auth::ClientOptions {
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            ..crate::auth::ClientOptions::default()
        };
        let client = crate::auth::client::http_client(&options).unwrap();
        let failure = client
            .get("https://login.entra-doctor.invalid/")
            .send()
            .await
            .unwrap_err();
        let error = error(
            "https://login.entra-doctor.invalid/",
            &failure,
            Limits {
                connect: Duration::from_secs(1),
                total: Duration::from_secs(1),
            },
            Target::Authority,
        );
        let message = error.to_string();
        assert!(
            message.starts_with("DNS lookup failed for https://login.entra-doctor.invalid/"),
            "{message}"
        );
        assert!(message.contains("RFC 6761"), "{message}");
    }
}
