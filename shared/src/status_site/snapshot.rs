//! What the public sees, read once per request: every component with its status and 90 days
//! of daily uptime, open and recent incidents with their public timelines, and maintenance
//! under way or coming up. Every public view (the HTML page, the Statuspage-shaped and own
//! JSON APIs, the Atom feed, the badges) renders from one [`Snapshot`], so they never
//! disagree.
//!
//! Nothing internal reaches a snapshot: probe reasons (which can name private hosts and
//! error text) are left out, and timeline entries are worded for the public from their
//! status alone.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::future;

use crate::config::{ComponentId, Config};
use crate::incident::{self, ComponentState, ComponentStatus, Incident, IncidentPhase};
use crate::store::{Query, Store, StoreError, keys};

/// Days of uptime bars per component.
pub const UPTIME_DAYS: usize = 90;
/// How far back resolved incidents are listed.
pub const RECENT_INCIDENT_DAYS: i64 = 14;
/// At most this many incidents are read per snapshot.
pub const MAX_INCIDENTS: usize = 50;
/// Upcoming maintenance is listed this far ahead.
pub const MAINTENANCE_LOOKAHEAD: Duration = Duration::days(7);

/// The whole public picture at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The service's name ("Acme Cloud").
    pub service_name: String,
    /// The public status page's address, as configured (`https://status.acme.example/`).
    pub status_url: String,
    /// When the snapshot was read.
    pub generated_at: DateTime<Utc>,
    /// The worst of the components' statuses.
    pub overall: Overall,
    /// Every component, in configuration order.
    pub components: Vec<ComponentView>,
    /// Incidents not resolved yet, newest first.
    pub open_incidents: Vec<IncidentView>,
    /// Incidents resolved in the last [`RECENT_INCIDENT_DAYS`], newest first.
    pub resolved_incidents: Vec<IncidentView>,
    /// Maintenance under way now, then upcoming, soonest first.
    pub maintenance: Vec<MaintenanceView>,
}

impl Snapshot {
    /// The component with this id.
    pub fn component(&self, id: &str) -> Option<&ComponentView> {
        self.components.iter().find(|c| c.id.as_str() == id)
    }

    /// Open incidents, then resolved ones: every incident in the snapshot, newest first in
    /// each group.
    pub fn incidents(&self) -> impl Iterator<Item = &IncidentView> {
        self.open_incidents
            .iter()
            .chain(self.resolved_incidents.iter())
    }
}

/// The service as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overall {
    /// Every component is operational.
    Operational,
    /// Some component is under maintenance, none worse.
    Maintenance,
    /// Some component is degraded, none down.
    Degraded,
    /// Some, but not all, components are down.
    PartialOutage,
    /// Every component is down.
    MajorOutage,
}

impl Overall {
    /// The worst of these statuses (operational for none).
    pub fn of(statuses: impl IntoIterator<Item = ComponentStatus>) -> Self {
        let (mut total, mut down, mut degraded, mut maintenance) = (0, 0, 0, 0);
        for status in statuses {
            total += 1;
            match status {
                ComponentStatus::Down => down += 1,
                ComponentStatus::Degraded => degraded += 1,
                ComponentStatus::Maintenance => maintenance += 1,
                ComponentStatus::Operational => {}
            }
        }
        if down > 0 && down == total {
            Overall::MajorOutage
        } else if down > 0 {
            Overall::PartialOutage
        } else if degraded > 0 {
            Overall::Degraded
        } else if maintenance > 0 {
            Overall::Maintenance
        } else {
            Overall::Operational
        }
    }

    /// The sentence shown to people ("All systems operational").
    pub fn description(self) -> &'static str {
        match self {
            Overall::Operational => "All systems operational",
            Overall::Maintenance => "Service under maintenance",
            Overall::Degraded => "Degraded performance",
            Overall::PartialOutage => "Partial outage",
            Overall::MajorOutage => "Major outage",
        }
    }
}

