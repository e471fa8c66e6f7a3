//! Replies benchmark: what answering customers costs. First the text alone: 100,000 replies
//! (every reply situation in every built-in language) each given a variant, rendered with
//! live values and addressed as on X, then measured by X's weighted count, Mastodon's count
//! and Bluesky's graphemes, as the length proof does. Then the reply service end to end on
//! the embedded store in dry-run mode, so every decision, claim, outbox entry, text and
//! response record is written and nothing is posted: 5,000 outage reports from 5,000
//! authors, stored as the poll stores them, delivered to `Responder::handle` as table
//! changes in batches of 25 (the acknowledge function's batch size) while one incident is
//! open. Reports µs per reply text, mentions answered per second, and the DynamoDB write
//! units and reads the service's own store calls would cost per answered mention (writes
//! sized by DynamoDB's billing rules, reads strongly consistent). Run through `scripts/bench`
//! (or `cargo bench -p sitrep-cli --bench replies`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Duration as TimeDelta, TimeZone, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{ComponentId, Config, SocialAccount};
use shared::incident::{self, ComponentStatus, human_duration};
use shared::mentions::StoredMention;
use shared::mentions::classify::{Classifier, Intent};
use shared::mentions::evaluation::parse_labelled;
use shared::random::SeededRandom;
use shared::reply::handoff::LogSupport;
use shared::reply::job::JobKind;
use shared::reply::length::{LengthRules, MASTODON_DEFAULT_LIMIT};
use shared::reply::response::{self, Outcome};
use shared::reply::service::{ReplyEvent, Responder};
use shared::reply::template::{
    Field, Situation, Values, address, customer_time, display_url, incident_reference,
};
use shared::secrets::EnvironmentSecrets;
use shared::social::connect::ClientDeps;
use shared::social::transport::{RetryPolicy, Transport};
use shared::social::{Author, Mention, MentionKind, Platform};
use shared::store::dynamodb::{item_size, write_units};
use shared::store::sqlite::SqliteStore;
use shared::store::{Created, Item, ItemChange, Key, NewItem, Query, Store, StoreError, keys};

const RENDERS: usize = 100_000;
const MENTIONS: usize = 5_000;
/// The acknowledge function's stream batch size.
const BATCH: usize = 25;

/// The situations a reply (rather than a public update) is written for.
const REPLY_SITUATIONS: [Situation; 6] = [
    Situation::Incident,
    Situation::IncidentElsewhere,
    Situation::Suspected,
    Situation::AllClear,
    Situation::Maintenance,
    Situation::FollowUp,
];

/// What one kind of item (the partition key's prefix) cost.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    writes: usize,
    write_units: usize,
    reads: usize,
    read_units: usize,
}

/// The store underneath, with every write priced in DynamoDB write units and every read
/// counted (and priced in strongly consistent read units), per kind of item.
struct Priced {
    inner: Arc<dyn Store>,
    write_units: AtomicUsize,
    writes: AtomicUsize,
    gets: AtomicUsize,
    queries: AtomicUsize,
    read_units: AtomicUsize,
    by_kind: Mutex<BTreeMap<String, Tally>>,
}

impl Priced {
    fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            write_units: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
            gets: AtomicUsize::new(0),
            queries: AtomicUsize::new(0),
            read_units: AtomicUsize::new(0),
            by_kind: Mutex::new(BTreeMap::new()),
        }
    }

    fn tally(&self, key: &Key, change: impl FnOnce(&mut Tally)) {
        let mut by_kind = self.by_kind.lock().expect("the tally lock");
        change(by_kind.entry(kind(key)).or_default());
    }

    fn wrote(&self, key: &Key, units: usize) {
        self.write_units.fetch_add(units, Ordering::Relaxed);
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.tally(key, |t| {
            t.writes += 1;
            t.write_units += units;
        });
    }

    fn read(&self, key: &Key, bytes: usize) {
        // Strongly consistent: one unit per started 4 KB, and one for a read that finds nothing.
        let units = bytes.div_ceil(4096).max(1);
        self.read_units.fetch_add(units, Ordering::Relaxed);
        self.tally(key, |t| {
            t.reads += 1;
            t.read_units += units;
        });
    }
}

/// The kind of item a key addresses, for the breakdown: the partition key's prefix, and for
/// an incident's partition the sort key's (`INCIDENT/ACKED`).
fn kind(key: &Key) -> String {
    let head = key.pk.split('#').next().unwrap_or_default();
    if head == "INCIDENT" {
        format!("INCIDENT/{}", key.sk.split('#').next().unwrap_or_default())
    } else {
        head.to_owned()
    }
}

/// The size DynamoDB bills a stored item at.
fn stored_size(item: &Item) -> usize {
    let as_written = NewItem {
        expires_at: item.expires_at,
        ..NewItem::new(item.key.clone(), item.attributes.clone())
    };
    item_size(&as_written, item.version)
}

