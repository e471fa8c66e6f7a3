//! The poll-mentions function's handler, fed the real EventBridge "Scheduled Event" JSON,
//! with its table and its account's secret on moto (DynamoDB, Secrets Manager) and the
//! stand-in X timeline on 127.0.0.1.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Duration as TimeDelta;
use poll_mentions::{Poller, handle};
use shared::clock::{Clock, ManualClock};
use shared::config::deployed;
use shared::incident;
use shared::invocation::{ConfigSource, FunctionParts};
use shared::random::SeededRandom;
use shared::secrets::SecretsManager;
use shared::social::transport::RetryPolicy;
use shared::store::Store;
use sitrep_cli::x_timeline::XTimeline;
use sitrep_tests::aws_calls::AwsCalls;
use sitrep_tests::{dynamo_stores, epoch, mentions_config_text, scheduled_event};

/// A secret on moto holding `value`, under a name unique to this test.
async fn secret(value: &str) -> (String, aws_sdk_secretsmanager::Client) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let client = aws_sdk_secretsmanager::Client::new(&sitrep_tests::sdk_config().await);
    let name = format!(
        "sitrep/acme-x-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("moto creates the secret");
    (name, client)
}

/// The poller with its table and secrets client recorded (checked against its role when the
/// returned [`AwsCalls`] is dropped), the stand-in timeline, and a store for the test's own
/// reads.
async fn setup(
    secret_value: Option<&str>,
    mentions: &str,
) -> (XTimeline, Arc<dyn Store>, ManualClock, Poller, AwsCalls) {
    let clock = ManualClock::new(epoch());
    let timeline = XTimeline::start("42", epoch() + TimeDelta::minutes(15))
        .await
        .unwrap();
    let calls = AwsCalls::new("PollMentionsFunction");
    let (store, poller_store) = dynamo_stores(&clock, &calls).await;
    let name = match secret_value {
        Some(value) => secret(value).await.0,
        None => "sitrep/never-created".to_owned(),
    };
    let client = calls.secrets_manager(&sitrep_tests::sdk_config().await);
    let text = mentions_config_text(&timeline.base_url(), mentions, &name);
    deployed::push(store.as_ref(), &text, "test", clock.now())
        .await
        .expect("config pushed");
    let parts = FunctionParts::new(
        poller_store,
        Arc::new(clock.clone()),
        Arc::new(SecretsManager::new(client)),
        Arc::new(SeededRandom::new(11)),
        RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            timeout: Duration::from_secs(5),
        },
    )
    .unwrap();
    let poller = Poller::new(parts, ConfigSource::Table);
    (timeline, store, clock, poller, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_events_store_mentions_once_and_open_a_suspected_incident() {
    let (timeline, store, clock, poller, _calls) = setup(
        Some(r#"{"bearer_token": "app-token"}"#),
        "surge_authors = 3\nsurge_window = \"10m\"",
    )
    .await;
    for (i, who) in ["ana", "bo", "cy"].iter().enumerate() {
        timeline.post(
            who,
            "@acme is the api down? getting 503s",
            epoch() - TimeDelta::minutes(3) + TimeDelta::seconds(i as i64),
        );
    }
    timeline.post(
        "dee",
        "@acme thanks for the fast support!",
        epoch() - TimeDelta::minutes(1),
    );

    let first = handle(&poller, scheduled_event()).await.expect("run 1");
    assert_eq!(first.accounts.len(), 1);
    assert_eq!(first.accounts[0].account, "acme-x");
    assert_eq!(first.accounts[0].stored, 4);
    assert_eq!(first.accounts[0].outage_reports, 3);
    assert_eq!(first.accounts[0].outcome, "caught up");
    assert_eq!(first.opened.len(), 1, "{first:?}");
    let opened = incident::load(store.as_ref(), &first.opened[0])
        .await
        .unwrap()
        .unwrap();
    assert!(opened.suspected);
    assert_eq!(
        opened.component.map(|c| c.to_string()).as_deref(),
        Some("api")
    );

    // The same event again (a retry): nothing new, no second incident.
    clock.advance(TimeDelta::minutes(1));
    let retry = handle(&poller, scheduled_event()).await.expect("run 2");
    assert_eq!(retry.accounts[0].stored, 0);
    assert!(retry.opened.is_empty(), "{retry:?}");
    let requests = timeline.requests();
    assert_eq!(requests[0].since_id, None);
    assert!(
        requests[1].since_id.is_some(),
        "the second run starts at the cursor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_fails_the_run_naming_the_account() {
    let (timeline, _store, _clock, poller, _calls) = setup(None, "").await;
    let error = handle(&poller, scheduled_event()).await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains("acme-x"), "{text}");
    assert!(text.contains("sitrep/never-created"), "{text}");
    assert!(timeline.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_without_the_needed_fields_is_named_but_never_quoted() {
    let (_timeline, _store, _clock, poller, _calls) =
        setup(Some(r#"{"password": "hunter2"}"#), "").await;
    let text = handle(&poller, scheduled_event())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("bearer_token"),
        "says what is expected: {text}"
    );
    assert!(!text.contains("hunter2"), "never the secret itself: {text}");
}
