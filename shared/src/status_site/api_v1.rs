//! sitrep's own JSON API (`/api/v1/`), for clients that want more than the Statuspage shapes
//! carry: each component's uptime over 7, 30 and 90 days and its 90 daily entries, and
//! incidents with their whole public timeline, in sitrep's own words.
//!
//! `openapi.json` beside this file describes every path and response; it is served as is at
//! `/api/v1/openapi.json`. The responses are typed structs, and a test checks each against
//! its schema in the document, which lists every property as required and allows no other:
//! a field added here without documenting it there fails the build's tests.
//!
//! Enumerations are snake_case words (`operational`, `degraded`, `down`, `maintenance`;
//! overall also `partial_outage` and `major_outage`). They are spelled out here rather than
//! taken from the domain types' serde names, so that renaming something inside sitrep can
//! never change the public API. Times are RFC 3339 in UTC (`2026-11-23T10:03:00Z`); absent
//! values are `null`, never missing.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::snapshot::{
    ComponentView, DayUptime, DayVerdict, IncidentView, Overall, Snapshot, UpdateView,
};
use crate::incident::{ComponentStatus, IncidentPhase};

/// The OpenAPI 3.1 document served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// `/api/v1/status`: the service's overall status and each component's, at a glance.
pub fn status(snapshot: &Snapshot) -> Value {
    to_json(&ServiceStatus {
        service: snapshot.service_name.clone(),
        status_url: snapshot.status_url.clone(),
        status: overall_status(snapshot.overall),
        description: snapshot.overall.description(),
        generated_at: time(snapshot.generated_at),
        open_incidents: snapshot.open_incidents.len(),
        components: snapshot
            .components
            .iter()
            .map(|c| ComponentStatusBrief {
                id: c.id.to_string(),
                name: c.name.clone(),
                status: component_status(c.status),
            })
            .collect(),
    })
}

/// `/api/v1/components`: every component with its status and uptime, in configuration order.
pub fn components(snapshot: &Snapshot) -> Value {
    to_json(&ComponentList {
        generated_at: time(snapshot.generated_at),
        components: snapshot.components.iter().map(component_summary).collect(),
    })
}

/// `/api/v1/components/{id}`: one component, with its daily entries, oldest first.
pub fn component(snapshot: &Snapshot, component: &ComponentView) -> Value {
    to_json(&ComponentDetail {
        generated_at: time(snapshot.generated_at),
        summary: component_summary(component),
        days: component.days.iter().map(day).collect(),
    })
}

/// `/api/v1/incidents`: the open incidents and those resolved recently, each newest first,
/// with their public timelines.
pub fn incidents(snapshot: &Snapshot) -> Value {
    to_json(&IncidentList {
        generated_at: time(snapshot.generated_at),
        open: snapshot.open_incidents.iter().map(incident_body).collect(),
        resolved: snapshot
            .resolved_incidents
            .iter()
            .map(incident_body)
            .collect(),
    })
}

/// `/api/v1/incidents/{id}`: one incident with its public timeline.
pub fn incident(incident: &IncidentView) -> Value {
    to_json(&incident_body(incident))
}

/// A component's status, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ApiComponentStatus {
    Operational,
    Degraded,
    Down,
    Maintenance,
}

/// The service's overall status, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ApiOverallStatus {
    Operational,
    Maintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
}

/// How a day went, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ApiDayVerdict {
    NoData,
    Operational,
    Degraded,
    PartialOutage,
    MajorOutage,
    Maintenance,
}

/// An incident's phase, as the API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ApiIncidentPhase {
    Open,
    Resolved,
}

#[derive(Serialize)]
struct ServiceStatus {
    service: String,
    status_url: String,
    status: ApiOverallStatus,
    description: &'static str,
    generated_at: String,
    open_incidents: usize,
    components: Vec<ComponentStatusBrief>,
}

#[derive(Serialize)]
struct ComponentStatusBrief {
    id: String,
    name: String,
    status: ApiComponentStatus,
}

#[derive(Serialize)]
struct ComponentList {
    generated_at: String,
    components: Vec<ComponentSummary>,
}

