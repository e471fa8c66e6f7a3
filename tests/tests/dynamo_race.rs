//! Racing probe cycles on DynamoDB (moto): two invocations that see the same outage at the
//! same moment open exactly one incident, and racing recoveries resolve it exactly once.

use std::sync::Arc;
use std::time::Duration;

use shared::clock::{Clock, ManualClock};
use shared::config::Config;
use shared::incident::{self, Change};
use shared::probe::cycle::Prober;
use shared::store::{NewItem, Query, keys};
use sitrep_cli::flaky::{FlakyService, Mode};
use sitrep_tests::{api_config, dynamo_store, epoch};

fn config(url: &str) -> Config {
    api_config(url, "failure_threshold = 1\nsuccess_threshold = 1", "")
}

fn count(changes: &[Change], opened: bool) -> usize {
    changes
        .iter()
        .filter(|c| {
            matches!(
                (c, opened),
                (Change::Opened(_), true) | (Change::Resolved(_), false)
            )
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_cycles_open_exactly_one_incident() {
    let service = FlakyService::start(Mode::Failing).await.unwrap();
    let config = Arc::new(config(&service.health_url()));
    // Several rounds, each on a fresh table, so the race is won by either side at least once.
    for round in 0..5 {
        let clock = ManualClock::new(epoch());
        let store = dynamo_store(&clock).await;
        let prober = |region: &str| {
            Prober::new(
                Arc::clone(&config),
                Arc::clone(&store),
                Arc::new(clock.clone()),
                region,
            )
            .unwrap()
        };
        // Same region: two overlapping invocations of one deployment.
        let (a, b) = (prober("us-east-1"), prober("us-east-1"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let (ra, rb) = tokio::join!(a.run_cycle(deadline), b.run_cycle(deadline));
        assert!(
            ra.errors.is_empty() && rb.errors.is_empty(),
            "{:?} {:?}",
            ra.errors,
            rb.errors
        );

        let opened = count(&ra.changes, true) + count(&rb.changes, true);
        assert_eq!(
            opened, 1,
            "round {round}: exactly one cycle opens the incident"
        );
        let index = store
            .query(&Query::partition(keys::INCIDENT_INDEX))
            .await
            .unwrap();
        assert_eq!(index.len(), 1, "round {round}: one incident stored");
        let recent = incident::recent(store.as_ref(), 10).await.unwrap();
        assert_eq!(recent.len(), 1);
        let timeline = incident::timeline(store.as_ref(), &recent[0].id)
            .await
            .unwrap();
        assert_eq!(
            timeline.len(),
            1,
            "round {round}: one opening entry: {timeline:?}"
        );

        // Both see the recovery at once: it is resolved exactly once.
        service.set(Mode::Healthy);
        clock.advance(chrono::Duration::minutes(1));
        let (ra, rb) = tokio::join!(a.run_cycle(deadline), b.run_cycle(deadline));
        assert_eq!(
            count(&ra.changes, false) + count(&rb.changes, false),
            1,
            "round {round}"
        );
        let resolved = incident::load(store.as_ref(), &recent[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resolved.resolved_at, Some(clock.now()));
        assert_eq!(
            incident::timeline(store.as_ref(), &recent[0].id)
                .await
                .unwrap()
                .len(),
            2
        );
        service.set(Mode::Failing);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repairs_racing_the_opener_leave_one_opening_entry() {
    // The opener has written the component's state (pointing at the incident) but not yet the
    // incident record: every cycle that reads the state now repairs the incident at once.
    let config = Arc::new(config("http://127.0.0.1:9/health"));
    let component = &config.components[0];
    let clock = ManualClock::new(epoch());
    let store = dynamo_store(&clock).await;
    let id = incident::incident_id(&component.id, clock.now());
    let state = incident::ComponentState {
        status: incident::ComponentStatus::Down,
        since: clock.now(),
        reason: Some("HTTP 503 from http://127.0.0.1:9/health".into()),
        incident: Some(id.clone()),
    };
    store
        .put(NewItem::encode(keys::component_state(&component.id), &state).unwrap())
        .await
        .unwrap();

    let racers = (0..4).map(|_| {
        let store = Arc::clone(&store);
        let component = component.clone();
        let reason = state.reason.clone();
        let now = clock.now();
        tokio::spawn(async move {
            incident::transition(
                store.as_ref(),
                &component,
                incident::ComponentStatus::Down,
                reason,
                now,
            )
            .await
        })
    });
    for racer in futures::future::join_all(racers).await {
        racer.unwrap().expect("transition");
    }

    let timeline = incident::timeline(store.as_ref(), &id).await.unwrap();
    assert_eq!(timeline.len(), 1, "one opening entry: {timeline:?}");
    assert!(incident::load(store.as_ref(), &id).await.unwrap().is_some());
}
