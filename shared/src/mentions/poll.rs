//! One poll of one social account: fetch every page of new mentions, store each mention
//! exactly once, and move the account's cursor only past what is stored.
//!
//! The rules, and why:
//! - A mention is stored with a conditional create on `MENTION#<platform>#<post id>`, so a
//!   replayed page, an overlapping poll or a retried invocation stores nothing new. That step
//!   is [`super::intake`], shared with X's webhook, so a mention pushed by X and then polled
//!   is stored once.
//! - The cursor item (`CURSOR#<platform>#<account>`) moves only after the mentions it covers
//!   are stored. For platforms that page from the newest back ([`Paging::NewestFirst`]: X,
//!   Bluesky) the next cursor is known on the first page but saved only after the last one;
//!   meanwhile the poll's progress (the next page token) is saved after every page, so a poll
//!   cut short by the deadline, a crash or a rate limit resumes where it stopped and loses
//!   nothing. Platforms paging forward ([`Paging::OldestFirst`]: Mastodon) save after each
//!   page.
//! - A platform that only reaches the most recent N mentions (X: 800) cannot deliver a
//!   longer backlog: when a poll fetched N or more, the gap is recorded on the cursor and
//!   raised (a warning and [`Gap`] in the report, turned into a metric by the function)
//!   with an estimate of how many mentions may be missing.
//! - Rate limits: when a page leaves at most [`RATE_LIMIT_RESERVE`] calls in the window, or
//!   the platform answers 429, the poll stops, saves its progress and pauses the account
//!   until the window resets.
//! - The account's own posts, plain reposts, and (at an account's first poll only)
//!   mentions older than the configured horizon are not customer mentions: they are
//!   counted and skipped, never stored.
//! - The cursor is written with a version check: if another invocation moved it meanwhile,
//!   this poll stops and leaves the account to it.
//! - The loop over a platform's pages is bounded whatever the platform answers: a page
//!   token it already handed out in this poll ends the run there (a platform cycling
//!   through tokens would otherwise be polled forever), and a poll reads at most
//!   [`MAX_PAGES`] pages, then saves its progress and stops as at the deadline.

use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::classify::{Classifier, Intent};
use super::intake::{Intake, Taken};
use crate::clock::Clock;
use crate::config::{MentionSettings, SocialAccount};
use crate::social::{Page, Paging, Platform, SocialClient, SocialError};
use crate::store::{Item, NewItem, Store, StoreError, keys, write_over};

/// The most pages one poll of one account reads: far more than X lets a client reach (800
/// mentions, 8 pages) or a Bluesky backlog of an hour needs; a longer run resumes next poll.
pub const MAX_PAGES: usize = 100;

/// Calls left in a rate-limit window below which a poll stops rather than spend them.
pub const RATE_LIMIT_RESERVE: u32 = 1;

/// How long an account pauses after a 429 whose reset time the platform did not say.
const UNKNOWN_RESET_PAUSE: TimeDelta = TimeDelta::minutes(15);

/// How many gaps the cursor item remembers.
const GAPS_KEPT: usize = 10;

/// Where an account's polling stands, as stored in its cursor item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The position the next poll starts after (`None` before the first poll finished).
    #[serde(default)]
    pub since: Option<String>,
    /// When the newest mention at `since` was posted, for estimating gaps.
    #[serde(default)]
    pub since_at: Option<DateTime<Utc>>,
    /// A newest-first poll that stopped between pages, to be resumed.
    #[serde(default)]
    pub run: Option<Run>,
    /// No call before this time: the platform's rate-limit window resets then.
    #[serde(default)]
    pub paused_until: Option<DateTime<Utc>>,
    /// The most recent gaps found, oldest first.
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

/// A newest-first poll in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The first page's newest position: the cursor once the run completes.
    pub newest: Option<String>,
    /// When the newest mention of the run was posted.
    pub newest_at: Option<DateTime<Utc>>,
    /// The next page to fetch.
    pub page: String,
    /// Mentions fetched by the run so far.
    pub fetched: usize,
    /// The oldest mention fetched so far.
    pub oldest_at: Option<DateTime<Utc>>,
}