#[derive(Serialize)]
struct ComponentSummary {
    id: String,
    name: String,
    status: ApiComponentStatus,
    since: Option<String>,
    incident: Option<String>,
    uptime: Uptime,
}

#[derive(Serialize)]
struct Uptime {
    last_7_days: Option<f64>,
    last_30_days: Option<f64>,
    last_90_days: Option<f64>,
}

#[derive(Serialize)]
struct ComponentDetail {
    generated_at: String,
    #[serde(flatten)]
    summary: ComponentSummary,
    days: Vec<Day>,
}

#[derive(Serialize)]
struct Day {
    date: String,
    uptime_percent: Option<f64>,
    verdict: ApiDayVerdict,
    samples: i64,
    down: i64,
    degraded: i64,
    maintenance: i64,
}

#[derive(Serialize)]
struct IncidentList {
    generated_at: String,
    open: Vec<IncidentBody>,
    resolved: Vec<IncidentBody>,
}

#[derive(Serialize)]
struct IncidentBody {
    id: String,
    title: String,
    component: Option<String>,
    component_name: String,
    phase: ApiIncidentPhase,
    status: ApiComponentStatus,
    suspected: bool,
    opened_at: String,
    resolved_at: Option<String>,
    updated_at: String,
    updates: Vec<IncidentUpdate>,
}

#[derive(Serialize)]
struct IncidentUpdate {
    at: String,
    status: ApiComponentStatus,
    message: String,
    resolves: bool,
}

/// Plain structs of strings, numbers and options always serialize; a failure would be a
/// programming error, and an empty object is a safer answer than a panic in a Lambda.
fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or_else(|_| Value::Object(Default::default()))
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn component_status(status: ComponentStatus) -> ApiComponentStatus {
    match status {
        ComponentStatus::Operational => ApiComponentStatus::Operational,
        ComponentStatus::Degraded => ApiComponentStatus::Degraded,
        ComponentStatus::Down => ApiComponentStatus::Down,
        ComponentStatus::Maintenance => ApiComponentStatus::Maintenance,
    }
}

fn overall_status(overall: Overall) -> ApiOverallStatus {
    match overall {
        Overall::Operational => ApiOverallStatus::Operational,
        Overall::Maintenance => ApiOverallStatus::Maintenance,
        Overall::Degraded => ApiOverallStatus::Degraded,
        Overall::PartialOutage => ApiOverallStatus::PartialOutage,
        Overall::MajorOutage => ApiOverallStatus::MajorOutage,
    }
}

fn day_verdict(verdict: DayVerdict) -> ApiDayVerdict {
    match verdict {
        DayVerdict::NoData => ApiDayVerdict::NoData,
        DayVerdict::Operational => ApiDayVerdict::Operational,
        DayVerdict::Degraded => ApiDayVerdict::Degraded,
        DayVerdict::PartialOutage => ApiDayVerdict::PartialOutage,
        DayVerdict::MajorOutage => ApiDayVerdict::MajorOutage,
        DayVerdict::Maintenance => ApiDayVerdict::Maintenance,
    }
}

/// A percentage to three decimals, rounded down: 99.9996 % with a minute of downtime must not
/// read as 100 %. Clamped, so that inconsistent counts can never show more than 100 % or less
/// than 0 %.
fn percent(value: f64) -> f64 {
    ((value * 1000.0).floor() / 1000.0).clamp(0.0, 100.0)
}

/// Uptime over the last `days` entries (today is the last), maintenance left out; `None`
/// without a countable sample.
fn uptime_over(entries: &[DayUptime], days: usize) -> Option<f64> {
    let recent = &entries[entries.len().saturating_sub(days)..];
    let (counted, down) = recent.iter().fold((0i64, 0i64), |(counted, down), day| {
        (counted + day.total - day.maintenance, down + day.down)
    });
    (counted > 0).then(|| percent(100.0 * (counted - down) as f64 / counted as f64))
}

