//! The single-table key design, in one place.
//!
//! | pk | sk | what | expiry |
//! |---|---|---|---|
//! | `CONFIG` | `CURRENT` | the deployed TOML config (`sitrep config push`) | never |
//! | `CHECK#<check>` | `STATE#<region>` | one region's hysteresis state for a check | never |
//! | `CHECK#<check>` | `RESULT#<rfc3339>#<region>` | one raw result | `raw_retention` |
//! | `COMPONENT#<component>` | `STATE` | public status and open incident: the decision point | never |
//! | `COMPONENT#<component>` | `HOUR#<yyyy-mm-ddThh>` | hourly rollup (samples per status) | 3 days |
//! | `COMPONENT#<component>` | `DAY#<yyyy-mm-dd>` | daily rollup (samples per status) | 100 days |
//! | `INCIDENT#<id>` | `META` | the incident | never |
//! | `INCIDENT#<id>` | `UPDATE#<rfc3339>#<n>` | one entry of its public timeline | never |
//! | `INCIDENTS` | `<rfc3339 opened>#<id>` | index of incidents, newest last | never |
//!
//! Timestamps in sort keys are RFC 3339 UTC with a fixed width, so byte order is time order
//! and a range query is a time window.

use chrono::{DateTime, SecondsFormat, Utc};

use super::Key;
use crate::config::{CheckId, ComponentId};

/// Fixed-width UTC timestamp for sort keys (millisecond precision).
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The deployed configuration.
pub fn config() -> Key {
    Key::new("CONFIG", "CURRENT")
}

/// Partition of one check.
pub fn check_partition(check: &CheckId) -> String {
    format!("CHECK#{check}")
}

/// One region's state for a check.
pub fn check_state(check: &CheckId, region: &str) -> Key {
    Key::new(check_partition(check), format!("STATE#{region}"))
}

/// Sort-key prefix of every region's state for a check.
pub const CHECK_STATE_PREFIX: &str = "STATE#";

/// One raw result.
pub fn check_result(check: &CheckId, at: DateTime<Utc>, region: &str) -> Key {
    Key::new(
        check_partition(check),
        format!("RESULT#{}#{region}", timestamp(at)),
    )
}

/// Sort-key prefix of raw results.
pub const CHECK_RESULT_PREFIX: &str = "RESULT#";

/// Partition of one component.
pub fn component_partition(component: &ComponentId) -> String {
    format!("COMPONENT#{component}")
}

/// A component's public state.
pub fn component_state(component: &ComponentId) -> Key {
    Key::new(component_partition(component), "STATE")
}

/// Hourly rollup sort key.
pub fn hour_sort_key(at: DateTime<Utc>) -> String {
    format!("HOUR#{}", at.format("%Y-%m-%dT%H"))
}

/// Daily rollup sort key.
pub fn day_sort_key(at: DateTime<Utc>) -> String {
    format!("DAY#{}", at.format("%Y-%m-%d"))
}

/// Partition of one incident.
pub fn incident_partition(incident: &str) -> String {
    format!("INCIDENT#{incident}")
}

/// An incident's record.
pub fn incident(incident: &str) -> Key {
    Key::new(incident_partition(incident), "META")
}

/// One timeline entry of an incident.
pub fn incident_update(incident: &str, at: DateTime<Utc>, sequence: u32) -> Key {
    Key::new(
        incident_partition(incident),
        format!("UPDATE#{}#{sequence:04}", timestamp(at)),
    )
}

/// Sort-key prefix of timeline entries.
pub const INCIDENT_UPDATE_PREFIX: &str = "UPDATE#";

/// Partition that lists every incident by opening time.
pub const INCIDENT_INDEX: &str = "INCIDENTS";

/// An incident's entry in the index.
pub fn incident_index(opened_at: DateTime<Utc>, incident: &str) -> Key {
    Key::new(
        INCIDENT_INDEX,
        format!("{}#{incident}", timestamp(opened_at)),
    )
}
