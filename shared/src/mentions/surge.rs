//! The social signal: when enough different people report an outage within a few minutes,
//! sitrep opens a *suspected* incident, exactly once, with their posts as evidence.
//!
//! Every outage report is recorded under its scope: the component it names, or `*` for the
//! service as a whole (`REPORTS#<scope>`, one item per post, expiring after the window).
//! A component's surge counts the distinct authors of its own reports; the service's surge
//! counts every report. When a scope reaches `surge_authors` within `surge_window`:
//! - if the probes already have an incident open for it, the reports are attached to that
//!   incident as evidence instead;
//! - otherwise the scope's `SURGE#<scope>` item decides, by a versioned write, which
//!   invocation opens the suspected incident; the others find it open.
//!
//! Later reports are attached to the open incident. A suspected incident with no new report
//! for `surge_quiet` is resolved. Every write is an idempotent create or a versioned update,
//! so a replayed evaluation changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::StoredMention;
use crate::config::{Component, ComponentId, Config, MentionSettings};
use crate::incident::{self, ComponentStatus, Incident, IncidentPhase};
use crate::social::Platform;
use crate::store::{Created, NewItem, Query, Store, StoreError, keys, write_over};

/// The scope name of the service as a whole.
pub const SERVICE_SCOPE: &str = "*";

/// How long after the window a report is kept (for evidence lists).
const REPORT_KEPT_AFTER_WINDOW: TimeDelta = TimeDelta::hours(1);

/// The most links an incident's opening entry lists.
const LINKS_IN_OPENING: usize = 5;

/// One outage report, as recorded for counting and as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Where it was posted.
    pub platform: Platform,
    /// The post id.
    pub post: String,
    /// A public link to it.
    pub url: String,
    /// `<platform>:<author id>`: the same person on one platform counts once.
    pub author: String,
    /// The author's handle.
    pub handle: String,
    /// When it was posted.
    pub at: DateTime<Utc>,
    /// The start of its text.
    pub excerpt: String,
}

/// A scope's surge state: the suspected incident it opened, if one is open, and which
/// reports an incident has already answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SurgeState {
    /// The open suspected incident.
    pub incident: Option<String>,
    /// The newest report attached to it.
    pub last_report_at: Option<DateTime<Utc>>,
    /// Reports posted up to this time were attached to an incident: they count towards no
    /// new surge, or an incident's own reports would reopen it as soon as it closed.
    #[serde(default)]
    pub consumed_until: Option<DateTime<Utc>>,
}

impl SurgeState {
    /// The state once its incident is over: nothing open, its reports consumed.
    pub fn closed(&self) -> Self {
        Self {
            incident: None,
            last_report_at: None,
            consumed_until: self.last_report_at.max(self.consumed_until),
        }
    }
}

/// What an evaluation did.
#[derive(Debug, Clone, PartialEq)]
pub enum SurgeChange {
    /// A suspected incident was opened.
    Opened {
        /// The incident.
        incident: Incident,
        /// Distinct authors in the window.
        authors: usize,
    },
    /// New reports were attached to an open incident (probe-opened or suspected).
    Attached {
        /// The incident id.
        incident: String,
        /// How many reports were new to it.
        reports: usize,
    },
    /// A suspected incident went quiet and was resolved.
    Resolved(Incident),
}

fn scope_name(component: Option<&ComponentId>) -> &str {
    component.map_or(SERVICE_SCOPE, ComponentId::as_str)
}

/// Records `mention` (an outage report) under its scope; a replay writes nothing new.
pub async fn record_report(
    store: &dyn Store,
    settings: &MentionSettings,
    mention: &StoredMention,
) -> Result<(), StoreError> {
    let scope = scope_name(mention.component.as_ref());
    let report = Report {
        platform: mention.platform,
        post: mention.id.clone(),
        url: mention.url.clone(),
        author: format!("{}:{}", mention.platform, mention.author_id),
        handle: mention.author.clone(),
        at: mention.created_at,
        excerpt: super::cut(&mention.text, 140).0.to_owned(),
    };
    let window = TimeDelta::from_std(settings.surge_window).unwrap_or(TimeDelta::minutes(10));
    let item = NewItem::encode(
        keys::report(scope, mention.created_at, mention.platform, &mention.id),
        &report,
    )?
    .expiring_at(mention.created_at + window + REPORT_KEPT_AFTER_WINDOW);
    store.create(item).await?;
    Ok(())
}

