//! Status site benchmark: what one request to the public status site costs the status-api
//! function, store reads included. The embedded store (a file) holds a large vendor's
//! picture: 12 components with 90 days of uptime rollups each, 48 incidents over the last
//! two weeks (each opened, escalated and resolved by the probes' own transitions) and two
//! open now. Each public route is answered many times through `StatusSite::respond`, the
//! same call the Lambda adapter and `sitrep run` make, plus the page gzipped as a browser
//! gets it; reports the median and p99 time per request and the size of each response. Run
//! through `scripts/bench` (or `cargo bench -p sitrep-cli --bench status_site`).

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::Config;
use shared::history;
use shared::incident::{self, ComponentStatus};
use shared::oncall::token::AckKey;
use shared::secrets::EnvironmentSecrets;
use shared::status_site::x_webhook::XWebhook;
use shared::status_site::{SiteRequest, StatusSite};
use shared::store::Store;
use shared::store::sqlite::SqliteStore;

const COMPONENTS: usize = 12;
/// Rollup samples per day; the page reads one rollup item per day whatever this is.
const SAMPLES_PER_DAY: i64 = 24;
/// Resolved incidents over the last two weeks.
const RESOLVED: usize = 48;
/// Requests per route; the first tenth warms up and is not counted.
const REQUESTS: usize = 400;

/// Each route and whether it is asked for as a browser asks (gzip accepted); the page is
/// measured both ways.
const ROUTES: [(&str, bool); 9] = [
    ("/", false),
    ("/", true),
    ("/api/v2/summary.json", false),
    ("/api/v2/status.json", false),
    ("/api/v1/components", false),
    ("/api/v1/incidents", false),
    ("/feed.atom", false),
    ("/badge.svg", false),
    ("/badge/c3.json", false),
];

fn config() -> Config {
    let mut text = String::from(
        "[service]\nname = \"Acme Cloud\"\nstatus_url = \"https://status.acme.example\"\n",
    );
    for n in 0..COMPONENTS {
        text.push_str(&format!(
            "\n[[components]]\nid = \"c{n}\"\nname = \"Component {n}\"\nkeywords = [\"c{n}\"]\n\n[[checks]]\nid = \"check{n}\"\ncomponent = \"c{n}\"\nkind = \"http\"\nurl = \"https://c{n}.acme.example/health\"\n"
        ));
    }
    text.push_str(
        "\n[[maintenance]]\ntitle = \"Database upgrade\"\ncomponents = [\"c1\", \"c2\"]\ntimezone = \"UTC\"\nstart = \"2026-11-25T02:00\"\nend = \"2026-11-25T04:00\"\n",
    );
    Config::parse(&text).expect("the benchmark's configuration parses")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 14, 30, 0)
        .single()
        .expect("a valid instant")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let now = now();
    let clock = Arc::new(ManualClock::new(now));
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&directory.path().join("bench.db"), clock.clone())
            .expect("the embedded store opens"),
    );
    let config = config();
    let seeding = Instant::now();
    seed(store.as_ref(), &config, now).await;
    println!(
        "seeded {COMPONENTS} components x 90 days, {RESOLVED} resolved and 2 open incidents in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let x_webhook = XWebhook::new(
        Arc::clone(&store),
        clock.clone(),
        Arc::new(EnvironmentSecrets::new()),
    );
    let clock: Arc<dyn Clock> = clock;
    let site = StatusSite::new(
        store,
        clock,
        AckKey::new(&[7u8; 32]).expect("a valid key"),
        x_webhook,
    );

    println!(
        "{:<24} {:>10} {:>10} {:>10}",
        "route", "median", "p99", "bytes"
    );
    for (path, gzip) in ROUTES {
        let mut request = SiteRequest::new("GET", path);
        if gzip {
            request
                .headers
                .push(("accept-encoding".into(), "gzip, deflate, br".into()));
        }
        let route = if gzip {
            format!("{path} (gzip)")
        } else {
            path.to_owned()
        };
        let mut times = Vec::with_capacity(REQUESTS);
        let mut bytes = 0;
        for n in 0..REQUESTS {
            let started = Instant::now();
            let response = site.respond(Some(&config), &request).await;
            let took = started.elapsed();
            assert_eq!(response.status, 200, "{route}: {}", response.body_text());
            bytes = response.body.len();
            if n >= REQUESTS / 10 {
                times.push(took);
            }
        }
        times.sort();
        println!(
            "{route:<24} {:>10} {:>10} {bytes:>10}",
            millis(percentile(&times, 50)),
            millis(percentile(&times, 99)),
        );
    }
}

fn percentile(sorted: &[StdDuration], p: usize) -> StdDuration {
    let index = (sorted.len() * p / 100).min(sorted.len() - 1);
    sorted[index]
}

fn millis(d: StdDuration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Writes the picture through the probe's own domain calls, so the site reads what
/// production would hold.
async fn seed(store: &dyn Store, config: &Config, now: DateTime<Utc>) {
    let first = now - Duration::days(89);
    for component in &config.components {
        for day in 0..90 {
            for n in 0..SAMPLES_PER_DAY {
                let at = first + Duration::days(day) + Duration::hours(n);
                if at > now {
                    break;
                }
                let status = if (day + n) % 37 == 0 {
                    ComponentStatus::Down
                } else if (day * 3 + n) % 53 == 0 {
                    ComponentStatus::Degraded
                } else {
                    ComponentStatus::Operational
                };
                history::record(store, &component.id, status, at)
                    .await
                    .expect("a sample is recorded");
            }
        }
    }
    let two_weeks_ago = now - Duration::days(13);
    for n in 0..RESOLVED {
        let component = &config.components[n % COMPONENTS];
        let start = two_weeks_ago + Duration::hours(6 * n as i64);
        let steps = [
            (ComponentStatus::Degraded, Some("slow".to_owned()), 0),
            (ComponentStatus::Down, Some("HTTP 503".to_owned()), 10),
            (ComponentStatus::Operational, None, 40),
        ];
        for (status, reason, minutes) in steps {
            incident::transition(
                store,
                component,
                status,
                reason,
                start + Duration::minutes(minutes),
            )
            .await
            .expect("a transition is recorded");
        }
    }
    for component in &config.components[..2] {
        incident::transition(
            store,
            component,
            ComponentStatus::Down,
            Some("connection refused".to_owned()),
            now - Duration::minutes(20),
        )
        .await
        .expect("an incident opens");
    }
}
