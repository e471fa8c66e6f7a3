//! Response metrics: for every mention, when it was posted, seen, answered and followed up,
//! and what was done; and the report over a period (`sitrep report --since 7d`).
//!
//! One record per mention, in the partition of the day it was posted
//! (`RESPONSES#<yyyy-mm-dd>`), so a report reads one partition per day. Records are
//! written by versioned read-modify-write: the reply and the follow-up of one mention may
//! be recorded by different invocations.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::mentions::StoredMention;
use crate::social::Platform;
use crate::store::{Item, NewItem, Query, Store, StoreError, keys, write_over};

/// What was done for a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing was owed (praise, a repost, the vendor's own post…).
    Ignored,
    /// An earlier answer to the same author or thread covers it.
    Covered,
    /// A reply is queued.
    Queued,
    /// Answered publicly.
    Answered,
    /// Answered in a dry run: decided and recorded, not posted.
    Recorded,
    /// Given to a person.
    HandedOff,
}

impl Outcome {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ignored => "ignored",
            Outcome::Covered => "covered",
            Outcome::Queued => "queued",
            Outcome::Answered => "answered",
            Outcome::Recorded => "recorded",
            Outcome::HandedOff => "handed_off",
        }
    }
}

/// The response record of one mention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// Where it was posted.
    pub platform: Platform,
    /// The configured account it mentions.
    pub account: String,
    /// The post's id.
    pub post: String,
    /// What the author wanted.
    pub intent: String,
    /// The component it named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// When the customer posted it.
    pub posted_at: DateTime<Utc>,
    /// When sitrep stored it.
    pub seen_at: DateTime<Utc>,
    /// What was done.
    pub outcome: Outcome,
    /// Why, as a word, when it was not answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the first answer went out (or, in a dry run, was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    /// When it was given to a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_off_at: Option<DateTime<Utc>>,
    /// When the follow-up went out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followed_up_at: Option<DateTime<Utc>>,
}

impl ResponseRecord {
    /// The record of a mention just judged.
    pub fn of(mention: &StoredMention, outcome: Outcome, reason: Option<&str>) -> Self {
        Self {
            platform: mention.platform,
            account: mention.account.to_string(),
            post: mention.id.clone(),
            intent: mention.intent.as_str().to_owned(),
            component: mention.component.as_ref().map(ToString::to_string),
            posted_at: mention.created_at,
            seen_at: mention.received_at,
            outcome,
            reason: reason.map(str::to_owned),
            answered_at: None,
            handed_off_at: None,
            followed_up_at: None,
        }
    }

    /// Time to first response, once answered.
    pub fn time_to_first_response(&self) -> Option<TimeDelta> {
        self.answered_at.map(|at| at - self.posted_at)
    }
}

/// Writes `record` as the mention's record when it has none; otherwise applies `change` to
/// the stored one. Returns the record as written.
pub async fn record(
    store: &dyn Store,
    record: ResponseRecord,
    retention: std::time::Duration,
    change: impl Fn(&mut ResponseRecord),
) -> Result<ResponseRecord, StoreError> {
    let key = keys::response(record.posted_at, record.platform, &record.post);
    let expires = record.seen_at + TimeDelta::from_std(retention).unwrap_or(TimeDelta::days(30));
    write(store, &key, Some((record, expires)), change)
        .await?
        .ok_or_else(|| StoreError::Backend(format!("the response record {key} was not written")))
}

/// Applies `change` to the record of a mention posted at `posted_at`, if it has one (every
/// judged mention has): what a later step (the reply, the follow-up) adds to it, without
/// reading the mention again. `None` when there is no record.
pub async fn amend(
    store: &dyn Store,
    posted_at: DateTime<Utc>,
    platform: Platform,
    post: &str,
    change: impl Fn(&mut ResponseRecord),
) -> Result<Option<ResponseRecord>, StoreError> {
    write(
        store,
        &keys::response(posted_at, platform, post),
        None,
        change,
    )
    .await
}

/// Read-modify-write of one record, creating it from `base` (with its expiry) when absent.
async fn write(
    store: &dyn Store,
    key: &crate::store::Key,
    base: Option<(ResponseRecord, DateTime<Utc>)>,
    change: impl Fn(&mut ResponseRecord),
) -> Result<Option<ResponseRecord>, StoreError> {
    for _ in 0..8 {
        let current = store.get(key).await?;
        let (mut next, version, expires) = match (&current, &base) {
            (Some(item), _) => (
                item.decode::<ResponseRecord>()?,
                Some(item.version),
                item.expires_at,
            ),
            (None, Some((record, expires))) => (record.clone(), None, Some(*expires)),
            (None, None) => return Ok(None),
        };
        change(&mut next);
        let mut item = NewItem::encode(key.clone(), &next)?;
        item.expires_at = expires;
        if write_over(store, item, version).await?.is_some() {
            return Ok(Some(next));
        }
    }
    Err(StoreError::Backend(format!(
        "the response record {key} kept changing under contention"
    )))
}

/// Reads the response record of a mention posted at `posted_at`.
pub async fn load(
    store: &dyn Store,
    posted_at: DateTime<Utc>,
    platform: Platform,
    post: &str,
) -> Result<Option<ResponseRecord>, StoreError> {
    store
        .get(&keys::response(posted_at, platform, post))
        .await?
        .map(|item| item.decode())
        .transpose()
}