/// Reports of one scope posted in `[from, to]`.
async fn reports_between(
    store: &dyn Store,
    scope: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Report>, StoreError> {
    let items = store
        .query(&Query::between(
            keys::reports_partition(scope),
            keys::timestamp(from),
            // Every sort key at `to` starts with its timestamp; `~` sorts after `#`.
            format!("{}~", keys::timestamp(to)),
        ))
        .await?;
    items.iter().map(|item| item.decode()).collect()
}

/// Counts the reports of every scope at `now`, opens, feeds and resolves suspected
/// incidents as the rules say, and returns what changed.
pub async fn evaluate(
    store: &dyn Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<SurgeChange>, StoreError> {
    let settings = &config.mentions;
    let window = TimeDelta::from_std(settings.surge_window).unwrap_or(TimeDelta::minutes(10));
    let from = now - window;
    let mut by_scope: BTreeMap<Option<ComponentId>, Vec<Report>> = BTreeMap::new();
    for component in &config.components {
        by_scope.insert(
            Some(component.id.clone()),
            reports_between(store, component.id.as_str(), from, now).await?,
        );
    }
    by_scope.insert(
        None,
        reports_between(store, SERVICE_SCOPE, from, now).await?,
    );

    let mut changes = Vec::new();
    let mut covered_by_component = false;
    for component in &config.components {
        let reports = &by_scope[&Some(component.id.clone())];
        let scope = Scope::Component(component);
        let opened = settle_scope(store, config, &scope, reports, now, &mut changes).await?;
        covered_by_component |= opened;
    }
    // The service's surge counts every report, named component or not; but when a
    // component's incident already covers the outage, a second, service-wide one would
    // only page twice for the same thing, so unnamed reports join that incident instead.
    let all: Vec<Report> = by_scope.values().flatten().cloned().collect();
    let unnamed = &by_scope[&None];
    if covered_by_component {
        if let Some(open) = first_open_incident(store, config).await? {
            attach_to_covering(store, SERVICE_SCOPE, &open, unnamed, &mut changes).await?;
            // Named reports were answered by their component's incident.
            consume(store, SERVICE_SCOPE, &all).await?;
        }
    } else {
        settle_scope(store, config, &Scope::Service, &all, now, &mut changes).await?;
    }
    resolve_quiet(store, config, now, &mut changes).await?;
    Ok(changes)
}

enum Scope<'a> {
    Component(&'a Component),
    Service,
}

impl Scope<'_> {
    fn name(&self) -> &str {
        match self {
            Scope::Component(c) => c.id.as_str(),
            Scope::Service => SERVICE_SCOPE,
        }
    }
}

/// Applies the rules to one scope; returns whether an incident covers it afterwards.
async fn settle_scope(
    store: &dyn Store,
    config: &Config,
    scope: &Scope<'_>,
    reports: &[Report],
    now: DateTime<Utc>,
    changes: &mut Vec<SurgeChange>,
) -> Result<bool, StoreError> {
    // The probes' own incident for the component takes the reports.
    if let Scope::Component(component) = scope
        && let Some(open) = incident::open_incident(store, &component.id).await?
    {
        attach_to_covering(store, scope.name(), &open, reports, changes).await?;
        return Ok(true);
    }
    let key = keys::surge(scope.name());
    for _ in 0..8 {
        let item = store.get(&key).await?;
        let (state, version) = match &item {
            Some(item) => (item.decode::<SurgeState>()?, Some(item.version)),
            None => (SurgeState::default(), None),
        };
        if let Some(open) = &state.incident {
            // Open already: feed it and keep it from going quiet.
            let newest = reports.iter().map(|r| r.at).max();
            if !reports.is_empty() {
                let added = attach(store, open, reports).await?;
                if added > 0 {
                    changes.push(SurgeChange::Attached {
                        incident: open.clone(),
                        reports: added,
                    });
                }
            }
            if let (Some(newest), Some(version)) = (newest, version)
                && state.last_report_at.is_none_or(|last| newest > last)
            {
                let next = SurgeState {
                    last_report_at: Some(newest),
                    ..state.clone()
                };
                match store
                    .update(NewItem::encode(key.clone(), &next)?, version)
                    .await
                {
                    Ok(_) | Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(true);
        }
        let fresh: Vec<&Report> = reports
            .iter()
            .filter(|r| state.consumed_until.is_none_or(|consumed| r.at > consumed))
            .collect();
        let authors: BTreeSet<&str> = fresh.iter().map(|r| r.author.as_str()).collect();
        if authors.len() < config.mentions.surge_authors as usize {
            return Ok(false);
        }
        let id = suspected_id(scope, now);
        let next = SurgeState {
            incident: Some(id.clone()),
            last_report_at: fresh.iter().map(|r| r.at).max(),
            consumed_until: state.consumed_until,
        };
        let fresh: Vec<Report> = fresh.into_iter().cloned().collect();
        let won = write_over(store, NewItem::encode(key.clone(), &next)?, version)
            .await?
            .is_some();
        if !won {
            continue;
        }
        let incident =
            open_suspected(store, config, scope, &id, &fresh, authors.len(), now).await?;
        changes.push(SurgeChange::Opened {
            incident,
            authors: authors.len(),
        });
        return Ok(true);
    }
    Err(StoreError::Backend(format!(
        "surge state of {} kept changing under contention",
        scope.name()
    )))
}

/// Attaches a scope's reports to the incident that covers it, and marks them consumed.
async fn attach_to_covering(
    store: &dyn Store,
    scope: &str,
    incident: &str,
    reports: &[Report],
    changes: &mut Vec<SurgeChange>,
) -> Result<(), StoreError> {
    if reports.is_empty() {
        return Ok(());
    }
    let added = attach(store, incident, reports).await?;
    if added > 0 {
        changes.push(SurgeChange::Attached {
            incident: incident.to_owned(),
            reports: added,
        });
    }
    consume(store, scope, reports).await
}

/// Marks `reports` of `scope` as answered, so they open no new surge later.
async fn consume(store: &dyn Store, scope: &str, reports: &[Report]) -> Result<(), StoreError> {
    let Some(newest) = reports.iter().map(|r| r.at).max() else {
        return Ok(());
    };
    let key = keys::surge(scope);
    for _ in 0..8 {
        let item = store.get(&key).await?;
        let (state, version) = match &item {
            Some(item) => (item.decode::<SurgeState>()?, Some(item.version)),
            None => (SurgeState::default(), None),
        };
        if state.consumed_until.is_some_and(|c| c >= newest) {
            return Ok(());
        }
        let next = SurgeState {
            consumed_until: Some(newest),
            ..state
        };
        let written = write_over(store, NewItem::encode(key.clone(), &next)?, version)
            .await?
            .is_some();
        if written {
            return Ok(());
        }
    }
    Err(StoreError::Backend(format!(
        "surge state of {scope} kept changing under contention"
    )))
}

fn suspected_id(scope: &Scope<'_>, at: DateTime<Utc>) -> String {
    let stamp = at.format("%Y%m%d-%H%M%S");
    match scope {
        Scope::Component(c) => format!("{stamp}-{}-reports", c.id),
        Scope::Service => format!("{stamp}-reports"),
    }
}

async fn open_suspected(
    store: &dyn Store,
    config: &Config,
    scope: &Scope<'_>,
    id: &str,
    reports: &[Report],
    authors: usize,
    now: DateTime<Utc>,
) -> Result<Incident, StoreError> {
    let (component, what) = match scope {
        Scope::Component(c) => (Some(c.id.clone()), c.name.clone()),
        Scope::Service => (None, config.service.name.clone()),
    };
    let minutes = config.mentions.surge_window.as_secs() / 60;
    let incident = Incident {
        id: id.to_owned(),
        component,
        title: format!("Suspected: customers report {what} is down"),
        phase: IncidentPhase::Open,
        status: ComponentStatus::Down,
        reason: Some(format!(
            "{authors} people reported an outage within {minutes} min"
        )),
        opened_at: now,
        resolved_at: None,
        duration_seconds: None,
        suspected: true,
    };
    let mut newest_first: Vec<&Report> = reports.iter().collect();
    newest_first.sort_by_key(|r| std::cmp::Reverse(r.at));
    let links = newest_first
        .iter()
        .take(LINKS_IN_OPENING)
        .map(|r| r.url.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let detail = format!(
        "{authors} people reported an outage within {minutes} min; the probes have not confirmed it. {links}"
    );
    incident::write_opening(store, &incident, Some(&detail)).await?;
    attach(store, id, reports).await?;
    Ok(incident)
}

/// Attaches reports to an incident as evidence; returns how many were new to it.
async fn attach(
    store: &dyn Store,
    incident: &str,
    reports: &[Report],
) -> Result<usize, StoreError> {
    let mut added = 0;
    for report in reports {
        let item = NewItem::encode(
            keys::incident_evidence(incident, report.platform, &report.post),
            report,
        )?;
        if store.create(item).await? == Created::Yes {
            added += 1;
        }
    }
    Ok(added)
}

/// The reports attached to an incident, oldest first.
pub async fn evidence(store: &dyn Store, incident: &str) -> Result<Vec<Report>, StoreError> {
    let mut reports: Vec<Report> = store
        .query(&Query::prefix(
            keys::incident_partition(incident),
            keys::INCIDENT_EVIDENCE_PREFIX,
        ))
        .await?
        .iter()
        .map(|item| item.decode())
        .collect::<Result<_, _>>()?;
    reports.sort_by_key(|r| r.at);
    Ok(reports)
}

/// The suspected incident open for a scope (a component's id, or [`SERVICE_SCOPE`]).
pub async fn suspected(store: &dyn Store, scope: &str) -> Result<Option<String>, StoreError> {
    Ok(match store.get(&keys::surge(scope)).await? {
        Some(item) => item.decode::<SurgeState>()?.incident,
        None => None,
    })
}

/// The first open incident (probe or suspected) of any component, in config order.
async fn first_open_incident(
    store: &dyn Store,
    config: &Config,
) -> Result<Option<String>, StoreError> {
    for component in &config.components {
        if let Some(open) = incident::open_incident(store, &component.id).await? {
            return Ok(Some(open));
        }
        if let Some(open) = suspected(store, component.id.as_str()).await? {
            return Ok(Some(open));
        }
    }
    Ok(None)
}

/// Resolves suspected incidents whose reports stopped `surge_quiet` ago.
async fn resolve_quiet(
    store: &dyn Store,
    config: &Config,
    now: DateTime<Utc>,
    changes: &mut Vec<SurgeChange>,
) -> Result<(), StoreError> {
    let quiet = TimeDelta::from_std(config.mentions.surge_quiet).unwrap_or(TimeDelta::minutes(30));
    let scopes = config
        .components
        .iter()
        .map(|c| c.id.as_str())
        .chain([SERVICE_SCOPE]);
    for scope in scopes {
        let key = keys::surge(scope);
        let Some(item) = store.get(&key).await? else {
            continue;
        };
        let state: SurgeState = item.decode()?;
        let (Some(open), Some(last)) = (&state.incident, state.last_report_at) else {
            continue;
        };
        if now - last < quiet {
            continue;
        }
        // The versioned write decides who resolves; the loser sees the scope already clear.
        let cleared = state.closed();
        match store
            .update(NewItem::encode(key.clone(), &cleared)?, item.version)
            .await
        {
            Ok(_) => {}
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
        }
        incident::append(
            store,
            open,
            &incident::TimelineEntry {
                at: now,
                status: ComponentStatus::Operational,
                message: format!(
                    "No new reports for {}; closing the suspected incident",
                    incident::human_duration(quiet)
                ),
            },
        )
        .await?;
        if let Some(resolved) = incident::close(store, open, now).await? {
            changes.push(SurgeChange::Resolved(resolved));
        }
    }
    Ok(())
}
