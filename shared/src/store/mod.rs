//! The state port: one small key-value interface with conditional writes, which every
//! "exactly once" decision in sitrep goes through.
//!
//! Two adapters implement [`Store`] and pass one conformance suite (`tests/tests/store_conformance.rs`):
//! [`dynamodb::DynamoStore`] for AWS and [`sqlite::SqliteStore`] for the local runner.
//! The model is DynamoDB's: items addressed by a partition key and a sort key, queried by
//! partition with a sort-key prefix or range, and an optional expiry time. An expired item
//! is absent for every operation, even before DynamoDB's TTL sweeper has deleted it, so both
//! adapters behave the same at every instant the injected clock names.
//!
//! The key layout lives in [`keys`].
//!
//! **A writer always recognises its own write.** DynamoDB (like any network store) can apply
//! a write and still answer with an error or a timeout; the SDK then sends the same request
//! again, and that retry finds the item its own first attempt wrote. Without more, a
//! conditional create would report [`Created::AlreadyExists`] and a versioned update a
//! [`StoreError::Conflict`], and the caller would take its own claim for someone else's: a
//! page never sent, an acknowledgement refused as "already used". So every [`NewItem`]
//! carries a [`WriteId`] of its own, stored beside the item; when a condition fails because
//! of the very write being retried (same id, and for an update the version it would have
//! made), the adapters report success instead. Each call site therefore gets this for free,
//! and `tests/tests/lost_answers.rs` proves it at every conditional write of every flow.

pub mod dynamodb;
pub mod keys;
pub mod once;
pub mod sqlite;

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Attribute names the adapters own; domain attributes may not use them.
pub const RESERVED_ATTRIBUTES: [&str; 5] = ["pk", "sk", "version", "expires_at", "write_id"];

/// The address of one item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Partition key: groups the items one query can read.
    pub pk: String,
    /// Sort key: orders the items of a partition.
    pub sk: String,
}

impl Key {
    /// A key from its two parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

/// Domain attributes of an item: JSON values keyed by name.
pub type Attributes = Map<String, Value>;

/// An item as stored.
///
/// Equality compares what is stored, not which write stored it.
#[derive(Debug, Clone)]
pub struct Item {
    /// Where it lives.
    pub key: Key,
    /// Its domain attributes.
    pub attributes: Attributes,
    /// Bumped by every write; the token for [`Store::update`].
    pub version: u64,
    /// When it stops existing, if ever (whole seconds).
    pub expires_at: Option<DateTime<Utc>>,
    /// The write that stored this version (none for items written before writes had one).
    pub write_id: Option<WriteId>,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.attributes == other.attributes
            && self.version == other.version
            && self.expires_at == other.expires_at
    }
}

impl Item {
    /// A string attribute.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }

    /// An integer attribute.
    pub fn i64(&self, name: &str) -> Option<i64> {
        self.attributes.get(name).and_then(Value::as_i64)
    }

    /// Deserializes the attributes into a domain type.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(Value::Object(self.attributes.clone())).map_err(|e| {
            StoreError::Malformed {
                key: self.key.clone(),
                reason: e.to_string(),
            }
        })
    }
}

/// The identity of one write: what lets a retried request recognise the item its own
/// earlier attempt wrote (see the module's documentation).
///
/// It is an identity, not a choice: nothing depends on its value but equality with itself,
/// so it is drawn from a per-process seed the standard library takes from the operating
/// system (two Lambda instances never share one) and a counter, rather than from the
/// injected [`crate::random::Random`], whose seeded sequences would repeat across processes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteId(String);

impl WriteId {
    /// A write id no other write, in this process or any other, has.
    pub fn fresh() -> Self {
        static PROCESS: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let process = *PROCESS.get_or_init(|| {
            let state = RandomState::new();
            state.hash_one((std::process::id(), std::time::SystemTime::now()))
        });
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        // Fixed width while the count fits, so an item's billed size does not drift.
        Self(format!("{process:016x}{count:08x}"))
    }

