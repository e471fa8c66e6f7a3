//! Lambda's delivery of the table's stream, for tests that hold the stream consumers (the
//! acknowledge and page functions) to their promises however Lambda delivers.
//!
//! An event source mapping on a DynamoDB stream delivers every record at least once, and
//! often more than once:
//!
//! - after a reported item failure (`batchItemFailures`) the failed record **and every later
//!   record of the batch** come again;
//! - after a function error (a timeout, a crash) the batch is split in two and each half is
//!   delivered again (`BisectBatchOnFunctionError`), down to single records;
//! - a batch can simply arrive twice;
//! - and all of it can happen long after the first delivery (retries go on for up to
//!   `MaximumRecordAgeInSeconds`, an hour in `infra/template.yaml`), when the world the
//!   records describe has moved on: the incident resolved, the clock an hour later.
//!
//! This rig plays Lambda's part for both functions at once. It reads the store's change feed
//! ([`SqliteFeed`]: the embedded store's `changes` table; [`StreamsFeed`]: moto's DynamoDB
//! Streams), turns each change into the JSON record Lambda hands a function, passes each
//! function's mapping only what its filter passes ([`Filter`], as the template declares), and
//! invokes the function ([`Function`]) as a [`Schedule`] says: batches of its sizes, writes
//! it makes fail before they reach the table ([`FlakyStore`]), timeouts, duplicates, retry
//! delays on the [`ManualClock`], and old batches delivered again at later ticks. Lambda's
//! rules decide what comes again; the schedule only decides what goes wrong. A record is
//! never given up on: a mapping that discards records loses replies by design (its
//! dead-letter queue and alarms cover that), which is not what these tests are about.
//!
//! What reached the outside world is counted by [`Tally`]: the statuses a Mastodon-format
//! server took (reply, follow-up and update told apart by their idempotency keys), the
//! handoffs a recording support sink took, and the messages on-call people got ([`PageLog`],
//! which names each page's step and round). A test compares the tally of every schedule
//! with the tally of the once-in-order run.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::config::Config;
use shared::notify::console::ConsoleNotifier;
use shared::notify::{Message, MessageKind, Notifier, NotifyError, Receipt};
use shared::oncall::paging::{Delivery, Escalation, PageClaim, Position};
use shared::reply::handoff::Handoff;
use shared::store::dynamodb::to_attribute;
use shared::store::sqlite::SqliteStore;
use shared::store::{Created, Item, ItemChange, Key, NewItem, Query, Store, StoreError, keys};

use crate::statuses::Status;
use crate::stream_events::{image, wire};

/// The stream ARN records name as their source.
fn stream_arn(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-11-23T00:00:00.000")
}

/// Which records a function's event source mapping passes to it (its `FilterCriteria` in
/// `infra/template.yaml`). Lambda drops the rest before batching, so they neither invoke
/// the function nor take room in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// The acknowledge function's: a mention or an incident record inserted or modified.
    MentionsAndIncidents,
    /// The page function's: an incident record inserted or modified.
    Incidents,
}

