//! The human handoff port: mentions that need a person, and drafts of public updates for the
//! on-call person, leave sitrep as one structured JSON message on the `support` SNS topic,
//! where an email, HTTPS or helpdesk subscriber takes them.
//!
//! The message body is [`Handoff::to_json`]: the handoff's fields plus `"type":
//! "sitrep.handoff"` and `"version": 1`, so a subscriber shared with other senders can
//! recognise it and a later shape can be told apart. The one-line summary becomes the email
//! subject, and `kind` and `reason` travel as message attributes, so a subscription's filter
//! policy can route drafts and VIP mentions to different people without reading the body.
//!
//! - [`SnsSupport`]: the topic, for AWS.
//! - [`LogSupport`]: a log line and a list in memory, for the local runner and the demo.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::social::Platform;

/// The `type` field of every handoff message.
pub const MESSAGE_TYPE: &str = "sitrep.handoff";

/// The `version` field: raised when the message shape changes incompatibly.
pub const MESSAGE_VERSION: u32 = 1;

/// The longest subject SNS accepts. Its documentation says "less than 100 characters", but
/// SNS refuses only from 101 on and AWS's own services publish subjects of exactly 100
/// (moto issue 1503, and moto checks the same).
pub const SUBJECT_MAX_CHARS: usize = 100;

/// What a person is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffKind {
    /// Look at a customer's post sitrep did not answer, or answered and needs a person.
    Mention,
    /// Post (or adapt) a public incident update sitrep drafted.
    DraftUpdate,
}

impl HandoffKind {
    /// The name in the message and its `kind` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffKind::Mention => "mention",
            HandoffKind::DraftUpdate => "draft_update",
        }
    }
}

/// One thing handed to a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// What the person is asked to do.
    pub kind: HandoffKind,
    /// Why, as a short machine word subscribers filter on: `stale`, `low_confidence`, `vip`,
    /// `complaint_without_incident`, `all_clear`, `not_summoned`, `refused` (the platform
    /// refused the post, or every wording of it), `failed` (posting kept failing),
    /// `budget_stale`, `draft`.
    pub reason: String,
    /// One line for an email subject (at most 100 characters).
    pub summary: String,
    /// The platform of the post or of the account the draft is for.
    pub platform: Platform,
    /// The vendor's account (its config id).
    pub account: String,
    /// A public link to the customer's post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_url: Option<String>,
    /// The customer's handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The platform's id for the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// The customer's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// What the classifier made of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// How sure the classifier was, from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// The component it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The incident it relates to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The language of the post (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When the customer posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<DateTime<Utc>>,
    /// The text sitrep drafted for the person to post: only ever text meant to be posted,
    /// never an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// Why sitrep could not post it itself (the platform's refusal, the last failure), for
    /// the person to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The message body: the handoff under a header that names it.
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    message_type: &'static str,
    version: u32,
    #[serde(flatten)]
    handoff: &'a Handoff,
}

impl Handoff {
    /// The message body subscribers receive.
    pub fn to_json(&self) -> String {
        let envelope = Envelope {
            message_type: MESSAGE_TYPE,
            version: MESSAGE_VERSION,
            handoff: self,
        };
        // Strings, numbers and timestamps always serialize (a non-finite confidence becomes
        // null); the fallback only keeps the signature honest.
        serde_json::to_string(&envelope).unwrap_or_else(|error| {
            serde_json::json!({
                "type": MESSAGE_TYPE,
                "version": MESSAGE_VERSION,
                "kind": self.kind,
                "reason": self.reason,
                "summary": self.summary,
                "error": error.to_string(),
            })
            .to_string()
        })
    }

    /// The summary as an SNS subject: one line without control characters, at most
    /// [`SUBJECT_MAX_CHARS`] characters, never empty.
    pub fn subject(&self) -> String {
        let subject = clean_subject(&self.summary);
        if subject.is_empty() {
            format!(
                "sitrep: {} ({})",
                self.kind.as_str(),
                clean_subject(&self.reason)
            )
        } else {
            subject
        }
    }
}

