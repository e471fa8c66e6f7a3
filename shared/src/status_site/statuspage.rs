//! The Atlassian Statuspage public API's shapes (`/api/v2/*.json`), so that the many tools
//! that already read status pages (chat integrations, dashboards, "is it down" aggregators,
//! monitoring of one's own vendors) read sitrep's page with no change: they fetch
//! `/api/v2/summary.json` or `/api/v2/status.json` from whatever status URL they are given.
//!
//! Field names, nesting and value sets are Statuspage's; the values come from the
//! [`Snapshot`]. sitrep knows less than a human-run Statuspage page (no component groups, no
//! "identified" or "monitoring" phases, no tweets), so those fields carry the values a page
//! that does not use the feature shows: `null`, `false`, empty lists.
//!
//! How sitrep's statuses read in Statuspage's vocabulary:
//!
//! | sitrep | Statuspage |
//! |---|---|
//! | component operational / degraded / down / maintenance | `operational` / `degraded_performance` / `major_outage` / `under_maintenance` |
//! | overall operational | indicator `none`, "All Systems Operational" |
//! | overall degraded | indicator `minor`, "Partially Degraded Service" |
//! | overall partial outage (some components down) | indicator `major`, "Partial System Outage" |
//! | overall major outage (every component down) | indicator `critical`, "Major System Outage" |
//! | overall maintenance | indicator `maintenance`, "Service Under Maintenance" |
//! | incident open / resolved | status `investigating` / `resolved` |
//! | incident impact, from the worst status in its timeline | down: `major` for one component, `critical` for the whole service; degraded: `minor`; otherwise `none` |
//! | timeline entry | an incident update: `investigating`, or `resolved` for the entry that resolved it |
//! | maintenance under way / coming up | status `in_progress` / `scheduled`, impact `maintenance` |
//!
//! Updates of an open incident are always `investigating`: sitrep's probes see that something
//! is wrong, never that its cause is identified or a fix is being monitored, and claiming so
//! would put words in the vendor's mouth.
//!
//! Ids are stable strings: components and incidents keep sitrep's ids, an incident's updates
//! are `{incident}-{n}` (`n` counting from 1, oldest first), and the page and maintenance ids
//! are hashes of the service name and of a window's title and start, so a client that keys
//! on them sees the same object on every request.
//!
//! Timestamps are RFC 3339 in UTC with milliseconds (`2026-11-23T10:03:00.000Z`), as
//! Statuspage writes them for a page in UTC; the page's `time_zone` says `Etc/UTC`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::atom::incident_url;
use super::snapshot::{
    ComponentView, IncidentView, MAINTENANCE_LOOKAHEAD, MaintenanceView, Overall, Snapshot,
};
use crate::incident::{ComponentStatus, IncidentPhase};

/// `/api/v2/summary.json`: the page, every component, unresolved incidents, maintenance
/// under way or coming up, and the overall status, in one answer.
pub fn summary(snapshot: &Snapshot) -> Value {
    to_json(&Summary {
        page: page(snapshot),
        components: all_components(snapshot),
        incidents: open_incidents(snapshot),
        scheduled_maintenances: maintenances(snapshot),
        status: overall_status(snapshot.overall),
    })
}

/// `/api/v2/status.json`: the page and its overall indicator only.
pub fn status(snapshot: &Snapshot) -> Value {
    to_json(&StatusOnly {
        page: page(snapshot),
        status: overall_status(snapshot.overall),
    })
}

/// `/api/v2/components.json`: every component, in configuration order.
pub fn components(snapshot: &Snapshot) -> Value {
    to_json(&ComponentList {
        page: page(snapshot),
        components: all_components(snapshot),
    })
}

/// `/api/v2/incidents.json`: every incident in the snapshot, open and recently resolved,
/// newest first.
pub fn incidents(snapshot: &Snapshot) -> Value {
    let mut views: Vec<&IncidentView> = snapshot.incidents().collect();
    newest_first(&mut views);
    to_json(&IncidentList {
        page: page(snapshot),
        incidents: views.into_iter().map(|i| incident(snapshot, i)).collect(),
    })
}

/// `/api/v2/incidents/unresolved.json`: the open incidents, newest first.
pub fn unresolved(snapshot: &Snapshot) -> Value {
    to_json(&IncidentList {
        page: page(snapshot),
        incidents: open_incidents(snapshot),
    })
}

