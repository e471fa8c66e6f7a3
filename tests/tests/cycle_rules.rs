//! The probe cycle's rules end to end on the embedded store with a manual clock: hysteresis
//! on both edges, degraded, cross-region quorum and freshness, maintenance windows across
//! DST changes, the cycle deadline, and uptime rollups.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{ComponentId, Config};
use shared::history::{self, Window};
use shared::incident::{self, Change, ComponentStatus};
use shared::probe::cycle::{CycleReport, Prober};
use shared::probe::outcome::Health;
use shared::store::{Created, Item, Key, NewItem, Query, Store, StoreError};
use sitrep_cli::flaky::{FlakyService, Mode};
use sitrep_tests::{api_config, epoch, sqlite_store};

fn config(url: &str, extra_check: &str, extra: &str) -> Arc<Config> {
    Arc::new(api_config(url, extra_check, extra))
}

fn api() -> ComponentId {
    ComponentId::parse("api").unwrap()
}

async fn cycle(prober: &Prober) -> CycleReport {
    let report = prober
        .run_cycle(tokio::time::Instant::now() + Duration::from_secs(10))
        .await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

fn status(report: &CycleReport) -> ComponentStatus {
    report.components[0].status
}

fn opened(report: &CycleReport) -> bool {
    report
        .changes
        .iter()
        .any(|c| matches!(c, Change::Opened(_)))
}

fn resolved(report: &CycleReport) -> Option<i64> {
    report.changes.iter().find_map(|c| match c {
        Change::Resolved(i) => i.duration_seconds,
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blip_opens_nothing_and_one_good_answer_closes_nothing() {
    let service = FlakyService::start(Mode::Healthy).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let prober = Prober::new(
        config(&service.health_url(), "", ""),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        "eu-west-1",
    )
    .unwrap();
    let minute = || clock.advance(chrono::Duration::minutes(1));

    // Healthy, then two failures and a success: a blip.
    assert_eq!(status(&cycle(&prober).await), ComponentStatus::Operational);
    service.set(Mode::Failing);
    for _ in 0..2 {
        minute();
        let report = cycle(&prober).await;
        assert_eq!(
            (status(&report), opened(&report)),
            (ComponentStatus::Operational, false)
        );
    }
    service.set(Mode::Healthy);
    minute();
    assert_eq!(status(&cycle(&prober).await), ComponentStatus::Operational);

    // Three failures in a row: down, one incident, at the third.
    service.set(Mode::Failing);
    let failing_since = clock.now() + chrono::Duration::minutes(1);
    for n in 1..=3 {
        minute();
        let report = cycle(&prober).await;
        assert_eq!(opened(&report), n == 3, "failure {n}");
        assert_eq!(
            status(&report),
            if n == 3 {
                ComponentStatus::Down
            } else {
                ComponentStatus::Operational
            }
        );
    }
    let opened_at = clock.now();
    assert!(opened_at - failing_since == chrono::Duration::minutes(2));

    // One good answer then a failure: still down, still one incident.
    service.set(Mode::Healthy);
    minute();
    assert_eq!(status(&cycle(&prober).await), ComponentStatus::Down);
    service.set(Mode::Failing);
    minute();
    let report = cycle(&prober).await;
    assert_eq!(
        (status(&report), opened(&report)),
        (ComponentStatus::Down, false)
    );

    // Two good answers: resolved, with the duration by the clock.
    service.set(Mode::Healthy);
    minute();
    assert_eq!(resolved(&cycle(&prober).await), None);
    minute();
    let report = cycle(&prober).await;
    assert_eq!(status(&report), ComponentStatus::Operational);
    assert_eq!(resolved(&report), Some(4 * 60));
    assert_eq!(incident::recent(store.as_ref(), 10).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_degrade_and_open_an_incident_only_where_configured() {
    let service = FlakyService::start(Mode::Slow(Duration::from_millis(300)))
        .await
        .unwrap();
    for (trigger, expect_incident) in [("down", false), ("degraded", true)] {
        let clock = ManualClock::new(epoch());
        let store = sqlite_store(&clock);
        let text = config(
            &service.health_url(),
            "degraded_after = \"100ms\"\nfailure_threshold = 2",
            "",
        );
        let mut config = (*text).clone();
        config.components[0].open_incident_on = match trigger {
            "down" => shared::config::IncidentTrigger::Down,
            _ => shared::config::IncidentTrigger::Degraded,
        };
        let prober = Prober::new(
            Arc::new(config),
            Arc::clone(&store),
            Arc::new(clock.clone()),
            "eu-west-1",
        )
        .unwrap();
        let first = cycle(&prober).await;
        assert_eq!(first.checks[0].outcome.health, Health::Degraded);
        assert!(
            first.checks[0]
                .outcome
                .reason
                .as_deref()
                .unwrap()
                .contains("degraded after 100 ms")
        );
        assert_eq!(
            status(&first),
            ComponentStatus::Operational,
            "one slow answer is not yet degraded"
        );
        clock.advance(chrono::Duration::minutes(1));
        let second = cycle(&prober).await;
        assert_eq!(status(&second), ComponentStatus::Degraded);
        assert_eq!(
            opened(&second),
            expect_incident,
            "open_incident_on = {trigger}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_must_agree_by_quorum_and_stale_regions_do_not_count() {
    let healthy = FlakyService::start(Mode::Healthy).await.unwrap();
    let broken = FlakyService::start(Mode::Failing).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store: Arc<dyn Store> = sqlite_store(&clock);
    let threshold = "failure_threshold = 1\nsuccess_threshold = 1";
    // The same check id probed from three regions; only the target's health differs.
    let region = |name: &str, service: &FlakyService| {
        Prober::new(
            config(&service.health_url(), threshold, ""),
            Arc::clone(&store),
            Arc::new(clock.clone()),
            name,
        )
        .unwrap()
    };
    cycle(&region("us-east-1", &healthy)).await;
    cycle(&region("ap-southeast-2", &healthy)).await;
    let report = cycle(&region("eu-west-1", &broken)).await;
    let agreed = report.checks[0].agreed.clone().unwrap();
    assert_eq!(
        (agreed.status, agreed.reporting, agreed.agreeing),
        (Health::Up, 3, 2)
    );
    assert_eq!(
        status(&report),
        ComponentStatus::Operational,
        "one region of three is not a quorum"
    );

    let report = cycle(&region("us-east-1", &broken)).await;
    assert_eq!(status(&report), ComponentStatus::Down, "two of three are");
    assert!(opened(&report));
    assert!(
        report.components[0]
            .reason
            .as_deref()
            .unwrap()
            .ends_with("(seen from 2 of 3 regions)")
    );

    // Six minutes later only eu-west-1 reports: the others are stale and do not count.
    clock.advance(chrono::Duration::minutes(6));
    let report = cycle(&region("eu-west-1", &healthy)).await;
    let agreed = report.checks[0].agreed.clone().unwrap();
    assert_eq!((agreed.reporting, agreed.status), (1, Health::Up));
    assert_eq!(status(&report), ComponentStatus::Operational);
}

async fn status_at(
    prober: &Prober,
    clock: &ManualClock,
    at: DateTime<Utc>,
) -> (ComponentStatus, bool) {
    clock.set(at);
    let report = cycle(prober).await;
    (status(&report), opened(&report))
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recurring_window_holds_across_spring_forward() {
    // Sundays 01:30 London for 2 h. On 2026-03-29 clocks jump 01:00 GMT -> 02:00 BST, so
    // 01:30 does not exist: the window starts when the clocks land (01:00 UTC) and lasts
    // 2 real hours, to 03:00 UTC.
    let service = FlakyService::start(Mode::Failing).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let window = r#"
[[maintenance]]
title = "Weekly database patching"
components = ["api"]
timezone = "Europe/London"
every = ["sun"]
at = "01:30"
duration = "2h"
"#;
    let prober = Prober::new(
        config(&service.health_url(), "failure_threshold = 1", window),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        "eu-west-1",
    )
    .unwrap();
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 3, 29, 1, 0)).await,
        (ComponentStatus::Maintenance, false)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 3, 29, 2, 59)).await,
        (ComponentStatus::Maintenance, false)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 3, 29, 3, 0)).await,
        (ComponentStatus::Down, true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recurring_window_holds_across_fall_back() {
    // On 2026-10-25 London repeats 01:00-02:00: 01:30 happens twice; the window takes the
    // first (01:30 BST = 00:30 UTC) and lasts 2 real hours, to 02:30 UTC.
    let service = FlakyService::start(Mode::Failing).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let window = r#"
[[maintenance]]
title = "Weekly database patching"
components = ["api"]
timezone = "Europe/London"
every = "day"
at = "01:30"
duration = "2h"
"#;
    let prober = Prober::new(
        config(&service.health_url(), "failure_threshold = 1", window),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        "eu-west-1",
    )
    .unwrap();
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 10, 25, 0, 29)).await,
        (ComponentStatus::Down, true)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 10, 25, 0, 30)).await,
        (ComponentStatus::Maintenance, false)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 10, 25, 2, 29)).await,
        (ComponentStatus::Maintenance, false)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 10, 25, 2, 30)).await.0,
        ComponentStatus::Down
    );
    let timeline = incident::timeline(
        store.as_ref(),
        &incident::recent(store.as_ref(), 1).await.unwrap()[0].id,
    )
    .await
    .unwrap();
    assert_eq!(
        timeline.iter().map(|e| e.status).collect::<Vec<_>>(),
        [
            ComponentStatus::Down,
            ComponentStatus::Maintenance,
            ComponentStatus::Down
        ],
        "an incident already open stays open through the window, and says so"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_off_window_in_new_york_covers_local_wall_time() {
    let service = FlakyService::start(Mode::Failing).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    // 2026-11-29 22:00-23:30 EST (UTC-5) = 03:00-04:30 UTC on the 30th.
    let window = r#"
[[maintenance]]
title = "Load balancer replacement"
components = ["api"]
timezone = "America/New_York"
start = "2026-11-29T22:00"
end = "2026-11-29T23:30"
"#;
    let prober = Prober::new(
        config(&service.health_url(), "failure_threshold = 1", window),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        "us-east-1",
    )
    .unwrap();
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 11, 30, 3, 0)).await,
        (ComponentStatus::Maintenance, false)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 11, 30, 4, 29)).await,
        (ComponentStatus::Maintenance, false)
    );
    assert_eq!(
        status_at(&prober, &clock, utc(2026, 11, 30, 4, 30)).await,
        (ComponentStatus::Down, true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_that_cannot_finish_before_the_deadline_is_recorded_as_a_timeout() {
    // A server that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let config = config(
        &format!("http://{address}/health"),
        "failure_threshold = 1",
        "",
    );
    let prober = Prober::new(
        config,
        Arc::clone(&store),
        Arc::new(clock.clone()),
        "eu-west-1",
    )
    .unwrap();
    let started = tokio::time::Instant::now();
    let report = prober.run_cycle(started + Duration::from_millis(800)).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(800),
        "the cycle ended before its deadline: {took:?}"
    );
    let outcome = &report.checks[0].outcome;
    assert_eq!(outcome.health, Health::Down);
    assert!(
        outcome.reason.as_deref().unwrap().contains("timed out"),
        "{outcome:?}"
    );
    assert!(
        outcome.reason.as_deref().unwrap().contains("deadline"),
        "{outcome:?}"
    );
    assert!(
        report.errors.is_empty(),
        "the result was still stored: {:?}",
        report.errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uptime_counts_every_cycle_in_its_windows() {
    let service = FlakyService::start(Mode::Healthy).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store = sqlite_store(&clock);
    let prober = Prober::new(
        config(&service.health_url(), "failure_threshold = 1", ""),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        "eu-west-1",
    )
    .unwrap();
    for minute in 0..10 {
        service.set(if minute < 2 {
            Mode::Failing
        } else {
            Mode::Healthy
        });
        clock.set(epoch() + chrono::Duration::minutes(minute));
        cycle(&prober).await;
    }
    let day = history::samples(store.as_ref(), &api(), Window::Day, clock.now())
        .await
        .unwrap();
    // Two failing minutes, and one more down until the second good answer (hysteresis).
    assert_eq!((day.total, day.down), (10, 3));
    assert_eq!(day.uptime_percent(), Some(70.0));
    // A week later, today's samples are out of the 24 h window but inside the 30 d one.
    let later = clock.now() + chrono::Duration::days(7);
    assert_eq!(
        history::samples(store.as_ref(), &api(), Window::Day, later)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        history::samples(store.as_ref(), &api(), Window::Week, later)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        history::samples(store.as_ref(), &api(), Window::Month, later)
            .await
            .unwrap()
            .total,
        10
    );
}

/// A store whose writes never finish: a throttled or unreachable table.
struct StalledWrites(Arc<dyn Store>);

#[async_trait::async_trait]
impl Store for StalledWrites {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.0.get(key).await
    }
    async fn create_item(&self, _item: NewItem) -> Result<Created, StoreError> {
        std::future::pending().await
    }
    async fn update_item(&self, _item: NewItem, _expected: u64) -> Result<u64, StoreError> {
        std::future::pending().await
    }
    async fn put(&self, _item: NewItem) -> Result<u64, StoreError> {
        std::future::pending().await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.0.query(query).await
    }
    async fn increment(
        &self,
        _key: &Key,
        _deltas: &[(&str, i64)],
        _expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        std::future::pending().await
    }
    async fn delete(&self, _key: &Key) -> Result<(), StoreError> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_hangs_cannot_hold_the_cycle_past_its_deadline() {
    let service = FlakyService::start(Mode::Healthy).await.unwrap();
    let clock = ManualClock::new(epoch());
    let store: Arc<dyn Store> = Arc::new(StalledWrites(sqlite_store(&clock)));
    let prober = Prober::new(
        config(&service.health_url(), "", ""),
        store,
        Arc::new(clock.clone()),
        "eu-west-1",
    )
    .unwrap();
    let started = tokio::time::Instant::now();
    let report = prober.run_cycle(started + Duration::from_millis(600)).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(700),
        "the cycle returned at its deadline: {took:?}"
    );
    assert!(report.checks.is_empty(), "nothing was recorded");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e == "check api-health: its result was not stored before the cycle's deadline"),
        "{:?}",
        report.errors
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e == "component api: its status was not stored before the cycle's deadline"),
        "{:?}",
        report.errors
    );
}