#[async_trait]
impl Store for Priced {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        let item = self.inner.get(key).await?;
        self.read(key, item.as_ref().map_or(0, stored_size));
        Ok(item)
    }
    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        // A conditional create that finds the item there is billed all the same.
        self.wrote(&item.key, write_units(&item, 1));
        self.inner.create_item(item).await
    }
    async fn update_item(&self, item: NewItem, expected: u64) -> Result<u64, StoreError> {
        self.wrote(&item.key, write_units(&item, expected + 1));
        self.inner.update_item(item, expected).await
    }
    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        self.wrote(&item.key, write_units(&item, 1));
        self.inner.put(item).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let items = self.inner.query(query).await?;
        self.read(
            &Key::new(query.pk.clone(), ""),
            items.iter().map(stored_size).sum(),
        );
        Ok(items)
    }
    async fn increment(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        self.wrote(key, 1);
        self.inner.increment(key, deltas, expires_at).await
    }
    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        // Billed by the deleted item's size: the service deletes only outbox entries, far
        // below 1 KB.
        self.wrote(key, 1);
        self.inner.delete(key).await
    }
}

fn config() -> Config {
    // The labelled set's components (keywords in five languages), one X account, and replies
    // recorded but never posted.
    let mut text = include_str!("../../shared/data/labelled-components.toml").to_owned();
    text.push_str(
        "\n[[accounts]]\nid = \"bench-x\"\nplatform = \"x\"\nhandle = \"acme\"\nuser_id = \"1\"\ncredentials = \"bench\"\n\n[replies]\nmode = \"dry-run\"\n",
    );
    Config::parse(&text).expect("the benchmark config is valid")
}

/// Choosing, rendering and measuring reply texts, as the service and the length proof do.
struct TextFigures {
    render: Duration,
    x: Duration,
    mastodon: Duration,
    bluesky: Duration,
    longest: [usize; 3],
}

fn texts(config: &Config, now: DateTime<Utc>) -> TextFigures {
    let templates = &config.replies.templates;
    let languages: Vec<&str> = templates.languages().map(|(lang, _)| lang).collect();
    let names: Vec<String> = config.components.iter().map(|c| c.name.clone()).collect();
    let handles: Vec<String> = (0..RENDERS).map(|i| format!("customer_{i}")).collect();
    let opened = now - TimeDelta::minutes(42);
    let reference = "20261123-100200-api";
    let random = SeededRandom::new(7);

    let started = Instant::now();
    let mut texts = Vec::with_capacity(RENDERS);
    for (i, handle) in handles.iter().enumerate() {
        let lang = languages[i % languages.len()];
        let situation = REPLY_SITUATIONS[i % REPLY_SITUATIONS.len()];
        let zone = templates.language(lang).timezone;
        let mut values = Values::new();
        values
            .set(Field::Service, config.service.name.clone())
            .set(Field::StatusUrl, display_url(&config.service.status_url))
            .set(Field::Component, names[i % names.len()].clone())
            .set(Field::Status, ComponentStatus::Down.as_str())
            .set(Field::Since, customer_time(opened, now, zone))
            .set(Field::Incident, incident_reference(reference))
            .set(Field::FixedAt, customer_time(now, now, zone))
            .set(Field::Duration, human_duration(now - opened));
        let (_, template) = templates
            .choose(lang, situation, &random, &[])
            .expect("every language has every reply situation");
        let mut text = address(Platform::X, handle);
        text.push_str(&template.render(&values));
        texts.push(text);
    }
    let render = started.elapsed();

    // The same replies as Mastodon (a remote handle) and Bluesky (no address) would carry them.
    let mastodon_texts: Vec<String> = texts
        .iter()
        .zip(&handles)
        .map(|(text, handle)| {
            let body = &text[address(Platform::X, handle).len()..];
            format!("@{handle}@elsewhere.example {body}")
        })
        .collect();
    let bluesky_texts: Vec<String> = texts
        .iter()
        .zip(&handles)
        .map(|(text, handle)| text[address(Platform::X, handle).len()..].to_owned())
        .collect();

    let measure = |rules: LengthRules, texts: &[String]| {
        let started = Instant::now();
        let mut longest = 0;
        for text in texts {
            longest = longest.max(rules.measure(black_box(text)));
        }
        let elapsed = started.elapsed();
        assert!(
            longest <= rules.limit(),
            "a reply measures {longest} where {:?} allows {}",
            rules.platform(),
            rules.limit()
        );
        (elapsed, longest)
    };
    let (x, x_longest) = measure(LengthRules::x(), &texts);
    let (mastodon, mastodon_longest) = measure(
        LengthRules::mastodon(MASTODON_DEFAULT_LIMIT),
        &mastodon_texts,
    );
    let (bluesky, bluesky_longest) = measure(LengthRules::bluesky(), &bluesky_texts);
    TextFigures {
        render,
        x,
        mastodon,
        bluesky,
        longest: [x_longest, mastodon_longest, bluesky_longest],
    }
}

