//! The page function's handler through its Rust entry point, fed the JSON Lambda delivers:
//! DynamoDB stream records built from the items moto stored (a bad record failing alone, a
//! replayed batch paging nobody twice), the scheduled sweep, and SNS notifications of an
//! inbound text and of a CloudWatch alarm.

use std::sync::Arc;

use chrono::Duration;
use page::{Paging, handle};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::{Config, deployed};
use shared::incident::{self, ComponentStatus};
use shared::invocation::{ConfigSource, FunctionParts};
use shared::notify::MessageKind;
use shared::notify::console::ConsoleNotifier;
use shared::notify::sns::SnsNotifier;
use shared::oncall::token::{self, AckKey};
use shared::random::SeededRandom;
use shared::secrets::{EnvironmentSecrets, SecretsManager};
use shared::social::transport::RetryPolicy;
use shared::store::dynamodb::DynamoStore;
use shared::store::{Store, keys};
use sitrep_tests::aws_calls::AwsCalls;
use sitrep_tests::stream_events::{invocation, stream_record};
use sitrep_tests::{dynamodb, epoch, fresh_table, oncall_config_text};

struct Rig {
    clock: ManualClock,
    client: aws_sdk_dynamodb::Client,
    table: String,
    store: Arc<dyn Store>,
    notifier: ConsoleNotifier,
    paging: Paging,
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
    let text = oncall_config_text("", "");
    let config = Config::parse(&text).unwrap();
    deployed::push(store.as_ref(), &text, "test", clock.now())
        .await
        .unwrap();
    let notifier = ConsoleNotifier::new();
    let calls = AwsCalls::new("PageFunction");
    let parts = FunctionParts::new(
        Arc::new(DynamoStore::new(
            calls.dynamodb(&sitrep_tests::sdk_config().await),
            table.clone(),
            Arc::new(clock.clone()),
        )),
        Arc::new(clock.clone()),
        Arc::new(EnvironmentSecrets::new()),
        Arc::new(SeededRandom::new(3)),
        RetryPolicy::default(),
    )
    .unwrap();
    let paging = Paging::new(
        parts,
        Arc::new(notifier.clone()),
        Arc::new(AckKey::new(&[9u8; 32]).unwrap()),
        Some("https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/".into()),
        ConfigSource::Table,
    );
    Rig {
        clock,
        client,
        table,
        store,
        notifier,
        paging,
        config,
        _calls: calls,
    }
}

impl Rig {
    fn pages(&self) -> Vec<String> {
        self.notifier
            .sent()
            .iter()
            .filter(|m| m.kind == MessageKind::Page)
            .map(|m| m.person.to_string())
            .collect()
    }

