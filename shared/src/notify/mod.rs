//! The paging port: one message to one person through one contact.
//!
//! [`Notifier`] has two adapters: [`sns::SnsNotifier`] (aws-sdk-sns: a direct SMS publish to
//! a phone number, a publish to the pages topic for email, or to the person's own topic) and
//! [`console::ConsoleNotifier`] for the local runner and the demo. [`deliver`] wraps either
//! with retries and backoff, telling apart "certainly not sent" (worth retrying) from "may
//! have been sent" (never retried: a page is sent at most once).
//!
//! [`gsm7`] keeps SMS text inside one 160-character GSM-7 segment.

pub mod console;
pub mod gsm7;
#[cfg(test)]
mod gsm7_properties;
pub mod sns;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::PersonId;
use crate::oncall::{Contact, Urgency};
use crate::random::Random;

/// What a message is about, for subscribers' filter policies and for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// An incident needs someone: please acknowledge.
    Page,
    /// An incident someone was paged for is resolved.
    Resolved,
    /// An answer to a text the person sent (acknowledged, resolved, help).
    Reply,
}

impl MessageKind {
    /// The name in the `kind` message attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Page => "page",
            MessageKind::Resolved => "resolved",
            MessageKind::Reply => "reply",
        }
    }
}

/// One message for one person through one of their contacts.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who it is for (also the `person` attribute, which email subscriptions filter on).
    pub person: PersonId,
    /// Where it goes.
    pub contact: Contact,
    /// Page, resolution or reply.
    pub kind: MessageKind,
    /// The incident it is about (`incident` attribute); `None` for a help reply.
    pub incident: Option<String>,
    /// The component (`component` attribute), if the incident has one.
    pub component: Option<String>,
    /// `urgency` attribute.
    pub urgency: Urgency,
    /// The text for SMS: one GSM-7 segment (see [`gsm7::fit`]).
    pub sms: String,
    /// Email subject (SNS allows at most 100 characters, no line breaks).
    pub subject: String,
    /// The full text for email and topic subscribers.
    pub body: String,
}

/// The provider's receipt for a published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The provider's message id (SNS `MessageId`).
    pub message_id: String,
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Refused for good (bad number, missing topic, no permission): retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// Certainly not sent, but may work later (throttled, unreachable, server error).
    #[error("not sent, may work later: {0}")]
    Unavailable(String),
    /// The request may have reached the provider (timed out, connection cut mid-answer):
    /// it is not repeated, so nobody gets a page twice.
    #[error("may or may not have been sent: {0}")]
    Unknown(String),
}

/// Sends messages.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one message, once: no retries (those are [`deliver`]'s).
    async fn send(&self, message: &Message) -> Result<Receipt, NotifyError>;
}

/// How [`deliver`] retries a message that certainly did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 counts as 1).
    pub attempts: u32,
    /// The longest wait before the first retry; it doubles for each one after.
    pub base: Duration,
    /// No wait is longer than this.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // Four attempts with at most 1.4 s of waiting between them: enough to ride out SNS
        // throttling or a brief network fault, short enough that the page is still prompt
        // and the function's invocation is not held up.
        Self {
            attempts: 4,
            base: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first): anything from zero up to the
    /// exponential step ("full jitter"), so the pages of one incident, which failed
    /// together, do not all come back at the same instant and hit the same throttle.
    pub fn backoff(&self, retry: u32, random: &dyn Random) -> Duration {
        let step = self
            .base
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max);
        Duration::from_micros(random.up_to(u64::try_from(step.as_micros()).unwrap_or(u64::MAX)))
    }
}

/// Sends `message` through `notifier`, retrying with backoff only while the failure is
/// [`NotifyError::Unavailable`], at most `policy.attempts` times in all.
///
/// [`NotifyError::Refused`] would fail again, and [`NotifyError::Unknown`] may already have
/// reached the person: sending it again could page them twice, so both are returned at once.
/// When every attempt was unavailable, the last error is returned.
pub async fn deliver(
    notifier: &dyn Notifier,
    message: &Message,
    policy: &RetryPolicy,
    random: &dyn Random,
) -> Result<Receipt, NotifyError> {
    deliver_sleeping(notifier, message, policy, random, tokio::time::sleep).await
}

