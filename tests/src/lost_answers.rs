//! A store whose answer to one chosen conditional write is lost after the write was applied:
//! what DynamoDB (or any network store) does when a request times out, or the connection
//! drops, after the table took it.
//!
//! Two ways the loss reaches sitrep:
//! - [`Loss::Retried`]: the SDK sends the same request again and the caller gets the retry's
//!   answer, which finds the caller's own write. (The retry goes to the real adapter, so what
//!   the caller sees is what that adapter answers such a retry.)
//! - [`Loss::Failed`]: every retry timed out too; the caller gets an error although the write
//!   is in the table. The store's read-back ([`Store::create`], [`Store::update`]) can
//!   still find the write to be the caller's own.
//! - [`Loss::Unconfirmed`]: as `Failed`, and the read-back fails too: the caller's
//!   invocation fails, and the event is delivered again.
//!
//! Writes are counted from [`LostAnswers::arm`], so a test sets up its world through the same
//! store without spending the fault.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared::store::{Created, Item, Key, NewItem, Query, Store, StoreError};

/// How the lost answer reaches the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// The write is sent again and the caller gets that answer.
    Retried,
    /// The caller's write gets an error; reading it back works.
    Failed,
    /// The caller's write gets an error, and so does its next read of that item.
    Unconfirmed,
}

/// One conditional write, as counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The item written.
    pub key: Key,
    /// A versioned update (rather than a create).
    pub update: bool,
}

impl std::fmt::Display for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.update { "update" } else { "create" };
        write!(f, "{what} of {}", self.key)
    }
}

/// The decorator: see the module's documentation.
pub struct LostAnswers {
    inner: Arc<dyn Store>,
    loss: Loss,
    /// The conditional write (counted from arming, from 0) whose answer is lost.
    target: Option<usize>,
    armed: AtomicBool,
    seen: AtomicUsize,
    writes: Mutex<Vec<Write>>,
    /// An item whose next read fails ([`Loss::Unconfirmed`]).
    unreadable: Mutex<Option<Key>>,
}

impl LostAnswers {
    /// Wraps `inner`, losing the answer to conditional write number `target` once armed
    /// (`None`: only count).
    pub fn new(inner: Arc<dyn Store>, loss: Loss, target: Option<usize>) -> Self {
        Self {
            inner,
            loss,
            target,
            armed: AtomicBool::new(false),
            seen: AtomicUsize::new(0),
            writes: Mutex::new(Vec::new()),
            unreadable: Mutex::new(None),
        }
    }

    /// Starts counting conditional writes.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// The conditional writes made since arming, in order.
    pub fn writes(&self) -> Vec<Write> {
        self.writes.lock().unwrap().clone()
    }

    /// Whether the chosen write happened (a test that never reached it proves nothing).
    pub fn fired(&self) -> bool {
        self.target
            .is_some_and(|target| self.seen.load(Ordering::SeqCst) > target)
    }

    /// `true` when this conditional write is the one whose answer is lost.
    fn is_target(&self, key: &Key, update: bool) -> bool {
        if !self.armed.load(Ordering::SeqCst) {
            return false;
        }
        self.writes.lock().unwrap().push(Write {
            key: key.clone(),
            update,
        });
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        self.target == Some(n)
    }

    /// The answer the caller gets for the chosen write, once it was applied.
    fn lost(&self, key: &Key) -> StoreError {
        if self.loss == Loss::Unconfirmed {
            *self.unreadable.lock().unwrap() = Some(key.clone());
        }
        StoreError::Backend(format!(
            "timed out writing {key} (the table applied it; the answer was lost)"
        ))
    }
}

#[async_trait]
impl Store for LostAnswers {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        {
            let mut unreadable = self.unreadable.lock().unwrap();
            if unreadable.as_ref() == Some(key) {
                *unreadable = None;
                return Err(StoreError::Backend(format!("timed out reading {key}")));
            }
        }
        self.inner.get(key).await
    }

    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        if !self.is_target(&item.key, false) {
            return self.inner.create_item(item).await;
        }
        let key = item.key.clone();
        self.inner.create_item(item.clone()).await?;
        match self.loss {
            Loss::Retried => self.inner.create_item(item).await,
            Loss::Failed | Loss::Unconfirmed => Err(self.lost(&key)),
        }
    }

    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        if !self.is_target(&item.key, true) {
            return self.inner.update_item(item, expected_version).await;
        }
        let key = item.key.clone();
        self.inner
            .update_item(item.clone(), expected_version)
            .await?;
        match self.loss {
            Loss::Retried => self.inner.update_item(item, expected_version).await,
            Loss::Failed | Loss::Unconfirmed => Err(self.lost(&key)),
        }
    }

    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
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
        self.inner.increment(key, deltas, expires_at).await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}
