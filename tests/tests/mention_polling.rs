//! The polling rules end to end: the real X client against the stand-in X timeline, the
//! real stores, the manual clock. Never lose a mention, never store one twice, keep
//! `since_id` fixed while paging, resume after deadlines, rate limits and crashes, and raise
//! a backlog the 800-mention reach cannot cover.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{Config, SocialAccount};
use shared::mentions::StoredMention;
use shared::mentions::classify::Classifier;
use shared::mentions::poll::{AccountReport, Cursor, Outcome, PollContext, poll_account};
use shared::social::Platform;
use shared::social::x::XClient;
use shared::store::{Created, Item, Key, NewItem, Query, Store, StoreError, keys};
use sitrep_cli::x_timeline::XTimeline;
use sitrep_tests::{dynamo_store, epoch, mentions_config, sqlite_store, x_client};
use tokio::time::Instant;

struct Setup {
    timeline: XTimeline,
    config: Config,
    clock: ManualClock,
    client: XClient,
    classifier: Classifier,
}

async fn setup(mentions: &str) -> Setup {
    let clock = ManualClock::new(epoch());
    let timeline = XTimeline::start("42", epoch() + TimeDelta::minutes(15))
        .await
        .unwrap();
    let config = mentions_config(&timeline.base_url(), mentions);
    let client = x_client(config.accounts[0].base_url.clone(), &clock);
    let classifier = Classifier::new(&config.components);
    Setup {
        timeline,
        config,
        clock,
        client,
        classifier,
    }
}

impl Setup {
    fn account(&self) -> &SocialAccount {
        &self.config.accounts[0]
    }

    async fn poll_until(&self, store: &dyn Store, deadline: Instant) -> AccountReport {
        let context = PollContext {
            store,
            clock: &self.clock,
            classifier: &self.classifier,
            settings: &self.config.mentions,
        };
        poll_account(context, self.account(), &self.client, deadline).await
    }

    async fn poll(&self, store: &dyn Store) -> AccountReport {
        self.poll_until(store, Instant::now() + Duration::from_secs(20))
            .await
    }

    /// `n` customers' posts, one every `every`, starting at `from`; returns their ids.
    fn posts(&self, n: usize, from: DateTime<Utc>, every: TimeDelta) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.timeline.post(
                    &format!("customer{i}"),
                    &format!("@acme is the api down? attempt {i}"),
                    from + every * i as i32,
                )
            })
            .collect()
    }
}

async fn cursor(store: &dyn Store) -> Cursor {
    store
        .get(&keys::cursor(Platform::X, "acme-x"))
        .await
        .unwrap()
        .map(|item| item.decode().unwrap())
        .unwrap_or_default()
}

async fn stored(store: &dyn Store, id: &str) -> Option<StoredMention> {
    store
        .get(&keys::mention(Platform::X, id))
        .await
        .unwrap()
        .map(|item| item.decode().unwrap())
}

fn caught_up(report: &AccountReport) {
    assert!(
        matches!(report.outcome, Outcome::CaughtUp),
        "{:?}",
        report.outcome
    );
}

#[tokio::test]
async fn since_id_stays_fixed_while_paging_and_the_first_pages_newest_becomes_the_cursor() {
    let s = setup("").await;
    let store = sqlite_store(&s.clock);
    let first = s.posts(3, epoch() - TimeDelta::minutes(5), TimeDelta::seconds(10));
    let report = s.poll(store.as_ref()).await;
    caught_up(&report);
    assert_eq!(report.stored, 3);
    assert_eq!(
        cursor(store.as_ref()).await.since.as_deref(),
        Some(first[2].as_str())
    );

    let later = s.posts(250, epoch() + TimeDelta::minutes(1), TimeDelta::seconds(1));
    s.clock.advance(TimeDelta::minutes(10));
    let report = s.poll(store.as_ref()).await;
    caught_up(&report);
    assert_eq!(
        (report.pages, report.stored, report.duplicates),
        (3, 250, 0)
    );
    let requests = s.timeline.requests();
    let paging = &requests[1..];
    assert_eq!(paging.len(), 3);
    for request in paging {
        assert_eq!(
            request.since_id.as_deref(),
            Some(first[2].as_str()),
            "since_id fixed"
        );
    }
    assert_eq!(paging[0].pagination_token, None);
    assert!(paging[1].pagination_token.is_some() && paging[2].pagination_token.is_some());
    let after = cursor(store.as_ref()).await;
    assert_eq!(
        after.since.as_deref(),
        Some(later[249].as_str()),
        "the first page's newest_id"
    );
    assert_eq!(after.run, None);
    for id in [&later[0], &later[125], &later[249]] {
        let mention = stored(store.as_ref(), id).await.expect("stored");
        assert_eq!(mention.account.as_str(), "acme-x");
        assert!(mention.url.ends_with(id.as_str()));
    }
}