/// `/api/v2/scheduled-maintenances.json`: maintenance under way, then coming up. sitrep's
/// windows come from the configuration, so past occurrences are not listed.
pub fn scheduled_maintenances(snapshot: &Snapshot) -> Value {
    to_json(&MaintenanceList {
        page: page(snapshot),
        scheduled_maintenances: maintenances(snapshot),
    })
}

#[derive(Serialize)]
struct Summary {
    page: Page,
    components: Vec<Component>,
    incidents: Vec<Incident>,
    scheduled_maintenances: Vec<ScheduledMaintenance>,
    status: PageStatus,
}

#[derive(Serialize)]
struct StatusOnly {
    page: Page,
    status: PageStatus,
}

#[derive(Serialize)]
struct ComponentList {
    page: Page,
    components: Vec<Component>,
}

#[derive(Serialize)]
struct IncidentList {
    page: Page,
    incidents: Vec<Incident>,
}

#[derive(Serialize)]
struct MaintenanceList {
    page: Page,
    scheduled_maintenances: Vec<ScheduledMaintenance>,
}

#[derive(Serialize)]
struct Page {
    id: String,
    name: String,
    url: String,
    time_zone: &'static str,
    updated_at: String,
}

#[derive(Serialize)]
struct PageStatus {
    indicator: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct Component {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    position: usize,
    description: Option<String>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<String>,
    page_id: String,
    group: bool,
    only_show_if_degraded: bool,
}

#[derive(Serialize)]
struct Incident {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: String,
    incident_updates: Vec<IncidentUpdate>,
    components: Vec<Component>,
}

#[derive(Serialize)]
struct ScheduledMaintenance {
    #[serde(flatten)]
    incident: Incident,
    scheduled_for: String,
    scheduled_until: String,
}

#[derive(Serialize)]
struct IncidentUpdate {
    id: String,
    status: &'static str,
    body: String,
    incident_id: String,
    created_at: String,
    updated_at: String,
    display_at: String,
    affected_components: Option<Vec<AffectedComponent>>,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

#[derive(Serialize)]
struct AffectedComponent {
    code: String,
    name: String,
    old_status: &'static str,
    new_status: &'static str,
}

/// Plain structs of strings, numbers and options always serialize; a failure would be a
/// programming error, and an empty object is a safer answer than a panic in a Lambda.
fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_else(|_| Value::Object(Default::default()))
}

/// A Statuspage timestamp: UTC, milliseconds, `Z`.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The page's id: a hash of the service's name, so it stays the same across deployments
/// and differs between services.
fn page_id(snapshot: &Snapshot) -> String {
    short_id(&snapshot.service_name)
}

/// Twelve lower-case letters and digits, like Statuspage's own ids, from FNV-1a: a hash
/// written out here rather than the standard library's, whose output may change between
/// Rust releases and would change every id with it.
fn short_id(text: &str) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut id = [b'0'; 12];
    for slot in id.iter_mut().rev() {
        *slot = ALPHABET[(hash % 36) as usize];
        hash /= 36;
    }
    id.iter().map(|&b| char::from(b)).collect()
}

fn page(snapshot: &Snapshot) -> Page {
    // The last time anything shown changed, so that a client comparing `updated_at` refetches
    // only when there is something new; the snapshot's own time when nothing ever changed.
    let last_change = snapshot
        .components
        .iter()
        .filter_map(|c| c.since)
        .chain(snapshot.incidents().map(|i| i.updated_at))
        .max()
        .unwrap_or(snapshot.generated_at);
    Page {
        id: page_id(snapshot),
        name: snapshot.service_name.clone(),
        url: snapshot.status_url.trim_end_matches('/').to_owned(),
        time_zone: "Etc/UTC",
        updated_at: timestamp(last_change),
    }
}

fn overall_status(overall: Overall) -> PageStatus {
    let (indicator, description) = match overall {
        Overall::Operational => ("none", "All Systems Operational"),
        Overall::Degraded => ("minor", "Partially Degraded Service"),
        Overall::PartialOutage => ("major", "Partial System Outage"),
        Overall::MajorOutage => ("critical", "Major System Outage"),
        Overall::Maintenance => ("maintenance", "Service Under Maintenance"),
    };
    PageStatus {
        indicator,
        description,
    }
}

fn component_status(status: ComponentStatus) -> &'static str {
    match status {
        ComponentStatus::Operational => "operational",
        ComponentStatus::Degraded => "degraded_performance",
        ComponentStatus::Down => "major_outage",
        ComponentStatus::Maintenance => "under_maintenance",
    }
}