/// One line of at most [`SUBJECT_MAX_CHARS`] characters: control characters and line breaks
/// become spaces and runs of white space one space, since SNS refuses the whole publish
/// otherwise; a long line is cut after a whole word and ends with an ellipsis so the reader
/// knows.
pub fn clean_subject(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let line = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= SUBJECT_MAX_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(SUBJECT_MAX_CHARS - 1).collect();
    let next_is_space = line.chars().nth(SUBJECT_MAX_CHARS - 1) == Some(' ');
    // End on a whole word, unless that would throw away most of the line.
    if !next_is_space
        && let Some(space) = cut.rfind(' ')
        && cut[..space].chars().count() >= SUBJECT_MAX_CHARS / 2
    {
        cut.truncate(space);
    }
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Why a handoff could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    /// The message could not be built for the channel (an attribute the SDK refused).
    #[error("the handoff could not be built: {0}")]
    Invalid(String),
    /// The channel refused the message or could not be reached.
    #[error("the handoff could not be published to {topic}: {detail}")]
    Publish {
        /// Where it was going.
        topic: String,
        /// What went wrong.
        detail: String,
    },
}

/// Where handoffs go.
#[async_trait]
pub trait Support: Send + Sync {
    /// Delivers one handoff to the people behind the channel.
    async fn hand_off(&self, handoff: &Handoff) -> Result<(), HandoffError>;
}

/// The `support` SNS topic.
#[derive(Debug, Clone)]
pub struct SnsSupport {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSupport {
    /// Publishes to `topic_arn` through `client`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// Publishes to `topic_arn` with the configuration every function uses inside Lambda.
    pub async fn in_lambda(topic_arn: impl Into<String>) -> Self {
        let config = crate::aws::lambda_sdk_config().await;
        Self::new(aws_sdk_sns::Client::new(&config), topic_arn)
    }

