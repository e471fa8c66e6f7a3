//! The support topic on moto: what `SnsSupport` publishes reaches a subscribed queue as the
//! handoff's JSON, with `kind` and `reason` attributes a subscription can filter on, and with
//! the summary as a clean subject.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use shared::reply::handoff::{Handoff, HandoffKind, SnsSupport, Support};
use shared::social::Platform;
use sitrep_tests::moto_endpoint;
use sitrep_tests::queues::{subscribed_queue, unique};

/// SNS and SQS clients for the moto server `scripts/test` started; never real AWS.
async fn moto() -> (aws_sdk_sns::Client, aws_sdk_sqs::Client) {
    moto_endpoint();
    let config = shared::aws::lambda_sdk_config().await;
    (
        aws_sdk_sns::Client::new(&config),
        aws_sdk_sqs::Client::new(&config),
    )
}

/// Every message on the queue, waiting up to a few seconds for `expected` of them.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str, expected: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut messages = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        messages.extend(received.messages.unwrap_or_default());
        if messages.len() >= expected || Instant::now() > deadline {
            return messages;
        }
    }
}

fn string_attribute(message: &Message, name: &str) -> (String, String) {
    let attribute = message
        .message_attributes
        .as_ref()
        .and_then(|attributes| attributes.get(name))
        .unwrap_or_else(|| panic!("no `{name}` attribute on {message:?}"));
    (
        attribute.data_type.clone(),
        attribute.string_value.clone().unwrap_or_default(),
    )
}

fn vip_mention() -> Handoff {
    Handoff {
        kind: HandoffKind::Mention,
        reason: "vip".into(),
        summary: "VIP @bigco on X:\nis the API down?\tThey have 2M followers".into(),
        platform: Platform::X,
        account: "acme-x".into(),
        post_url: Some("https://x.com/bigco/status/1861234567890".into()),
        author: Some("bigco".into()),
        author_id: Some("77".into()),
        text: Some("@acme is the API down? \"quotes\", ünïcödé and 🔥".into()),
        intent: Some("outage_report".into()),
        confidence: Some(0.625),
        component: Some("api".into()),
        incident: None,
        lang: Some("en".into()),
        posted_at: Some(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()),
        draft: None,
        problem: None,
    }
}

fn draft_update() -> Handoff {
    Handoff {
        kind: HandoffKind::DraftUpdate,
        reason: "draft".into(),
        summary: format!(
            "Draft update for acme-mastodon: {}",
            "Public API ".repeat(20)
        ),
        platform: Platform::Mastodon,
        account: "acme-mastodon".into(),
        post_url: None,
        author: None,
        author_id: None,
        text: None,
        intent: None,
        confidence: None,
        component: Some("api".into()),
        incident: Some("inc-20261123-api".into()),
        lang: None,
        posted_at: None,
        draft: Some(
            "Public API is degraded since 10:00 UTC. Updates: https://status.acme.example".into(),
        ),
        problem: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoffs_reach_subscribers_as_json_with_filterable_attributes() {
    let (sns, sqs) = moto().await;
    let topic = sns
        .create_topic()
        .name(unique("sitrep-support"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let everything = subscribed_queue(&sns, &sqs, &topic, "support-all", true, None).await;
    let envelopes = subscribed_queue(&sns, &sqs, &topic, "support-email", false, None).await;
    let drafts = subscribed_queue(
        &sns,
        &sqs,
        &topic,
        "support-drafts",
        true,
        Some(r#"{"kind": ["draft_update"]}"#),
    )
    .await;

    let support = SnsSupport::new(sns.clone(), topic.clone());
    assert_eq!(support.topic_arn(), topic);
    support.hand_off(&vip_mention()).await.unwrap();
    support.hand_off(&draft_update()).await.unwrap();

    // Raw delivery: the body is the handoff's JSON, the attributes come along.
    let received = drain(&sqs, &everything, 2).await;
    assert_eq!(received.len(), 2, "{received:?}");
    let mut by_kind = HashMap::new();
    for message in &received {
        let body = message.body.as_deref().unwrap();
        let value: Value = serde_json::from_str(body).unwrap();
        assert_eq!(value["type"], "sitrep.handoff");
        assert_eq!(value["version"], 1);
        let handoff: Handoff = serde_json::from_str(body).unwrap();
        assert_eq!(
            string_attribute(message, "kind"),
            ("String".to_owned(), handoff.kind.as_str().to_owned())
        );
        assert_eq!(
            string_attribute(message, "reason"),
            ("String".to_owned(), handoff.reason.clone())
        );
        by_kind.insert(handoff.kind, (value, handoff));
    }
    let (mention_json, mention) = &by_kind[&HandoffKind::Mention];
    assert_eq!(*mention, vip_mention(), "the message reads back whole");
    assert_eq!(mention_json["confidence"], 0.625);
    assert_eq!(mention_json["posted_at"], "2026-11-23T10:00:00Z");
    assert!(
        mention_json.get("incident").is_none(),
        "absent fields are left out"
    );
    let (draft_json, draft) = &by_kind[&HandoffKind::DraftUpdate];
    assert_eq!(*draft, draft_update());
    assert_eq!(draft_json["kind"], "draft_update");
    assert!(draft_json.get("author").is_none());

    // The envelope an email subscriber is built from carries the cleaned subject.
    let wrapped = drain(&sqs, &envelopes, 2).await;
    let mut subjects: Vec<String> = wrapped
        .iter()
        .map(|message| {
            let envelope: Value = serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
            assert_eq!(envelope["TopicArn"], topic.as_str());
            let inner: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            assert_eq!(inner["type"], "sitrep.handoff");
            envelope["Subject"].as_str().unwrap().to_owned()
        })
        .collect();
    subjects.sort();
    assert_eq!(subjects.len(), 2, "{wrapped:?}");
    assert!(
        subjects[0].starts_with("Draft update for acme-mastodon: Public API"),
        "{subjects:?}"
    );
    assert!(subjects[0].ends_with('…') && subjects[0].chars().count() <= 100);
    assert_eq!(
        subjects[1],
        "VIP @bigco on X: is the API down? They have 2M followers"
    );

    // A subscription filtering on the kind attribute gets only the drafts.
    let filtered = drain(&sqs, &drafts, 1).await;
    assert_eq!(filtered.len(), 1, "{filtered:?}");
    let only: Handoff = serde_json::from_str(filtered[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(only.kind, HandoffKind::DraftUpdate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_is_an_error_not_a_silent_loss() {
    let (sns, _) = moto().await;
    let support = SnsSupport::new(
        sns,
        "arn:aws:sns:us-east-1:123456789012:sitrep-support-that-does-not-exist",
    );
    let error = support.hand_off(&vip_mention()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("sitrep-support-that-does-not-exist"),
        "{error}"
    );
}