/// Figures over a set of response records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Mentions seen.
    pub mentions: usize,
    /// Answered (posted or, in a dry run, recorded).
    pub answered: usize,
    /// Of those, answered within the SLA.
    pub within_sla: usize,
    /// Followed up.
    pub followed_up: usize,
    /// Given to a person.
    pub handed_off: usize,
    /// Times to first response, in seconds, sorted.
    pub response_seconds: Vec<f64>,
}

impl Figures {
    fn add(&mut self, record: &ResponseRecord, sla: TimeDelta) {
        self.mentions += 1;
        if let Some(ttfr) = record.time_to_first_response() {
            self.answered += 1;
            if ttfr <= sla {
                self.within_sla += 1;
            }
            self.response_seconds
                .push(ttfr.num_milliseconds() as f64 / 1000.0);
        }
        if record.followed_up_at.is_some() {
            self.followed_up += 1;
        }
        if record.outcome == Outcome::HandedOff {
            self.handed_off += 1;
        }
    }

    /// The `p`th percentile (0–100) of time to first response, in seconds (nearest rank).
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.response_seconds.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.response_seconds.len() as f64).ceil() as usize;
        Some(self.response_seconds[rank.clamp(1, self.response_seconds.len()) - 1])
    }

    /// The share of answers within the SLA, 0 to 1.
    pub fn sla_compliance(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.within_sla as f64 / self.answered as f64)
    }
}

/// The response report over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// From when.
    pub since: DateTime<Utc>,
    /// Until when.
    pub until: DateTime<Utc>,
    /// The SLA it is measured against.
    pub sla: TimeDelta,
    /// Over everything.
    pub total: Figures,
    /// Per component (`-` for mentions that named none).
    pub by_component: BTreeMap<String, Figures>,
    /// Per platform.
    pub by_platform: BTreeMap<String, Figures>,
    /// Mentions per outcome.
    pub outcomes: BTreeMap<Outcome, usize>,
}

/// The report over mentions posted in `[since, until]`, measured against `sla`.
pub async fn report(
    store: &dyn Store,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    sla: TimeDelta,
) -> Result<Report, StoreError> {
    let mut report = Report {
        since,
        until,
        sla,
        ..Report::default()
    };
    let mut day = since;
    while day.date_naive() <= until.date_naive() {
        let items = store
            .query(&Query::between(
                keys::responses_partition(day),
                keys::timestamp(since),
                format!("{}~", keys::timestamp(until)),
            ))
            .await?;
        for item in items {
            let record: ResponseRecord = Item::decode(&item)?;
            report.total.add(&record, sla);
            report
                .by_component
                .entry(record.component.clone().unwrap_or_else(|| "-".into()))
                .or_default()
                .add(&record, sla);
            report
                .by_platform
                .entry(record.platform.to_string())
                .or_default()
                .add(&record, sla);
            *report.outcomes.entry(record.outcome).or_default() += 1;
        }
        day += TimeDelta::days(1);
    }
    for figures in std::iter::once(&mut report.total)
        .chain(report.by_component.values_mut())
        .chain(report.by_platform.values_mut())
    {
        figures.response_seconds.sort_by(f64::total_cmp);
    }
    Ok(report)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Responses to mentions posted {} to {} (SLA {}):",
            self.since.format("%Y-%m-%d %H:%M UTC"),
            self.until.format("%Y-%m-%d %H:%M UTC"),
            crate::incident::human_duration(self.sla)
        )?;
        writeln!(
            f,
            "  {:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "", "mentions", "answered", "p50", "p90", "p99", "in SLA", "follow", "handoff"
        )?;
        let mut row = |name: &str, figures: &Figures| {
            let seconds = |p| {
                figures
                    .percentile(p)
                    .map_or_else(|| "-".to_owned(), |s: f64| format!("{s:.0}s"))
            };
            writeln!(
                f,
                "  {:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                name,
                figures.mentions,
                figures.answered,
                seconds(50.0),
                seconds(90.0),
                seconds(99.0),
                figures
                    .sla_compliance()
                    .map_or_else(|| "-".to_owned(), |c| format!("{:.0}%", c * 100.0)),
                figures.followed_up,
                figures.handed_off
            )
        };
        row("all", &self.total)?;
        for (name, figures) in &self.by_platform {
            row(name, figures)?;
        }
        for (name, figures) in &self.by_component {
            row(&format!("component {name}"), figures)?;
        }
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(o, n)| format!("{} {n}", o.as_str()))
            .collect();
        write!(f, "  outcomes: {}", outcomes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let figures = Figures {
            response_seconds: (1..=100).map(f64::from).collect(),
            ..Figures::default()
        };
        assert_eq!(figures.percentile(50.0), Some(50.0));
        assert_eq!(figures.percentile(90.0), Some(90.0));
        assert_eq!(figures.percentile(99.0), Some(99.0));
        assert_eq!(figures.percentile(0.0), Some(1.0));
        assert_eq!(Figures::default().percentile(50.0), None);
        let one = Figures {
            response_seconds: vec![7.0],
            ..Figures::default()
        };
        assert_eq!(one.percentile(99.0), Some(7.0));
    }
}
