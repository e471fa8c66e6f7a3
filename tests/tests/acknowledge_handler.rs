//! The acknowledge function's handler, fed DynamoDB stream events in the exact JSON Lambda
//! delivers (records built from the items as moto's DynamoDB stores them), with its table on
//! moto, the support topic on moto's SNS, and a Mastodon-format server on 127.0.0.1: good
//! records are answered once, a bad record is reported alone in `batchItemFailures`, a
//! replayed batch posts nothing twice, and a scheduled event drains what waited.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use acknowledge::{Acknowledger, handle};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Duration as TimeDelta;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::{AccountId, ComponentId, Config, deployed};
use shared::incident::{self, ComponentStatus};
use shared::invocation::{ConfigSource, FunctionParts};
use shared::mentions::StoredMention;
use shared::mentions::classify::Intent;
use shared::random::SeededRandom;
use shared::reply::handoff::SnsSupport;
use shared::secrets::SecretsManager;
use shared::social::transport::RetryPolicy;
use shared::social::{MentionKind, Platform};
use shared::store::dynamodb::DynamoStore;
use shared::store::{Key, NewItem, Store, keys};
use sitrep_tests::aws_calls::AwsCalls;
use sitrep_tests::statuses::{Next, StatusServer};
use sitrep_tests::stream_events::{image, invocation, raw_item, stream_record};
use sitrep_tests::{dynamodb, epoch, fresh_table, replies_config_text};

struct Rig {
    clock: ManualClock,
    client: aws_sdk_dynamodb::Client,
    table: String,
    store: Arc<dyn Store>,
    server: StatusServer,
    acknowledger: Acknowledger,
    config: Config,
    /// The function's calls, checked against its role when the test ends.
    _calls: AwsCalls,
}

async fn rig() -> Rig {
    let clock = ManualClock::new(epoch());
    let client = dynamodb().await;
    let table = fresh_table(&client).await;
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(
        client.clone(),
        table.clone(),
        Arc::new(clock.clone()),
    ));
    let server = StatusServer::start().await;
    let text = replies_config_text(&server.server.base, "", "");
    let config = Config::parse(&text).unwrap();
    deployed::push(store.as_ref(), &text, "test", clock.now())
        .await
        .unwrap();
    let sdk = sitrep_tests::sdk_config().await;
    let calls = AwsCalls::new("AcknowledgeFunction");
    // The account's credentials, as the function reads them: the tests of this file share
    // the secret, so whichever creates it first wins.
    let created = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("sitrep/acme-m")
        .secret_string(r#"{"access_token":"t"}"#)
        .send()
        .await;
    if let Err(error) = created {
        let exists = error
            .as_service_error()
            .is_some_and(|e| e.is_resource_exists_exception());
        assert!(exists, "moto creates the secret: {error:?}");
    }
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name(format!("sitrep-support-{}", std::process::id()))
        .send()
        .await
        .expect("moto creates the topic")
        .topic_arn
        .unwrap();
    let parts = FunctionParts::new(
        Arc::new(DynamoStore::new(
            calls.dynamodb(&sdk),
            table.clone(),
            Arc::new(clock.clone()),
        )),
        Arc::new(clock.clone()),
        Arc::new(SecretsManager::new(calls.secrets_manager(&sdk))),
        Arc::new(SeededRandom::new(5)),
        RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            timeout: Duration::from_secs(3),
        },
    )
    .unwrap();
    let acknowledger = Acknowledger::new(
        parts,
        Arc::new(SnsSupport::new(calls.sns(&sdk), topic)),
        ConfigSource::Table,
    );
    Rig {
        clock,
        client,
        table,
        store,
        server,
        acknowledger,
        config,
        _calls: calls,
    }
}

impl Rig {
    fn mention(&self, post: &str, author: &str, intent: Intent) -> StoredMention {
        StoredMention {
            platform: Platform::Mastodon,
            id: post.into(),
            account: AccountId::parse("acme-m").unwrap(),
            url: format!("https://elsewhere.example/@{author}/{post}"),
            author_id: format!("id-{author}"),
            author: format!("{author}@elsewhere.example"),
            text: "@acme is the api down?".into(),
            truncated: false,
            created_at: self.clock.now() - TimeDelta::seconds(20),
            received_at: self.clock.now(),
            kind: MentionKind::Mention,
            in_reply_to: None,
            conversation: None,
            others: Vec::new(),
            intent,
            confidence: 0.95,
            lang: "en".into(),
            component: Some(ComponentId::parse("api").unwrap()),
        }
    }

    /// Stores the mention and returns the stream record DynamoDB emits for it.
    async fn insert(&self, mention: &StoredMention, sequence: u64) -> Value {
        let key = keys::mention(mention.platform, &mention.id);
        self.store
            .create(NewItem::encode(key.clone(), mention).unwrap())
            .await
            .unwrap();
        self.record(&key, "INSERT", None, sequence).await
    }

    async fn raw(&self, key: &Key) -> HashMap<String, AttributeValue> {
        raw_item(&self.client, &self.table, key).await
    }