impl Filter {
    /// Whether the filter passes `record` (a stream record as Lambda delivers it).
    pub fn passes(self, record: &Value) -> bool {
        if !matches!(record["eventName"].as_str(), Some("INSERT" | "MODIFY")) {
            return false;
        }
        let key = |name: &str| {
            record
                .pointer(&format!("/dynamodb/Keys/{name}/S"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (pk, sk) = (key("pk"), key("sk"));
        let incident = pk.starts_with("INCIDENT#") && sk == "META";
        let mention = pk.starts_with("MENTION#") && sk == "MENTION";
        match self {
            Filter::MentionsAndIncidents => incident || mention,
            Filter::Incidents => incident,
        }
    }
}

/// A table's change feed, read the way an event source mapping reads its stream.
#[async_trait]
pub trait ChangeFeed: Send {
    /// Every record written since the last read, oldest first, as Lambda delivers it.
    async fn read(&mut self) -> Result<Vec<Value>, String>;
}

/// The embedded store's change feed ([`SqliteStore::record_changes`]) as DynamoDB Streams
/// records: the same JSON a function gets from Lambda, so the handler's own parsing runs.
pub struct SqliteFeed {
    store: SqliteStore,
    clock: ManualClock,
    after: u64,
}

impl SqliteFeed {
    /// Starts recording `store`'s writes; the feed holds every write from now on.
    pub async fn start(store: SqliteStore, clock: ManualClock) -> Result<Self, String> {
        store.record_changes().await.map_err(|e| e.to_string())?;
        Ok(Self {
            store,
            clock,
            after: 0,
        })
    }
}

#[async_trait]
impl ChangeFeed for SqliteFeed {
    async fn read(&mut self) -> Result<Vec<Value>, String> {
        let mut records = Vec::new();
        loop {
            let changes = self
                .store
                .changes_after(self.after, 500)
                .await
                .map_err(|e| e.to_string())?;
            let Some(last) = changes.last() else {
                return Ok(records);
            };
            self.after = last.id.parse().map_err(|e| format!("change id: {e}"))?;
            for change in &changes {
                let sequence = change.id.parse().map_err(|e| format!("change id: {e}"))?;
                records.push(stream_record_of(
                    change,
                    sequence,
                    self.clock.now(),
                    "sitrep",
                ));
            }
        }
    }
}

/// The item as the DynamoDB adapter writes it (key, version, expiry, attributes).
fn dynamo_item(item: &Item) -> HashMap<String, AttributeValue> {
    let mut map: HashMap<String, AttributeValue> = item
        .attributes
        .iter()
        .map(|(name, value)| (name.clone(), to_attribute(value)))
        .collect();
    map.insert("pk".into(), AttributeValue::S(item.key.pk.clone()));
    map.insert("sk".into(), AttributeValue::S(item.key.sk.clone()));
    map.insert(
        "version".into(),
        AttributeValue::N(item.version.to_string()),
    );
    if let Some(at) = item.expires_at {
        map.insert(
            "expires_at".into(),
            AttributeValue::N(at.timestamp().to_string()),
        );
    }
    map
}

/// The record DynamoDB Streams (`NEW_AND_OLD_IMAGES`) emits for `change`, numbered
/// `sequence`, as Lambda delivers it.
pub fn stream_record_of(
    change: &ItemChange,
    sequence: u64,
    at: DateTime<Utc>,
    table: &str,
) -> Value {
    let event = match (&change.old, &change.new) {
        (None, Some(_)) => "INSERT",
        (Some(_), Some(_)) => "MODIFY",
        _ => "REMOVE",
    };
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": at.timestamp(),
        "Keys": {"pk": {"S": change.key.pk}, "sk": {"S": change.key.sk}},
        "SequenceNumber": format!("{sequence:021}"),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(new) = &change.new {
        dynamodb["NewImage"] = image(&dynamo_item(new));
    }
    if let Some(old) = &change.old {
        dynamodb["OldImage"] = image(&dynamo_item(old));
    }
    json!({
        "eventID": format!("event-{sequence}"),
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn(table),
    })
}

/// A table's stream on moto, read through the DynamoDB Streams API (one shard, from its
/// first record), as Lambda's poller reads it.
pub struct StreamsFeed {
    client: aws_sdk_dynamodbstreams::Client,
    stream: String,
    iterator: Option<String>,
}

impl StreamsFeed {
    /// The stream of `table` (which must have one), read from its first record.
    pub async fn start(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Result<Self, String> {
        crate::moto_endpoint();
        let config = shared::aws::lambda_sdk_config().await;
        let client = aws_sdk_dynamodbstreams::Client::new(&config);
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| format!("describe {table}: {e:?}"))?;
        let stream = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| format!("{table} has no stream"))?
            .to_owned();
        let shards = client
            .describe_stream()
            .stream_arn(&stream)
            .send()
            .await
            .map_err(|e| format!("describe stream: {e:?}"))?;
        let shard = shards
            .stream_description()
            .and_then(|d| d.shards().first())
            .and_then(|s| s.shard_id())
            .ok_or("the stream has no shard")?
            .to_owned();
        let iterator = client
            .get_shard_iterator()
            .stream_arn(&stream)
            .shard_id(shard)
            .shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(|e| format!("shard iterator: {e:?}"))?
            .shard_iterator
            .ok_or("no shard iterator")?;
        Ok(Self {
            client,
            stream,
            iterator: Some(iterator),
        })
    }
}

#[async_trait]
impl ChangeFeed for StreamsFeed {
    async fn read(&mut self) -> Result<Vec<Value>, String> {
        let mut records = Vec::new();
        loop {
            let Some(iterator) = self.iterator.clone() else {
                return Ok(records);
            };
            let page = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .send()
                .await
                .map_err(|e| format!("get records: {e:?}"))?;
            self.iterator = page.next_shard_iterator().map(str::to_owned);
            if page.records().is_empty() {
                return Ok(records);
            }
            for record in page.records() {
                records.push(lambda_record(record, &self.stream)?);
            }
        }
    }
}

/// A DynamoDB Streams attribute value in the JSON shape a Lambda record carries it.
fn streams_wire(value: &aws_sdk_dynamodbstreams::types::AttributeValue) -> Value {
    use aws_sdk_dynamodbstreams::types::AttributeValue as V;
    // The stream and the table speak the same attribute language: reuse the table's shapes.
    let table = |value: &V| -> AttributeValue {
        fn convert(value: &V) -> AttributeValue {
            match value {
                V::S(s) => AttributeValue::S(s.clone()),
                V::N(n) => AttributeValue::N(n.clone()),
                V::Bool(b) => AttributeValue::Bool(*b),
                V::Null(b) => AttributeValue::Null(*b),
                V::L(items) => AttributeValue::L(items.iter().map(convert).collect()),
                V::M(map) => {
                    AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
                }
                other => panic!("sitrep writes no {other:?}"),
            }
        }
        convert(value)
    };
    wire(&table(value))
}

fn streams_image(map: &HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, v)| (k.clone(), streams_wire(v)))
            .collect(),
    )
}