fn all_components(snapshot: &Snapshot) -> Vec<Component> {
    snapshot
        .components
        .iter()
        .enumerate()
        .map(|(n, c)| component(snapshot, n + 1, c))
        .collect()
}

fn component(snapshot: &Snapshot, position: usize, view: &ComponentView) -> Component {
    // sitrep keeps no creation date: the first day with samples is the earliest it has seen
    // the component, and its status change may be earlier still when the days have rolled
    // past it.
    let first_sampled = view
        .days
        .iter()
        .find(|d| d.total > 0)
        .and_then(|d| d.date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc());
    let created_at = match (first_sampled, view.since) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(snapshot.generated_at),
    };
    Component {
        id: view.id.to_string(),
        name: view.name.clone(),
        status: component_status(view.status),
        created_at: timestamp(created_at),
        updated_at: timestamp(view.since.unwrap_or(created_at)),
        position,
        description: None,
        // The page shows every component's 90 days of uptime bars.
        showcase: true,
        start_date: None,
        group_id: None,
        page_id: page_id(snapshot),
        group: false,
        only_show_if_degraded: false,
    }
}

fn newest_first(views: &mut [&IncidentView]) {
    views.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then_with(|| b.id.cmp(&a.id)));
}

fn open_incidents(snapshot: &Snapshot) -> Vec<Incident> {
    let mut views: Vec<&IncidentView> = snapshot.open_incidents.iter().collect();
    newest_first(&mut views);
    views.into_iter().map(|i| incident(snapshot, i)).collect()
}

/// How bad the incident was at its worst: a resolved incident's last status is operational,
/// but its impact is what it did while open.
fn impact(view: &IncidentView) -> &'static str {
    let statuses = || std::iter::once(view.status).chain(view.updates.iter().map(|u| u.status));
    if statuses().any(|s| s == ComponentStatus::Down) {
        // One component down is a partial outage of the service; an incident about the
        // service as a whole (customers' reports naming no part) is all of it.
        if view.component.is_some() {
            "major"
        } else {
            "critical"
        }
    } else if statuses().any(|s| s == ComponentStatus::Degraded) {
        "minor"
    } else {
        "none"
    }
}

fn incident(snapshot: &Snapshot, view: &IncidentView) -> Incident {
    let about = view.component.as_ref().and_then(|id| {
        let position = snapshot.components.iter().position(|c| c.id == *id)?;
        Some((position, &snapshot.components[position]))
    });
    let mut updates = Vec::with_capacity(view.updates.len());
    let mut previous = ComponentStatus::Operational;
    for (n, update) in view.updates.iter().enumerate() {
        let at = timestamp(update.at);
        updates.push(IncidentUpdate {
            id: format!("{}-{}", view.id, n + 1),
            status: if update.resolves {
                "resolved"
            } else {
                "investigating"
            },
            body: update.message.clone(),
            incident_id: view.id.clone(),
            created_at: at.clone(),
            updated_at: at.clone(),
            display_at: at,
            affected_components: about.map(|(_, c)| {
                vec![AffectedComponent {
                    code: c.id.to_string(),
                    name: c.name.clone(),
                    old_status: component_status(previous),
                    new_status: component_status(update.status),
                }]
            }),
            deliver_notifications: true,
            custom_tweet: None,
            tweet_id: None,
        });
        previous = update.status;
    }
    // Statuspage lists an incident's updates newest first.
    updates.reverse();
    Incident {
        id: view.id.clone(),
        name: view.title.clone(),
        status: match view.phase {
            IncidentPhase::Open => "investigating",
            IncidentPhase::Resolved => "resolved",
        },
        created_at: timestamp(view.opened_at),
        updated_at: timestamp(view.updated_at),
        monitoring_at: None,
        resolved_at: view.resolved_at.map(timestamp),
        impact: impact(view),
        shortlink: incident_url(&snapshot.status_url, &view.id),
        started_at: timestamp(view.opened_at),
        page_id: page_id(snapshot),
        incident_updates: updates,
        components: about
            .map(|(position, c)| component(snapshot, position + 1, c))
            .into_iter()
            .collect(),
    }
}

fn maintenances(snapshot: &Snapshot) -> Vec<ScheduledMaintenance> {
    snapshot
        .maintenance
        .iter()
        .map(|m| maintenance(snapshot, m))
        .collect()
}