/// Mentions that may never be fetched: the backlog outgrew the platform's reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// When it was found.
    pub detected_at: DateTime<Utc>,
    /// The cursor the poll started from: mentions after it and before `until` may be missing.
    pub after: Option<String>,
    /// When the newest mention before the gap was posted, if known.
    pub from: Option<DateTime<Utc>>,
    /// When the oldest mention the poll could reach was posted.
    pub until: Option<DateTime<Utc>>,
    /// How many mentions may be missing, estimated from the rate of those fetched; `None`
    /// when the times to estimate from are unknown.
    pub estimated_missing: Option<u64>,
}

/// How a poll ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every new mention is stored and the cursor is current.
    CaughtUp,
    /// The account is paused for its rate limit until this time; progress is saved.
    Paused(DateTime<Utc>),
    /// The deadline (or the page limit, [`MAX_PAGES`]) came first; progress is saved and
    /// the next poll resumes.
    Deadline,
    /// Another invocation moved the cursor meanwhile; this one stopped.
    Superseded,
    /// The platform failed; the cursor did not move past anything unstored.
    Platform(SocialError),
    /// The store failed; the cursor did not move past anything unstored.
    Store(StoreError),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::CaughtUp => f.write_str("caught up"),
            Outcome::Paused(until) => write!(f, "paused for the rate limit until {until}"),
            Outcome::Deadline => f.write_str("stopped at the deadline; resumes next time"),
            Outcome::Superseded => f.write_str("another poll moved the cursor; left to it"),
            Outcome::Platform(e) => write!(f, "{e}"),
            Outcome::Store(e) => write!(f, "{e}"),
        }
    }
}

impl Outcome {
    /// Whether the poll failed (a pause, a deadline or a superseded poll is not a failure).
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Platform(_) | Outcome::Store(_))
    }
}

/// What one poll of one account did.
#[derive(Debug)]
pub struct AccountReport {
    /// The configured account.
    pub account: crate::config::AccountId,
    /// Its platform.
    pub platform: Platform,
    /// Pages fetched.
    pub pages: usize,
    /// Mentions the platform returned.
    pub fetched: usize,
    /// Mentions stored for the first time.
    pub stored: usize,
    /// Mentions that were already stored (overlap, replay).
    pub duplicates: usize,
    /// The account's own posts, skipped.
    pub own: usize,
    /// Plain reposts, skipped.
    pub reposts: usize,
    /// Mentions older than the horizon at first start, skipped.
    pub before_horizon: usize,
    /// Newly stored mentions by intent, in [`Intent::ALL`] order.
    pub by_intent: [usize; 5],
    /// Partial errors the platform reported beside its data.
    pub partial_errors: Vec<String>,
    /// A gap found by this poll.
    pub gap: Option<Gap>,
    /// How it ended.
    pub outcome: Outcome,
}

impl AccountReport {
    /// How many newly stored mentions have this intent.
    pub fn stored_with(&self, intent: Intent) -> usize {
        Intent::ALL
            .iter()
            .position(|i| *i == intent)
            .map_or(0, |slot| self.by_intent[slot])
    }
}

/// What a poll needs besides the account: the store, the clock, the classifier and settings.
#[derive(Clone, Copy)]
pub struct PollContext<'a> {
    /// The state store.
    pub store: &'a dyn Store,
    /// The time source.
    pub clock: &'a dyn Clock,
    /// The intent classifier.
    pub classifier: &'a Classifier,
    /// The mentions settings.
    pub settings: &'a MentionSettings,
}

/// Polls `account` through `client` until it is caught up, paused, or `deadline` comes.
pub async fn poll_account(
    context: PollContext<'_>,
    account: &SocialAccount,
    client: &dyn SocialClient,
    deadline: Instant,
) -> AccountReport {
    let mut report = AccountReport {
        account: account.id.clone(),
        platform: account.platform,
        pages: 0,
        fetched: 0,
        stored: 0,
        duplicates: 0,
        own: 0,
        reposts: 0,
        before_horizon: 0,
        by_intent: [0; 5],
        partial_errors: Vec::new(),
        gap: None,
        outcome: Outcome::CaughtUp,
    };
    report.outcome = match run(context, account, client, deadline, &mut report).await {
        Ok(outcome) => outcome,
        Err(Failure::Store(e)) => Outcome::Store(e),
        Err(Failure::Platform(e)) => Outcome::Platform(e),
    };
    report
}