/// One record of `GetRecords` as Lambda hands it to the function.
fn lambda_record(
    record: &aws_sdk_dynamodbstreams::types::Record,
    stream: &str,
) -> Result<Value, String> {
    let change = record.dynamodb().ok_or("a record without its change")?;
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change
            .approximate_creation_date_time()
            .map_or(0, |t| t.secs()),
        "Keys": streams_image(change.keys().ok_or("a record without keys")?),
        "SequenceNumber": change.sequence_number().ok_or("a record without a sequence number")?,
        "SizeBytes": change.size_bytes().unwrap_or(0),
        "StreamViewType": change.stream_view_type().map_or("NEW_AND_OLD_IMAGES", |v| v.as_str()),
    });
    if let Some(new) = change.new_image() {
        dynamodb["NewImage"] = streams_image(new);
    }
    if let Some(old) = change.old_image() {
        dynamodb["OldImage"] = streams_image(old);
    }
    Ok(json!({
        "eventID": record.event_id().unwrap_or_default(),
        "eventName": record.event_name().map(|n| n.as_str()).unwrap_or_default(),
        "eventVersion": record.event_version().unwrap_or("1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.aws_region().unwrap_or("us-east-1"),
        "dynamodb": dynamodb,
        "eventSourceARN": stream,
    }))
}

/// A store whose chosen writes fail before they reach the table, as a throttled or
/// unreachable DynamoDB fails them: the function sees a backend error and nothing was
/// written. Reads always pass.
pub struct FlakyStore {
    inner: Arc<dyn Store>,
    faults: Mutex<Faults>,
}

#[derive(Default)]
struct Faults {
    /// Writes attempted so far.
    writes: u64,
    /// The numbers of the writes that fail.
    failing: BTreeSet<u64>,
    /// Writes failed so far.
    failed: u64,
}

impl FlakyStore {
    /// `inner`, with no failure armed.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            faults: Mutex::new(Faults::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the `nth` write from now on (0: the next one) fail.
    pub fn fail_nth_write(&self, nth: u32) {
        let mut faults = self.lock();
        let at = faults.writes + u64::from(nth);
        faults.failing.insert(at);
    }

    /// Forgets the failures armed and not reached.
    pub fn heal(&self) {
        self.lock().failing.clear();
    }

    /// How many writes failed so far.
    pub fn failed(&self) -> u64 {
        self.lock().failed
    }