fn component_summary(view: &ComponentView) -> ComponentSummary {
    ComponentSummary {
        id: view.id.to_string(),
        name: view.name.clone(),
        status: component_status(view.status),
        since: view.since.map(time),
        incident: view.incident.clone(),
        uptime: Uptime {
            last_7_days: uptime_over(&view.days, 7),
            last_30_days: uptime_over(&view.days, 30),
            last_90_days: uptime_over(&view.days, 90),
        },
    }
}

fn day(day: &DayUptime) -> Day {
    Day {
        date: day.date.format("%Y-%m-%d").to_string(),
        uptime_percent: day.uptime_percent().map(percent),
        verdict: day_verdict(day.verdict()),
        samples: day.total,
        down: day.down,
        degraded: day.degraded,
        maintenance: day.maintenance,
    }
}

fn incident_body(view: &IncidentView) -> IncidentBody {
    IncidentBody {
        id: view.id.clone(),
        title: view.title.clone(),
        component: view.component.as_ref().map(ToString::to_string),
        component_name: view.component_name.clone(),
        phase: match view.phase {
            IncidentPhase::Open => ApiIncidentPhase::Open,
            IncidentPhase::Resolved => ApiIncidentPhase::Resolved,
        },
        status: component_status(view.status),
        suspected: view.suspected,
        opened_at: time(view.opened_at),
        resolved_at: view.resolved_at.map(time),
        updated_at: time(view.updated_at),
        updates: view.updates.iter().map(update).collect(),
    }
}

fn update(update: &UpdateView) -> IncidentUpdate {
    IncidentUpdate {
        at: time(update.at),
        status: component_status(update.status),
        message: update.message.clone(),
        resolves: update.resolves,
    }
}

/// A realistic snapshot for the tests of every public view: an outage in progress, a
/// suspected service-wide incident, a resolved one, maintenance under way and coming up, and
/// 90 days of uptime with gaps.
#[cfg(test)]
pub(super) mod example {
    use chrono::{DateTime, Duration, TimeZone, Utc};

    use super::super::snapshot::{
        ComponentView, DayUptime, IncidentView, MaintenanceView, Overall, Snapshot, UPTIME_DAYS,
        UpdateView,
    };
    use crate::config::ComponentId;
    use crate::incident::{ComponentStatus, IncidentPhase};

