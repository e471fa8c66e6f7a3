//! Components' public status and incidents: opened exactly once, updated on every status
//! change, resolved with their duration.
//!
//! The component's `STATE` item is the decision point: whoever wins the versioned write that
//! moves a component to an incident-worthy status owns the incident and writes it; a racing
//! writer loses the condition, re-reads, and finds the incident already open.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Component, ComponentId, IncidentTrigger};
use crate::mentions::surge::{self, SurgeState};
use crate::probe::outcome::Health;
use crate::store::{Created, Item, NewItem, Query, Store, StoreError, keys, write_over};

/// What customers see for a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working normally.
    Operational,
    /// Working, but slowly.
    Degraded,
    /// Not working.
    Down,
    /// In a planned maintenance window.
    Maintenance,
}

impl ComponentStatus {
    /// From the agreed health of its checks.
    pub fn from_health(health: Health) -> Self {
        match health {
            Health::Up => ComponentStatus::Operational,
            Health::Degraded => ComponentStatus::Degraded,
            Health::Down => ComponentStatus::Down,
        }
    }

    /// The word shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::Degraded => "degraded",
            ComponentStatus::Down => "down",
            ComponentStatus::Maintenance => "under maintenance",
        }
    }

    /// Whether this status opens an incident under `trigger`.
    pub fn opens_incident(self, trigger: IncidentTrigger) -> bool {
        match self {
            ComponentStatus::Down => true,
            ComponentStatus::Degraded => trigger == IncidentTrigger::Degraded,
            ComponentStatus::Operational | ComponentStatus::Maintenance => false,
        }
    }
}

impl std::fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component's stored state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentState {
    /// Current public status.
    pub status: ComponentStatus,
    /// When that status began.
    pub since: DateTime<Utc>,
    /// Why, when not operational.
    pub reason: Option<String>,
    /// The open incident, if any.
    pub incident: Option<String>,
}

/// Whether an incident is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentPhase {
    /// Not resolved yet.
    Open,
    /// Over.
    Resolved,
}

/// An incident record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Identifier: opening time and component (`20261123-100300-api`).
    pub id: String,
    /// The component it is about; `None` for the service as a whole (customers reporting
    /// an outage without naming a part).
    #[serde(default)]
    pub component: Option<ComponentId>,
    /// One line for people ("Public API is down").
    pub title: String,
    /// Open or resolved.
    pub phase: IncidentPhase,
    /// The component's status right now (or when it was resolved).
    pub status: ComponentStatus,
    /// The reason the probes gave.
    pub reason: Option<String>,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// How long it lasted, in seconds, once resolved.
    pub duration_seconds: Option<i64>,
    /// Opened from customers' reports, not (yet) confirmed by the probes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspected: bool,
}

/// One entry of an incident's public timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The component's status from then on.
    pub status: ComponentStatus,
    /// What happened, in words.
    pub message: String,
}

/// Something a probe cycle changed, for logs, the CLI and (later) the pager.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A component's status changed.
    Status {
        /// Which component.
        component: ComponentId,
        /// The previous status.
        from: ComponentStatus,
        /// The new status.
        to: ComponentStatus,
        /// Why.
        reason: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// An incident was opened.
    Opened(Incident),
    /// An open incident's status changed.
    Updated(Incident),
    /// An incident was resolved.
    Resolved(Incident),
}

/// The incident id for a component opened at `at`.
pub fn incident_id(component: &ComponentId, at: DateTime<Utc>) -> String {
    format!("{}-{component}", at.format("%Y%m%d-%H%M%S"))
}

/// Reads an incident.
pub async fn load(store: &dyn Store, id: &str) -> Result<Option<Incident>, StoreError> {
    store
        .get(&keys::incident(id))
        .await?
        .map(|item| item.decode())
        .transpose()
}

/// Reads an incident's timeline, oldest first.
pub async fn timeline(store: &dyn Store, id: &str) -> Result<Vec<TimelineEntry>, StoreError> {
    store
        .query(&Query::prefix(
            keys::incident_partition(id),
            keys::INCIDENT_UPDATE_PREFIX,
        ))
        .await?
        .iter()
        .map(Item::decode)
        .collect()
}

/// The most recent incidents, newest first.
pub async fn recent(store: &dyn Store, limit: usize) -> Result<Vec<Incident>, StoreError> {
    let index = store
        .query(
            &Query::partition(keys::INCIDENT_INDEX)
                .descending()
                .limit(limit),
        )
        .await?;
    let mut incidents = Vec::with_capacity(index.len());
    for entry in index {
        if let Some(id) = entry.str("id")
            && let Some(incident) = load(store, id).await?
        {
            incidents.push(incident);
        }
    }
    Ok(incidents)
}