    /// A write id as stored.
    pub fn from_stored(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// Its text, as stored beside the item.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An item to write: key, attributes and optional expiry. The adapter assigns the version.
///
/// Cloning keeps the [`WriteId`]: a clone sent again is a retry of the same write. Equality
/// ignores it, as it compares what is written, not who wrote it.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Where it goes.
    pub key: Key,
    /// Its domain attributes.
    pub attributes: Attributes,
    /// When it stops existing, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who writes it: a fresh identity per constructed item.
    pub write_id: WriteId,
}

impl PartialEq for NewItem {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.attributes == other.attributes
            && self.expires_at == other.expires_at
    }
}

impl NewItem {
    /// An item with these attributes and no expiry.
    pub fn new(key: Key, attributes: Attributes) -> Self {
        Self {
            key,
            attributes,
            expires_at: None,
            write_id: WriteId::fresh(),
        }
    }

    /// An item holding a serialized domain value (which must serialize to a JSON object).
    pub fn encode<T: serde::Serialize>(key: Key, value: &T) -> Result<Self, StoreError> {
        match serde_json::to_value(value) {
            Ok(Value::Object(attributes)) => Ok(Self::new(key, attributes)),
            Ok(other) => Err(StoreError::Malformed {
                key,
                reason: format!("expected an object, got {other}"),
            }),
            Err(e) => Err(StoreError::Malformed {
                key,
                reason: e.to_string(),
            }),
        }
    }

    /// The same item, expiring at `at`.
    pub fn expiring_at(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }
}

/// Which sort keys of a partition a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeys {
    /// Every item of the partition.
    All,
    /// Sort keys that start with this prefix.
    Prefix(String),
    /// Sort keys from `from` to `to`, both inclusive.
    Between {
        /// Lowest sort key.
        from: String,
        /// Highest sort key.
        to: String,
    },
}

/// A read of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The partition.
    pub pk: String,
    /// Which of its sort keys.
    pub sort_keys: SortKeys,
    /// Highest sort key first.
    pub descending: bool,
    /// At most this many items.
    pub limit: Option<usize>,
}

impl Query {
    /// Every live item of a partition, ascending.
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sort_keys: SortKeys::All,
            descending: false,
            limit: None,
        }
    }

    /// Items whose sort key starts with `prefix`, ascending.
    pub fn prefix(pk: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self {
            sort_keys: SortKeys::Prefix(prefix.into()),
            ..Self::partition(pk)
        }
    }

    /// Items whose sort key lies in `[from, to]`, ascending.
    pub fn between(pk: impl Into<String>, from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            sort_keys: SortKeys::Between {
                from: from.into(),
                to: to.into(),
            },
            ..Self::partition(pk)
        }
    }

    /// Reads highest sort keys first.
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    /// Reads at most `n` items.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A versioned write lost a race: someone else wrote first.
    #[error("{key} was changed by someone else (expected version {expected})")]
    Conflict {
        /// The contested item.
        key: Key,
        /// The version the writer had read.
        expected: u64,
    },
    /// A stored item could not be read back as the expected shape.
    #[error("item {key} is malformed: {reason}")]
    Malformed {
        /// The item.
        key: Key,
        /// What is wrong with it.
        reason: String,
    },
    /// A write used an attribute name the store owns.
    #[error("attribute `{0}` is reserved by the store")]
    ReservedAttribute(String),
    /// The backend failed (network, throttling, disk).
    #[error("store backend failed: {0}")]
    Backend(String),
}

/// One write to the table as a change stream reports it, with the item before and after
/// (DynamoDB Streams' `NEW_AND_OLD_IMAGES`; the embedded store's change feed).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemChange {
    /// The stream's id for the change (a DynamoDB sequence number): what a partial batch
    /// failure names.
    pub id: String,
    /// The item written.
    pub key: Key,
    /// The item before, if it existed.
    pub old: Option<Item>,
    /// The item after, unless it was deleted.
    pub new: Option<Item>,
}

impl ItemChange {
    /// Whether it created the item.
    pub fn is_insert(&self) -> bool {
        self.old.is_none() && self.new.is_some()
    }
}

/// Whether [`Store::create`] wrote the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// It did not exist (or had expired) and now does: written by this call, or by an
    /// earlier attempt of the same write (same [`WriteId`]) whose answer was lost.
    Yes,
    /// A live item already had that key; nothing was written.
    AlreadyExists,
}

