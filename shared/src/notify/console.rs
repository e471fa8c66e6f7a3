//! The console pager, for the local runner and the demo: each message is written to the log
//! and kept in memory instead of reaching a phone or a mailbox.
//!
//! Failures can be scripted ([`ConsoleNotifier::fail_next`]), so the demo can show a page
//! that could not be delivered and tests can drive [`super::deliver`]'s retries.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{Message, Notifier, NotifyError, Receipt};
use crate::oncall::Contact;

#[derive(Debug, Default)]
struct State {
    sent: Vec<Message>,
    sends: u64,
    failures: VecDeque<NotifyError>,
}

/// Messages written to the log and kept in a list; clones share the list and the scripted
/// failures.
#[derive(Debug, Clone, Default)]
pub struct ConsoleNotifier {
    state: Arc<Mutex<State>>,
}

impl ConsoleNotifier {
    /// A pager that has sent nothing and will not fail.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message sent so far, oldest first (failed ones are not in it).
    pub fn sent(&self) -> Vec<Message> {
        self.lock().sent.clone()
    }

    /// Makes the next `n` sends fail with `error`, after any failures already scripted.
    pub fn fail_next(&self, n: usize, error: NotifyError) {
        self.lock().failures.extend(std::iter::repeat_n(error, n));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves the list intact.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where a message goes, for the log line.
fn describe(contact: &Contact) -> String {
    match contact {
        Contact::Sms(number) => format!("sms {number}"),
        Contact::Email(address) => format!("email {address}"),
        Contact::Topic(arn) => format!("topic {arn}"),
    }
}

#[async_trait]
impl Notifier for ConsoleNotifier {
    async fn send(&self, message: &Message) -> Result<Receipt, NotifyError> {
        let mut state = self.lock();
        if let Some(error) = state.failures.pop_front() {
            tracing::warn!(
                person = %message.person,
                contact = %describe(&message.contact),
                kind = message.kind.as_str(),
                incident = message.incident.as_deref().unwrap_or(""),
                %error,
                "message not sent (scripted failure)"
            );
            return Err(error);
        }
        state.sends += 1;
        let receipt = Receipt {
            message_id: format!("console-{}", state.sends),
        };
        let text = match message.contact {
            Contact::Sms(_) => &message.sms,
            Contact::Email(_) | Contact::Topic(_) => &message.subject,
        };
        tracing::info!(
            person = %message.person,
            contact = %describe(&message.contact),
            kind = message.kind.as_str(),
            urgency = message.urgency.as_str(),
            incident = message.incident.as_deref().unwrap_or(""),
            component = message.component.as_deref().unwrap_or(""),
            message_id = %receipt.message_id,
            %text,
            "message sent"
        );
        state.sent.push(message.clone());
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::PersonId;
    use crate::notify::{MessageKind, RetryPolicy, deliver};
    use crate::oncall::{PhoneNumber, Urgency};
    use crate::random::SeededRandom;

    fn message(person: &str, contact: Contact) -> Message {
        Message {
            person: PersonId::parse(person).unwrap(),
            contact,
            kind: MessageKind::Page,
            incident: Some("20261123-100000-api".into()),
            component: None,
            urgency: Urgency::High,
            sms: "Public API is down. Reply ack 1234".into(),
            subject: "Public API is down".into(),
            body: "Public API is down since 10:00 UTC.".into(),
        }
    }

    #[tokio::test]
    async fn messages_are_kept_in_order_with_sequential_receipts_and_clones_share_them() {
        let console = ConsoleNotifier::new();
        let shared = console.clone();
        let sms = message(
            "ana",
            Contact::Sms(PhoneNumber::parse("+447700900123").unwrap()),
        );
        let email = message("bo", Contact::Email("bo@acme.example".into()));
        assert_eq!(console.send(&sms).await.unwrap().message_id, "console-1");
        assert_eq!(shared.send(&email).await.unwrap().message_id, "console-2");
        assert_eq!(console.sent(), [sms, email]);
        assert_eq!(shared.sent().len(), 2);
    }

    #[tokio::test]
    async fn scripted_failures_come_first_and_are_not_recorded_as_sent() {
        let console = ConsoleNotifier::new();
        let page = message("ana", Contact::Topic("arn:aws:sns:us-east-1:1:ana".into()));
        console.fail_next(1, NotifyError::Refused("no such number".into()));
        console.fail_next(2, NotifyError::Unavailable("throttled".into()));
        assert_eq!(
            console.send(&page).await,
            Err(NotifyError::Refused("no such number".into()))
        );
        for _ in 0..2 {
            assert_eq!(
                console.send(&page).await,
                Err(NotifyError::Unavailable("throttled".into()))
            );
        }
        assert!(console.sent().is_empty());
        assert_eq!(console.send(&page).await.unwrap().message_id, "console-1");
        assert_eq!(console.sent(), [page]);
    }

    #[tokio::test]
    async fn deliver_retries_the_console_through_unavailable_failures() {
        let console = ConsoleNotifier::new();
        console.fail_next(2, NotifyError::Unavailable("throttled".into()));
        let policy = RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(1),
            max: Duration::from_millis(1),
        };
        let page = message("ana", Contact::Email("ana@acme.example".into()));
        let receipt = deliver(&console, &page, &policy, &SeededRandom::new(2))
            .await
            .unwrap();
        assert_eq!(receipt.message_id, "console-1");
        assert_eq!(console.sent(), [page]);
    }
}