/// 5,000 outage reports from 5,000 authors on X, as the poll stores them: the labelled set's
/// outage reports, addressed to the account, that the classifier is sure enough of to answer.
fn reports(
    config: &Config,
    account: &SocialAccount,
    now: DateTime<Utc>,
) -> (Vec<StoredMention>, usize) {
    let classifier = Classifier::new(&config.components);
    let set = parse_labelled(include_str!("../../shared/data/labelled-mentions.jsonl"))
        .expect("the labelled set parses");
    let pool: Vec<(String, String)> = set
        .iter()
        .filter(|post| post.intent == Intent::OutageReport)
        .map(|post| (format!("@acme {}", post.text), post.lang.clone()))
        .filter(|(text, lang)| {
            let c = classifier.classify(text, Some(lang));
            c.intent == Intent::OutageReport && c.confidence >= config.replies.min_confidence
        })
        .collect();
    assert!(!pool.is_empty(), "the labelled set has outage reports");
    let mentions = (0..MENTIONS)
        .map(|i| {
            let (text, lang) = &pool[i % pool.len()];
            let id = (1_860_000_000_000_000_000u64 + i as u64).to_string();
            let handle = format!("customer_{i}");
            let mention = Mention {
                platform: Platform::X,
                url: format!("https://x.com/{handle}/status/{id}"),
                id,
                author: Author {
                    id: format!("{}", 10_000_000 + i),
                    handle,
                    name: None,
                },
                text: text.clone(),
                created_at: now - TimeDelta::seconds(30) - TimeDelta::milliseconds(i as i64),
                lang: Some(lang.clone()),
                conversation: None,
                in_reply_to: None,
                kind: MentionKind::Mention,
                others: Vec::new(),
            };
            let classification = classifier.classify(&mention.text, mention.lang.as_deref());
            StoredMention::new(&account.id, &mention, classification, now)
        })
        .collect();
    (mentions, pool.len())
}

fn responder(config: &Arc<Config>, store: Arc<dyn Store>, clock: &ManualClock) -> Responder {
    let random = Arc::new(SeededRandom::new(7));
    let deps = ClientDeps {
        // Never used: a dry run connects no client.
        transport: Transport::new(RetryPolicy::default(), random.clone()).expect("a transport"),
        store,
        clock: Arc::new(clock.clone()),
        random: random.clone(),
    };
    Responder::new(
        Arc::clone(config),
        Arc::new(EnvironmentSecrets::new()),
        deps,
        random,
        Arc::new(LogSupport::new()),
    )
}

