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
//! | `BUDGET#<platform>#<account or app>` | `<window>#<rfc3339 window start>` | posts counted in one posting window (`used`) | window end + 1 h |
//! | `BUDGET#<platform>#<account>` | `PAUSE` | no posting on the account until `until` (after a 429) | `until` |
//! | `REPLIED#<platform>#<author id>#<incident or quiet>` | `JOB` | the reply to one author about one incident (or, with none, within the cooldown): claimed by a conditional create before posting | incident: 90 days; quiet: `replies.cooldown` |
//! | `FOLLOWUP#<platform>#<author id>#<incident>` | `JOB` | the follow-up to one acknowledged author once the incident resolved | 90 days |
//! | `ANNOUNCE#<account>#<incident>#<version>` | `JOB` | one public update on one account for one change of an incident | 90 days |
//! | `OUTBOX#<account>` | `<rfc3339 queued>#<job pk>` | a job waiting to be posted on the account, in arrival order | never (deleted when done) |
//! | `INCIDENT#<id>` | `ACKED#<platform>#<author id>` | an author answered under the incident: who gets a follow-up | never |
//! | `THREAD#<platform>#<post or thread id>` | `THREAD` | a thread sitrep replied in: it does not reply there again | 30 days |
//! | `HANDOFF#<platform>#<post id>` | `HANDOFF` | a mention handed to a person, once | `mentions.retention` |
//! | `DECISION#<platform>#<post id>` | `DECISION` | what was decided for one post (answer with which job, hand off, ignore): created once, followed by every redelivery | `mentions.retention` |
//! | `RESPONSES#<yyyy-mm-dd>` | `<rfc3339 posted>#<platform>#<post id>` | what was done for one mention, when: the response metrics | `mentions.retention` |
//! | `INCIDENT#<id>` | `PAGING` | the incident's escalation: step, round, when it escalates next, who acknowledged | never |
//! | `ESCALATIONS` | `<incident>` | index of escalations the sweep must watch (deleted once acknowledged, resolved or exhausted) | never |
//! | `PAGE#<incident>#<generation>#<step>#<round>` | `PAGE` | one step of one round paged: claimed by a conditional create before publishing; each recipient's delivery (`generation` counts reopenings) | 90 days |
//! | `PAGE#<incident>#<generation>#RESOLVED` | `PAGE` | the "resolved" messages to everyone paged, claimed the same way | 90 days |
//! | `SHORTCODE#<code>` | `CODE` | the 4-digit code of an incident that SMS replies name | 30 days |
//! | `ACKTOKEN#<nonce>` | `TOKEN` | an acknowledgement link: incident, person, expiry, whether used | link expiry + 1 day |
//! | `SMSIN#<inbound message id>` | `SMS` | an inbound text handled once | 7 days |
//! | `WATCHDOG#<alarm name>` | `STATE` | the escalation a firing watchdog alarm opened, while it fires | never |
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

/// The reply job to one author about one incident (`quiet` when there is none).
pub fn reply_job(platform: Platform, author: &str, incident: Option<&str>) -> Key {
    Key::new(
        format!(
            "REPLIED#{platform}#{author}#{}",
            incident.unwrap_or("quiet")
        ),
        "JOB",
    )
}

/// The follow-up job to one author about one resolved incident.
pub fn follow_up_job(platform: Platform, author: &str, incident: &str) -> Key {
    Key::new(format!("FOLLOWUP#{platform}#{author}#{incident}"), "JOB")
}

/// The public update job on one account for one version of an incident.
pub fn update_job(account: &str, incident: &str, version: u64) -> Key {
    Key::new(format!("ANNOUNCE#{account}#{incident}#{version}"), "JOB")
}

/// Partition of an account's queue of posts.
pub fn outbox_partition(account: &str) -> String {
    format!("OUTBOX#{account}")
}