    async fn sns(&self, message: Value) -> Value {
        json!({"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:sitrep-inbound:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
            "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:sitrep-inbound",
                "Subject": null,
                "Message": message.to_string(),
                "Timestamp": self.clock.now().to_rfc3339(),
                "SignatureVersion": "1",
                "Signature": "EXAMPLE",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                "MessageAttributes": {}
            }
        }]})
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opened_incident_pages_once_and_a_bad_record_fails_alone() {
    let rig = rig().await;
    let opened = incident::transition(
        rig.store.as_ref(),
        &rig.config.components[0],
        ComponentStatus::Down,
        Some("HTTP 503".into()),
        rig.clock.now(),
    )
    .await
    .unwrap();
    let id = opened
        .iter()
        .find_map(|c| match c {
            incident::Change::Opened(i) => Some(i.id.clone()),
            _ => None,
        })
        .unwrap();
    let key = keys::incident(&id);
    let good = stream_record(
        &rig.client,
        &rig.table,
        &key,
        "INSERT",
        None,
        1,
        rig.clock.now(),
    )
    .await;
    let mut bad = good.clone();
    bad["dynamodb"]["SequenceNumber"] = json!("000000000000000000002");
    bad["dynamodb"]["NewImage"]["phase"] = json!({"S": "sideways"});
    let batch = json!({ "Records": [good.clone(), bad] });

    let response = handle(&rig.paging, invocation(batch.clone()))
        .await
        .unwrap();
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, ["000000000000000000002"]);
    assert_eq!(rig.pages(), ["bob", "bob"], "bob's SMS and email");
    // Lambda retries the batch from the failed record, and replays happen: nobody twice.
    handle(&rig.paging, invocation(batch)).await.unwrap();
    handle(&rig.paging, invocation(json!({ "Records": [good] })))
        .await
        .unwrap();
    assert_eq!(rig.pages(), ["bob", "bob"]);

    // The scheduled sweep pages carol once the step's 5 minutes are up.
    let scheduled: Value =
        serde_json::from_str(include_str!("../fixtures/scheduled-event.json")).unwrap();
    rig.clock.advance(Duration::minutes(4));
    handle(&rig.paging, invocation(scheduled.clone()))
        .await
        .unwrap();
    assert_eq!(rig.pages().len(), 2);
    rig.clock.advance(Duration::minutes(1));
    let response = handle(&rig.paging, invocation(scheduled)).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(rig.pages(), ["bob", "bob", "carol"]);

    // Carol texts back the code: acknowledged, and answered.
    let escalation = rig
        .store
        .get(&keys::escalation(&id))
        .await
        .unwrap()
        .unwrap();
    let code = escalation.str("code").unwrap().to_owned();
    let text = rig
        .sns(json!({
            "originationNumber": "+61255500003",
            "destinationNumber": "+12125550100",
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": format!("ACK {code}"),
            "inboundMessageId": "cae173d2-66b9-564c-8309-21f858e9fb84",
            "previousPublishedMessageId": "wJ0Ovj0P4L6W2E2GZKPNSRU0ge0"
        }))
        .await;
    handle(&rig.paging, invocation(text.clone())).await.unwrap();
    // SNS redelivers: handled once.
    handle(&rig.paging, invocation(text)).await.unwrap();
    let replies: Vec<_> = rig
        .notifier
        .sent()
        .into_iter()
        .filter(|m| m.kind == MessageKind::Reply)
        .collect();
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].sms.contains("acknowledged"),
        "{}",
        replies[0].sms
    );
    let escalation = rig
        .store
        .get(&keys::escalation(&id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(escalation.attributes["acknowledged"]["by"], json!("carol"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watchdog_alarm_pages_and_its_recovery_resolves() {
    let rig = rig().await;
    // The notification CloudWatch sends (AlarmDescription may be null).
    let alarm = |state: &str| {
        json!({
            "AlarmName": "sitrep-ProbeCyclesStoppedAlarm-1ABC",
            "AlarmDescription": null,
            "AWSAccountId": "123456789012",
            "AlarmConfigurationUpdatedTimestamp": "2026-11-23T09:00:00.000+0000",
            "NewStateValue": state,
            "NewStateReason": "Threshold Crossed: 5 datapoints were less than the threshold (1.0).",
            "StateChangeTime": "2026-11-23T10:00:00.000+0000",
            "Region": "US East (N. Virginia)",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:sitrep-ProbeCyclesStoppedAlarm-1ABC",
            "OldStateValue": "OK",
            "Trigger": {
                "MetricName": "ProbeCyclesCompleted",
                "Namespace": "sitrep",
                "StatisticType": "Statistic",
                "Statistic": "SUM",
                "Unit": null,
                "Dimensions": [],
                "Period": 60,
                "EvaluationPeriods": 5,
                "ComparisonOperator": "LessThanThreshold",
                "Threshold": 1.0,
                "TreatMissingData": "breaching"
            }
        })
    };
    let firing = rig.sns(alarm("ALARM")).await;
    handle(&rig.paging, invocation(firing.clone()))
        .await
        .unwrap();
    handle(&rig.paging, invocation(firing)).await.unwrap();
    assert_eq!(rig.pages(), ["bob", "bob"]);
    let page = &rig.notifier.sent()[0];
    assert!(page.sms.contains("sitrep alarm"), "{}", page.sms);
    rig.clock.advance(Duration::minutes(2));
    handle(&rig.paging, invocation(rig.sns(alarm("OK")).await))
        .await
        .unwrap();
    let resolved = rig
        .notifier
        .sent()
        .iter()
        .filter(|m| m.kind == MessageKind::Resolved)
        .count();
    assert_eq!(resolved, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_go_out_through_sns_with_the_key_read_from_secrets_manager() {
    // The function as main.rs builds it, on moto: the key from Secrets Manager, pages
    // published to SNS without retries.
    let clock = ManualClock::new(epoch());
    let sdk = sitrep_tests::sdk_config().await;
    let calls = AwsCalls::new("PageFunction");
    let client = dynamodb().await;
    let table = fresh_table(&client).await;
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(
        client.clone(),
        table.clone(),
        Arc::new(clock.clone()),
    ));
    let text = oncall_config_text("", "");
    let config = Config::parse(&text).unwrap();
    deployed::push(store.as_ref(), &text, "test", clock.now())
        .await
        .unwrap();
    let key_name = format!("sitrep/ack-page-{}", std::process::id());
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&key_name)
        .secret_string("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        .send()
        .await
        .expect("moto creates the secret");
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name(format!("sitrep-pages-{}", std::process::id()))
        .send()
        .await
        .expect("moto creates the topic")
        .topic_arn
        .unwrap();
    let secrets = Arc::new(SecretsManager::new(calls.secrets_manager(&sdk)));
    let key = token::load(secrets.as_ref(), &key_name).await.unwrap();
    let parts = FunctionParts::new(
        Arc::new(DynamoStore::new(
            calls.dynamodb(&sdk),
            table.clone(),
            Arc::new(clock.clone()),
        )),
        Arc::new(clock.clone()),
        secrets,
        Arc::new(SeededRandom::new(3)),
        RetryPolicy::default(),
    )
    .unwrap();
    let paging = Paging::new(
        parts,
        Arc::new(SnsNotifier::new(calls.sns_without_retries(&sdk), topic)),
        Arc::new(key),
        Some("https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/".into()),
        ConfigSource::Table,
    );

    let opened = incident::transition(
        store.as_ref(),
        &config.components[0],
        ComponentStatus::Down,
        Some("HTTP 503".into()),
        clock.now(),
    )
    .await
    .unwrap();
    let id = opened
        .iter()
        .find_map(|c| match c {
            incident::Change::Opened(i) => Some(i.id.clone()),
            _ => None,
        })
        .unwrap();
    let record = stream_record(
        &client,
        &table,
        &keys::incident(&id),
        "INSERT",
        None,
        1,
        clock.now(),
    )
    .await;
    let response = handle(&paging, invocation(json!({ "Records": [record] })))
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let published = calls
        .seen()
        .iter()
        .filter(|c| c.action() == "sns:Publish")
        .count();
    assert_eq!(published, 2, "bob's SMS and email: {:?}", calls.seen());
}
