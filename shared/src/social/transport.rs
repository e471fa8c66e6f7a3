//! HTTP for the social clients: one `reqwest` client with timeouts, and retries with
//! exponential backoff and jitter on network errors and 5xx answers.
//!
//! Only failures that a later identical request can cure are retried: a refused connection,
//! a timeout, a 500/502/503/504. A 4xx is the platform's answer and goes straight back to
//! the client, which turns it into a typed error. The jitter comes from the injected
//! [`Random`], so tests see the same delays every run; the delays themselves are real
//! sleeps, kept short in tests by the [`RetryPolicy`].
//!
//! Every answer body is read in chunks up to [`BODY_LIMIT`] bytes: one that declares or
//! streams more is an error as soon as it passes the cap, so a misbehaving server cannot
//! make a Lambda buffer an unbounded amount. Such an answer is not retried at once (it
//! would most likely be as large again); the caller's own retry rules apply.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;

use crate::random::Random;

/// The most bytes of one answer body sitrep reads: far above any page or post answer the
/// platforms send (a full Mastodon page is a few hundred kilobytes), far below a Lambda's
/// memory.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The backoff before the first retry; it doubles for each one after.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// The longest one attempt may take, answer body included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // Three attempts within about five seconds: a poll runs every minute, so a platform
        // that stays down longer is simply tried again on the next one.
        Self {
            attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first): half the exponential step
    /// plus a random part of the other half ("equal jitter"), so that many clients that
    /// failed together do not come back together, yet none retries at once.
    pub fn backoff(&self, retry: u32, random: &dyn Random) -> Duration {
        let step = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        let half = step / 2;
        let extra = random.up_to(u64::try_from(half.as_micros()).unwrap_or(u64::MAX));
        half + Duration::from_micros(extra)
    }
}

/// An answer as received: status, headers and the whole body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Bytes,
}

impl Response {
    /// A header's value as text, by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request that never got an answer, even after retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no answer after {attempts} attempt(s): {reason}")]
pub struct TransportError {
    /// How many attempts were made.
    pub attempts: u32,
    /// What went wrong on the last one.
    pub reason: String,
}

/// Why a request that must not be repeated blindly (a post without an idempotency key) got
/// no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendOnceError {
    /// No connection was made, after retries: the platform never saw the request.
    #[error("not sent after {attempts} attempt(s): {reason}")]
    NotSent {
        /// How many connections were tried.
        attempts: u32,
        /// What went wrong on the last one.
        reason: String,
    },
    /// The request went out and its answer was lost (a timeout, a reset): the platform may
    /// have acted on it.
    #[error("sent, but no answer came back: {reason}")]
    Unknown {
        /// What went wrong.
        reason: String,
    },
}

/// The HTTP client every social client shares.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    retry: RetryPolicy,
    random: Arc<dyn Random>,
    body_limit: usize,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("retry", &self.retry)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport retrying by `retry`, drawing jitter from `random`.
    pub fn new(retry: RetryPolicy, random: Arc<dyn Random>) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("sitrep/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(retry.timeout.min(Duration::from_secs(5)))
            .timeout(retry.timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .build()
            .map_err(|e| TransportError {
                attempts: 0,
                reason: format!("the HTTP client could not be built: {e}"),
            })?;
        Ok(Self {
            client,
            retry,
            random,
            body_limit: BODY_LIMIT,
        })
    }

    /// The same transport reading at most `bytes` of an answer body instead of
    /// [`BODY_LIMIT`].
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `build` makes, again (rebuilt) after a network error or a 5xx,
    /// up to the policy's attempts. Returns the last answer, whatever its status; an error
    /// only when no attempt got one.
    pub async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, TransportError> {
        let attempts = self.retry.attempts.max(1);
        let mut retry = 0;
        loop {
            let outcome = attempt(build(), self.body_limit).await;
            let last = retry + 1 == attempts;
            match outcome {
                Ok(response) if !retryable(response.status) || last => return Ok(response),
                Err(Failure::TooLarge(reason)) => {
                    return Err(TransportError {
                        attempts: retry + 1,
                        reason,
                    });
                }
                Err(Failure::Lost(reason)) if last => {
                    return Err(TransportError { attempts, reason });
                }
                Ok(response) => tracing::debug!(
                    status = response.status,
                    retry,
                    "platform failed; retrying after backoff"
                ),
                Err(Failure::Lost(reason)) => {
                    tracing::debug!(%reason, retry, "no answer; retrying after backoff");
                }
            }
            tokio::time::sleep(self.retry.backoff(retry, self.random.as_ref())).await;
            retry += 1;
        }
    }
}