/// One component as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentView {
    /// Its id, as in URLs (`api`).
    pub id: ComponentId,
    /// Its name ("Public API").
    pub name: String,
    /// Its status now.
    pub status: ComponentStatus,
    /// Since when, if sitrep has ever probed it.
    pub since: Option<DateTime<Utc>>,
    /// The open incident about it, if any.
    pub incident: Option<String>,
    /// Daily uptime for the last [`UPTIME_DAYS`], oldest first, today last.
    pub days: Vec<DayUptime>,
}

impl ComponentView {
    /// Uptime in percent over every day shown, or `None` with no countable samples.
    pub fn uptime_percent(&self) -> Option<f64> {
        let (mut counted, mut down) = (0i64, 0i64);
        for day in &self.days {
            counted += day.total - day.maintenance;
            down += day.down;
        }
        (counted > 0).then(|| 100.0 * (counted - down) as f64 / counted as f64)
    }
}

/// One day's probe samples for a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayUptime {
    /// The UTC day.
    pub date: NaiveDate,
    /// Samples taken.
    pub total: i64,
    /// Samples that were down.
    pub down: i64,
    /// Samples that were degraded.
    pub degraded: i64,
    /// Samples in maintenance.
    pub maintenance: i64,
}

impl DayUptime {
    /// Uptime in percent that day (maintenance left out), or `None` without samples.
    pub fn uptime_percent(&self) -> Option<f64> {
        let counted = self.total - self.maintenance;
        (counted > 0).then(|| 100.0 * (counted - self.down) as f64 / counted as f64)
    }

    /// How the day went, for the colour of its bar.
    pub fn verdict(&self) -> DayVerdict {
        if self.total == 0 {
            DayVerdict::NoData
        } else if self.down > 0 {
            // More than 5 % of the day down is a major outage on the bar, as status pages
            // customarily show it; any less is partial.
            if self.down * 20 > (self.total - self.maintenance).max(1) {
                DayVerdict::MajorOutage
            } else {
                DayVerdict::PartialOutage
            }
        } else if self.degraded > 0 {
            DayVerdict::Degraded
        } else if self.maintenance == self.total {
            DayVerdict::Maintenance
        } else {
            DayVerdict::Operational
        }
    }
}

/// How one day went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayVerdict {
    /// Nothing was probed that day.
    NoData,
    /// Up the whole day.
    Operational,
    /// Slow at times, never down.
    Degraded,
    /// Down for a little of the day.
    PartialOutage,
    /// Down for much of the day.
    MajorOutage,
    /// In maintenance the whole day.
    Maintenance,
}

impl DayVerdict {
    /// In words, for text alternatives ("No downtime").
    pub fn description(self) -> &'static str {
        match self {
            DayVerdict::NoData => "No data",
            DayVerdict::Operational => "No downtime",
            DayVerdict::Degraded => "Degraded performance",
            DayVerdict::PartialOutage => "Partial outage",
            DayVerdict::MajorOutage => "Major outage",
            DayVerdict::Maintenance => "Maintenance",
        }
    }
}

/// An incident as the public sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentView {
    /// Its id (`20261123-100300-api`).
    pub id: String,
    /// Its title ("Public API is down").
    pub title: String,
    /// The component it is about, if one.
    pub component: Option<ComponentId>,
    /// The component's name, or the service's for a service-wide incident.
    pub component_name: String,
    /// Open or resolved.
    pub phase: IncidentPhase,
    /// Its status now (or when it was resolved).
    pub status: ComponentStatus,
    /// Opened from customers' reports, not confirmed by the probes yet.
    pub suspected: bool,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it last changed (its last timeline entry, or its opening).
    pub updated_at: DateTime<Utc>,
    /// Its public timeline, oldest first.
    pub updates: Vec<UpdateView>,
}

/// One public timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateView {
    /// When.
    pub at: DateTime<Utc>,
    /// The status from then on.
    pub status: ComponentStatus,
    /// What it meant, in public words.
    pub message: String,
    /// Whether this entry resolved the incident.
    pub resolves: bool,
}

