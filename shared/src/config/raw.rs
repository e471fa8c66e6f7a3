//! The config exactly as written: serde shapes with source spans, before validation.
//!
//! Integers are read as `i64` and ranges checked by the validator, so an out-of-range value
//! gets sitrep's own message with the field's line rather than a bare serde error.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub service: S<RawService>,
    pub probe: Option<S<RawProbe>>,
    #[serde(default)]
    pub components: Vec<S<RawComponent>>,
    #[serde(default)]
    pub checks: Vec<S<RawCheck>>,
    #[serde(default)]
    pub maintenance: Vec<S<RawMaintenance>>,
    pub mentions: Option<S<RawMentions>>,
    #[serde(default)]
    pub accounts: Vec<S<RawAccount>>,
    pub replies: Option<S<RawReplies>>,
    #[serde(default)]
    pub people: Vec<S<super::oncall::RawPerson>>,
    #[serde(default)]
    pub schedules: Vec<S<super::oncall::RawSchedule>>,
    #[serde(default)]
    pub policies: Vec<S<super::oncall::RawPolicy>>,
    pub oncall: Option<S<super::oncall::RawOnCall>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub name: S<String>,
    pub status_url: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProbe {
    pub concurrency: Option<S<i64>>,
    pub region: Option<S<String>>,
    pub quorum: Option<S<toml::Value>>,
    pub region_freshness: Option<S<String>>,
    pub raw_retention: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComponent {
    pub id: S<String>,
    pub name: S<String>,
    pub open_incident_on: Option<S<String>>,
    pub keywords: Option<S<Vec<S<String>>>>,
    /// The escalation policy paging for its incidents (default: `[oncall] policy`).
    pub policy: Option<S<String>>,
    /// `high` or `low` (default: `[oncall] urgency`).
    pub urgency: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    pub id: S<String>,
    pub component: S<String>,
    pub kind: S<String>,
    // http
    pub url: Option<S<String>>,
    pub method: Option<S<String>>,
    pub headers: Option<S<BTreeMap<String, String>>>,
    pub body: Option<S<String>>,
    pub follow_redirects: Option<S<bool>>,
    // http, tls
    pub ca_file: Option<S<String>>,
    // tcp, tls
    pub host: Option<S<String>>,
    pub port: Option<S<i64>>,
    // tls
    pub server_name: Option<S<String>>,
    // dns
    pub name: Option<S<String>>,
    pub record_type: Option<S<String>>,
    pub nameserver: Option<S<String>>,
    // every kind
    pub timeout: Option<S<String>>,
    pub degraded_after: Option<S<String>>,
    // Spanned as a whole so an empty list can be pointed at.
    pub conditions: Option<S<Vec<S<String>>>>,
    pub failure_threshold: Option<S<i64>>,
    pub success_threshold: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaintenance {
    pub title: S<String>,
    pub components: S<Vec<S<String>>>,
    pub timezone: S<String>,
    // one-off
    pub start: Option<S<String>>,
    pub end: Option<S<String>>,
    // recurring
    pub every: Option<S<toml::Value>>,
    pub at: Option<S<String>>,
    pub duration: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMentions {
    pub horizon: Option<S<String>>,
    pub retention: Option<S<String>>,
    pub surge_authors: Option<S<i64>>,
    pub surge_window: Option<S<String>>,
    pub surge_quiet: Option<S<String>>,
    pub concurrency: Option<S<i64>>,
    pub lexicon: Option<S<crate::mentions::classify::Lexicon>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    pub id: S<String>,
    pub platform: S<String>,
    pub handle: S<String>,
    pub credentials: S<String>,
    pub user_id: Option<S<String>>,
    pub base_url: Option<S<String>>,
    pub announce: Option<S<String>>,
    pub max_chars: Option<S<i64>>,
}

/// One language's `[replies.templates.<lang>]`: variants per situation name.
pub(super) type RawLanguageTemplates = BTreeMap<String, S<Vec<S<String>>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReplies {
    pub mode: Option<S<String>>,
    pub min_confidence: Option<S<f64>>,
    pub max_age: Option<S<String>>,
    pub cooldown: Option<S<String>>,
    pub sla: Option<S<String>>,
    pub language: Option<S<String>>,
    pub deny: Option<S<Vec<S<String>>>>,
    pub vip: Option<S<Vec<S<String>>>>,
    pub timezone: Option<S<String>>,
    #[serde(default)]
    pub timezones: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub templates: BTreeMap<String, S<RawLanguageTemplates>>,
}
