//! What one check saw: the raw facts a probe gathered, before any condition judged them.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The raw result of running one check once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// What was probed, as a person would name it: a URL, `host:port`, or a DNS name.
    pub target: String,
    /// Whether a connection (or, for DNS, an answer) was obtained at all.
    pub connected: bool,
    /// Why the probe could not complete, in words ("timed out after 10 s").
    pub error: Option<String>,
    /// Wall time from the start of the attempt to its end.
    pub elapsed: Duration,
    /// HTTP status code, for HTTP checks that got a response.
    pub status: Option<u16>,
    /// HTTP response headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The response body (HTTP) as text, truncated to a bounded size.
    pub body: Option<String>,
    /// The leaf certificate's `notAfter`, for TLS checks and HTTPS URLs.
    pub certificate_not_after: Option<DateTime<Utc>>,
    /// The DNS response code (`NOERROR`, `NXDOMAIN`, `SERVFAIL`…), for DNS checks.
    pub dns_rcode: Option<String>,
    /// The DNS answers as text (addresses, names or TXT data), for DNS checks.
    pub dns_answers: Vec<String>,
}

impl Observation {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