/// One queued job in its account's outbox.
pub fn outbox_entry(account: &str, queued_at: DateTime<Utc>, job: &Key) -> Key {
    Key::new(
        outbox_partition(account),
        format!("{}#{}", timestamp(queued_at), job.pk),
    )
}

/// An author acknowledged under an incident.
pub fn acknowledged(incident: &str, platform: Platform, author: &str) -> Key {
    Key::new(
        incident_partition(incident),
        format!("ACKED#{platform}#{author}"),
    )
}

/// Sort-key prefix of an incident's acknowledged authors.
pub const ACKNOWLEDGED_PREFIX: &str = "ACKED#";

/// A thread (or post) sitrep replied in.
pub fn thread(platform: Platform, id: &str) -> Key {
    Key::new(format!("THREAD#{platform}#{id}"), "THREAD")
}

/// A mention handed to a person.
pub fn handoff(platform: Platform, post: &str) -> Key {
    Key::new(format!("HANDOFF#{platform}#{post}"), "HANDOFF")
}

/// The recorded decision about one post.
pub fn decision(platform: Platform, post: &str) -> Key {
    Key::new(format!("DECISION#{platform}#{post}"), "DECISION")
}

/// Partition of the response records of mentions posted on one UTC day.
pub fn responses_partition(at: DateTime<Utc>) -> String {
    format!("RESPONSES#{}", at.format("%Y-%m-%d"))
}

/// The response record of one mention.
pub fn response(posted_at: DateTime<Utc>, platform: Platform, post: &str) -> Key {
    Key::new(
        responses_partition(posted_at),
        format!("{}#{platform}#{post}", timestamp(posted_at)),
    )
}

/// Partition of one posting budget scope: an account, or `app` for a window every account of
/// the platform shares.
pub fn budget_partition(platform: Platform, scope: &str) -> String {
    format!("BUDGET#{platform}#{scope}")
}

/// The counter of one posting window, by the window's start.
pub fn budget_window(platform: Platform, scope: &str, window: &str, start: DateTime<Utc>) -> Key {
    Key::new(
        budget_partition(platform, scope),
        format!("{window}#{}", timestamp(start)),
    )
}

/// An account's posting pause.
pub fn budget_pause(platform: Platform, account: &str) -> Key {
    Key::new(budget_partition(platform, account), "PAUSE")
}

/// An incident's escalation state.
pub fn escalation(incident: &str) -> Key {
    Key::new(incident_partition(incident), "PAGING")
}

/// Partition of the escalations the sweep watches.
pub const ESCALATION_INDEX: &str = "ESCALATIONS";

/// An incident's entry in the sweep's index.
pub fn escalation_index(incident: &str) -> Key {
    Key::new(ESCALATION_INDEX, incident)
}

/// The claim of one step of one round of an incident's escalation (`generation`: how many
/// times it reopened).
pub fn page(incident: &str, generation: u32, step: usize, round: u32) -> Key {
    Key::new(
        format!("PAGE#{incident}#{generation}#{step}#{round}"),
        "PAGE",
    )
}

/// The claim of an incident's "resolved" messages, per generation.
pub fn resolved_notice(incident: &str, generation: u32) -> Key {
    Key::new(format!("PAGE#{incident}#{generation}#RESOLVED"), "PAGE")
}

/// A short code's incident.
pub fn short_code(code: &str) -> Key {
    Key::new(format!("SHORTCODE#{code}"), "CODE")
}

/// An acknowledgement link's record.
pub fn ack_token(nonce: &str) -> Key {
    Key::new(format!("ACKTOKEN#{nonce}"), "TOKEN")
}

/// An inbound text's once-only marker.
pub fn inbound_sms(message_id: &str) -> Key {
    Key::new(format!("SMSIN#{message_id}"), "SMS")
}

/// The escalation a watchdog alarm opened.
pub fn watchdog(alarm: &str) -> Key {
    Key::new(format!("WATCHDOG#{alarm}"), "STATE")
}
