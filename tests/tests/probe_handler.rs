//! The probe function's handler, fed the real EventBridge "Scheduled Event" JSON, against a
//! DynamoDB table on moto and a scripted service on 127.0.0.1.

use std::sync::Arc;

use probe::{ConfigSource, Probe, Summary, handle};
use shared::clock::{Clock, ManualClock};
use shared::config::{ComponentId, deployed};
use shared::incident::{self, ComponentStatus, IncidentPhase};
use shared::store::dynamodb::DynamoStore;
use shared::store::{Store, keys};
use sitrep_cli::flaky::{FlakyService, Mode};
use sitrep_tests::aws_calls::AwsCalls;
use sitrep_tests::{api_config_text, dynamo_stores, epoch, scheduled_event};

fn config(url: &str, failure_threshold: u32) -> String {
    api_config_text(
        url,
        &format!(
            "conditions = ['[STATUS] == 200']\nfailure_threshold = {failure_threshold}\nsuccess_threshold = 1"
        ),
        "",
    )
}

/// The function's calls are recorded and checked against its role.
fn calls() -> AwsCalls {
    AwsCalls::new("ProbeFunction")
}

async fn setup(
    service: &FlakyService,
    threshold: u32,
) -> (Arc<dyn Store>, ManualClock, Probe, AwsCalls) {
    let clock = ManualClock::new(epoch());
    let calls = calls();
    let (store, probe_store) = dynamo_stores(&clock, &calls).await;
    deployed::push(
        store.as_ref(),
        &config(&service.health_url(), threshold),
        "test",
        clock.now(),
    )
    .await
    .expect("config pushed");
    let probe = Probe::new(
        probe_store,
        Arc::new(clock.clone()),
        ConfigSource::Table,
        "us-east-1",
    );
    (store, clock, probe, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_events_open_and_resolve_an_incident() {
    let service = FlakyService::start(Mode::Failing).await.unwrap();
    let (store, clock, probe, _calls) = setup(&service, 2).await;

    let first = handle(&probe, scheduled_event()).await.expect("cycle 1");
    assert_eq!(
        first,
        Summary {
            region: "us-east-1".into(),
            checks: 1,
            failing: 1,
            opened: vec![],
            resolved: vec![]
        },
        "one failure is below the threshold"
    );
    clock.advance(chrono::Duration::minutes(1));
    let second = handle(&probe, scheduled_event()).await.expect("cycle 2");
    assert_eq!(second.opened.len(), 1, "{second:?}");
    let id = &second.opened[0];

    let opened = incident::load(store.as_ref(), id)
        .await
        .unwrap()
        .expect("incident stored");
    assert_eq!(opened.phase, IncidentPhase::Open);
    assert_eq!(
        opened.reason.as_deref(),
        Some(format!("HTTP 503 from {}", service.health_url()).as_str())
    );

    service.set(Mode::Healthy);
    clock.advance(chrono::Duration::minutes(1));
    let third = handle(&probe, scheduled_event()).await.expect("cycle 3");
    assert_eq!(&third.resolved, &second.opened);
    let resolved = incident::load(store.as_ref(), id).await.unwrap().unwrap();
    assert_eq!(
        (resolved.phase, resolved.duration_seconds),
        (IncidentPhase::Resolved, Some(60))
    );
    let timeline = incident::timeline(store.as_ref(), id).await.unwrap();
    assert_eq!(
        timeline.iter().map(|e| e.status).collect::<Vec<_>>(),
        [ComponentStatus::Down, ComponentStatus::Operational]
    );
    let state = store
        .get(&keys::component_state(&ComponentId::parse("api").unwrap()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.str("status"), Some("operational"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_config_is_picked_up_without_a_redeploy() {
    let healthy = FlakyService::start(Mode::Healthy).await.unwrap();
    let broken = FlakyService::start(Mode::Failing).await.unwrap();
    let (store, clock, probe, _calls) = setup(&healthy, 1).await;
    assert_eq!(handle(&probe, scheduled_event()).await.unwrap().failing, 0);

    deployed::push(
        store.as_ref(),
        &config(&broken.health_url(), 1),
        "test",
        clock.now(),
    )
    .await
    .unwrap();
    clock.advance(chrono::Duration::minutes(1));
    let summary = handle(&probe, scheduled_event()).await.unwrap();
    assert_eq!(
        (summary.failing, summary.opened.len()),
        (1, 1),
        "the new check ran: {summary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_deployed_config_is_a_clear_error() {
    let clock = ManualClock::new(epoch());
    let calls = calls();
    let (_, store) = dynamo_stores(&clock, &calls).await;
    let probe = Probe::new(store, Arc::new(clock), ConfigSource::Table, "us-east-1");
    let error = handle(&probe, scheduled_event())
        .await
        .expect_err("nothing to run");
    assert!(error.to_string().contains("sitrep config push"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_deployed_config_names_field_and_line() {
    let clock = ManualClock::new(epoch());
    let client = sitrep_tests::dynamodb().await;
    let table = sitrep_tests::fresh_table(&client).await;
    let store = DynamoStore::new(client, table.clone(), Arc::new(clock.clone()));
    // Written around `push` (which validates), as a hand edit in the console would be.
    let mut attributes = shared::store::Attributes::new();
    attributes.insert(
        "toml".into(),
        "[service]\nname = \"x\"\nstatus_url = \"ftp://x\"\n".into(),
    );
    store
        .put(shared::store::NewItem::new(keys::config(), attributes))
        .await
        .unwrap();
    let calls = calls();
    let probe = Probe::new(
        Arc::new(DynamoStore::new(
            calls.dynamodb(&sitrep_tests::sdk_config().await),
            table,
            Arc::new(clock.clone()),
        )),
        Arc::new(clock),
        ConfigSource::Table,
        "us-east-1",
    );
    let error = handle(&probe, scheduled_event())
        .await
        .expect_err("invalid")
        .to_string();
    assert!(
        error.contains("line 3") && error.contains("service.status_url"),
        "{error}"
    );
}

#[tokio::test]
async fn the_fixture_is_the_documented_scheduled_event() {
    let event = scheduled_event().payload;
    assert_eq!(
        (event.source.as_str(), event.detail_type.as_str()),
        ("aws.events", "Scheduled Event")
    );
}

#[test]
fn config_source_setting() {
    assert_eq!(ConfigSource::from_setting(None), Ok(ConfigSource::Table));
    assert_eq!(
        ConfigSource::from_setting(Some("table")),
        Ok(ConfigSource::Table)
    );
    assert_eq!(
        ConfigSource::from_setting(Some("file:/var/task/sitrep.toml")),
        Ok(ConfigSource::File("/var/task/sitrep.toml".into()))
    );
    assert!(
        ConfigSource::from_setting(Some("s3://bucket/key"))
            .unwrap_err()
            .contains("table")
    );
}

#[tokio::test]
async fn the_cli_and_lambda_sdk_configurations_both_reach_the_endpoint_override() {
    // The tests' client is built the Lambda way; `sitrep config push` builds the full chain.
    let lambda = sitrep_tests::dynamodb().await;
    let table = sitrep_tests::fresh_table(&lambda).await;
    let person = aws_sdk_dynamodb::Client::new(&shared::aws::sdk_config().await);
    for (name, client) in [("lambda", &lambda), ("cli", &person)] {
        let described = client
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name} configuration: {e:?}"));
        assert_eq!(
            described.table().and_then(|t| t.table_name()),
            Some(table.as_str()),
            "{name} configuration"
        );
    }
}