    async fn record(&self, key: &Key, event: &str, old: Option<Value>, sequence: u64) -> Value {
        stream_record(
            &self.client,
            &self.table,
            key,
            event,
            old,
            sequence,
            self.clock.now(),
        )
        .await
    }
}

fn event(payload: Value) -> LambdaEvent<Value> {
    invocation(payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_batch_is_answered_once_and_a_bad_record_fails_alone() {
    let rig = rig().await;
    let api = rig.config.components[0].clone();
    incident::transition(
        rig.store.as_ref(),
        &api,
        ComponentStatus::Down,
        Some("503".into()),
        rig.clock.now(),
    )
    .await
    .unwrap();
    let first = rig
        .insert(&rig.mention("11", "ann", Intent::OutageReport), 1)
        .await;
    let mut broken = rig
        .insert(&rig.mention("12", "bob", Intent::OutageReport), 2)
        .await;
    // Lambda hands over what DynamoDB wrote; a record whose image is not a mention fails.
    broken["dynamodb"]["NewImage"]["intent"] = json!({"S": "shouting"});
    let praise = rig
        .insert(&rig.mention("13", "cat", Intent::Praise), 3)
        .await;
    let last = rig
        .insert(&rig.mention("14", "dan", Intent::Question), 4)
        .await;
    let batch = json!({ "Records": [first, broken, praise, last] });

    let response = handle(&rig.acknowledger, event(batch.clone()))
        .await
        .unwrap();
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [Some(format!("{:021}", 2))]);
    let answered: Vec<Option<String>> = rig
        .server
        .statuses()
        .into_iter()
        .map(|s| s.in_reply_to)
        .collect();
    assert_eq!(answered, [Some("11".to_owned()), Some("14".to_owned())]);

    // Lambda retries from the failed record on; nothing is posted twice.
    let again = handle(&rig.acknowledger, event(batch)).await.unwrap();
    assert_eq!(again.batch_item_failures.len(), 1);
    assert_eq!(rig.server.statuses().len(), 2);
    let response_json = serde_json::to_value(&again).unwrap();
    assert_eq!(
        response_json,
        json!({"batchItemFailures": [{"itemIdentifier": format!("{:021}", 2)}]}),
        "the shape Lambda reads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_a_sequence_number_fails_the_whole_batch() {
    let rig = rig().await;
    let good = rig
        .insert(&rig.mention("21", "ann", Intent::OutageReport), 1)
        .await;
    let mut nameless = rig
        .insert(&rig.mention("22", "bob", Intent::OutageReport), 2)
        .await;
    nameless["dynamodb"]
        .as_object_mut()
        .unwrap()
        .remove("SequenceNumber");
    nameless["dynamodb"].as_object_mut().unwrap().remove("Keys");
    let result = handle(
        &rig.acknowledger,
        event(json!({ "Records": [good, nameless] })),
    )
    .await;
    let error = result
        .expect_err("a record that cannot be named fails the batch")
        .to_string();
    assert!(error.contains("no sequence number"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_changes_from_the_stream_bring_follow_ups_and_the_schedule_drains_waiting_replies()
{
    let rig = rig().await;
    let api = rig.config.components[0].clone();
    incident::transition(
        rig.store.as_ref(),
        &api,
        ComponentStatus::Down,
        Some("503".into()),
        rig.clock.now(),
    )
    .await
    .unwrap();
    let id = incident::open_incident(rig.store.as_ref(), &api.id)
        .await
        .unwrap()
        .unwrap();
    // Mastodon says the posting window is spent for a minute.
    rig.server
        .then(Next::RateLimited("2026-11-23T10:01:00.000Z".into()));
    let record = rig
        .insert(&rig.mention("31", "ann", Intent::OutageReport), 1)
        .await;
    let response = handle(&rig.acknowledger, event(json!({ "Records": [record] })))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert!(rig.server.statuses().is_empty(), "waiting for the window");

    rig.clock.advance(TimeDelta::seconds(90));
    let scheduled: Value =
        serde_json::from_str(include_str!("../fixtures/scheduled-event.json")).unwrap();
    handle(&rig.acknowledger, event(scheduled)).await.unwrap();
    assert_eq!(rig.server.statuses().len(), 1, "the schedule drained it");

    let before = image(&rig.raw(&keys::incident(&id)).await);
    rig.clock.advance(TimeDelta::minutes(10));
    incident::transition(
        rig.store.as_ref(),
        &api,
        ComponentStatus::Operational,
        None,
        rig.clock.now(),
    )
    .await
    .unwrap();
    let resolved = rig
        .record(&keys::incident(&id), "MODIFY", Some(before), 9)
        .await;
    let batch = json!({ "Records": [resolved] });
    handle(&rig.acknowledger, event(batch.clone()))
        .await
        .unwrap();
    handle(&rig.acknowledger, event(batch)).await.unwrap();
    let statuses = rig.server.statuses();
    assert_eq!(
        statuses.len(),
        2,
        "one reply and one follow-up: {statuses:#?}"
    );
    assert!(statuses[1].text.starts_with("@ann@elsewhere.example "));
    assert!(
        statuses[1].text.contains("10:11 UTC"),
        "{}",
        statuses[1].text
    );
}