/// A maintenance window under way or coming up.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceView {
    /// What the vendor calls it.
    pub title: String,
    /// The components' names.
    pub components: Vec<String>,
    /// When this occurrence starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// Whether it is under way.
    pub active: bool,
}

/// Reads the snapshot of `config`'s components from `store` at `now`.
pub async fn read(
    store: &dyn Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Snapshot, StoreError> {
    // The reads are independent, so they are made together: on DynamoDB a page costs a few
    // round trips of latency rather than one per component and incident.
    let components = future::try_join_all(config.components.iter().map(|component| async move {
        let state: Option<ComponentState> = store
            .get(&keys::component_state(&component.id))
            .await?
            .map(|item| item.decode())
            .transpose()?;
        Ok::<_, StoreError>(ComponentView {
            id: component.id.clone(),
            name: component.name.clone(),
            status: state
                .as_ref()
                .map_or(ComponentStatus::Operational, |s| s.status),
            since: state.as_ref().map(|s| s.since),
            incident: state.and_then(|s| s.incident),
            days: days(store, &component.id, now).await?,
        })
    }));
    let incidents = async {
        let records = incident::recent(store, MAX_INCIDENTS).await?;
        future::try_join_all(
            records
                .into_iter()
                .map(|record| incident_view(store, config, record)),
        )
        .await
    };
    let (components, incidents) = future::try_join(components, incidents).await?;
    let mut open_incidents = Vec::new();
    let mut resolved_incidents = Vec::new();
    let horizon = now - Duration::days(RECENT_INCIDENT_DAYS);
    for view in incidents {
        match view.phase {
            IncidentPhase::Open => open_incidents.push(view),
            IncidentPhase::Resolved if view.resolved_at.is_some_and(|at| at >= horizon) => {
                resolved_incidents.push(view);
            }
            IncidentPhase::Resolved => {}
        }
    }
    Ok(Snapshot {
        service_name: config.service.name.clone(),
        status_url: config.service.status_url.to_string(),
        generated_at: now,
        overall: Overall::of(components.iter().map(|c| c.status)),
        components,
        open_incidents,
        resolved_incidents,
        maintenance: maintenance(config, now),
    })
}

/// The component's daily rollups for the last [`UPTIME_DAYS`], one entry per day.
async fn days(
    store: &dyn Store,
    component: &ComponentId,
    now: DateTime<Utc>,
) -> Result<Vec<DayUptime>, StoreError> {
    let first = now - Duration::days(UPTIME_DAYS as i64 - 1);
    let items = store
        .query(&Query::between(
            keys::component_partition(component),
            keys::day_sort_key(first),
            keys::day_sort_key(now),
        ))
        .await?;
    let mut days: Vec<DayUptime> = (0..UPTIME_DAYS as i64)
        .map(|n| DayUptime {
            date: (first + Duration::days(n)).date_naive(),
            total: 0,
            down: 0,
            degraded: 0,
            maintenance: 0,
        })
        .collect();
    for item in items {
        let Some(date) = item
            .key
            .sk
            .strip_prefix("DAY#")
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        if let Some(day) = days.iter_mut().find(|d| d.date == date) {
            day.total = item.i64("samples").unwrap_or(0);
            day.down = item.i64("down").unwrap_or(0);
            day.degraded = item.i64("degraded").unwrap_or(0);
            day.maintenance = item.i64("maintenance").unwrap_or(0);
        }
    }
    Ok(days)
}

async fn incident_view(
    store: &dyn Store,
    config: &Config,
    record: Incident,
) -> Result<IncidentView, StoreError> {
    let component_name = record
        .component
        .as_ref()
        .and_then(|id| config.component(id))
        .map_or_else(|| config.service.name.clone(), |c| c.name.clone());
    let entries = incident::timeline(store, &record.id).await?;
    let last = entries.len().saturating_sub(1);
    let updates: Vec<UpdateView> = entries
        .iter()
        .enumerate()
        .map(|(n, entry)| {
            let resolves = record.phase == IncidentPhase::Resolved && n == last;
            UpdateView {
                at: entry.at,
                status: entry.status,
                message: public_message(&record, &component_name, entry, n == 0, resolves),
                resolves,
            }
        })
        .collect();
    Ok(IncidentView {
        updated_at: updates.last().map_or(record.opened_at, |u| u.at),
        id: record.id,
        title: record.title,
        component: record.component,
        component_name,
        phase: record.phase,
        status: record.status,
        suspected: record.suspected,
        opened_at: record.opened_at,
        resolved_at: record.resolved_at,
        updates,
    })
}

/// A timeline entry in public words: what the status means, never the probes' reasons.
fn public_message(
    record: &Incident,
    component: &str,
    entry: &incident::TimelineEntry,
    first: bool,
    resolves: bool,
) -> String {
    if resolves {
        // The closing entry is composed by sitrep ("Resolved after 12 min"), never a reason.
        return entry.message.clone();
    }
    let what = match entry.status {
        ComponentStatus::Down => format!("{component} is down"),
        ComponentStatus::Degraded => format!("{component} is responding slowly"),
        ComponentStatus::Maintenance => format!("{component} is under maintenance"),
        ComponentStatus::Operational => format!("{component} is operational"),
    };
    if first && record.suspected {
        format!("Customers are reporting problems: {what}. We are investigating.")
    } else if first {
        format!("{what}. We are investigating.")
    } else {
        format!("{what}.")
    }
}

/// Maintenance occurrences under way at `now`, then those starting within the lookahead.
fn maintenance(config: &Config, now: DateTime<Utc>) -> Vec<MaintenanceView> {
    let names = |ids: &[ComponentId]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                config
                    .component(id)
                    .map_or_else(|| id.to_string(), |c| c.name.clone())
            })
            .collect()
    };
    let mut views = Vec::new();
    for window in &config.maintenance {
        if let Some((starts_at, ends_at)) = window.occurrence_at(now) {
            views.push(MaintenanceView {
                title: window.title.clone(),
                components: names(&window.components),
                starts_at,
                ends_at,
                active: true,
            });
        }
        if let Some(start) = window.next_start_after(now)
            && start - now <= MAINTENANCE_LOOKAHEAD
            && let Some((starts_at, ends_at)) = window.occurrence_at(start)
        {
            views.push(MaintenanceView {
                title: window.title.clone(),
                components: names(&window.components),
                starts_at,
                ends_at,
                active: false,
            });
        }
    }
    views.sort_by_key(|v| (!v.active, v.starts_at));
    views
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_component_decides_the_overall_status() {
        use ComponentStatus::*;
        assert_eq!(Overall::of([]), Overall::Operational);
        assert_eq!(
            Overall::of([Operational, Maintenance]),
            Overall::Maintenance
        );
        assert_eq!(Overall::of([Maintenance, Degraded]), Overall::Degraded);
        assert_eq!(Overall::of([Down, Degraded]), Overall::PartialOutage);
        assert_eq!(Overall::of([Down, Down]), Overall::MajorOutage);
    }

    #[test]
    fn a_day_is_coloured_by_how_much_of_it_was_down() {
        let day = |total, down, degraded, maintenance| DayUptime {
            date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            total,
            down,
            degraded,
            maintenance,
        };
        assert_eq!(day(0, 0, 0, 0).verdict(), DayVerdict::NoData);
        assert_eq!(day(1440, 0, 0, 0).verdict(), DayVerdict::Operational);
        assert_eq!(day(1440, 0, 3, 0).verdict(), DayVerdict::Degraded);
        assert_eq!(day(1440, 72, 0, 0).verdict(), DayVerdict::PartialOutage);
        assert_eq!(day(1440, 73, 0, 0).verdict(), DayVerdict::MajorOutage);
        assert_eq!(day(60, 0, 0, 60).verdict(), DayVerdict::Maintenance);
        assert_eq!(day(1440, 144, 0, 0).uptime_percent(), Some(90.0));
    }
}