    fn write(&self, what: &str, key: &Key) -> Result<(), StoreError> {
        let mut faults = self.lock();
        let this = faults.writes;
        faults.writes += 1;
        if faults.failing.remove(&this) {
            faults.failed += 1;
            return Err(StoreError::Backend(format!(
                "injected: the {what} of {key} did not reach the table"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for FlakyStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        self.write("create", &item.key)?;
        self.inner.create_item(item).await
    }

    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        self.write("update", &item.key)?;
        self.inner.update_item(item, expected_version).await
    }

    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        self.write("put", &item.key)?;
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
        self.write("increment", key)?;
        self.inner.increment(key, deltas, expires_at).await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.write("delete", key)?;
        self.inner.delete(key).await
    }
}

/// A Lambda function as its event source mapping and its schedule invoke it.
#[async_trait]
pub trait Function: Send + Sync {
    /// Invokes the function with `payload` (a stream batch, `{"Records": [...]}`, or a
    /// scheduled event): the sequence numbers it reported in `batchItemFailures`, or the
    /// error it ended with.
    async fn invoke(&self, payload: Value) -> Result<Vec<String>, String>;
}

/// Which function a mapping feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Consumer {
    /// The acknowledge function (batches of 25).
    Acknowledge,
    /// The page function (batches of 10).
    Page,
}

impl Consumer {
    fn index(self) -> usize {
        match self {
            Consumer::Acknowledge => 0,
            Consumer::Page => 1,
        }
    }
}

/// What happens to one invocation of a function with a stream batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// For a new batch: how many records it takes (at most the mapping's batch size and
    /// what is waiting).
    pub batch: usize,
    /// The `n`-th write the function makes in this invocation fails before it is applied.
    pub failing_write: Option<u32>,
    /// The invocation times out after the function handled this many of the batch's
    /// records (all of them, and its drain, when at least the batch's length): Lambda sees
    /// a function error and bisects the batch.
    pub timeout_after: Option<usize>,
    /// Lambda delivers the same batch again right after it succeeded.
    pub duplicate: bool,
    /// Seconds the clock moves before Lambda retries what this invocation failed.
    pub retry_after: u32,
}

impl Invocation {
    /// An invocation where nothing goes wrong, with batches as large as the mapping allows:
    /// what every invocation is once a schedule runs out.
    pub fn clean() -> Self {
        Self {
            batch: usize::MAX,
            failing_write: None,
            timeout_after: None,
            duplicate: false,
            retry_after: 10,
        }
    }
}

/// A batch delivered again long after its first delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Late {
    /// At which tick of the world (an index into its ticks).
    pub tick: usize,
    /// To which function.
    pub consumer: Consumer,
    /// Which of the batches delivered so far (modulo their number); `None`: every one of
    /// them, oldest first.
    pub batch: Option<usize>,
}

/// A scheduled run (the acknowledge function's drain, the page function's sweep) that
/// meets a failing write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledFault {
    /// At which tick.
    pub tick: usize,
    /// Which function's run.
    pub consumer: Consumer,
    /// The `n`-th write of that run fails.
    pub failing_write: u32,
}

/// How Lambda delivers, for one run of a test: consumed in order, and clean once used up.
/// The default schedule is the once-in-order run: every batch as large as the mapping
/// allows, delivered once, nothing failing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The acknowledge function's stream invocations, in order.
    pub acknowledge: Vec<Invocation>,
    /// The page function's stream invocations, in order.
    pub page: Vec<Invocation>,
    /// Old batches delivered again.
    pub late: Vec<Late>,
    /// Scheduled runs with a failing write.
    pub scheduled: Vec<ScheduledFault>,
    /// Per tick, in its two low bits: whether the page function's mapping polls first, and
    /// whether the scheduled runs come before the stream deliveries.
    pub order: Vec<u8>,
}

/// One function's event source mapping: what waits for it, and what it was given.
struct Mapping {
    filter: Filter,
    batch_size: usize,
    function: Arc<dyn Function>,
    /// Records its filter passed, not yet delivered.
    waiting: VecDeque<Value>,
    /// Every batch it was invoked with, for late redelivery.
    delivered: Vec<Vec<Value>>,
    /// The schedule's invocations not yet used.
    plan: VecDeque<Invocation>,
}

/// Invocations one batch may take before the rig calls it stuck: far more than any
/// schedule's failures need, so only a record that can never succeed reaches it.
const MAX_ATTEMPTS: usize = 64;

/// Lambda, for both functions of one table's stream.
pub struct Lambda {
    clock: ManualClock,
    faults: Arc<FlakyStore>,
    feed: Box<dyn ChangeFeed>,
    mappings: [Mapping; 2],
    late: Vec<Late>,
    scheduled: Vec<ScheduledFault>,
    order: Vec<u8>,
    log: Vec<String>,
}