/// Appends an entry to an incident's timeline.
pub async fn append(store: &dyn Store, id: &str, entry: &TimelineEntry) -> Result<(), StoreError> {
    // Two entries in the same millisecond get successive sequence numbers.
    for sequence in 0..100 {
        let item = NewItem::encode(keys::incident_update(id, entry.at, sequence), entry)?;
        if store.create(item).await? == Created::Yes {
            return Ok(());
        }
    }
    Ok(())
}

/// Moves `component` to `status` (with `reason`) at `now`, opening, updating or resolving its
/// incident as needed. Safe to call from racing invocations: exactly one of them makes each
/// change. Returns what changed.
pub async fn transition(
    store: &dyn Store,
    component: &Component,
    status: ComponentStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<Change>, StoreError> {
    let key = keys::component_state(&component.id);
    for _ in 0..8 {
        let current = store.get(&key).await?;
        let (previous, version) = match &current {
            Some(item) => (Some(item.decode::<ComponentState>()?), Some(item.version)),
            None => (None, None),
        };
        let before = previous.clone().unwrap_or(ComponentState {
            status: ComponentStatus::Operational,
            since: now,
            reason: None,
            incident: None,
        });
        if let Some(open) = &before.incident {
            repair_missing_incident(store, component, open, &before).await?;
        }
        let open_new =
            status.opens_incident(component.open_incident_on) && before.incident.is_none();
        let resolve = before.incident.is_some() && status == ComponentStatus::Operational;
        let status_changed = status != before.status;
        if !status_changed && !open_new && !resolve && previous.is_some() {
            return Ok(Vec::new());
        }
        // Customers may have reported it first: the probes then confirm that suspected
        // incident instead of opening a second one for the same outage.
        let suspected = if open_new {
            surge::suspected(store, component.id.as_str()).await?
        } else {
            None
        };
        let incident = if open_new {
            Some(
                suspected
                    .clone()
                    .unwrap_or_else(|| incident_id(&component.id, now)),
            )
        } else if resolve {
            None
        } else {
            before.incident.clone()
        };
        let next = ComponentState {
            status,
            // An opening resets `since` too: a repair re-creates the incident from it.
            since: if status_changed || open_new {
                now
            } else {
                before.since
            },
            reason: reason.clone(),
            incident: incident.clone(),
        };
        let written = write_over(store, NewItem::encode(key.clone(), &next)?, version)
            .await?
            .is_some();
        if !written {
            continue;
        }
        // This invocation won the decision; the effects below are idempotent creates/puts.
        let mut changes = Vec::new();
        if status_changed {
            changes.push(Change::Status {
                component: component.id.clone(),
                from: before.status,
                to: status,
                reason: reason.clone(),
                at: now,
            });
        }
        if open_new && let Some(id) = &incident {
            let confirmed = match &suspected {
                Some(_) => confirm(store, component, id, status, reason.clone(), now).await?,
                None => None,
            };
            let opened = match confirmed {
                Some(confirmed) => confirmed,
                None => open(store, component, id, status, reason.clone(), now).await?,
            };
            changes.push(Change::Opened(opened));
        } else if resolve && let Some(id) = &before.incident {
            if let Some(resolved) = close(store, id, now).await? {
                changes.push(Change::Resolved(resolved));
            }
        } else if status_changed
            && let Some(id) = &incident
            && let Some(updated) = update(store, id, status, reason.clone(), now).await?
        {
            changes.push(Change::Updated(updated));
        }
        return Ok(changes);
    }
    Err(StoreError::Backend(format!(
        "component {} kept changing under contention; giving up for this cycle",
        component.id
    )))
}

fn title(component: &Component, status: ComponentStatus) -> String {
    format!("{} is {}", component.name, status.as_str())
}

async fn open(
    store: &dyn Store,
    component: &Component,
    id: &str,
    status: ComponentStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Incident, StoreError> {
    let incident = Incident {
        id: id.to_owned(),
        component: Some(component.id.clone()),
        title: title(component, status),
        phase: IncidentPhase::Open,
        status,
        reason: reason.clone(),
        opened_at: now,
        resolved_at: None,
        duration_seconds: None,
        suspected: false,
    };
    write_opening(store, &incident, reason.as_deref()).await?;
    Ok(incident)
}

/// Writes a new incident: its record, its index entry and its opening timeline entry, each
/// an idempotent create so a replayed opening writes nothing twice.
pub async fn write_opening(
    store: &dyn Store,
    incident: &Incident,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let id = incident.id.as_str();
    let now = incident.opened_at;
    let status = incident.status;
    store
        .create(NewItem::encode(keys::incident(id), incident)?)
        .await?;
    let mut index = serde_json::Map::new();
    index.insert("id".into(), id.into());
    store
        .create(NewItem::new(keys::incident_index(now, id), index))
        .await?;
    // The opening entry has a fixed key (the opening time, sequence 0), unlike later ones: a
    // repair racing the opener writes the same item instead of a second opening entry.
    let opening = TimelineEntry {
        at: now,
        status,
        message: match detail {
            Some(detail) => format!("{}: {detail}", incident.title),
            None => incident.title.clone(),
        },
    };
    store
        .create(NewItem::encode(
            keys::incident_update(id, now, 0),
            &opening,
        )?)
        .await?;
    Ok(())
}

/// The incident the probes have open for a component, if any.
pub async fn open_incident(
    store: &dyn Store,
    component: &ComponentId,
) -> Result<Option<String>, StoreError> {
    Ok(match store.get(&keys::component_state(component)).await? {
        Some(item) => item.decode::<ComponentState>()?.incident,
        None => None,
    })
}

/// Turns the suspected incident `id` into the probes' incident: no longer suspected, the
/// probes' title and reason, open (even if it had just gone quiet), and a timeline entry
/// saying so. The surge state lets go of it, so it is not resolved for want of reports.
/// `None` if the record is missing (the caller then writes it afresh).
async fn confirm(
    store: &dyn Store,
    component: &Component,
    id: &str,
    status: ComponentStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<Incident>, StoreError> {
    let surge_key = keys::surge(component.id.as_str());
    if let Some(item) = store.get(&surge_key).await?
        && let state = item.decode::<SurgeState>()?
        && state.incident.as_deref() == Some(id)
    {
        match store
            .update(NewItem::encode(surge_key, &state.closed())?, item.version)
            .await
        {
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let confirmed = modify(store, id, |incident| {
        incident.suspected = false;
        incident.title = title(component, status);
        incident.status = status;
        incident.reason = reason.clone();
        incident.phase = IncidentPhase::Open;
        incident.resolved_at = None;
        incident.duration_seconds = None;
    })
    .await?;
    if confirmed.is_some() {
        let message = match &reason {
            Some(reason) => format!(
                "Confirmed by the probes: {} ({reason})",
                title(component, status)
            ),
            None => format!("Confirmed by the probes: {}", title(component, status)),
        };
        append(
            store,
            id,
            &TimelineEntry {
                at: now,
                status,
                message,
            },
        )
        .await?;
    }
    Ok(confirmed)
}

/// Recreates an incident record that a crash between the decision and its write left missing.
async fn repair_missing_incident(
    store: &dyn Store,
    component: &Component,
    id: &str,
    state: &ComponentState,
) -> Result<(), StoreError> {
    if store.get(&keys::incident(id)).await?.is_none() {
        tracing::warn!(incident = id, component = %component.id, "incident record missing; recreating it");
        open(
            store,
            component,
            id,
            state.status,
            state.reason.clone(),
            state.since,
        )
        .await?;
    }
    Ok(())
}

async fn modify(
    store: &dyn Store,
    id: &str,
    change: impl Fn(&mut Incident),
) -> Result<Option<Incident>, StoreError> {
    let key = keys::incident(id);
    for _ in 0..8 {
        let Some(item) = store.get(&key).await? else {
            return Ok(None);
        };
        let mut incident: Incident = item.decode()?;
        change(&mut incident);
        match store
            .update(NewItem::encode(key.clone(), &incident)?, item.version)
            .await
        {
            Ok(_) => return Ok(Some(incident)),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Backend(format!(
        "incident {id} kept changing under contention"
    )))
}

async fn update(
    store: &dyn Store,
    id: &str,
    status: ComponentStatus,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Option<Incident>, StoreError> {
    let updated = modify(store, id, |incident| {
        incident.status = status;
        incident.reason = reason.clone();
    })
    .await?;
    if let Some(incident) = &updated {
        let message = match &reason {
            Some(reason) => format!("Now {}: {reason}", status.as_str()),
            None => format!("Now {}", status.as_str()),
        };
        append(
            store,
            &incident.id,
            &TimelineEntry {
                at: now,
                status,
                message,
            },
        )
        .await?;
    }
    Ok(updated)
}

/// Resolves an open incident at `now`; `None` if it does not exist.
pub async fn close(
    store: &dyn Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Incident>, StoreError> {
    let resolved = modify(store, id, |incident| {
        incident.phase = IncidentPhase::Resolved;
        incident.status = ComponentStatus::Operational;
        incident.resolved_at = Some(now);
        incident.duration_seconds = Some(nearest_second(now - incident.opened_at));
    })
    .await?;
    if let Some(incident) = &resolved {
        let lasted = Duration::seconds(incident.duration_seconds.unwrap_or(0));
        append(
            store,
            id,
            &TimelineEntry {
                at: now,
                status: ComponentStatus::Operational,
                message: format!("Resolved after {}", human_duration(lasted)),
            },
        )
        .await?;
    }
    Ok(resolved)
}

/// Resolves an incident on a person's word (an on-call engineer's `resolve`), detaching it
/// from its component's state and from the surge that opened it: if the probes still see the
/// failure, a new incident opens (and pages) rather than the resolved one lingering open in
/// the state. `None` if it does not exist; an incident already resolved is returned as is.
pub async fn resolve_by_hand(
    store: &dyn Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Incident>, StoreError> {
    let Some(current) = load(store, id).await? else {
        return Ok(None);
    };
    if current.phase == IncidentPhase::Resolved {
        return Ok(Some(current));
    }
    if let Some(component) = &current.component {
        detach(
            store,
            &keys::component_state(component),
            |state: &mut ComponentState| {
                (state.incident.as_deref() == Some(id)).then(|| state.incident = None)
            },
        )
        .await?;
    }
    let scope = current.component.as_ref().map_or("*", ComponentId::as_str);
    detach(store, &keys::surge(scope), |state: &mut SurgeState| {
        (state.incident.as_deref() == Some(id)).then(|| *state = state.closed())
    })
    .await?;
    close(store, id, now).await
}

/// Rewrites the item at `key` with `change` when it applies (`Some`), retrying lost races.
async fn detach<T: Serialize + serde::de::DeserializeOwned>(
    store: &dyn Store,
    key: &crate::store::Key,
    change: impl Fn(&mut T) -> Option<()>,
) -> Result<(), StoreError> {
    for _ in 0..8 {
        let Some(item) = store.get(key).await? else {
            return Ok(());
        };
        let mut value: T = item.decode()?;
        if change(&mut value).is_none() {
            return Ok(());
        }
        match store
            .update(NewItem::encode(key.clone(), &value)?, item.version)
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Backend(format!(
        "{key} kept changing under contention"
    )))
}

/// "4 min 10 s", "2 h 5 min", "45 s": a duration the way an incident report states it.
pub fn human_duration(duration: Duration) -> String {
    let total = duration.num_seconds().max(0);
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total / 3600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) if seconds == 0 => format!("{m} min"),
        (0, 0, m) => format!("{m} min {seconds} s"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Rounds to the nearest second: 6.99 s of outage reads "7 s", not "6 s".
fn nearest_second(duration: Duration) -> i64 {
    (duration.num_milliseconds() + 500).div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_to_the_nearest_second() {
        assert_eq!(nearest_second(Duration::milliseconds(6_994)), 7);
        assert_eq!(nearest_second(Duration::milliseconds(6_499)), 6);
        assert_eq!(nearest_second(Duration::milliseconds(6_500)), 7);
        assert_eq!(nearest_second(Duration::zero()), 0);
    }

    #[test]
    fn durations_read_like_an_incident_report() {
        assert_eq!(human_duration(Duration::seconds(45)), "45 s");
        assert_eq!(human_duration(Duration::seconds(250)), "4 min 10 s");
        assert_eq!(human_duration(Duration::seconds(300)), "5 min");
        assert_eq!(human_duration(Duration::seconds(7500)), "2 h 5 min");
        assert_eq!(human_duration(Duration::seconds(7200)), "2 h");
        assert_eq!(human_duration(Duration::seconds(90_000)), "1 d 1 h");
    }

    #[test]
    fn only_the_configured_statuses_open_incidents() {
        use ComponentStatus::*;
        assert!(Down.opens_incident(IncidentTrigger::Down));
        assert!(!Degraded.opens_incident(IncidentTrigger::Down));
        assert!(Degraded.opens_incident(IncidentTrigger::Degraded));
        assert!(!Maintenance.opens_incident(IncidentTrigger::Degraded));
        assert!(!Operational.opens_incident(IncidentTrigger::Degraded));
    }
}