/// [`deliver`] with the wait injected: the crate's tokio has no paused clock (`test-util`),
/// so the unit tests record the waits instead of sleeping through them.
async fn deliver_sleeping<S, F>(
    notifier: &dyn Notifier,
    message: &Message,
    policy: &RetryPolicy,
    random: &dyn Random,
    sleep: S,
) -> Result<Receipt, NotifyError>
where
    S: Fn(Duration) -> F,
    F: Future<Output = ()>,
{
    let attempts = policy.attempts.max(1);
    let mut retry = 0;
    loop {
        match notifier.send(message).await {
            Err(NotifyError::Unavailable(reason)) if retry + 1 < attempts => {
                let delay = policy.backoff(retry, random);
                tracing::warn!(
                    person = %message.person,
                    kind = message.kind.as_str(),
                    incident = message.incident.as_deref().unwrap_or(""),
                    attempt = retry + 1,
                    attempts,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    %reason,
                    "message not sent; retrying after backoff"
                );
                sleep(delay).await;
                retry += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::oncall::PhoneNumber;
    use crate::random::SeededRandom;

    /// A notifier that answers from a script, one entry per call, and counts the calls.
    struct Scripted {
        answers: Mutex<VecDeque<Result<Receipt, NotifyError>>>,
        calls: Mutex<u32>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<Receipt, NotifyError>>) -> Self {
            Self {
                answers: Mutex::new(answers.into()),
                calls: Mutex::new(0),
            }
        }

        fn calls(&self) -> u32 {
            *self.calls.lock().unwrap()
        }
    }

    #[async_trait]
    impl Notifier for Scripted {
        async fn send(&self, _message: &Message) -> Result<Receipt, NotifyError> {
            *self.calls.lock().unwrap() += 1;
            self.answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("the script has an answer for every call")
        }
    }

    fn receipt(id: &str) -> Result<Receipt, NotifyError> {
        Ok(Receipt {
            message_id: id.into(),
        })
    }

    fn unavailable(why: &str) -> Result<Receipt, NotifyError> {
        Err(NotifyError::Unavailable(why.into()))
    }

    fn page() -> Message {
        Message {
            person: PersonId::parse("ana").unwrap(),
            contact: Contact::Sms(PhoneNumber::parse("+447700900123").unwrap()),
            kind: MessageKind::Page,
            incident: Some("20261123-100000-api".into()),
            component: Some("api".into()),
            urgency: Urgency::High,
            sms: "Public API is down. Reply ack 1234".into(),
            subject: "Public API is down".into(),
            body: "Public API is down since 10:00 UTC.".into(),
        }
    }

    /// Delivers through `notifier`, recording each wait instead of sleeping through it.
    async fn deliver_recording(
        notifier: &Scripted,
        policy: &RetryPolicy,
    ) -> (Result<Receipt, NotifyError>, Vec<Duration>) {
        let waits = Arc::new(Mutex::new(Vec::new()));
        let recorder = Arc::clone(&waits);
        let result = deliver_sleeping(
            notifier,
            &page(),
            policy,
            &SeededRandom::new(5),
            move |delay| {
                recorder.lock().unwrap().push(delay);
                std::future::ready(())
            },
        )
        .await;
        let waits = waits.lock().unwrap().clone();
        (result, waits)
    }

    #[tokio::test]
    async fn unavailable_is_retried_with_growing_jittered_waits_until_it_goes_through() {
        let notifier = Scripted::new(vec![
            unavailable("throttled"),
            unavailable("throttled"),
            receipt("m-1"),
        ]);
        let policy = RetryPolicy::default();
        let (result, waits) = deliver_recording(&notifier, &policy).await;
        assert_eq!(result, receipt("m-1"));
        assert_eq!(notifier.calls(), 3);
        assert_eq!(waits.len(), 2);
        assert!(waits[0] <= Duration::from_millis(200), "{waits:?}");
        assert!(waits[1] <= Duration::from_millis(400), "{waits:?}");
    }

    #[tokio::test]
    async fn unavailable_every_time_gives_up_after_the_attempts_with_the_last_error() {
        let notifier = Scripted::new(vec![
            unavailable("first"),
            unavailable("second"),
            unavailable("third"),
            unavailable("fourth"),
        ]);
        let (result, waits) = deliver_recording(&notifier, &RetryPolicy::default()).await;
        assert_eq!(result, unavailable("fourth"));
        assert_eq!(notifier.calls(), 4);
        assert_eq!(waits.len(), 3, "no wait after the last attempt");
    }

    #[tokio::test]
    async fn refused_and_unknown_are_never_retried() {
        for error in [
            NotifyError::Refused("invalid phone number".into()),
            NotifyError::Unknown("timed out after sending".into()),
        ] {
            let notifier = Scripted::new(vec![Err(error.clone()), receipt("second page")]);
            let (result, waits) = deliver_recording(&notifier, &RetryPolicy::default()).await;
            assert_eq!(result, Err(error));
            assert_eq!(notifier.calls(), 1, "one attempt only");
            assert!(waits.is_empty());
        }
    }

    #[tokio::test]
    async fn a_failure_after_retries_is_not_retried_either() {
        let notifier = Scripted::new(vec![
            unavailable("connection refused"),
            Err(NotifyError::Unknown("connection reset".into())),
            receipt("would be a second page"),
        ]);
        let (result, waits) = deliver_recording(&notifier, &RetryPolicy::default()).await;
        assert_eq!(result, Err(NotifyError::Unknown("connection reset".into())));
        assert_eq!(notifier.calls(), 2);
        assert_eq!(waits.len(), 1);
    }

    #[tokio::test]
    async fn zero_attempts_still_sends_once() {
        let notifier = Scripted::new(vec![unavailable("down"), receipt("never")]);
        let policy = RetryPolicy {
            attempts: 0,
            ..RetryPolicy::default()
        };
        let (result, waits) = deliver_recording(&notifier, &policy).await;
        assert_eq!(result, unavailable("down"));
        assert_eq!(notifier.calls(), 1);
        assert!(waits.is_empty());
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let policy = RetryPolicy::default();
        let random = SeededRandom::new(11);
        for retry in 0..10 {
            let cap = Duration::from_millis(200)
                .saturating_mul(2u32.pow(retry))
                .min(Duration::from_secs(5));
            let delays: Vec<Duration> = (0..200).map(|_| policy.backoff(retry, &random)).collect();
            assert!(
                delays.iter().all(|d| *d <= cap),
                "retry {retry}: {delays:?}"
            );
            assert!(
                delays.iter().any(|d| *d < cap / 4) && delays.iter().any(|d| *d > cap * 3 / 4),
                "retry {retry}: waits spread over the whole range"
            );
        }
        let far = policy.backoff(u32::MAX, &random);
        assert!(far <= Duration::from_secs(5), "no overflow: {far:?}");
    }

    #[test]
    fn a_seed_repeats_the_waits() {
        let policy = RetryPolicy::default();
        let a = SeededRandom::new(3);
        let b = SeededRandom::new(3);
        let first: Vec<Duration> = (0..4).map(|r| policy.backoff(r, &a)).collect();
        let second: Vec<Duration> = (0..4).map(|r| policy.backoff(r, &b)).collect();
        assert_eq!(first, second);
    }

    #[tokio::test]
    async fn deliver_really_waits_and_then_sends() {
        // The public entry point, with waits short enough to sleep through for real.
        let notifier = Scripted::new(vec![unavailable("throttled"), receipt("m-2")]);
        let policy = RetryPolicy {
            attempts: 2,
            base: Duration::from_millis(2),
            max: Duration::from_millis(2),
        };
        let result = deliver(&notifier, &page(), &policy, &SeededRandom::new(1)).await;
        assert_eq!(result, receipt("m-2"));
        assert_eq!(notifier.calls(), 2);
    }
}