    /// The topic it publishes to.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, HandoffError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| HandoffError::Invalid(e.to_string()))
}

#[async_trait]
impl Support for SnsSupport {
    async fn hand_off(&self, handoff: &Handoff) -> Result<(), HandoffError> {
        // SNS refuses an empty String attribute; a handoff without a reason still goes out.
        let reason = if handoff.reason.trim().is_empty() {
            "unspecified"
        } else {
            handoff.reason.as_str()
        };
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(handoff.subject())
            .message(handoff.to_json())
            .message_attributes("kind", string_attribute(handoff.kind.as_str())?)
            .message_attributes("reason", string_attribute(reason)?)
            .send()
            .await
            .map_err(|e| HandoffError::Publish {
                topic: self.topic_arn.clone(),
                detail: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(())
    }
}

/// Handoffs written to the log and kept in memory, for the local runner and the demo;
/// clones share the same list.
#[derive(Debug, Clone, Default)]
pub struct LogSupport {
    handed_off: Arc<Mutex<Vec<Handoff>>>,
}

impl LogSupport {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every handoff so far, oldest first.
    pub fn handed_off(&self) -> Vec<Handoff> {
        self.handed_off
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[async_trait]
impl Support for LogSupport {
    async fn hand_off(&self, handoff: &Handoff) -> Result<(), HandoffError> {
        tracing::info!(
            kind = handoff.kind.as_str(),
            reason = %handoff.reason,
            platform = %handoff.platform,
            account = %handoff.account,
            subject = %handoff.subject(),
            message = %handoff.to_json(),
            "handed off to a person"
        );
        self.handed_off
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(handoff.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::{Value, json};

    fn mention() -> Handoff {
        Handoff {
            kind: HandoffKind::Mention,
            reason: "vip".into(),
            summary: "VIP @bigco on X: is the API down?".into(),
            platform: Platform::X,
            account: "acme-x".into(),
            post_url: Some("https://x.com/bigco/status/1".into()),
            author: Some("bigco".into()),
            author_id: Some("77".into()),
            text: Some("@acme is the API down?".into()),
            intent: Some("outage_report".into()),
            confidence: Some(0.5),
            component: Some("api".into()),
            incident: None,
            lang: Some("en".into()),
            posted_at: Some(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()),
            draft: None,
            problem: None,
        }
    }

    fn draft() -> Handoff {
        Handoff {
            kind: HandoffKind::DraftUpdate,
            reason: "draft".into(),
            summary: "Draft update for acme-mastodon: Public API".into(),
            platform: Platform::Mastodon,
            account: "acme-mastodon".into(),
            post_url: None,
            author: None,
            author_id: None,
            text: None,
            intent: None,
            confidence: None,
            component: Some("api".into()),
            incident: Some("inc-1".into()),
            lang: None,
            posted_at: None,
            draft: Some("Public API is degraded. Updates: https://status.acme.example".into()),
            problem: None,
        }
    }

    #[test]
    fn the_message_is_tagged_and_carries_every_present_field() {
        let value: Value = serde_json::from_str(&mention().to_json()).unwrap();
        assert_eq!(
            value,
            json!({
                "type": "sitrep.handoff",
                "version": 1,
                "kind": "mention",
                "reason": "vip",
                "summary": "VIP @bigco on X: is the API down?",
                "platform": "x",
                "account": "acme-x",
                "post_url": "https://x.com/bigco/status/1",
                "author": "bigco",
                "author_id": "77",
                "text": "@acme is the API down?",
                "intent": "outage_report",
                "confidence": 0.5,
                "component": "api",
                "lang": "en",
                "posted_at": "2026-11-23T10:00:00Z",
            })
        );
    }

    #[test]
    fn absent_fields_are_left_out_and_the_message_reads_back() {
        let handoff = draft();
        let json = handoff.to_json();
        let value: Value = serde_json::from_str(&json).unwrap();
        let fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            [
                "account",
                "component",
                "draft",
                "incident",
                "kind",
                "platform",
                "reason",
                "summary",
                "type",
                "version"
            ]
        );
        assert_eq!(value["kind"], "draft_update");
        let back: Handoff = serde_json::from_str(&json).unwrap();
        assert_eq!(back, handoff);
    }

    #[test]
    fn subjects_are_one_line_without_control_characters() {
        assert_eq!(
            clean_subject("  Outage\r\nreport:\tAPI\u{0}down\u{2028}now  "),
            "Outage report: API down now"
        );
        assert_eq!(clean_subject("¿Está caído? 🔥"), "¿Está caído? 🔥");
    }

    #[test]
    fn long_subjects_are_cut_to_the_sns_limit_with_an_ellipsis() {
        let exact = "a".repeat(SUBJECT_MAX_CHARS);
        assert_eq!(clean_subject(&exact), exact);
        let long = "é".repeat(150);
        let cut = clean_subject(&long);
        assert_eq!(cut.chars().count(), SUBJECT_MAX_CHARS);
        assert!(cut.ends_with('…'));
        let words = "word ".repeat(40);
        let cut = clean_subject(&words);
        assert!(cut.chars().count() <= SUBJECT_MAX_CHARS);
        assert!(cut.ends_with(" word…"), "{cut}");
        let one_long_word = format!("ab {}", "c".repeat(200));
        assert_eq!(
            clean_subject(&one_long_word).chars().count(),
            SUBJECT_MAX_CHARS
        );
    }

    #[test]
    fn an_empty_summary_still_gives_a_subject() {
        let mut handoff = draft();
        handoff.summary = "\n\t ".into();
        assert_eq!(handoff.subject(), "sitrep: draft_update (draft)");
    }

    #[tokio::test]
    async fn the_log_channel_keeps_what_it_was_given_and_clones_share_it() {
        let support = LogSupport::new();
        let shared = support.clone();
        support.hand_off(&mention()).await.unwrap();
        shared.hand_off(&draft()).await.unwrap();
        assert_eq!(support.handed_off(), [mention(), draft()]);
    }
}