/// The state port. Every method is atomic on its own item.
///
/// Adapters implement the `*_item` writes; callers use [`Store::create`] and
/// [`Store::update`], which add what no single request can: when a write fails with a
/// backend error (every retry timed out, the connection dropped) it may still have been
/// applied, so the item is read back, and if it is the caller's own write (its [`WriteId`]
/// at the version the write made) the write is reported as done. Only when the store cannot
/// tell does the error reach the caller.
#[async_trait]
pub trait Store: Send + Sync {
    /// The live item at `key`.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// The adapter's conditional create; see [`Store::create`].
    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError>;

    /// The adapter's versioned update; see [`Store::update`].
    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError>;

    /// Writes `item` whatever was there; returns the new version.
    async fn put(&self, item: NewItem) -> Result<u64, StoreError>;

    /// Reads live items of one partition.
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError>;

    /// Atomically adds each delta to its counter attribute, creating the item (with
    /// `expires_at`, if given) when it is absent or expired; returns every counter's new value.
    async fn increment(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError>;

    /// Removes the item at `key`, if any.
    async fn delete(&self, key: &Key) -> Result<(), StoreError>;

    /// Writes `item` only if no live item has its key: the exactly-once primitive. A created
    /// item's version is 1. The caller's own write found by a retry, or by the read-back
    /// after a backend error, is [`Created::Yes`].
    async fn create(&self, item: NewItem) -> Result<Created, StoreError> {
        let write_id = item.write_id.clone();
        let key = item.key.clone();
        match self.create_item(item).await {
            Err(StoreError::Backend(reason)) => {
                if self.is_own_write(&key, &write_id, 1).await {
                    tracing::warn!(%key, %reason, "a create whose answer was lost had been applied");
                    Ok(Created::Yes)
                } else {
                    Err(StoreError::Backend(reason))
                }
            }
            other => other,
        }
    }

    /// Replaces the live item at `item.key` only if its version is still `expected_version`;
    /// returns the new version. Fails with [`StoreError::Conflict`] otherwise, unless the live
    /// item is this very write at `expected_version + 1` (found by a retry, or by the
    /// read-back after a backend error).
    async fn update(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        let write_id = item.write_id.clone();
        let key = item.key.clone();
        match self.update_item(item, expected_version).await {
            Err(StoreError::Backend(reason)) => {
                if self
                    .is_own_write(&key, &write_id, expected_version + 1)
                    .await
                {
                    tracing::warn!(%key, %reason, "an update whose answer was lost had been applied");
                    Ok(expected_version + 1)
                } else {
                    Err(StoreError::Backend(reason))
                }
            }
            other => other,
        }
    }

    /// Whether the live item at `key` is the write `write_id` made at `version`; `false`
    /// when it cannot be read.
    async fn is_own_write(&self, key: &Key, write_id: &WriteId, version: u64) -> bool {
        matches!(
            self.get(key).await,
            Ok(Some(item)) if item.version == version && item.write_id.as_ref() == Some(write_id)
        )
    }
}

/// Rejects attribute names the adapters own.
pub(crate) fn check_attributes(attributes: &Attributes) -> Result<(), StoreError> {
    match attributes
        .keys()
        .find(|name| RESERVED_ATTRIBUTES.contains(&name.as_str()))
    {
        Some(name) => Err(StoreError::ReservedAttribute(name.clone())),
        None => Ok(()),
    }
}

/// Whether an item with this expiry is gone at `now` (DynamoDB TTL semantics, whole seconds).
pub(crate) fn is_expired(expires_at: Option<i64>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| at <= now.timestamp())
}

/// Writes `item` over what was read: a create when nothing was (`read_version` is `None`), a
/// versioned update otherwise. `Some(new version)` when written, `None` when someone else
/// wrote first (the caller re-reads and decides again).
pub async fn write_over(
    store: &dyn Store,
    item: NewItem,
    read_version: Option<u64>,
) -> Result<Option<u64>, StoreError> {
    match read_version {
        Some(version) => match store.update(item, version).await {
            Ok(written) => Ok(Some(written)),
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok((store.create(item).await? == Created::Yes).then_some(1)),
    }
}