impl Lambda {
    /// Lambda reading `feed` for `acknowledge` (batch size 25) and `page` (batch size 10),
    /// as `schedule` says; `faults` is the store the functions write through.
    pub fn new(
        clock: ManualClock,
        faults: Arc<FlakyStore>,
        feed: Box<dyn ChangeFeed>,
        acknowledge: Arc<dyn Function>,
        page: Arc<dyn Function>,
        schedule: Schedule,
    ) -> Self {
        let mapping = |filter, batch_size, function, plan: Vec<Invocation>| Mapping {
            filter,
            batch_size,
            function,
            waiting: VecDeque::new(),
            delivered: Vec::new(),
            plan: plan.into(),
        };
        Self {
            clock,
            faults,
            feed,
            mappings: [
                mapping(
                    Filter::MentionsAndIncidents,
                    25,
                    acknowledge,
                    schedule.acknowledge,
                ),
                mapping(Filter::Incidents, 10, page, schedule.page),
            ],
            late: schedule.late,
            scheduled: schedule.scheduled,
            order: schedule.order,
            log: Vec::new(),
        }
    }

    /// What Lambda did so far, one line per invocation.
    pub fn log(&self) -> &[String] {
        &self.log
    }

    /// Writes the store failed on purpose so far.
    pub fn injected_failures(&self) -> u64 {
        self.faults.failed()
    }

    /// One tick of the world: the streams are read and delivered, old batches delivered
    /// again as the schedule says, and each function's scheduled run made (the drain, the
    /// sweep). An error names a batch that kept failing.
    pub async fn tick(&mut self, tick: usize) -> Result<(), String> {
        let order = self.order.get(tick).copied().unwrap_or(0);
        let consumers = if order & 1 == 1 {
            [Consumer::Page, Consumer::Acknowledge]
        } else {
            [Consumer::Acknowledge, Consumer::Page]
        };
        let schedules_first = order & 2 == 2;
        if schedules_first {
            self.scheduled_runs(tick, consumers).await;
        }
        for record in self.feed.read().await? {
            for mapping in &mut self.mappings {
                if mapping.filter.passes(&record) {
                    mapping.waiting.push_back(record.clone());
                }
            }
        }
        for consumer in consumers {
            self.deliver_waiting(tick, consumer).await?;
        }
        let late: Vec<Late> = self
            .late
            .iter()
            .filter(|l| l.tick == tick)
            .cloned()
            .collect();
        for late in late {
            let delivered = &self.mappings[late.consumer.index()].delivered;
            let batches: Vec<Vec<Value>> = match late.batch {
                _ if delivered.is_empty() => Vec::new(),
                Some(n) => vec![delivered[n % delivered.len()].clone()],
                None => delivered.clone(),
            };
            for batch in batches {
                let first = self.next_invocation(late.consumer);
                self.deliver(tick, late.consumer, batch, first, "late")
                    .await?;
            }
        }
        if !schedules_first {
            self.scheduled_runs(tick, consumers).await;
        }
        Ok(())
    }

    fn next_invocation(&mut self, consumer: Consumer) -> Invocation {
        self.mappings[consumer.index()]
            .plan
            .pop_front()
            .unwrap_or_else(Invocation::clean)
    }

    /// Delivers everything waiting for `consumer`, batch by batch, each until it succeeded.
    async fn deliver_waiting(&mut self, tick: usize, consumer: Consumer) -> Result<(), String> {
        while !self.mappings[consumer.index()].waiting.is_empty() {
            let first = self.next_invocation(consumer);
            let mapping = &mut self.mappings[consumer.index()];
            let size = first
                .batch
                .clamp(1, mapping.batch_size)
                .min(mapping.waiting.len());
            let batch: Vec<Value> = mapping.waiting.drain(..size).collect();
            self.deliver(tick, consumer, batch, first, "new").await?;
        }
        Ok(())
    }

