//! Uptime history: hourly and daily rollups per component, cheap to read for 24 h / 7 d /
//! 30 d / 90 d uptime percentages.
//!
//! Every probe cycle adds one sample per component to the current hour and day with atomic
//! counters (`samples`, and one counter per status). Raw results expire after the configured
//! retention; hourly rollups after 3 days; daily rollups after 100 days. Uptime is the share
//! of samples that were not `down`, with maintenance samples left out of the denominator
//! (planned work is not an outage).

use chrono::{DateTime, Duration, Utc};

use crate::config::ComponentId;
use crate::incident::ComponentStatus;
use crate::store::{Item, Query, Store, StoreError, keys};

/// How long hourly rollups are kept.
pub const HOURLY_RETENTION: Duration = Duration::days(3);
/// How long daily rollups are kept.
pub const DAILY_RETENTION: Duration = Duration::days(100);

fn counter(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "operational",
        ComponentStatus::Degraded => "degraded",
        ComponentStatus::Down => "down",
        ComponentStatus::Maintenance => "maintenance",
    }
}

/// Adds one sample of `status` for `component` at `at`.
pub async fn record(
    store: &dyn Store,
    component: &ComponentId,
    status: ComponentStatus,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let deltas = [("samples", 1), (counter(status), 1)];
    let partition = keys::component_partition(component);
    store
        .increment(
            &crate::store::Key::new(partition.clone(), keys::hour_sort_key(at)),
            &deltas,
            Some(at + HOURLY_RETENTION),
        )
        .await?;
    store
        .increment(
            &crate::store::Key::new(partition, keys::day_sort_key(at)),
            &deltas,
            Some(at + DAILY_RETENTION),
        )
        .await?;
    Ok(())
}

/// The windows uptime is reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last 24 hours (hourly rollups).
    Day,
    /// The last 7 days (daily rollups, today included).
    Week,
    /// The last 30 days.
    Month,
    /// The last 90 days.
    Quarter,
}

impl Window {
    /// Every window, shortest first.
    pub const ALL: [Window; 4] = [Window::Day, Window::Week, Window::Month, Window::Quarter];

    /// Its label ("24h", "7d"…).
    pub fn label(self) -> &'static str {
        match self {
            Window::Day => "24h",
            Window::Week => "7d",
            Window::Month => "30d",
            Window::Quarter => "90d",
        }
    }
}

/// Sample counts over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Samples {
    /// All samples.
    pub total: i64,
    /// Samples that were down.
    pub down: i64,
    /// Samples in maintenance.
    pub maintenance: i64,
}

impl Samples {
    /// Uptime in percent, or `None` with no countable samples.
    pub fn uptime_percent(&self) -> Option<f64> {
        let counted = self.total - self.maintenance;
        (counted > 0).then(|| 100.0 * (counted - self.down) as f64 / counted as f64)
    }
}

fn add(samples: &mut Samples, item: &Item) {
    samples.total += item.i64("samples").unwrap_or(0);
    samples.down += item.i64("down").unwrap_or(0);
    samples.maintenance += item.i64("maintenance").unwrap_or(0);
}

/// Sample counts for `component` over `window` ending at `now`.
pub async fn samples(
    store: &dyn Store,
    component: &ComponentId,
    window: Window,
    now: DateTime<Utc>,
) -> Result<Samples, StoreError> {
    let partition = keys::component_partition(component);
    let query = match window {
        // The current hour plus the 23 before it.
        Window::Day => Query::between(
            partition,
            keys::hour_sort_key(now - Duration::hours(23)),
            keys::hour_sort_key(now),
        ),
        _ => {
            let days = match window {
                Window::Week => 7,
                Window::Month => 30,
                _ => 90,
            };
            Query::between(
                partition,
                keys::day_sort_key(now - Duration::days(days - 1)),
                keys::day_sort_key(now),
            )
        }
    };
    let mut samples = Samples::default();
    for item in store.query(&query).await? {
        add(&mut samples, &item);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_is_not_downtime_and_no_samples_is_no_figure() {
        let s = Samples {
            total: 100,
            down: 5,
            maintenance: 50,
        };
        assert_eq!(s.uptime_percent(), Some(90.0));
        assert_eq!(Samples::default().uptime_percent(), None);
        let all_maintenance = Samples {
            total: 10,
            down: 0,
            maintenance: 10,
        };
        assert_eq!(all_maintenance.uptime_percent(), None);
    }
}
