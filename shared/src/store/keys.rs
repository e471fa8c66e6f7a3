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
//! | `INCIDENT#<id>` | `EVIDENCE#<platform>#<post id>` | a customer's report attached to it | never |
//! | `MENTION#<platform>#<post id>` | `MENTION` | a stored, classified mention: created once | `mentions.retention` |
//! | `MENTIONS#<yyyy-mm-dd>` | `<rfc3339>#<platform>#<post id>` | index of mentions by day, for reading back | `mentions.retention` |
//! | `CURSOR#<platform>#<account>` | `CURSOR` | where the account's next poll starts, and any pause | never |
//! | `SESSION#<platform>#<account>` | `SESSION` | a kept login session (Bluesky) | never |
//! | `REPORTS#<component or *>` | `<rfc3339>#<platform>#<post id>` | outage reports, for surge counting | surge window + 1 h |
//! | `SURGE#<component or *>` | `STATE` | the suspected incident a surge opened: the decision point | never |
//!
//! Timestamps in sort keys are RFC 3339 UTC with a fixed width, so byte order is time order
//! and a range query is a time window.

use chrono::{DateTime, SecondsFormat, Utc};

use super::Key;
use crate::config::{CheckId, ComponentId};
use crate::social::Platform;

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

/// A customer's report attached to an incident as evidence.
pub fn incident_evidence(incident: &str, platform: Platform, post: &str) -> Key {
    Key::new(
        incident_partition(incident),
        format!("EVIDENCE#{platform}#{post}"),
    )
}

/// Sort-key prefix of an incident's evidence.
pub const INCIDENT_EVIDENCE_PREFIX: &str = "EVIDENCE#";

/// One stored mention.
pub fn mention(platform: Platform, post: &str) -> Key {
    Key::new(format!("MENTION#{platform}#{post}"), "MENTION")
}

/// Partition of the mentions posted on one UTC day.
pub fn mention_day_partition(at: DateTime<Utc>) -> String {
    format!("MENTIONS#{}", at.format("%Y-%m-%d"))
}

/// A mention's entry in its day's index.
pub fn mention_index(at: DateTime<Utc>, platform: Platform, post: &str) -> Key {
    Key::new(
        mention_day_partition(at),
        format!("{}#{platform}#{post}", timestamp(at)),
    )
}

/// Where an account's next poll starts.
pub fn cursor(platform: Platform, account: &str) -> Key {
    Key::new(format!("CURSOR#{platform}#{account}"), "CURSOR")
}

/// A kept login session.
pub fn session(platform: Platform, account: &str) -> Key {
    Key::new(format!("SESSION#{platform}#{account}"), "SESSION")
}

/// Partition of the outage reports about one component, or `*` for the whole service.
pub fn reports_partition(scope: &str) -> String {
    format!("REPORTS#{scope}")
}

/// One outage report in its scope's partition.
pub fn report(scope: &str, at: DateTime<Utc>, platform: Platform, post: &str) -> Key {
    Key::new(
        reports_partition(scope),
        format!("{}#{platform}#{post}", timestamp(at)),
    )
}

/// The surge decision item of a scope.
pub fn surge(scope: &str) -> Key {
    Key::new(format!("SURGE#{scope}"), "STATE")
}