fn maintenance(snapshot: &Snapshot, view: &MaintenanceView) -> ScheduledMaintenance {
    let id = short_id(&format!("{}\u{0}{}", view.title, timestamp(view.starts_at)));
    // A window appears on the page once it is within the lookahead: that is when it was,
    // to the public, announced.
    let announced_at = view.starts_at - MAINTENANCE_LOOKAHEAD;
    // Maintenance names its components by name; those still configured are linked.
    let affected: Vec<(usize, &ComponentView)> = view
        .components
        .iter()
        .filter_map(|name| {
            let position = snapshot.components.iter().position(|c| c.name == *name)?;
            Some((position, &snapshot.components[position]))
        })
        .collect();
    let affected_components = |old: ComponentStatus, new: ComponentStatus| {
        affected
            .iter()
            .map(|(_, c)| AffectedComponent {
                code: c.id.to_string(),
                name: c.name.clone(),
                old_status: component_status(old),
                new_status: component_status(new),
            })
            .collect::<Vec<_>>()
    };
    let window = format!(
        "from {} to {} (UTC)",
        view.starts_at.format("%Y-%m-%d %H:%M"),
        view.ends_at.format("%Y-%m-%d %H:%M")
    );
    let what = if view.components.is_empty() {
        String::new()
    } else {
        format!(" of {}", view.components.join(", "))
    };
    let update = |n: usize, status: &'static str, at: DateTime<Utc>, body: String, affected| {
        IncidentUpdate {
            id: format!("{id}-{n}"),
            status,
            body,
            incident_id: id.clone(),
            created_at: timestamp(at),
            updated_at: timestamp(at),
            display_at: timestamp(at),
            affected_components: Some(affected),
            deliver_notifications: true,
            custom_tweet: None,
            tweet_id: None,
        }
    };
    let mut updates = vec![update(
        1,
        "scheduled",
        announced_at,
        format!("Maintenance{what} is scheduled {window}."),
        affected_components(ComponentStatus::Operational, ComponentStatus::Operational),
    )];
    if view.active {
        updates.push(update(
            2,
            "in_progress",
            view.starts_at,
            format!("Maintenance{what} is in progress, {window}."),
            affected_components(ComponentStatus::Operational, ComponentStatus::Maintenance),
        ));
    }
    let updated_at = if view.active {
        view.starts_at
    } else {
        announced_at
    };
    updates.reverse();
    ScheduledMaintenance {
        incident: Incident {
            id,
            name: view.title.clone(),
            status: if view.active {
                "in_progress"
            } else {
                "scheduled"
            },
            created_at: timestamp(announced_at),
            updated_at: timestamp(updated_at),
            monitoring_at: None,
            resolved_at: None,
            impact: "maintenance",
            shortlink: snapshot.status_url.clone(),
            started_at: timestamp(view.starts_at),
            page_id: page_id(snapshot),
            incident_updates: updates,
            components: affected
                .iter()
                .map(|&(position, c)| component(snapshot, position + 1, c))
                .collect(),
        },
        scheduled_for: timestamp(view.starts_at),
        scheduled_until: timestamp(view.ends_at),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::super::api_v1::example;
    use super::*;

    /// The keys of a JSON object, sorted.
    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {value}"))
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    fn sorted(mut names: Vec<&str>) -> Vec<&str> {
        names.sort_unstable();
        names
    }

    const PAGE: &[&str] = &["id", "name", "url", "time_zone", "updated_at"];
    const COMPONENT: &[&str] = &[
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    ];
    const INCIDENT: &[&str] = &[
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "impact",
        "shortlink",
        "started_at",
        "page_id",
        "incident_updates",
        "components",
    ];
    const UPDATE: &[&str] = &[
        "id",
        "status",
        "body",
        "incident_id",
        "created_at",
        "updated_at",
        "display_at",
        "affected_components",
        "deliver_notifications",
        "custom_tweet",
        "tweet_id",
    ];

    /// Statuspage's own form: `2026-11-23T10:03:00.000Z`.
    fn is_statuspage_time(value: &Value) -> bool {
        let text = value.as_str().unwrap_or_default();
        text.len() == 24
            && text.ends_with('Z')
            && text.as_bytes()[19] == b'.'
            && DateTime::parse_from_rfc3339(text).is_ok()
    }

    #[test]
    fn the_summary_has_statuspages_shape() {
        let answer = summary(&example::snapshot());
        assert_eq!(
            keys(&answer),
            [
                "components",
                "incidents",
                "page",
                "scheduled_maintenances",
                "status"
            ]
        );
        assert_eq!(keys(&answer["page"]), sorted(PAGE.to_vec()));
        assert_eq!(answer["page"]["name"], "Acme Cloud");
        assert_eq!(answer["page"]["url"], "https://status.acme.example");
        assert_eq!(answer["page"]["time_zone"], "Etc/UTC");
        // The latest change: the API incident's last update at 10:20.
        assert_eq!(answer["page"]["updated_at"], "2026-11-23T10:20:00.000Z");
        assert_eq!(answer["status"]["indicator"], "major");
        assert_eq!(answer["status"]["description"], "Partial System Outage");
        for component in answer["components"].as_array().unwrap() {
            assert_eq!(keys(component), sorted(COMPONENT.to_vec()));
            assert!(is_statuspage_time(&component["created_at"]), "{component}");
            assert!(is_statuspage_time(&component["updated_at"]), "{component}");
            assert!(component["created_at"].as_str() <= component["updated_at"].as_str());
            assert_eq!(component["page_id"], answer["page"]["id"]);
        }
        // Only unresolved incidents, only current and coming maintenance.
        let incidents = answer["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), 2);
        assert!(incidents.iter().all(|i| i["status"] == "investigating"));
        assert_eq!(
            answer["scheduled_maintenances"].as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn component_statuses_use_statuspages_words_in_configured_order() {
        let answer = components(&example::snapshot());
        let list = answer["components"].as_array().unwrap();
        let shown: Vec<(&str, &str, i64)> = list
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap(),
                    c["status"].as_str().unwrap(),
                    c["position"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("api", "major_outage", 1),
                ("dashboard", "operational", 2),
                ("docs", "under_maintenance", 3)
            ]
        );
        assert_eq!(
            component_status(ComponentStatus::Degraded),
            "degraded_performance"
        );
        assert_eq!(list[1]["group"], false);
        assert_eq!(list[1]["group_id"], Value::Null);
        // The dashboard's first sampled day (20 days without samples) is its earliest sign.
        assert_eq!(list[1]["created_at"], "2026-09-15T00:00:00.000Z");
        assert_eq!(list[1]["updated_at"], "2026-11-21T08:12:00.000Z");
    }

    #[test]
    fn every_overall_status_has_its_indicator() {
        let mut snapshot = example::snapshot();
        let expected = [
            (Overall::Operational, "none", "All Systems Operational"),
            (Overall::Degraded, "minor", "Partially Degraded Service"),
            (Overall::PartialOutage, "major", "Partial System Outage"),
            (Overall::MajorOutage, "critical", "Major System Outage"),
            (
                Overall::Maintenance,
                "maintenance",
                "Service Under Maintenance",
            ),
        ];
        for (overall, indicator, description) in expected {
            snapshot.overall = overall;
            let answer = status(&snapshot);
            assert_eq!(keys(&answer), ["page", "status"]);
            assert_eq!(answer["status"]["indicator"], indicator);
            assert_eq!(answer["status"]["description"], description);
        }
    }

    #[test]
    fn incidents_are_newest_first_with_updates_newest_first() {
        let answer = incidents(&example::snapshot());
        let list = answer["incidents"].as_array().unwrap();
        let ids: Vec<&str> = list.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "20261123-101000-svc",
                "20261123-100300-api",
                "20261121-080000-dashboard"
            ]
        );
        for incident in list {
            assert_eq!(keys(incident), sorted(INCIDENT.to_vec()));
            for field in ["created_at", "updated_at", "started_at"] {
                assert!(is_statuspage_time(&incident[field]), "{field}: {incident}");
            }
            for update in incident["incident_updates"].as_array().unwrap() {
                assert_eq!(keys(update), sorted(UPDATE.to_vec()));
                assert_eq!(update["incident_id"], incident["id"]);
                assert!(is_statuspage_time(&update["display_at"]));
            }
        }

        let api = &list[1];
        assert_eq!(api["status"], "investigating");
        assert_eq!(api["impact"], "major");
        assert_eq!(api["resolved_at"], Value::Null);
        assert_eq!(
            api["shortlink"],
            "https://status.acme.example/#incident-20261123-100300-api"
        );
        let updates = api["incident_updates"].as_array().unwrap();
        assert_eq!(updates[0]["id"], "20261123-100300-api-2");
        assert_eq!(updates[1]["id"], "20261123-100300-api-1");
        assert!(updates.iter().all(|u| u["status"] == "investigating"));
        assert_eq!(updates[0]["body"], "Public API is down.");
        assert_eq!(
            updates[0]["affected_components"],
            serde_json::json!([{
                "code": "api",
                "name": "Public API",
                "old_status": "degraded_performance",
                "new_status": "major_outage"
            }])
        );
        assert_eq!(
            updates[1]["affected_components"][0]["old_status"],
            "operational"
        );
        assert_eq!(api["components"][0]["id"], "api");

        // A service-wide report names no component and is the whole service down.
        let service = &list[0];
        assert_eq!(service["impact"], "critical");
        assert_eq!(service["components"], serde_json::json!([]));
        assert_eq!(
            service["incident_updates"][0]["affected_components"],
            Value::Null
        );

        // Resolved: its impact is what it did while open, and the last update resolves it.
        let resolved = &list[2];
        assert_eq!(resolved["status"], "resolved");
        assert_eq!(resolved["impact"], "minor");
        assert_eq!(resolved["resolved_at"], "2026-11-21T08:12:00.000Z");
        assert_eq!(resolved["incident_updates"][0]["status"], "resolved");
        assert_eq!(resolved["incident_updates"][1]["status"], "investigating");
    }

    #[test]
    fn unresolved_lists_only_open_incidents() {
        let answer = unresolved(&example::snapshot());
        assert_eq!(keys(&answer), ["incidents", "page"]);
        let list = answer["incidents"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.iter().all(|i| i["resolved_at"].is_null()));
    }

    #[test]
    fn maintenance_is_in_progress_or_scheduled_with_stable_ids() {
        let snapshot = example::snapshot();
        let answer = scheduled_maintenances(&snapshot);
        assert_eq!(keys(&answer), ["page", "scheduled_maintenances"]);
        let list = answer["scheduled_maintenances"].as_array().unwrap();
        let mut expected = INCIDENT.to_vec();
        expected.extend(["scheduled_for", "scheduled_until"]);
        let (now, next) = (&list[0], &list[1]);
        assert_eq!(keys(now), sorted(expected));
        assert_eq!(now["status"], "in_progress");
        assert_eq!(now["impact"], "maintenance");
        assert_eq!(now["scheduled_for"], "2026-11-23T09:00:00.000Z");
        assert_eq!(now["scheduled_until"], "2026-11-23T11:00:00.000Z");
        assert_eq!(now["incident_updates"][0]["status"], "in_progress");
        assert_eq!(now["incident_updates"][1]["status"], "scheduled");
        assert_eq!(
            now["incident_updates"][0]["affected_components"][0]["new_status"],
            "under_maintenance"
        );
        assert_eq!(now["components"][0]["id"], "docs");
        assert_eq!(next["status"], "scheduled");
        assert_eq!(next["incident_updates"].as_array().unwrap().len(), 1);
        assert_eq!(next["components"].as_array().unwrap().len(), 2);
        // Announced when it came within the lookahead, a week before it starts.
        assert_eq!(next["created_at"], "2026-11-19T02:00:00.000Z");

        // The same window gets the same id on every request; another start, another id.
        assert_eq!(
            scheduled_maintenances(&snapshot)["scheduled_maintenances"][1]["id"],
            next["id"]
        );
        let mut moved = snapshot.clone();
        moved.maintenance[1].starts_at = Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap();
        assert_ne!(
            scheduled_maintenances(&moved)["scheduled_maintenances"][1]["id"],
            next["id"]
        );
    }

    #[test]
    fn the_page_id_is_derived_from_the_service_name() {
        let snapshot = example::snapshot();
        let id = page_id(&snapshot);
        assert_eq!(id.len(), 12);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(id, page_id(&example::snapshot()));
        // Fixed forever: a client may have stored it, so a change of hash must fail here.
        assert_eq!(id, "1zzqjqhxblt2");
        assert_ne!(short_id("Acme Cloud"), short_id("Acme Cloud EU"));
        assert_eq!(status(&snapshot)["page"]["id"], id.as_str());
    }

    #[test]
    fn a_quiet_page_updated_at_is_the_snapshots_time() {
        let mut snapshot = example::snapshot();
        snapshot.open_incidents.clear();
        snapshot.resolved_incidents.clear();
        snapshot.maintenance.clear();
        for component in &mut snapshot.components {
            component.since = None;
            component.status = ComponentStatus::Operational;
        }
        snapshot.overall = Overall::of(snapshot.components.iter().map(|c| c.status));
        let answer = summary(&snapshot);
        assert_eq!(answer["page"]["updated_at"], "2026-11-23T10:30:00.000Z");
        assert_eq!(answer["status"]["indicator"], "none");
        assert_eq!(answer["incidents"], serde_json::json!([]));
        assert_eq!(answer["scheduled_maintenances"], serde_json::json!([]));
    }
}