fn main() {
    let config = Arc::new(config());
    let account = config.accounts[0].clone();
    let opened_at = Utc
        .with_ymd_and_hms(2026, 11, 23, 10, 2, 0)
        .single()
        .expect("a valid date");
    let now = opened_at + TimeDelta::minutes(3);

    let text = texts(&config, now);

    // The service: a SQLite file on a manual clock (no mention ages past `max_age`).
    let clock = ManualClock::new(opened_at);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let directory = tempfile::tempdir().expect("a temporary directory");
    let sqlite: Arc<dyn Store> = Arc::new(
        SqliteStore::open(
            &directory.path().join("bench.db"),
            Arc::new(clock.clone()) as Arc<dyn Clock>,
        )
        .expect("sqlite opens"),
    );
    let api = config
        .component(&ComponentId::parse("api").expect("a component id"))
        .expect("the labelled components have `api`")
        .clone();
    runtime
        .block_on(incident::transition(
            sqlite.as_ref(),
            &api,
            ComponentStatus::Down,
            Some("probe failed".into()),
            opened_at,
        ))
        .expect("the incident opens");
    let incident_id = runtime
        .block_on(incident::open_incident(sqlite.as_ref(), &api.id))
        .expect("the component state reads")
        .expect("an incident is open");
    clock.set(now);

    // Stored as the poll stores them (not priced: that is the poll's cost), each delivered
    // as the stream delivers a new item.
    let (mentions, pool) = reports(&config, &account, now);
    let retention = TimeDelta::from_std(config.mentions.retention).expect("a retention");
    let changes: Vec<ItemChange> = runtime.block_on(async {
        let mut changes = Vec::with_capacity(MENTIONS);
        for (i, mention) in mentions.iter().enumerate() {
            let key = keys::mention(mention.platform, &mention.id);
            let item = NewItem::encode(key.clone(), mention)
                .expect("a mention encodes")
                .expiring_at(now + retention);
            assert_eq!(
                sqlite.create(item).await.expect("stored"),
                Created::Yes,
                "every mention is new"
            );
            let item = sqlite.get(&key).await.expect("read back");
            changes.push(ItemChange {
                id: format!("seq-{i}"),
                key,
                old: None,
                new: item,
            });
        }
        changes
    });

    let store = Arc::new(Priced::new(Arc::clone(&sqlite)));
    let service = responder(&config, store.clone(), &clock);
    let mut replies = Vec::with_capacity(MENTIONS);
    let mut queued = 0;
    let started = Instant::now();
    runtime.block_on(async {
        for batch in changes.chunks(BATCH) {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
            let report = service.handle(batch, deadline).await;
            assert!(
                report.failed.is_empty() && report.errors.is_empty(),
                "{:?}",
                report.errors
            );
            for event in report.events {
                match event {
                    ReplyEvent::Sent {
                        kind: JobKind::Reply,
                        dry_run: true,
                        text,
                        ..
                    } => replies.push(text),
                    ReplyEvent::Judged {
                        outcome: Outcome::Queued,
                        ..
                    } => queued += 1,
                    ReplyEvent::Judged { .. } | ReplyEvent::HandedOff { .. } => {
                        panic!("every report is answered, got {event:?}")
                    }
                    _ => {}
                }
            }
        }
    });
    let elapsed = started.elapsed();

    // Exactly one reply recorded per report, each with its response record.
    assert_eq!(queued, MENTIONS, "every report queued a reply");
    assert_eq!(replies.len(), MENTIONS, "every report got one reply");
    let recorded = runtime.block_on(async {
        let mut recorded = 0;
        for mention in &mentions {
            let record = response::load(
                sqlite.as_ref(),
                mention.created_at,
                Platform::X,
                &mention.id,
            )
            .await
            .expect("the record reads")
            .expect("every mention has a response record");
            recorded += usize::from(record.outcome == Outcome::Recorded);
        }
        recorded
    });
    assert_eq!(recorded, MENTIONS, "every response record says recorded");
    let longest_reply = replies
        .iter()
        .map(|t| LengthRules::x().measure(t))
        .max()
        .unwrap_or_default();

    let per_text = |d: Duration| d.as_secs_f64() * 1e6 / RENDERS as f64;
    let per_mention = |n: usize| n as f64 / MENTIONS as f64;
    let write_units = store.write_units.load(Ordering::Relaxed);
    let writes = store.writes.load(Ordering::Relaxed);
    let gets = store.gets.load(Ordering::Relaxed);
    let queries = store.queries.load(Ordering::Relaxed);
    let read_units = store.read_units.load(Ordering::Relaxed);
    println!(
        "replies benchmark: {RENDERS} reply texts ({} situations x {} languages), then {MENTIONS} outage reports from {MENTIONS} authors ({pool} distinct texts) answered in dry-run mode, batches of {BATCH}",
        REPLY_SITUATIONS.len(),
        config.replies.templates.languages().count()
    );
    println!(
        "  choose + render (X address):    {:.2} µs per reply",
        per_text(text.render)
    );
    println!(
        "  X weighted count:               {:.2} µs per reply (longest {} of {})",
        per_text(text.x),
        text.longest[0],
        LengthRules::x().limit()
    );
    println!(
        "  Mastodon count:                 {:.2} µs per reply (longest {} of {MASTODON_DEFAULT_LIMIT})",
        per_text(text.mastodon),
        text.longest[1]
    );
    println!(
        "  Bluesky graphemes:              {:.2} µs per reply (longest {} of {})",
        per_text(text.bluesky),
        text.longest[2],
        LengthRules::bluesky().limit()
    );
    println!(
        "  text in all (render + 3 counts): {:.2} µs per reply",
        per_text(text.render + text.x + text.mastodon + text.bluesky)
    );
    println!(
        "  reply service, dry run (SQLite file): {:.0} mentions answered/s ({:.2} s in all)",
        MENTIONS as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "  replies recorded:               {} of {MENTIONS}, one per author, under incident {incident_id} (longest {longest_reply} of 280 on X)",
        replies.len()
    );
    println!(
        "  DynamoDB write units:           {:.2} per answered mention over all {writes} writes",
        per_mention(write_units)
    );
    println!(
        "  DynamoDB reads:                 {:.2} per answered mention ({:.2} gets + {:.2} queries), {:.2} read units (strongly consistent)",
        per_mention(gets + queries),
        per_mention(gets),
        per_mention(queries),
        per_mention(read_units)
    );
    println!("  per answered mention, by item:  writes (units) / reads (units)");
    for (kind, t) in store.by_kind.lock().expect("the tally lock").iter() {
        println!(
            "    {kind:<16} {:.2} ({:.2}) / {:.2} ({:.2})",
            per_mention(t.writes),
            per_mention(t.write_units),
            per_mention(t.reads),
            per_mention(t.read_units)
        );
    }
}