enum Failure {
    Store(StoreError),
    Platform(SocialError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// The cursor item as read, with its version for the write-back.
struct CursorSlot {
    cursor: Cursor,
    version: Option<u64>,
}

impl CursorSlot {
    async fn load(store: &dyn Store, account: &SocialAccount) -> Result<Self, StoreError> {
        let item: Option<Item> = store
            .get(&keys::cursor(account.platform, account.id.as_str()))
            .await?;
        Ok(match item {
            Some(item) => Self {
                cursor: item.decode()?,
                version: Some(item.version),
            },
            None => Self {
                cursor: Cursor::default(),
                version: None,
            },
        })
    }

    /// Writes the cursor if nobody else did since it was read; `false` if someone did.
    async fn save(
        &mut self,
        store: &dyn Store,
        account: &SocialAccount,
    ) -> Result<bool, StoreError> {
        let item = NewItem::encode(
            keys::cursor(account.platform, account.id.as_str()),
            &self.cursor,
        )?;
        match write_over(store, item, self.version).await? {
            Some(version) => {
                self.version = Some(version);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

async fn run(
    context: PollContext<'_>,
    account: &SocialAccount,
    client: &dyn SocialClient,
    deadline: Instant,
    report: &mut AccountReport,
) -> Result<Outcome, Failure> {
    let store = context.store;
    let mut slot = CursorSlot::load(store, account).await?;
    let now = context.clock.now();
    if let Some(until) = slot.cursor.paused_until {
        if until > now {
            return Ok(Outcome::Paused(until));
        }
        slot.cursor.paused_until = None;
    }
    let first_start = slot.cursor.since.is_none();
    let horizon =
        now - TimeDelta::from_std(context.settings.horizon).unwrap_or_else(|_| TimeDelta::hours(1));
    let paging = client.paging();
    // A newest-first run cut short earlier resumes at its saved page.
    let mut run = slot.cursor.run.take();
    // Every page token of this poll, the resumed one included.
    let mut tokens: Vec<String> = run.iter().map(|r| r.page.clone()).collect();
    let mut pages = 0;
    loop {
        if Instant::now() >= deadline {
            return finish_cut(&mut slot, run, store, account, Outcome::Deadline).await;
        }
        if pages >= MAX_PAGES {
            tracing::warn!(account = %account.id, platform = %account.platform, pages, "page limit reached; the next poll resumes");
            return finish_cut(&mut slot, run, store, account, Outcome::Deadline).await;
        }
        pages += 1;
        let since = slot.cursor.since.clone();
        let page_token = run.as_ref().map(|r| r.page.clone());
        let fetched = tokio::time::timeout_at(
            deadline,
            client.mentions(since.as_deref(), page_token.as_deref()),
        )
        .await;
        let page = match fetched {
            Err(_elapsed) => {
                return finish_cut(&mut slot, run, store, account, Outcome::Deadline).await;
            }
            Ok(Err(SocialError::RateLimited { reset, detail, .. })) => {
                let until = reset
                    .filter(|r| *r > now)
                    .unwrap_or(now + UNKNOWN_RESET_PAUSE);
                tracing::warn!(account = %account.id, platform = %account.platform, %until, detail, "rate limited; pausing the account until the window resets");
                slot.cursor.paused_until = Some(until);
                return finish_cut(&mut slot, run, store, account, Outcome::Paused(until)).await;
            }
            Ok(Err(error @ SocialError::Rejected { .. })) if page_token.is_some() => {
                // A page token the platform no longer accepts (they expire): start the run
                // again from the cursor next time, rather than retry a dead token forever.
                tracing::warn!(account = %account.id, %error, "page token refused; the next poll restarts from the cursor");
                slot.cursor.run = None;
                slot.save(store, account).await?;
                return Err(Failure::Platform(error));
            }
            Ok(Err(error)) => return Err(Failure::Platform(error)),
            Ok(Ok(page)) => page,
        };
        report.pages += 1;
        report.fetched += page.mentions.len();
        report
            .partial_errors
            .extend(page.partial_errors.iter().cloned());
        let reached_horizon = store_page(context, account, &page, first_start, horizon, report)
            .await
            .map_err(Failure::Store)?;

        // Everything on this page is stored; now the cursor may move.
        let mut more = page.next_page.clone().filter(|_| !reached_horizon);
        if let Some(next) = &more {
            if tokens.contains(next) {
                tracing::warn!(account = %account.id, platform = %account.platform, "the platform handed out a page token again; ending this run");
                more = None;
            } else {
                tokens.push(next.clone());
            }
        }
        match paging {
            Paging::OldestFirst => {
                if let Some(newest) = &page.newest {
                    slot.cursor.since = Some(newest.clone());
                    slot.cursor.since_at = newest_time(&page).or(slot.cursor.since_at);
                }
                run = None;
            }
            Paging::NewestFirst => {
                let mut current = run.take().unwrap_or(Run {
                    newest: page.newest.clone(),
                    newest_at: newest_time(&page),
                    page: String::new(),
                    fetched: 0,
                    oldest_at: None,
                });
                current.fetched += page.mentions.len();
                current.oldest_at = oldest_time(&page).or(current.oldest_at);
                match &more {
                    Some(next) => {
                        current.page = next.clone();
                        run = Some(current);
                    }
                    None => {
                        if let Some(gap) =
                            gap_of(client.reach(), &slot.cursor, &current, context.clock.now())
                        {
                            tracing::warn!(
                                account = %account.id,
                                platform = %account.platform,
                                estimated_missing = gap.estimated_missing,
                                after = gap.after.as_deref().unwrap_or(""),
                                "the backlog outgrew what the platform lets sitrep fetch: mentions may be missing"
                            );
                            slot.cursor.gaps.push(gap.clone());
                            let excess = slot.cursor.gaps.len().saturating_sub(GAPS_KEPT);
                            slot.cursor.gaps.drain(..excess);
                            report.gap = Some(gap);
                        }
                        if current.newest.is_some() {
                            slot.cursor.since = current.newest.clone();
                            slot.cursor.since_at = current.newest_at.or(slot.cursor.since_at);
                        }
                    }
                }
            }
        }
        let limit_reached = page
            .rate_limit
            .filter(|limit| limit.remaining <= RATE_LIMIT_RESERVE && limit.reset > now);
        if more.is_some()
            && let Some(limit) = limit_reached
        {
            // Stop before the limit rather than spend the last call on a 429.
            slot.cursor.paused_until = Some(limit.reset);
            tracing::info!(account = %account.id, until = %limit.reset, "rate-limit window nearly spent; pausing the account until it resets");
            return finish_cut(&mut slot, run, store, account, Outcome::Paused(limit.reset)).await;
        }
        slot.cursor.run = run.clone();
        if !slot.save(store, account).await? {
            return Ok(Outcome::Superseded);
        }
        if more.is_none() {
            return Ok(Outcome::CaughtUp);
        }
    }
}

/// Saves a poll's progress when it stops early, and returns `outcome` (or `Superseded`).
async fn finish_cut(
    slot: &mut CursorSlot,
    run: Option<Run>,
    store: &dyn Store,
    account: &SocialAccount,
    outcome: Outcome,
) -> Result<Outcome, Failure> {
    slot.cursor.run = run;
    if slot.save(store, account).await? {
        Ok(outcome)
    } else {
        Ok(Outcome::Superseded)
    }
}

/// Stores one page's customer mentions through the shared [`Intake`]; returns whether the
/// page reached past the horizon at first start (no older page is wanted then).
async fn store_page(
    context: PollContext<'_>,
    account: &SocialAccount,
    page: &Page,
    first_start: bool,
    horizon: DateTime<Utc>,
    report: &mut AccountReport,
) -> Result<bool, StoreError> {
    let now = context.clock.now();
    let intake = Intake {
        store: context.store,
        classifier: context.classifier,
        settings: context.settings,
    };
    // History before the horizon is skipped only at an account's first poll.
    let horizon = first_start.then_some(horizon);
    let mut reached_horizon = false;
    for mention in &page.mentions {
        match intake.take(account, mention, now, horizon).await? {
            Taken::Own => report.own += 1,
            Taken::Repost => report.reposts += 1,
            Taken::BeforeHorizon => {
                report.before_horizon += 1;
                reached_horizon = true;
            }
            Taken::Stored(intent) => {
                report.stored += 1;
                if let Some(slot) = Intent::ALL.iter().position(|i| *i == intent) {
                    report.by_intent[slot] += 1;
                }
            }
            Taken::AlreadyStored(_) => report.duplicates += 1,
        }
    }
    Ok(reached_horizon)
}

fn newest_time(page: &Page) -> Option<DateTime<Utc>> {
    page.mentions.iter().map(|m| m.created_at).max()
}

fn oldest_time(page: &Page) -> Option<DateTime<Utc>> {
    page.mentions.iter().map(|m| m.created_at).min()
}

/// The gap a completed newest-first run leaves, if it fetched as many mentions as the
/// platform reaches: older ones after the cursor may exist but cannot be fetched.
fn gap_of(reach: Option<usize>, cursor: &Cursor, run: &Run, now: DateTime<Utc>) -> Option<Gap> {
    let reach = reach?;
    // A first poll has no cursor to connect to; its history is not owed to anyone.
    cursor.since.as_ref()?;
    if run.fetched < reach {
        return None;
    }
    // The mentions fetched span newest_at..oldest_at; the unreached stretch is
    // since_at..oldest_at. At the same rate, it held about this many.
    let estimated_missing = match (run.newest_at, run.oldest_at, cursor.since_at) {
        (Some(newest), Some(oldest), Some(since)) if newest > oldest && oldest > since => {
            let fetched_span = (newest - oldest).num_milliseconds() as f64;
            let missing_span = (oldest - since).num_milliseconds() as f64;
            Some((run.fetched as f64 * missing_span / fetched_span).round() as u64)
        }
        _ => None,
    };
    Some(Gap {
        detected_at: now,
        after: cursor.since.clone(),
        from: cursor.since_at,
        until: run.oldest_at,
        estimated_missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, minute, 0).unwrap()
    }

    #[test]
    fn a_run_that_reached_the_platform_limit_leaves_an_estimated_gap() {
        let cursor = Cursor {
            since: Some("100".into()),
            since_at: Some(at(0)),
            ..Cursor::default()
        };
        // 800 mentions over 20 minutes (10:20 to 10:40); the cursor is at 10:00, so the
        // 20 unreached minutes held about 800 more.
        let run = Run {
            newest: Some("900".into()),
            newest_at: Some(at(40)),
            page: String::new(),
            fetched: 800,
            oldest_at: Some(at(20)),
        };
        let gap = gap_of(Some(800), &cursor, &run, at(41)).unwrap();
        assert_eq!(gap.estimated_missing, Some(800));
        assert_eq!(gap.after.as_deref(), Some("100"));
        assert_eq!(gap.until, Some(at(20)));
    }

    #[test]
    fn no_gap_below_the_limit_without_a_limit_or_at_first_start() {
        let cursor = Cursor {
            since: Some("100".into()),
            since_at: Some(at(0)),
            ..Cursor::default()
        };
        let run = Run {
            newest: Some("900".into()),
            newest_at: Some(at(40)),
            page: String::new(),
            fetched: 799,
            oldest_at: Some(at(20)),
        };
        assert_eq!(gap_of(Some(800), &cursor, &run, at(41)), None);
        let full = Run {
            fetched: 800,
            ..run.clone()
        };
        assert_eq!(gap_of(None, &cursor, &full, at(41)), None);
        assert_eq!(gap_of(Some(800), &Cursor::default(), &full, at(41)), None);
        let unknown_times = Cursor {
            since_at: None,
            ..cursor
        };
        let gap = gap_of(Some(800), &unknown_times, &full, at(41)).unwrap();
        assert_eq!(
            gap.estimated_missing, None,
            "raised even when not estimable"
        );
    }
}