impl Transport {
    /// Sends the request `build` makes at most once as far as the platform can tell: only a
    /// failure to connect is tried again (the request never left), never a timeout or a
    /// server error after it was sent, because the platform may already have acted on it.
    /// Every answer is returned whatever its status.
    pub async fn send_once(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Response, SendOnceError> {
        let attempts = self.retry.attempts.max(1);
        let mut retry = 0;
        loop {
            match build().send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    return match read_body(response, self.body_limit).await {
                        Ok(body) => Ok(Response {
                            status,
                            headers,
                            body,
                        }),
                        Err(Failure::Lost(reason) | Failure::TooLarge(reason)) => {
                            Err(SendOnceError::Unknown { reason })
                        }
                    };
                }
                Err(e) if e.is_connect() => {
                    let reason = describe(&e);
                    if retry + 1 == attempts {
                        return Err(SendOnceError::NotSent { attempts, reason });
                    }
                    tracing::debug!(%reason, retry, "no connection; retrying after backoff");
                }
                Err(e) => {
                    return Err(SendOnceError::Unknown {
                        reason: describe(&e),
                    });
                }
            }
            tokio::time::sleep(self.retry.backoff(retry, self.random.as_ref())).await;
            retry += 1;
        }
    }
}

fn retryable(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// Why one attempt got no usable answer.
enum Failure {
    /// No answer, or one cut off mid-body: a later attempt may get it whole.
    Lost(String),
    /// An answer larger than the cap.
    TooLarge(String),
}

async fn attempt(request: reqwest::RequestBuilder, limit: usize) -> Result<Response, Failure> {
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Lost(describe(&e)))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = read_body(response, limit).await?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The body of `response`, chunk by chunk, failing as soon as it declares or passes `limit`
/// bytes: never more than the limit (and one chunk) is held.
async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Bytes, Failure> {
    let status = response.status().as_u16();
    let too_large = || {
        Failure::TooLarge(format!(
            "the answer ({status}) is larger than the {limit}-byte cap"
        ))
    };
    let declared = response.content_length().unwrap_or(0);
    if usize::try_from(declared).map_or(true, |declared| declared > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len().saturating_add(chunk.len()) > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Bytes::from(body)),
            Err(e) => {
                return Err(Failure::Lost(format!(
                    "the answer ({status}) was cut off: {}",
                    describe(&e)
                )));
            }
        }
    }
}

/// The error and its causes in one line: reqwest's own message alone says only "error
/// sending request".
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn backoff_doubles_within_its_jitter_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(700),
            timeout: Duration::from_secs(1),
        };
        let random = SeededRandom::new(3);
        for (retry, step) in [(0, 100), (1, 200), (2, 400), (3, 700), (4, 700)] {
            let step = Duration::from_millis(step);
            for _ in 0..50 {
                let delay = policy.backoff(retry, &random);
                assert!(
                    delay >= step / 2 && delay <= step,
                    "retry {retry}: {delay:?} outside {:?}..={step:?}",
                    step / 2
                );
            }
        }
    }

    #[test]
    fn jitter_spreads_delays_and_a_seed_repeats_them() {
        let policy = RetryPolicy::default();
        let a = SeededRandom::new(9);
        let b = SeededRandom::new(9);
        let delays: Vec<Duration> = (0..20).map(|_| policy.backoff(1, &a)).collect();
        assert_eq!(
            delays,
            (0..20).map(|_| policy.backoff(1, &b)).collect::<Vec<_>>()
        );
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 10, "jitter spreads retries: {delays:?}");
    }

    #[test]
    fn only_server_failures_are_retried() {
        for status in [500, 502, 503, 504] {
            assert!(retryable(status));
        }
        for status in [200, 400, 401, 403, 404, 429, 501] {
            assert!(!retryable(status));
        }
    }
}
