//! Paging benchmark: what knowing who is on call and paging them costs. First the schedule
//! alone: who is on call at 100,000 instants spread over a year of a follow-the-sun schedule
//! (three restricted weekly layers in Sydney, London and Los Angeles, and overrides), and
//! the flattened shifts of a whole week. Then the pager end to end on the embedded store (a
//! file), with the console notifier so nothing leaves the machine: 1,000 incidents opened,
//! each delivered as a table change in batches of 10 (the page function's batch size) and
//! paged with a signed acknowledgement link; then the sweep that escalates all 1,000 at once,
//! and a sweep with nothing due. Reports µs per on-call lookup, incidents paged per second
//! and the time of one sweep. Run through `scripts/bench` (or
//! `cargo bench -p sitrep-cli --bench paging`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{ComponentId, Config};
use shared::incident::{ComponentStatus, Incident, IncidentPhase};
use shared::notify::MessageKind;
use shared::notify::console::ConsoleNotifier;
use shared::oncall::paging::{AckLinks, Pager};
use shared::oncall::token::AckKey;
use shared::random::SeededRandom;
use shared::store::sqlite::SqliteStore;
use shared::store::{ItemChange, NewItem, Store, keys};

const LOOKUPS: usize = 100_000;
const INCIDENTS: usize = 1_000;
/// The page function's stream batch size.
const BATCH: usize = 10;

fn config() -> Config {
    let mut text = String::from(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[oncall]
policy = "default"
"#,
    );
    let offices = [
        ("syd", "Australia/Sydney", "+61255500"),
        ("lon", "Europe/London", "+44770090"),
        ("sfo", "America/Los_Angeles", "+1415555"),
    ];
    for (office, zone, prefix) in offices {
        for n in 0..4 {
            text.push_str(&format!(
                "\n[[people]]\nid = \"{office}{n}\"\nname = \"{office} {n}\"\ntimezone = \"{zone}\"\nsms = \"{prefix}{n:04}\"\nemail = \"{office}{n}@acme.example\"\n"
            ));
        }
    }
    text.push_str("\n[[schedules]]\nid = \"sun\"\nname = \"Follow the sun\"\n");
    for (office, zone, _) in offices {
        text.push_str(&format!(
            "\n[[schedules.layers]]\nname = \"{office}\"\ntimezone = \"{zone}\"\nstart = \"2026-01-05 08:00\"\nrotation = \"weekly\"\nparticipants = [\"{office}0\", \"{office}1\", \"{office}2\", \"{office}3\"]\nrestrictions = [{{ start = \"08:00\", end = \"16:00\" }}]\n"
        ));
    }
    for week in 0..20 {
        text.push_str(&format!(
            "\n[[schedules.overrides]]\nperson = \"lon3\"\ntimezone = \"Europe/London\"\nstart = \"2026-{:02}-{:02} 12:00\"\nend = \"2026-{:02}-{:02} 18:00\"\n",
            1 + week / 2,
            1 + (week % 2) * 14,
            1 + week / 2,
            2 + (week % 2) * 14,
        ));
    }
    text.push_str(
        r#"
[[policies]]
id = "default"
name = "Default"
repeat = 1

[[policies.steps]]
targets = ["schedule:sun"]
delay = "5m"

[[policies.steps]]
targets = ["person:lon0", "person:sfo0"]
delay = "10m"

[[components]]
id = "api"
name = "Public API"
"#,
    );
    Config::parse(&text).unwrap_or_else(|e| panic!("the benchmark's config: {e}"))
}

fn main() {
    let config = Arc::new(config());
    let schedule = &config.oncall.schedules[0];
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let step = Duration::seconds(365 * 86_400 / LOOKUPS as i64);
    let began = Instant::now();
    let mut covered = 0usize;
    for i in 0..LOOKUPS {
        if black_box(schedule.on_call_at(start + step * i as i32)).is_some() {
            covered += 1;
        }
    }
    let lookup = began.elapsed();
    let began = Instant::now();
    let shifts = schedule.shifts(start, start + Duration::days(7));
    let week = began.elapsed();
    println!(
        "on call at an instant: {:.2} µs per lookup ({LOOKUPS} over a year, {:.1} % covered)",
        lookup.as_secs_f64() * 1e6 / LOOKUPS as f64,
        covered as f64 * 100.0 / LOOKUPS as f64
    );
    println!(
        "a week of shifts: {} shifts in {:.2} ms",
        shifts.len(),
        week.as_secs_f64() * 1e3
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(page_end_to_end(config));
}

async fn page_end_to_end(config: Arc<Config>) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap());
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&directory.path().join("bench.db"), Arc::new(clock.clone()))
            .expect("the store opens"),
    );
    let notifier = ConsoleNotifier::new();
    let pager = Pager::new(
        Arc::clone(&config),
        Arc::clone(&store),
        Arc::new(clock.clone()),
        Arc::new(notifier.clone()),
        Arc::new(SeededRandom::new(1)),
        Some(AckLinks {
            key: Arc::new(AckKey::new(&[3u8; 32]).expect("a key")),
            base: "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/ack".into(),
        }),
    );
    let component = ComponentId::parse("api").expect("an id");
    let mut changes = Vec::with_capacity(INCIDENTS);
    for n in 0..INCIDENTS {
        let incident = Incident {
            id: format!("20261123-100000-api-{n:04}"),
            component: Some(component.clone()),
            title: "Public API is down".into(),
            phase: IncidentPhase::Open,
            status: ComponentStatus::Down,
            reason: Some("HTTP 503".into()),
            opened_at: clock.now(),
            resolved_at: None,
            duration_seconds: None,
            suspected: false,
        };
        let key = keys::incident(&incident.id);
        store
            .create(NewItem::encode(key.clone(), &incident).expect("encodes"))
            .await
            .expect("stored");
        changes.push(ItemChange {
            id: n.to_string(),
            new: store.get(&key).await.expect("read"),
            old: None,
            key,
        });
    }
    let began = Instant::now();
    for batch in changes.chunks(BATCH) {
        let report = pager.handle(batch).await;
        assert!(report.failed.is_empty(), "{:?}", report.errors);
    }
    let opened = began.elapsed();
    let pages = notifier
        .sent()
        .iter()
        .filter(|m| m.kind == MessageKind::Page)
        .count();
    assert_eq!(pages, INCIDENTS * 2, "one SMS and one email per incident");
    clock.advance(Duration::minutes(5));
    let began = Instant::now();
    let report = pager.sweep().await;
    let escalating = began.elapsed();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let began = Instant::now();
    pager.sweep().await;
    let idle = began.elapsed();
    println!(
        "paging: {INCIDENTS} incidents opened and paged in {:.2} s: {:.0} incidents/s ({pages} messages)",
        opened.as_secs_f64(),
        INCIDENTS as f64 / opened.as_secs_f64()
    );
    println!(
        "sweep escalating {INCIDENTS} incidents at once: {:.2} s; a sweep with {INCIDENTS} escalations and none due: {:.1} ms",
        escalating.as_secs_f64(),
        idle.as_secs_f64() * 1e3
    );
}