    /// Delivers `batch` until every record of it was handled once without failing: retried
    /// from the first failed record after item failures, bisected after function errors,
    /// delivered twice when the schedule says.
    async fn deliver(
        &mut self,
        tick: usize,
        consumer: Consumer,
        batch: Vec<Value>,
        first: Invocation,
        why: &str,
    ) -> Result<(), String> {
        // Batches still to get through, the next on top, each with the invocation it meets.
        let mut stack: Vec<(Vec<Value>, Option<Invocation>, String)> =
            vec![(batch, Some(first), why.to_owned())];
        let mut attempts = 0;
        while let Some((batch, invocation, why)) = stack.pop() {
            if batch.is_empty() {
                continue;
            }
            attempts += 1;
            if attempts > MAX_ATTEMPTS {
                return Err(format!(
                    "tick {tick}: {consumer:?} was invoked {MAX_ATTEMPTS} times and its batch \
                     [{}] still fails",
                    sequences(&batch).join(", ")
                ));
            }
            let invocation = invocation.unwrap_or_else(|| self.next_invocation(consumer));
            let outcome = self.invoke(consumer, &batch, &invocation).await;
            self.log.push(format!(
                "tick {tick} {}: {consumer:?} ({why}) [{}] {invocation:?} -> {outcome:?}",
                self.clock.now().format("%H:%M:%S"),
                sequences(&batch).join(" ")
            ));
            match outcome {
                Ok(failed) if failed.is_empty() => {
                    if invocation.duplicate {
                        stack.push((batch, None, "duplicate".into()));
                    }
                }
                Ok(failed) => {
                    // Lambda checkpoints before the failed record with the lowest sequence
                    // number and delivers it and every later record of the batch again.
                    let from = batch
                        .iter()
                        .position(|r| failed.contains(&sequence(r)))
                        .unwrap_or(0);
                    self.clock
                        .advance(TimeDelta::seconds(i64::from(invocation.retry_after)));
                    stack.push((batch[from..].to_vec(), None, "after item failure".into()));
                }
                Err(_) if batch.len() > 1 => {
                    self.clock
                        .advance(TimeDelta::seconds(i64::from(invocation.retry_after)));
                    let half = batch.len().div_ceil(2);
                    stack.push((batch[half..].to_vec(), None, "second half".into()));
                    stack.push((batch[..half].to_vec(), None, "first half".into()));
                }
                Err(_) => {
                    self.clock
                        .advance(TimeDelta::seconds(i64::from(invocation.retry_after)));
                    stack.push((batch, None, "after error".into()));
                }
            }
        }
        Ok(())
    }

    /// One invocation of `consumer` with `batch`: the function's answer, or `Err` when it
    /// failed or timed out.
    async fn invoke(
        &mut self,
        consumer: Consumer,
        batch: &[Value],
        invocation: &Invocation,
    ) -> Result<Vec<String>, String> {
        let mapping = &mut self.mappings[consumer.index()];
        mapping.delivered.push(batch.to_vec());
        let handled = match invocation.timeout_after {
            Some(n) => &batch[..n.min(batch.len())],
            None => batch,
        };
        self.faults.heal();
        if let Some(nth) = invocation.failing_write {
            self.faults.fail_nth_write(nth);
        }
        let answer = if handled.is_empty() {
            Ok(Vec::new())
        } else {
            mapping.function.invoke(json!({ "Records": handled })).await
        };
        self.faults.heal();
        match invocation.timeout_after {
            Some(n) => Err(format!("timed out after {n} records")),
            None => answer,
        }
    }

    /// The functions' scheduled runs at `tick` (results are not retried: the schedules'
    /// `MaximumRetryAttempts` is 0, the next minute's run replaces a failed one).
    async fn scheduled_runs(&mut self, tick: usize, consumers: [Consumer; 2]) {
        for consumer in consumers {
            let fault = self
                .scheduled
                .iter()
                .find(|f| f.tick == tick && f.consumer == consumer)
                .map(|f| f.failing_write);
            self.faults.heal();
            if let Some(nth) = fault {
                self.faults.fail_nth_write(nth);
            }
            let answer = self.mappings[consumer.index()]
                .function
                .invoke(scheduled_payload())
                .await;
            self.faults.heal();
            if fault.is_some() || answer.is_err() {
                self.log.push(format!(
                    "tick {tick} {}: {consumer:?} (schedule, failing write {fault:?}) -> {answer:?}",
                    self.clock.now().format("%H:%M:%S"),
                ));
            }
        }
    }
}

/// The sequence number of a stream record.
fn sequence(record: &Value) -> String {
    record
        .pointer("/dynamodb/SequenceNumber")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn sequences(batch: &[Value]) -> Vec<String> {
    batch
        .iter()
        .map(|r| {
            let key = r
                .pointer("/dynamodb/Keys/pk/S")
                .and_then(Value::as_str)
                .unwrap_or_default();
            format!("{}:{key}", sequence(r).trim_start_matches('0'))
        })
        .collect()
}

/// The EventBridge "Scheduled Event" the functions' schedules send.
pub fn scheduled_payload() -> Value {
    serde_json::from_str(include_str!("../fixtures/scheduled-event.json"))
        .expect("the fixture is a scheduled event")
}

/// One message an on-call person got, with the step and round of the claim it was sent for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPage {
    /// Who got it.
    pub person: String,
    /// Page or resolution.
    pub kind: MessageKind,
    /// The incident.
    pub incident: String,
    /// The step and round it pages (`None` for a resolution, or when no claim names it).
    pub position: Option<Position>,
}