    /// 2026-11-23 at `hour:minute` UTC.
    pub fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, hour, minute, 0).unwrap()
    }

    /// 90 days ending on the snapshot's day: the first `unprobed` without samples, then full
    /// days of 1440 samples with `down` of them down on the days `down_days` counts back from
    /// today (0 is today).
    pub fn days(unprobed: usize, down_days: &[(usize, i64)]) -> Vec<DayUptime> {
        let today = at(0, 0).date_naive();
        (0..UPTIME_DAYS)
            .map(|n| {
                let back = UPTIME_DAYS - 1 - n;
                let date = today - Duration::days(back as i64);
                let down = down_days
                    .iter()
                    .find(|(b, _)| *b == back)
                    .map_or(0, |(_, d)| *d);
                DayUptime {
                    date,
                    total: if n < unprobed { 0 } else { 1440 },
                    down: if n < unprobed { 0 } else { down },
                    degraded: if back == 3 { 12 } else { 0 },
                    maintenance: if back == 10 { 60 } else { 0 },
                }
            })
            .collect()
    }

    fn update(at: DateTime<Utc>, status: ComponentStatus, message: &str) -> UpdateView {
        UpdateView {
            at,
            status,
            message: message.to_owned(),
            resolves: false,
        }
    }

    /// The snapshot.
    pub fn snapshot() -> Snapshot {
        let api = ComponentId::parse("api").unwrap();
        let dashboard = ComponentId::parse("dashboard").unwrap();
        let components = vec![
            ComponentView {
                id: api.clone(),
                name: "Public API".into(),
                status: ComponentStatus::Down,
                since: Some(at(10, 3)),
                incident: Some("20261123-100300-api".into()),
                days: days(0, &[(0, 27), (5, 100)]),
            },
            ComponentView {
                id: dashboard.clone(),
                name: "Dashboard".into(),
                status: ComponentStatus::Operational,
                since: Some(Utc.with_ymd_and_hms(2026, 11, 21, 8, 12, 0).unwrap()),
                incident: None,
                days: days(20, &[(2, 12)]),
            },
            ComponentView {
                id: ComponentId::parse("docs").unwrap(),
                name: "Docs & <Guides>".into(),
                status: ComponentStatus::Maintenance,
                since: Some(at(9, 0)),
                incident: None,
                days: days(UPTIME_DAYS, &[]),
            },
        ];
        let open_incidents = vec![
            IncidentView {
                id: "20261123-101000-svc".into(),
                title: "Customers report problems".into(),
                component: None,
                component_name: "Acme Cloud".into(),
                phase: IncidentPhase::Open,
                status: ComponentStatus::Down,
                suspected: true,
                opened_at: at(10, 10),
                resolved_at: None,
                updated_at: at(10, 10),
                updates: vec![update(
                    at(10, 10),
                    ComponentStatus::Down,
                    "Customers are reporting problems: Acme Cloud is down. We are investigating.",
                )],
            },
            IncidentView {
                id: "20261123-100300-api".into(),
                title: "Public API is down".into(),
                component: Some(api),
                component_name: "Public API".into(),
                phase: IncidentPhase::Open,
                status: ComponentStatus::Down,
                suspected: false,
                opened_at: at(10, 3),
                resolved_at: None,
                updated_at: at(10, 20),
                updates: vec![
                    update(
                        at(10, 3),
                        ComponentStatus::Degraded,
                        "Public API is responding slowly. We are investigating.",
                    ),
                    update(at(10, 20), ComponentStatus::Down, "Public API is down."),
                ],
            },
        ];
        let resolved_at = Utc.with_ymd_and_hms(2026, 11, 21, 8, 12, 0).unwrap();
        let resolved_incidents = vec![IncidentView {
            id: "20261121-080000-dashboard".into(),
            title: "Dashboard is slow".into(),
            component: Some(dashboard),
            component_name: "Dashboard".into(),
            phase: IncidentPhase::Resolved,
            status: ComponentStatus::Operational,
            suspected: false,
            opened_at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap(),
            resolved_at: Some(resolved_at),
            updated_at: resolved_at,
            updates: vec![
                update(
                    Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap(),
                    ComponentStatus::Degraded,
                    "Dashboard is responding slowly. We are investigating.",
                ),
                UpdateView {
                    at: resolved_at,
                    status: ComponentStatus::Operational,
                    message: "Resolved after 12 min.".into(),
                    resolves: true,
                },
            ],
        }];
        let maintenance = vec![
            MaintenanceView {
                title: "Docs platform upgrade".into(),
                components: vec!["Docs & <Guides>".into()],
                starts_at: at(9, 0),
                ends_at: at(11, 0),
                active: true,
            },
            MaintenanceView {
                title: "Database failover drill".into(),
                components: vec!["Public API".into(), "Dashboard".into()],
                starts_at: Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap(),
                ends_at: Utc.with_ymd_and_hms(2026, 11, 26, 3, 0, 0).unwrap(),
                active: false,
            },
        ];
        Snapshot {
            service_name: "Acme Cloud".into(),
            status_url: "https://status.acme.example/".into(),
            generated_at: at(10, 30),
            overall: Overall::of(components.iter().map(|c| c.status)),
            components,
            open_incidents,
            resolved_incidents,
            maintenance,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::example;
    use super::*;

    fn document() -> Value {
        serde_json::from_str(OPENAPI).expect("openapi.json is valid JSON")
    }

    /// The value the local reference `#/a/b` points to in `doc`.
    fn resolve<'a>(doc: &'a Value, reference: &str) -> &'a Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local references are used: {reference}"));
        doc.pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} names nothing in the document"))
    }

    /// `value` itself, or what it refers to if it is a `{"$ref": ...}`.
    fn deref<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => deref(doc, resolve(doc, reference)),
            None => value,
        }
    }

    /// The keywords the checker understands. Any other in a schema fails the check rather than
    /// being silently ignored (a `oneOf` it did not read would let anything through).
    const KEYWORDS: &[&str] = &[
        "$ref",
        "type",
        "required",
        "enum",
        "properties",
        "items",
        "additionalProperties",
        "minimum",
        "maximum",
        "format",
        "description",
    ];

    fn type_of(value: &Value) -> &'static str {
        match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Checks `value` against `schema` (a schema of `doc`), naming the place of the first
    /// mismatch (`$.components[0].uptime`).
    fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let schema = deref(doc, schema);
        let object = schema
            .as_object()
            .ok_or_else(|| format!("{at}: the schema is not an object"))?;
        if let Some(unknown) = object.keys().find(|k| !KEYWORDS.contains(&k.as_str())) {
            return Err(format!("{at}: the checker does not know `{unknown}`"));
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => return Err(format!("{at}: `type` is neither a string nor a list")),
            };
            let actual = type_of(value);
            let fits =
                allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
            if !fits {
                return Err(format!(
                    "{at}: {actual} where the schema allows {allowed:?}"
                ));
            }
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.contains(value)
        {
            return Err(format!("{at}: {value} is not one of {values:?}"));
        }
        if let Some(number) = value.as_f64() {
            if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64)
                && number < minimum
            {
                return Err(format!("{at}: {number} is below {minimum}"));
            }
            if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64)
                && number > maximum
            {
                return Err(format!("{at}: {number} is above {maximum}"));
            }
        }
        if let (Some(format), Some(text)) =
            (schema.get("format").and_then(Value::as_str), value.as_str())
        {
            let ok = match format {
                "date-time" => DateTime::parse_from_rfc3339(text).is_ok(),
                "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
                "uri" => reqwest::Url::parse(text).is_ok(),
                other => return Err(format!("{at}: the checker does not know format {other}")),
            };
            if !ok {
                return Err(format!("{at}: {text:?} is not a {format}"));
            }
        }
        if let Some(fields) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = name.as_str().unwrap_or_default();
                if !fields.contains_key(name) {
                    return Err(format!("{at}: the required `{name}` is missing"));
                }
            }
            for (name, field) in fields {
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => check(doc, property, field, &format!("{at}.{name}"))?,
                    None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                        return Err(format!("{at}: `{name}` is not documented"));
                    }
                    None => {}
                }
            }
        }
        if let (Some(items), Some(elements)) = (schema.get("items"), value.as_array()) {
            for (n, element) in elements.iter().enumerate() {
                check(doc, items, element, &format!("{at}[{n}]"))?;
            }
        }
        Ok(())
    }

    /// The schema of the JSON that `path` answers with 200, from the document.
    fn response_schema<'a>(doc: &'a Value, path: &str) -> &'a Value {
        let operation = &doc["paths"][path]["get"];
        let ok = deref(doc, &operation["responses"]["200"]);
        let schema = &ok["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "{path} documents no JSON answer");
        schema
    }

    fn assert_conforms(path: &str, value: &Value) {
        let doc = document();
        if let Err(e) = check(&doc, response_schema(&doc, path), value, "$") {
            panic!("the answer of {path} does not match its schema: {e}\n{value:#}");
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_and_every_reference_resolves() {
        let doc = document();
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "{version}");
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        fn walk(doc: &Value, value: &Value) {
            match value {
                Value::Object(map) => {
                    if let Some(reference) = map.get("$ref") {
                        resolve(doc, reference.as_str().unwrap());
                    }
                    map.values().for_each(|v| walk(doc, v));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(doc, v)),
                _ => {}
            }
        }
        walk(&doc, &doc);
    }

    #[test]
    fn the_document_lists_every_public_route() {
        let doc = document();
        let mut paths: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        paths.sort_unstable();
        let mut expected = vec![
            "/api/v1/status",
            "/api/v1/components",
            "/api/v1/components/{id}",
            "/api/v1/incidents",
            "/api/v1/incidents/{id}",
            "/api/v1/openapi.json",
            "/api/v2/summary.json",
            "/api/v2/status.json",
            "/api/v2/components.json",
            "/api/v2/incidents.json",
            "/api/v2/incidents/unresolved.json",
            "/api/v2/scheduled-maintenances.json",
            "/feed.atom",
            "/badge.svg",
            "/badge.json",
            "/badge/{id}.svg",
            "/badge/{id}.json",
        ];
        expected.sort_unstable();
        assert_eq!(paths, expected);
        for path in expected.iter().filter(|p| p.contains('{')) {
            let operation = &doc["paths"][path]["get"];
            let parameter = deref(&doc, &operation["parameters"][0]);
            assert_eq!(parameter["in"], "path", "{path}");
            assert_eq!(parameter["required"], true, "{path}");
            let not_found = deref(&doc, &operation["responses"]["404"]);
            assert!(not_found["content"]["text/plain"].is_object(), "{path}");
        }
    }

    #[test]
    fn every_object_schema_requires_exactly_its_properties_and_no_others() {
        // The answers never leave a field out (absent is null), so every documented property
        // is required; and none may appear undocumented.
        let doc = document();
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                continue;
            };
            assert_eq!(schema["additionalProperties"], false, "{name}");
            let mut required: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let mut documented: Vec<&str> = properties.keys().map(String::as_str).collect();
            required.sort_unstable();
            documented.sort_unstable();
            assert_eq!(required, documented, "{name}");
        }
    }

    #[test]
    fn every_v1_answer_matches_its_schema() {
        let snapshot = example::snapshot();
        assert_conforms("/api/v1/status", &status(&snapshot));
        assert_conforms("/api/v1/components", &components(&snapshot));
        for view in &snapshot.components {
            assert_conforms("/api/v1/components/{id}", &component(&snapshot, view));
        }
        assert_conforms("/api/v1/incidents", &incidents(&snapshot));
        for view in snapshot.incidents() {
            assert_conforms("/api/v1/incidents/{id}", &incident(view));
        }
        let empty = Snapshot {
            open_incidents: vec![],
            resolved_incidents: vec![],
            maintenance: vec![],
            ..snapshot
        };
        assert_conforms("/api/v1/incidents", &incidents(&empty));
    }

    #[test]
    fn the_badge_endpoints_match_shields_schema_as_documented() {
        let snapshot = example::snapshot();
        assert_conforms(
            "/badge.json",
            &super::super::badge::overall_shields(&snapshot),
        );
        for view in &snapshot.components {
            assert_conforms(
                "/badge/{id}.json",
                &super::super::badge::component_shields(view),
            );
        }
    }

    #[test]
    fn the_checker_rejects_what_the_schema_does_not_say() {
        let doc = document();
        let schema = response_schema(&doc, "/api/v1/status");
        let good = status(&example::snapshot());
        assert!(check(&doc, schema, &good, "$").is_ok());

        let mut undocumented = good.clone();
        undocumented["components"][0]["reason"] = json!("connection refused");
        assert!(
            check(&doc, schema, &undocumented, "$")
                .unwrap_err()
                .contains("`reason` is not documented")
        );

        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("generated_at");
        assert!(
            check(&doc, schema, &missing, "$")
                .unwrap_err()
                .contains("generated_at")
        );

        let mut outside_enum = good.clone();
        outside_enum["status"] = json!("on_fire");
        assert!(check(&doc, schema, &outside_enum, "$").is_err());

        let mut wrong_type = good.clone();
        wrong_type["open_incidents"] = json!("2");
        assert!(check(&doc, schema, &wrong_type, "$").is_err());

        let mut bad_time = good;
        bad_time["generated_at"] = json!("yesterday");
        assert!(check(&doc, schema, &bad_time, "$").is_err());

        let detail = response_schema(&doc, "/api/v1/components/{id}");
        let mut out_of_range = component(&example::snapshot(), &example::snapshot().components[0]);
        out_of_range["uptime"]["last_7_days"] = json!(100.5);
        assert!(check(&doc, detail, &out_of_range, "$").is_err());
        out_of_range["uptime"]["last_7_days"] = Value::Null;
        assert!(check(&doc, detail, &out_of_range, "$").is_ok());
    }

    #[test]
    fn the_status_says_the_worst_and_lists_every_component() {
        let answer = status(&example::snapshot());
        assert_eq!(answer["service"], "Acme Cloud");
        assert_eq!(answer["status"], "partial_outage");
        assert_eq!(answer["description"], "Partial outage");
        assert_eq!(answer["generated_at"], "2026-11-23T10:30:00Z");
        assert_eq!(answer["open_incidents"], 2);
        let statuses: Vec<&str> = answer["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["down", "operational", "maintenance"]);
    }

    #[test]
    fn uptime_counts_the_last_days_with_today_last_and_maintenance_left_out() {
        let snapshot = example::snapshot();
        let answer = components(&snapshot);
        let api = &answer["components"][0];
        // 27 of today's 1440 samples down; 100 more five days back; day 10 back had 60 in
        // maintenance, which count neither way.
        let week = 100.0 * (7.0 * 1440.0 - 127.0) / (7.0 * 1440.0);
        let month = 100.0 * (30.0 * 1440.0 - 60.0 - 127.0) / (30.0 * 1440.0 - 60.0);
        let quarter = 100.0 * (90.0 * 1440.0 - 60.0 - 127.0) / (90.0 * 1440.0 - 60.0);
        let floor = |x: f64| (x * 1000.0).floor() / 1000.0;
        assert_eq!(api["uptime"]["last_7_days"].as_f64(), Some(floor(week)));
        assert_eq!(api["uptime"]["last_30_days"].as_f64(), Some(floor(month)));
        assert_eq!(api["uptime"]["last_90_days"].as_f64(), Some(floor(quarter)));
        assert_eq!(api["since"], "2026-11-23T10:03:00Z");
        assert_eq!(api["incident"], "20261123-100300-api");
        // Never probed: no uptime at all, rather than a flattering 100 %.
        let docs = &answer["components"][2];
        assert_eq!(docs["uptime"]["last_90_days"], Value::Null);
    }

    #[test]
    fn a_percentage_is_never_rounded_up_to_a_perfect_score() {
        assert_eq!(percent(99.99999), 99.999);
        assert_eq!(percent(100.0), 100.0);
        assert_eq!(percent(-3.0), 0.0);
        assert_eq!(percent(120.0), 100.0);
        let mut days = example::days(0, &[]);
        days.last_mut().unwrap().down = 1;
        assert!(uptime_over(&days, 90).unwrap() < 100.0);
        assert_eq!(uptime_over(&days[..0], 7), None);
    }

    #[test]
    fn a_component_has_ninety_days_oldest_first() {
        let snapshot = example::snapshot();
        let answer = component(&snapshot, &snapshot.components[1]);
        let days = answer["days"].as_array().unwrap();
        assert_eq!(days.len(), 90);
        assert_eq!(days[89]["date"], "2026-11-23");
        assert_eq!(days[0]["date"], "2026-08-26");
        assert_eq!(days[0]["verdict"], "no_data");
        assert_eq!(days[0]["uptime_percent"], Value::Null);
        assert_eq!(days[87]["verdict"], "partial_outage");
        assert_eq!(days[87]["down"], 12);
        assert_eq!(days[86]["verdict"], "degraded");
        assert_eq!(days[89]["verdict"], "operational");
        assert_eq!(days[89]["uptime_percent"], 100.0);
        assert_eq!(answer["id"], "dashboard");
        assert_eq!(answer["generated_at"], "2026-11-23T10:30:00Z");
    }

    #[test]
    fn incidents_carry_their_timeline_and_phase() {
        let snapshot = example::snapshot();
        let answer = incidents(&snapshot);
        let open = answer["open"].as_array().unwrap();
        let resolved = answer["resolved"].as_array().unwrap();
        assert_eq!(open.len(), 2);
        assert_eq!(open[0]["id"], "20261123-101000-svc");
        assert_eq!(open[0]["component"], Value::Null);
        assert_eq!(open[0]["suspected"], true);
        assert_eq!(open[1]["updates"][1]["status"], "down");
        assert_eq!(resolved[0]["phase"], "resolved");
        assert_eq!(resolved[0]["resolved_at"], "2026-11-21T08:12:00Z");
        assert_eq!(resolved[0]["updates"][1]["resolves"], true);
        let one = incident(&snapshot.resolved_incidents[0]);
        assert_eq!(one, resolved[0]);
    }
}