#[tokio::test]
async fn an_overlapping_poll_stores_nothing_twice() {
    let s = setup("").await;
    let store = sqlite_store(&s.clock);
    s.posts(30, epoch() - TimeDelta::minutes(5), TimeDelta::seconds(1));
    caught_up(&s.poll(store.as_ref()).await);
    // A second invocation that still had the old cursor (none) polls the same posts again.
    store
        .delete(&keys::cursor(Platform::X, "acme-x"))
        .await
        .unwrap();
    let replay = s.poll(store.as_ref()).await;
    caught_up(&replay);
    assert_eq!((replay.stored, replay.duplicates), (0, 30));
}

#[tokio::test]
async fn a_poll_cut_off_by_its_deadline_resumes_at_the_saved_page() {
    let s = setup("").await;
    let store = sqlite_store(&s.clock);
    let first = s.posts(1, epoch() - TimeDelta::minutes(1), TimeDelta::seconds(1));
    caught_up(&s.poll(store.as_ref()).await);
    let later = s.posts(150, epoch(), TimeDelta::seconds(1));

    // Page one comes back; page two stalls past the deadline.
    s.timeline.stall_after(1);
    let cut = s
        .poll_until(store.as_ref(), Instant::now() + Duration::from_millis(500))
        .await;
    assert!(
        matches!(cut.outcome, Outcome::Deadline),
        "{:?}",
        cut.outcome
    );
    assert_eq!(cut.stored, 100);
    let saved = cursor(store.as_ref()).await;
    assert_eq!(
        saved.since.as_deref(),
        Some(first[0].as_str()),
        "not advanced"
    );
    let run = saved.run.expect("progress saved");
    assert_eq!(run.newest.as_deref(), Some(later[149].as_str()));

    let resumed = s.poll(store.as_ref()).await;
    caught_up(&resumed);
    assert_eq!(
        (resumed.pages, resumed.stored, resumed.duplicates),
        (1, 50, 0)
    );
    let last = s.timeline.requests().pop().unwrap();
    assert_eq!(last.since_id.as_deref(), Some(first[0].as_str()));
    assert_eq!(last.pagination_token.as_deref(), Some(run.page.as_str()));
    let after = cursor(store.as_ref()).await;
    assert_eq!(after.since.as_deref(), Some(later[149].as_str()));
    assert_eq!(after.run, None);
    for id in &later {
        assert!(stored(store.as_ref(), id).await.is_some(), "{id} lost");
    }
}

#[tokio::test]
async fn a_nearly_spent_rate_limit_pauses_the_account_until_the_reset() {
    let s = setup("").await;
    let store = sqlite_store(&s.clock);
    s.posts(1, epoch() - TimeDelta::minutes(1), TimeDelta::seconds(1));
    caught_up(&s.poll(store.as_ref()).await);
    let later = s.posts(250, epoch(), TimeDelta::seconds(1));
    let reset = epoch() + TimeDelta::minutes(7);
    s.timeline.set_rate_limit(2, reset);

    let report = s.poll(store.as_ref()).await;
    assert!(
        matches!(report.outcome, Outcome::Paused(until) if until == reset),
        "{:?}",
        report.outcome
    );
    assert_eq!(
        report.stored, 100,
        "one page, then it stops before the limit"
    );
    let calls = s.timeline.requests().len();

    s.clock.advance(TimeDelta::minutes(3));
    let early = s.poll(store.as_ref()).await;
    assert!(matches!(early.outcome, Outcome::Paused(_)));
    assert_eq!(
        s.timeline.requests().len(),
        calls,
        "no call before the reset"
    );

    s.clock.set(reset + TimeDelta::seconds(1));
    s.timeline
        .set_rate_limit(450, reset + TimeDelta::minutes(15));
    let resumed = s.poll(store.as_ref()).await;
    caught_up(&resumed);
    assert_eq!(resumed.stored, 150);
    assert_eq!(
        cursor(store.as_ref()).await.since.as_deref(),
        Some(later[249].as_str())
    );
}

#[tokio::test]
async fn a_429_pauses_the_account_until_the_reset_it_names() {
    let s = setup("").await;
    let store = sqlite_store(&s.clock);
    s.posts(3, epoch() - TimeDelta::minutes(1), TimeDelta::seconds(1));
    let reset = epoch() + TimeDelta::minutes(15);
    s.timeline.fail_next(
        429,
        r#"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#,
    );
    let report = s.poll(store.as_ref()).await;
    assert!(
        matches!(report.outcome, Outcome::Paused(until) if until == reset),
        "{:?}",
        report.outcome
    );
    assert_eq!(cursor(store.as_ref()).await.paused_until, Some(reset));
    s.clock.set(reset);
    caught_up(&s.poll(store.as_ref()).await);
}

