//! Serves the public status site over an in-memory store seeded with a realistic afternoon,
//! for the real-browser test (`scripts/browser-test`): three components, 90 days of uptime
//! with a few bad days, the Public API down with an open incident and its timeline, Webhooks
//! slow, a Dashboard incident resolved two days ago and maintenance coming up.
//!
//! The state is written through the same domain functions the probe uses (incident
//! transitions, uptime samples), so the page shows what production would show for it.
//!
//! Prints the site's address (`http://127.0.0.1:PORT`) as its first line on stdout, then
//! serves until its stdin closes, and exits 0.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{Component, Config};
use shared::history;
use shared::incident::{self, ComponentStatus};
use shared::oncall::token::AckKey;
use shared::secrets::EnvironmentSecrets;
use shared::status_site::StatusSite;
use shared::status_site::x_webhook::XWebhook;
use shared::store::Store;
use shared::store::sqlite::SqliteStore;
use sitrep_cli::site_server::SiteServer;

const CONFIG: &str = r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme-cloud.example"

[[components]]
id = "api"
name = "Public API"
open_incident_on = "degraded"
keywords = ["api", "sdk"]

[[components]]
id = "dashboard"
name = "Dashboard"
keywords = ["dashboard", "console", "login"]

[[components]]
id = "webhooks"
name = "Webhooks"
keywords = ["webhook", "webhooks"]

[[checks]]
id = "api-health"
component = "api"
kind = "http"
url = "https://api.acme-cloud.example/v1/health"
degraded_after = "1500ms"

[[checks]]
id = "dashboard-login"
component = "dashboard"
kind = "http"
url = "https://dashboard.acme-cloud.example/login"

[[checks]]
id = "webhooks-endpoint"
component = "webhooks"
kind = "tcp"
host = "hooks.acme-cloud.example"
port = 443

[[maintenance]]
title = "Webhooks delivery pipeline upgrade"
components = ["webhooks"]
timezone = "UTC"
start = "2026-11-26T02:00"
end = "2026-11-26T04:00"
"#;

/// Samples per day: one every 15 minutes keeps seeding quick and the percentages realistic.
const SAMPLES_PER_DAY: i64 = 96;

/// A Monday afternoon in November.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 14, 30, 0)
        .single()
        .expect("a valid instant")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = now();
    let clock = Arc::new(ManualClock::new(now));
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory(clock.clone())?);
    let config = Arc::new(Config::parse(CONFIG).map_err(|e| format!("fixture config: {e}"))?);
    seed(store.as_ref(), &config, now).await?;

    let x_webhook = XWebhook::new(
        Arc::clone(&store),
        clock.clone(),
        Arc::new(EnvironmentSecrets::new()),
    );
    let clock: Arc<dyn Clock> = clock;
    let site = Arc::new(StatusSite::new(
        store,
        clock,
        AckKey::new(&[7u8; 32])?,
        x_webhook,
    ));
    let address: SocketAddr = "127.0.0.1:0".parse()?;
    let server = SiteServer::start(site, config, address).await?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", server.url())?;
        stdout.flush()?;
    }
    // The test owns the fixture's lifetime through the pipe: when it exits, even by a crash,
    // stdin closes and the server goes with it.
    tokio::task::spawn_blocking(|| {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    })
    .await?;
    drop(server);
    Ok(())
}

async fn seed(
    store: &dyn Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let component = |id: &str| -> Result<&Component, String> {
        config
            .components
            .iter()
            .find(|c| c.id.as_str() == id)
            .ok_or_else(|| format!("no component {id}"))
    };
    let (api, dashboard, webhooks) = (
        component("api")?,
        component("dashboard")?,
        component("webhooks")?,
    );
    let today = now
        .with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .ok_or("midnight")?;
    let two_days_ago = today - Duration::days(2);

    // A Dashboard outage two days ago, opened and resolved by the probes' own transitions.
    let outage = two_days_ago + Duration::hours(9) + Duration::minutes(12);
    let reason = Some("HTTP 502 from the load balancer".to_owned());
    incident::transition(store, dashboard, ComponentStatus::Down, reason, outage).await?;
    let recovered = outage + Duration::minutes(18);
    incident::transition(
        store,
        dashboard,
        ComponentStatus::Operational,
        None,
        recovered,
    )
    .await?;

    // Today: the Public API slows down, which opens an incident, then goes down.
    let slow = today + Duration::hours(13) + Duration::minutes(41);
    let reason = Some("responses slower than 1500 ms".to_owned());
    incident::transition(store, api, ComponentStatus::Degraded, reason, slow).await?;
    let down = today + Duration::hours(13) + Duration::minutes(56);
    let reason = Some("HTTP 503".to_owned());
    incident::transition(store, api, ComponentStatus::Down, reason, down).await?;
    // Webhooks are slow too, which does not open an incident for them.
    let lagging = today + Duration::hours(14) + Duration::minutes(8);
    let reason = Some("responses slower than 10 s".to_owned());
    incident::transition(store, webhooks, ComponentStatus::Degraded, reason, lagging).await?;

    // 90 days of samples, with a few bad days that the bars must show.
    let first = today - Duration::days(89);
    for day in 0..90 {
        let start = first + Duration::days(day);
        for n in 0..SAMPLES_PER_DAY {
            let at = start + Duration::minutes(n * 24 * 60 / SAMPLES_PER_DAY);
            if at > now {
                break;
            }
            let api_status = if day == 89 && at >= down {
                ComponentStatus::Down
            } else if day == 89 && at >= slow {
                ComponentStatus::Degraded
            } else if (day == 41 && (40..46).contains(&n)) || (day == 70 && n == 3) {
                ComponentStatus::Down
            } else {
                ComponentStatus::Operational
            };
            let dashboard_status = if at >= outage && at < recovered {
                ComponentStatus::Down
            } else if day == 55 && (20..24).contains(&n) {
                ComponentStatus::Degraded
            } else {
                ComponentStatus::Operational
            };
            let webhooks_status = if at >= lagging {
                ComponentStatus::Degraded
            } else {
                ComponentStatus::Operational
            };
            history::record(store, &api.id, api_status, at).await?;
            history::record(store, &dashboard.id, dashboard_status, at).await?;
            // Webhooks were launched a few weeks in: their first days have no data.
            if day >= 12 {
                history::record(store, &webhooks.id, webhooks_status, at).await?;
            }
        }
    }
    Ok(())
}