/// The page function's notifier in these tests: a [`ConsoleNotifier`] (which records what
/// was sent) that also notes, for each page, the claim it was sent for. At the moment of
/// sending, the pager has just marked the recipient `Sending` in that claim at this very
/// instant of the manual clock, which names the claim's step and round. Clones share
/// the list.
#[derive(Clone)]
pub struct PageLog {
    console: ConsoleNotifier,
    store: Arc<dyn Store>,
    clock: ManualClock,
    config: Arc<Config>,
    sent: Arc<Mutex<Vec<SentPage>>>,
}

impl PageLog {
    /// A log reading claims from `store` (the table itself, not a failing view of it).
    pub fn new(store: Arc<dyn Store>, clock: ManualClock, config: Arc<Config>) -> Self {
        Self {
            console: ConsoleNotifier::new(),
            store,
            clock,
            config,
            sent: Arc::default(),
        }
    }

    /// Every message sent so far, oldest first.
    pub fn sent(&self) -> Vec<SentPage> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The console notifier behind it.
    pub fn console(&self) -> &ConsoleNotifier {
        &self.console
    }

    async fn position_of(&self, message: &Message) -> Option<Position> {
        if message.kind != MessageKind::Page {
            return None;
        }
        let incident = message.incident.as_deref()?;
        let escalation: Escalation = self
            .store
            .get(&keys::escalation(incident))
            .await
            .ok()??
            .decode()
            .ok()?;
        let policy = self.config.oncall.policy(&escalation.policy)?;
        let now = self.clock.now();
        for generation in (0..=escalation.generation).rev() {
            for round in 0..=policy.repeat {
                for step in 0..policy.steps.len() {
                    let key = keys::page(incident, generation, step, round);
                    let Some(claim) = self
                        .store
                        .get(&key)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|item| item.decode::<PageClaim>().ok())
                    else {
                        continue;
                    };
                    let sending = claim.recipients.iter().any(|r| {
                        r.person == message.person && r.delivery == Delivery::Sending { since: now }
                    });
                    if sending {
                        return Some(Position { round, step });
                    }
                }
            }
        }
        None
    }
}

#[async_trait]
impl Notifier for PageLog {
    async fn send(&self, message: &Message) -> Result<Receipt, NotifyError> {
        let receipt = self.console.send(message).await?;
        let position = self.position_of(message).await;
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(SentPage {
                person: message.person.to_string(),
                kind: message.kind,
                incident: message.incident.clone().unwrap_or_default(),
                position,
            });
        Ok(receipt)
    }
}

/// What reached the outside world in one run, counted the way the promises are stated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Replies per customer post (by the post's id).
    pub replies_per_post: BTreeMap<String, usize>,
    /// Replies per author and incident (`quiet` when there was none).
    pub replies_per_author: BTreeMap<(String, String), usize>,
    /// Follow-ups per author and incident.
    pub follow_ups: BTreeMap<(String, String), usize>,
    /// Public updates per incident and version of its record.
    pub updates: BTreeMap<(String, String), usize>,
    /// Handoffs per post (its link) and reason.
    pub handoffs: BTreeMap<(String, String), usize>,
    /// Messages per person, kind, step and round (all incidents of a run together).
    pub pages: BTreeMap<(String, String, Option<usize>, Option<u32>), usize>,
    /// Follow-ups to an author who was not told of that incident before it was fixed.
    pub untold: Vec<(String, String)>,
    /// Statuses no job of sitrep's would have made (an unknown idempotency key).
    pub unknown: Vec<String>,
}