#[tokio::test]
async fn a_backlog_beyond_the_800_reachable_mentions_is_raised_as_a_gap() {
    let s = setup("").await;
    let store = sqlite_store(&s.clock);
    s.posts(1, epoch() - TimeDelta::minutes(1), TimeDelta::seconds(1));
    caught_up(&s.poll(store.as_ref()).await);
    // 1,000 posts, one every 6 s: only the newest 800 (80 minutes' worth) can be fetched,
    // leaving 20 minutes, about 200 posts, out of reach.
    let backlog = s.posts(1000, epoch(), TimeDelta::seconds(6));
    s.clock.advance(TimeDelta::hours(2));
    let report = s.poll(store.as_ref()).await;
    caught_up(&report);
    assert_eq!(report.stored, 800);
    let gap = report.gap.expect("the gap is raised");
    let missing = gap.estimated_missing.expect("estimable");
    assert!(
        (190..=215).contains(&missing),
        "about 200 missing, estimated {missing}"
    );
    let after = cursor(store.as_ref()).await;
    assert_eq!(after.gaps, vec![gap], "and recorded");
    assert_eq!(after.since.as_deref(), Some(backlog[999].as_str()));
    assert!(stored(store.as_ref(), &backlog[199]).await.is_none());
    assert!(stored(store.as_ref(), &backlog[200]).await.is_some());
}

#[tokio::test]
async fn own_posts_reposts_and_history_before_the_horizon_are_not_customer_mentions() {
    let s = setup("horizon = \"30m\"").await;
    let store = sqlite_store(&s.clock);
    let old = s.timeline.post(
        "olduser",
        "@acme login broken",
        epoch() - TimeDelta::hours(2),
    );
    let own = s.timeline.post(
        "acme",
        "@acme maintenance tonight",
        epoch() - TimeDelta::minutes(5),
    );
    let repost = s
        .timeline
        .repost("fan", &own, epoch() - TimeDelta::minutes(4));
    let customer = s.timeline.post(
        "dev",
        "@acme is login down?",
        epoch() - TimeDelta::minutes(3),
    );
    let report = s.poll(store.as_ref()).await;
    caught_up(&report);
    assert_eq!(
        (
            report.stored,
            report.own,
            report.reposts,
            report.before_horizon
        ),
        (1, 1, 1, 1)
    );
    assert!(stored(store.as_ref(), &customer).await.is_some());
    for skipped in [&old, &own, &repost] {
        assert!(stored(store.as_ref(), skipped).await.is_none());
    }
}

/// A store whose writes to cursor items fail while `failing` is above zero: a crash between
/// storing a poll's mentions and advancing its cursor, on a real adapter underneath.
struct CursorWritesFail {
    inner: Arc<dyn Store>,
    failing: AtomicUsize,
}

impl CursorWritesFail {
    fn check(&self, key: &Key) -> Result<(), StoreError> {
        if key.pk.starts_with("CURSOR#") && self.failing.load(Ordering::SeqCst) > 0 {
            self.failing.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Backend("the invocation died here".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for CursorWritesFail {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        self.check(&item.key)?;
        self.inner.create_item(item).await
    }
    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        self.check(&item.key)?;
        self.inner.update_item(item, expected_version).await
    }
    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        self.check(&item.key)?;
        self.inner.put(item).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.inner.query(query).await
    }
    async fn increment(
        &self,
        key: &Key,
        counters: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        self.inner.increment(key, counters, expires_at).await
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

#[tokio::test]
async fn a_poll_interrupted_between_storing_and_advancing_loses_nothing_and_stores_nothing_twice() {
    let s = setup("").await;
    let dynamo = dynamo_store(&s.clock).await;
    let first = s.posts(1, epoch() - TimeDelta::minutes(1), TimeDelta::seconds(1));
    caught_up(&s.poll(dynamo.as_ref()).await);
    let later = s.posts(120, epoch(), TimeDelta::seconds(1));

    let crashing = CursorWritesFail {
        inner: Arc::clone(&dynamo),
        failing: AtomicUsize::new(1),
    };
    let crashed = s.poll(&crashing).await;
    assert!(
        matches!(crashed.outcome, Outcome::Store(_)),
        "{:?}",
        crashed.outcome
    );
    assert_eq!(crashed.stored, 100, "page one was stored before the crash");
    assert_eq!(
        cursor(dynamo.as_ref()).await.since.as_deref(),
        Some(first[0].as_str()),
        "the cursor did not move past anything"
    );

    let crashed_at = s.clock.now();
    s.clock.advance(TimeDelta::minutes(1));
    let recovered = s.poll(dynamo.as_ref()).await;
    caught_up(&recovered);
    assert_eq!((recovered.stored, recovered.duplicates), (20, 100));
    assert_eq!(
        cursor(dynamo.as_ref()).await.since.as_deref(),
        Some(later[119].as_str())
    );
    for id in &later {
        assert!(stored(dynamo.as_ref(), id).await.is_some(), "{id} lost");
    }
    // Page one (the newest 100) was stored by the crashed poll and not rewritten; the rest
    // by the recovery.
    let received = |id: &String| {
        let store = Arc::clone(&dynamo);
        let id = id.clone();
        async move { stored(store.as_ref(), &id).await.unwrap().received_at }
    };
    assert_eq!(received(&later[119]).await, crashed_at);
    assert_eq!(received(&later[20]).await, crashed_at);
    assert_eq!(received(&later[19]).await, s.clock.now());
}
