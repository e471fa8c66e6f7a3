//! Mentions benchmark: classify and store 10,000 mentions through the real poll path
//! (pages of 100, newest first, cursor saved per page) on the embedded store, as `sitrep run`
//! does. Reports classification time per mention, mentions stored per second, and the
//! DynamoDB write units the same writes would cost (every write sized by DynamoDB's billing
//! rules): per mention item, and for all writes (mention, outage report, cursor) per stored
//! mention. Run through `scripts/bench` (or `cargo bench -p sitrep-cli --bench mentions`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use shared::clock::{Clock, SystemClock};
use shared::config::{Config, SocialAccount};
use shared::mentions::classify::Classifier;
use shared::mentions::evaluation::parse_labelled;
use shared::mentions::poll::{Outcome, PollContext, poll_account};
use shared::social::{
    Attempt, Author, Mention, MentionKind, Outgoing, Page, Paging, Platform, Posted, SocialClient,
    SocialError,
};
use shared::store::dynamodb::write_units;
use shared::store::sqlite::SqliteStore;
use shared::store::{Created, Item, Key, NewItem, Query, Store, StoreError};

const MENTIONS: usize = 10_000;
const PAGE: usize = 100;

/// A backlog of posts served newest first in pages of 100, as X's timeline would.
struct Backlog {
    mentions: Vec<Mention>,
}

#[async_trait]
impl SocialClient for Backlog {
    fn platform(&self) -> Platform {
        Platform::X
    }
    fn paging(&self) -> Paging {
        Paging::NewestFirst
    }
    fn reach(&self) -> Option<usize> {
        None
    }
    async fn mentions(
        &self,
        _since: Option<&str>,
        page: Option<&str>,
    ) -> Result<Page, SocialError> {
        let start: usize = page.and_then(|p| p.parse().ok()).unwrap_or(0);
        let end = (start + PAGE).min(self.mentions.len());
        Ok(Page {
            mentions: self.mentions[start..end].to_vec(),
            newest: self.mentions.first().map(|m| m.id.clone()),
            next_page: (end < self.mentions.len()).then(|| end.to_string()),
            rate_limit: None,
            partial_errors: Vec::new(),
        })
    }
    async fn post(&self, _post: &Outgoing, _attempt: Attempt) -> Result<Posted, SocialError> {
        Err(SocialError::Rejected {
            platform: Platform::X,
            status: 403,
            detail: "the polling benchmark's backlog takes no posts".into(),
        })
    }
}

/// The store underneath, with every write priced in DynamoDB write units.
struct Priced {
    inner: Arc<dyn Store>,
    units: AtomicUsize,
    writes: AtomicUsize,
    largest: AtomicUsize,
}

impl Priced {
    fn price(&self, item: &NewItem) {
        let units = write_units(item, 1);
        self.units.fetch_add(units, Ordering::Relaxed);
        self.writes.fetch_add(1, Ordering::Relaxed);
        if item.key.pk.starts_with("MENTION#") {
            self.largest.fetch_max(
                shared::store::dynamodb::item_size(item, 1),
                Ordering::Relaxed,
            );
        }
    }
}

#[async_trait]
impl Store for Priced {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        self.price(&item);
        self.inner.create_item(item).await
    }
    async fn update_item(&self, item: NewItem, expected: u64) -> Result<u64, StoreError> {
        self.price(&item);
        self.inner.update_item(item, expected).await
    }
    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        self.price(&item);
        self.inner.put(item).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.inner.query(query).await
    }
    async fn increment(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        self.units.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.increment(key, deltas, expires_at).await
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

fn config() -> Config {
    // The labelled set's components (keywords in five languages) and one X account.
    let mut text = include_str!("../../shared/data/labelled-components.toml").to_owned();
    text.push_str(
        "\n[[accounts]]\nid = \"bench-x\"\nplatform = \"x\"\nhandle = \"acme\"\nuser_id = \"1\"\ncredentials = \"bench\"\n",
    );
    Config::parse(&text).expect("the benchmark config is valid")
}

fn backlog(now: DateTime<Utc>) -> Vec<Mention> {
    let set = parse_labelled(include_str!("../../shared/data/labelled-mentions.jsonl"))
        .expect("the labelled set parses");
    (0..MENTIONS)
        .map(|i| {
            let post = &set[i % set.len()];
            let id = (1_860_000_000_000_000_000u64 + (MENTIONS - i) as u64).to_string();
            let author = format!("customer_{}", i % 1_000);
            Mention {
                platform: Platform::X,
                url: format!("https://x.com/{author}/status/{id}"),
                id,
                author: Author {
                    id: format!("{}", 10_000_000 + i % 1_000),
                    handle: author,
                    name: None,
                },
                text: post.text.clone(),
                created_at: now - TimeDelta::milliseconds(i as i64 * 300),
                lang: Some(post.lang.clone()),
                conversation: None,
                in_reply_to: None,
                kind: MentionKind::Mention,
                others: Vec::new(),
            }
        })
        .collect()
}

fn main() {
    let config = config();
    let account: SocialAccount = config.accounts[0].clone();
    let classifier = Classifier::new(&config.components);
    let now = Utc::now();
    let mentions = backlog(now);

    // Classification alone.
    let started = Instant::now();
    let mut outage = 0;
    for mention in &mentions {
        let c = classifier.classify(&mention.text, mention.lang.as_deref());
        outage += usize::from(c.intent == shared::mentions::classify::Intent::OutageReport);
    }
    let classify = started.elapsed();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let directory = tempfile::tempdir().expect("a temporary directory");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let sqlite: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&directory.path().join("bench.db"), Arc::clone(&clock))
            .expect("sqlite opens"),
    );
    let store = Priced {
        inner: sqlite,
        units: AtomicUsize::new(0),
        writes: AtomicUsize::new(0),
        largest: AtomicUsize::new(0),
    };
    let client = Backlog { mentions };
    let started = Instant::now();
    let report = runtime.block_on(poll_account(
        PollContext {
            store: &store,
            clock: clock.as_ref(),
            classifier: &classifier,
            settings: &config.mentions,
        },
        &account,
        &client,
        tokio::time::Instant::now() + Duration::from_secs(600),
    ));
    let elapsed = started.elapsed();
    assert!(
        matches!(report.outcome, Outcome::CaughtUp),
        "{}",
        report.outcome
    );
    assert_eq!(report.stored, MENTIONS, "every mention stored");

    let units = store.units.load(Ordering::Relaxed);
    let writes = store.writes.load(Ordering::Relaxed);
    println!("mentions benchmark: {MENTIONS} mentions ({outage} outage reports), pages of {PAGE}");
    println!(
        "  classify only:                  {:.1} µs per mention",
        classify.as_secs_f64() * 1e6 / MENTIONS as f64
    );
    println!(
        "  classify + store (SQLite file): {:.0} mentions/s ({:.2} s in all)",
        MENTIONS as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  largest mention item:           {} bytes (1 write unit up to 1,024)",
        store.largest.load(Ordering::Relaxed)
    );
    println!(
        "  DynamoDB write units:           {:.2} per stored mention over all {writes} writes (mention, outage report, cursor)",
        units as f64 / MENTIONS as f64
    );
}