impl Tally {
    /// Counts `statuses` (in the order the server took them), `handoffs` and `pages`.
    /// `fixed` gives, per incident, how many statuses the server had taken when it was
    /// resolved: a quiet reply ("the checks look fine") taken before that told its author of
    /// the outage the incident became, and earns a follow-up.
    pub fn count(
        statuses: &[Status],
        fixed: &BTreeMap<String, usize>,
        handoffs: &[Handoff],
        pages: &[SentPage],
    ) -> Self {
        let mut tally = Tally::default();
        // (author, incident or quiet) → the index of each reply.
        let mut replies: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (index, status) in statuses.iter().enumerate() {
            let key = status.key.clone().unwrap_or_default();
            let parts: Vec<&str> = key.split('#').collect();
            match parts.as_slice() {
                ["REPLIED", _platform, author, about, _queued] => {
                    let post = status.in_reply_to.clone().unwrap_or_default();
                    *tally.replies_per_post.entry(post).or_default() += 1;
                    let who = ((*author).to_owned(), (*about).to_owned());
                    *tally.replies_per_author.entry(who.clone()).or_default() += 1;
                    replies.entry(who).or_default().push(index);
                }
                ["FOLLOWUP", _platform, author, incident, _queued] => {
                    let who = ((*author).to_owned(), (*incident).to_owned());
                    *tally.follow_ups.entry(who).or_default() += 1;
                }
                ["ANNOUNCE", _account, incident, version, _queued] => {
                    let which = ((*incident).to_owned(), (*version).to_owned());
                    *tally.updates.entry(which).or_default() += 1;
                }
                _ => tally.unknown.push(format!("{key}: {}", status.text)),
            }
        }
        for (author, incident) in tally.follow_ups.keys() {
            let told_of_it = replies.contains_key(&(author.clone(), incident.clone()));
            let told_before_the_fix = fixed.get(incident).is_some_and(|fixed| {
                replies
                    .get(&(author.clone(), "quiet".to_owned()))
                    .is_some_and(|quiet| quiet.iter().any(|i| i < fixed))
            });
            if !told_of_it && !told_before_the_fix {
                tally.untold.push((author.clone(), incident.clone()));
            }
        }
        for handoff in handoffs {
            let what = handoff
                .post_url
                .clone()
                .unwrap_or_else(|| handoff.summary.clone());
            *tally
                .handoffs
                .entry((what, handoff.reason.clone()))
                .or_default() += 1;
        }
        for page in pages {
            let key = (
                page.person.clone(),
                page.kind.as_str().to_owned(),
                page.position.map(|p| p.step),
                page.position.map(|p| p.round),
            );
            *tally.pages.entry(key).or_default() += 1;
        }
        tally
    }

    /// The same counts with incident ids replaced by `names` (ids not in it are kept): an
    /// incident's id carries the second it opened, which retries that moved the clock shift.
    pub fn renamed(self, names: &BTreeMap<String, String>) -> Self {
        let name = |id: String| names.get(&id).cloned().unwrap_or(id);
        let pairs = |map: BTreeMap<(String, String), usize>, incident_first: bool| {
            map.into_iter()
                .map(|((a, b), n)| {
                    if incident_first {
                        ((name(a), b), n)
                    } else {
                        ((a, name(b)), n)
                    }
                })
                .collect()
        };
        Tally {
            replies_per_post: self.replies_per_post,
            replies_per_author: pairs(self.replies_per_author, false),
            follow_ups: pairs(self.follow_ups, false),
            updates: pairs(self.updates, true),
            handoffs: self.handoffs,
            pages: self.pages,
            untold: self
                .untold
                .into_iter()
                .map(|(author, incident)| (author, name(incident)))
                .collect(),
            unknown: self.unknown,
        }
    }

    /// The counts that differ from `expected`'s, one line each (empty when none do).
    pub fn differences(&self, expected: &Tally) -> Vec<String> {
        fn compare<K: Ord + std::fmt::Debug>(
            what: &str,
            got: &BTreeMap<K, usize>,
            want: &BTreeMap<K, usize>,
            out: &mut Vec<String>,
        ) {
            let keys: BTreeSet<&K> = got.keys().chain(want.keys()).collect();
            for key in keys {
                let (g, w) = (
                    got.get(key).copied().unwrap_or(0),
                    want.get(key).copied().unwrap_or(0),
                );
                if g != w {
                    out.push(format!("{what} {key:?}: {g}, the in-order run {w}"));
                }
            }
        }
        let mut out = Vec::new();
        compare(
            "replies to post",
            &self.replies_per_post,
            &expected.replies_per_post,
            &mut out,
        );
        compare(
            "replies to (author, incident)",
            &self.replies_per_author,
            &expected.replies_per_author,
            &mut out,
        );
        compare(
            "follow-ups to (author, incident)",
            &self.follow_ups,
            &expected.follow_ups,
            &mut out,
        );
        compare(
            "updates (incident, version)",
            &self.updates,
            &expected.updates,
            &mut out,
        );
        compare(
            "handoffs (post, reason)",
            &self.handoffs,
            &expected.handoffs,
            &mut out,
        );
        compare(
            "messages (person, kind, step, round)",
            &self.pages,
            &expected.pages,
            &mut out,
        );
        for untold in &self.untold {
            out.push(format!("follow-up to an author never told: {untold:?}"));
        }
        for unknown in &self.unknown {
            out.push(format!("a status no job makes: {unknown}"));
        }
        out
    }
}
