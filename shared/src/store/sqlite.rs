//! The embedded store: SQLite through rusqlite, for the local runner and the demo.
//!
//! One table mirrors the DynamoDB layout (`pk`, `sk`, `version`, `expires_at`, and the domain
//! attributes as one JSON document).
//!
//! One writer thread owns the connection and applies operations in arrival order. Whatever
//! queued up while it was busy goes into one `BEGIN IMMEDIATE` transaction (group commit),
//! each operation inside its own savepoint, and nobody hears back before the commit: a
//! probe cycle's thousand small writes cost a few commits, not a thousand, and no operation
//! blocks a tokio worker. Immediate transactions keep conditional writes atomic even when two
//! processes share the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::{
    Created, Item, ItemChange, Key, NewItem, Query, SortKeys, Store, StoreError, WriteId,
    check_attributes, is_expired,
};
use crate::clock::Clock;

/// SQLite-backed [`Store`]; clones share one writer thread, which ends with the last clone.
#[derive(Clone)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Box<dyn Job>>,
    clock: Arc<dyn Clock>,
}

/// Most operations committed together.
const MAX_BATCH: usize = 512;

/// Sends an operation's result once its transaction has committed (or failed to).
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// One queued operation.
trait Job: Send {
    /// Runs inside the batch's transaction; the result waits for the commit.
    fn run(self: Box<Self>, tx: &rusqlite::Transaction<'_>) -> Deliver;
    /// Reports that the batch could not even start.
    fn fail(self: Box<Self>, error: String);
}

struct Work<T, F> {
    work: F,
    reply: tokio::sync::oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Work<T, F>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send,
{
    fn run(self: Box<Self>, tx: &rusqlite::Transaction<'_>) -> Deliver {
        // A savepoint per operation: one that fails halfway leaves no trace, and the rest of
        // the batch still commits.
        let Work { work, reply } = *self;
        let result = statement(tx, "SAVEPOINT operation").and_then(|()| {
            let result = work(tx);
            if result.is_err() {
                statement(tx, "ROLLBACK TO operation")?;
            }
            statement(tx, "RELEASE operation")?;
            result
        });
        Box::new(move |commit_error| {
            let _ = reply.send(match commit_error {
                None => result,
                Some(error) => Err(StoreError::Backend(error.to_owned())),
            });
        })
    }

    fn fail(self: Box<Self>, error: String) {
        let _ = self.reply.send(Err(StoreError::Backend(error)));
    }
}

/// Runs a parameterless statement, parsed once per connection: savepoints wrap every
/// operation, and parsing them anew each time showed up in the probe-cycle profile.
fn statement(tx: &rusqlite::Transaction<'_>, sql: &str) -> Result<(), StoreError> {
    tx.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(backend)
}

/// The writer thread: drains the queue into batches until every sender is gone.
fn write_loop(mut connection: Connection, jobs: mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => {
                let deliveries: Vec<Deliver> = batch.into_iter().map(|job| job.run(&tx)).collect();
                let commit_error = tx.commit().err().map(|e| e.to_string());
                for deliver in deliveries {
                    deliver(commit_error.as_deref());
                }
            }
            Err(e) => {
                for job in batch {
                    job.fail(e.to_string());
                }
            }
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS items (
        pk          TEXT    NOT NULL,
        sk          TEXT    NOT NULL,
        version     INTEGER NOT NULL,
        expires_at  INTEGER,
        attributes  TEXT    NOT NULL,
        write_id    TEXT,
        PRIMARY KEY (pk, sk)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
";

/// The change feed: a table and the triggers that fill it (see [`SqliteStore::record_changes`]).
const CHANGE_FEED: &str = "
    CREATE TABLE IF NOT EXISTS changes (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        pk              TEXT NOT NULL,
        sk              TEXT NOT NULL,
        old_version     INTEGER,
        old_expires     INTEGER,
        old_attributes  TEXT,
        new_version     INTEGER,
        new_expires     INTEGER,
        new_attributes  TEXT
    );
    CREATE TRIGGER IF NOT EXISTS items_inserted AFTER INSERT ON items BEGIN
        INSERT INTO changes (pk, sk, new_version, new_expires, new_attributes)
        VALUES (NEW.pk, NEW.sk, NEW.version, NEW.expires_at, NEW.attributes);
    END;
    CREATE TRIGGER IF NOT EXISTS items_updated AFTER UPDATE ON items BEGIN
        INSERT INTO changes (pk, sk, old_version, old_expires, old_attributes,
                             new_version, new_expires, new_attributes)
        VALUES (NEW.pk, NEW.sk, OLD.version, OLD.expires_at, OLD.attributes,
                NEW.version, NEW.expires_at, NEW.attributes);
    END;
    CREATE TRIGGER IF NOT EXISTS items_deleted AFTER DELETE ON items BEGIN
        INSERT INTO changes (pk, sk, old_version, old_expires, old_attributes)
        VALUES (OLD.pk, OLD.sk, OLD.version, OLD.expires_at, OLD.attributes);
    END;
";

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(backend)?;
        // WAL lets readers run beside the writer; NORMAL syncs at checkpoints, which is
        // durable across process crashes (only a power cut can lose the last commits).
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(backend)?;
        Self::with_connection(connection, clock)
    }

    /// A private in-memory database, gone when the store is dropped.
    pub fn in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(backend)?, clock)
    }

    fn with_connection(connection: Connection, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        connection.execute_batch(SCHEMA).map_err(backend)?;
        // Files made before writes carried their identity gain the column; their old rows
        // have none, which no retry can match.
        let has_write_id: bool = connection
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'write_id'",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(backend)?
            > 0;
        if !has_write_id {
            connection
                .execute_batch("ALTER TABLE items ADD COLUMN write_id TEXT")
                .map_err(backend)?;
        }
        // Room for every statement sitrep runs, so none is parsed twice.
        connection.set_prepared_statement_cache_capacity(64);
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sitrep-sqlite".into())
            .spawn(move || write_loop(connection, queue))
            .map_err(backend)?;
        Ok(Self { jobs, clock })
    }

    /// Starts recording every write in a change feed, the embedded store's DynamoDB stream:
    /// triggers copy each item's old and new image into the `changes` table in the writing
    /// transaction itself, so a change is recorded exactly when it commits.
    pub async fn record_changes(&self) -> Result<(), StoreError> {
        self.run(|tx| {
            tx.execute_batch(CHANGE_FEED).map_err(backend)?;
            Ok(())
        })
        .await
    }

    /// Up to `limit` recorded changes after `after` (0 for the first), oldest first.
    pub async fn changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ItemChange>, StoreError> {
        let after = i64::try_from(after).map_err(backend)?;
        let limit = i64::try_from(limit).map_err(backend)?;
        self.run(move |tx| {
            let mut statement = tx
                .prepare_cached(
                    "SELECT seq, pk, sk, old_version, old_expires, old_attributes,
                            new_version, new_expires, new_attributes
                     FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![after, limit], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        (
                            row.get::<_, Option<i64>>(3)?,
                            row.get::<_, Option<i64>>(4)?,
                            row.get::<_, Option<String>>(5)?,
                        ),
                        (
                            row.get::<_, Option<i64>>(6)?,
                            row.get::<_, Option<i64>>(7)?,
                            row.get::<_, Option<String>>(8)?,
                        ),
                    ))
                })
                .map_err(backend)?;
            let mut changes = Vec::new();
            for row in rows {
                let (seq, pk, sk, old, new) = row.map_err(backend)?;
                let key = Key::new(pk, sk);
                let image =
                    |(version, expires, attributes): (Option<i64>, Option<i64>, Option<String>)| {
                        match (version, attributes) {
                            (Some(version), Some(attributes)) => {
                                to_item(key.clone(), (version, expires, attributes, None)).map(Some)
                            }
                            _ => Ok(None),
                        }
                    };
                changes.push(ItemChange {
                    id: seq.to_string(),
                    old: image(old)?,
                    new: image(new)?,
                    key,
                });
            }
            Ok(changes)
        })
        .await
    }

    /// Forgets recorded changes up to and including `through`, once they are handled.
    pub async fn forget_changes(&self, through: u64) -> Result<(), StoreError> {
        let through = i64::try_from(through).map_err(backend)?;
        self.run(move |tx| {
            tx.prepare_cached("DELETE FROM changes WHERE seq <= ?1")
                .and_then(|mut statement| statement.execute(params![through]))
                .map(drop)
                .map_err(backend)
        })
        .await
    }

    /// Deletes expired items; DynamoDB's TTL sweeper does this on AWS.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = self.clock.now().timestamp();
        self.run(move |tx| {
            tx.execute(
                "DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1",
                params![now],
            )
            .map_err(backend)
        })
        .await
    }

    /// Queues `work` for the writer thread and waits until its batch has committed.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Backend("the SQLite writer thread has stopped".into());
        self.jobs
            .send(Box::new(Work { work, reply }))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// A row as read: version, expiry and attributes text.
type Row = (i64, Option<i64>, String, Option<String>);

fn read_row(tx: &rusqlite::Transaction<'_>, key: &Key) -> Result<Option<Row>, StoreError> {
    tx.prepare_cached(
        "SELECT version, expires_at, attributes, write_id FROM items WHERE pk = ?1 AND sk = ?2",
    )
    .map_err(backend)?
    .query_row(params![key.pk, key.sk], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })
    .optional()
    .map_err(backend)
}

fn live_row(
    tx: &rusqlite::Transaction<'_>,
    key: &Key,
    now: DateTime<Utc>,
) -> Result<Option<Row>, StoreError> {
    Ok(read_row(tx, key)?.filter(|(_, expires_at, _, _)| !is_expired(*expires_at, now)))
}

/// Whether the live item at `key` is `item`'s own write at `version`: what a retry of a
/// write that was applied finds.
fn is_own_write(
    tx: &rusqlite::Transaction<'_>,
    item: &NewItem,
    version: u64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(
        live_row(tx, &item.key, now)?.is_some_and(|(stored, _, _, write_id)| {
            u64::try_from(stored).ok() == Some(version)
                && write_id.as_deref() == Some(item.write_id.as_str())
        }),
    )
}

fn to_item(key: Key, (version, expires_at, attributes, write_id): Row) -> Result<Item, StoreError> {
    let attributes = match serde_json::from_str(&attributes) {
        Ok(Value::Object(map)) => map,
        Ok(_) | Err(_) => {
            return Err(StoreError::Malformed {
                key,
                reason: "attributes are not a JSON object".into(),
            });
        }
    };
    Ok(Item {
        key,
        attributes,
        version: u64::try_from(version).unwrap_or(0),
        expires_at: expires_at.and_then(|s| Utc.timestamp_opt(s, 0).single()),
        write_id: write_id.map(WriteId::from_stored),
    })
}

fn write_row(
    tx: &rusqlite::Transaction<'_>,
    item: &NewItem,
    version: u64,
) -> Result<(), StoreError> {
    let attributes = serde_json::to_string(&item.attributes).map_err(backend)?;
    tx.prepare_cached(
        "INSERT INTO items (pk, sk, version, expires_at, attributes, write_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (pk, sk) DO UPDATE SET version = excluded.version,
             expires_at = excluded.expires_at, attributes = excluded.attributes,
             write_id = excluded.write_id",
    )
    .map_err(backend)?
    .execute(params![
        item.key.pk,
        item.key.sk,
        i64::try_from(version).map_err(backend)?,
        item.expires_at.map(|t| t.timestamp()),
        attributes,
        item.write_id.as_str()
    ])
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let now = self.clock.now();
        let key = key.clone();
        self.run(move |tx| {
            live_row(tx, &key, now)?
                .map(|row| to_item(key.clone(), row))
                .transpose()
        })
        .await
    }

    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        self.run(move |tx| {
            if live_row(tx, &item.key, now)?.is_some() {
                return Ok(if is_own_write(tx, &item, 1, now)? {
                    Created::Yes
                } else {
                    Created::AlreadyExists
                });
            }
            write_row(tx, &item, 1)?;
            Ok(Created::Yes)
        })
        .await
    }

    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        self.run(move |tx| {
            let current = live_row(tx, &item.key, now)?.map(|(version, _, _, _)| version);
            if current != i64::try_from(expected_version).ok() {
                if is_own_write(tx, &item, expected_version + 1, now)? {
                    return Ok(expected_version + 1);
                }
                return Err(StoreError::Conflict {
                    key: item.key.clone(),
                    expected: expected_version,
                });
            }
            write_row(tx, &item, expected_version + 1)?;
            Ok(expected_version + 1)
        })
        .await
    }

    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        self.run(move |tx| {
            let version = live_row(tx, &item.key, now)?
                .map(|(version, _, _, _)| u64::try_from(version).unwrap_or(0) + 1)
                .unwrap_or(1);
            write_row(tx, &item, version)?;
            Ok(version)
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        use rusqlite::types::Value as Sql;
        let now = self.clock.now();
        let query = query.clone();
        self.run(move |tx| {
            let mut sql = String::from(
                "SELECT sk, version, expires_at, attributes, write_id FROM items
                 WHERE pk = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
            );
            let mut args = vec![Sql::Text(query.pk.clone()), Sql::Integer(now.timestamp())];
            match &query.sort_keys {
                SortKeys::All => {}
                // Prefix as a range keeps the primary-key index usable and avoids LIKE escaping.
                SortKeys::Prefix(prefix) => {
                    sql.push_str(" AND sk >= ?3 AND substr(sk, 1, length(?3)) = ?3");
                    args.push(Sql::Text(prefix.clone()));
                }
                SortKeys::Between { from, to } => {
                    sql.push_str(" AND sk >= ?3 AND sk <= ?4");
                    args.push(Sql::Text(from.clone()));
                    args.push(Sql::Text(to.clone()));
                }
            }
            sql.push_str(if query.descending {
                " ORDER BY sk DESC"
            } else {
                " ORDER BY sk ASC"
            });
            // Bound, not written into the text: one cached statement serves every limit
            // (SQLite reads a negative limit as none).
            sql.push_str(" LIMIT ?");
            args.push(Sql::Integer(
                query
                    .limit
                    .map_or(-1, |n| i64::try_from(n).unwrap_or(i64::MAX)),
            ));
            let mut statement = tx.prepare_cached(&sql).map_err(backend)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(args), |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?),
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<(String, Row)>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(sk, row)| to_item(Key::new(query.pk.clone(), sk), row))
                .collect()
        })
        .await
    }

    async fn increment(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let now = self.clock.now();
        let key = key.clone();
        let deltas: Vec<(String, i64)> =
            deltas.iter().map(|(n, d)| ((*n).to_owned(), *d)).collect();
        for (name, _) in &deltas {
            if super::RESERVED_ATTRIBUTES.contains(&name.as_str()) {
                return Err(StoreError::ReservedAttribute(name.clone()));
            }
        }
        self.run(move |tx| {
            let (mut item, version) = match live_row(tx, &key, now)? {
                Some(row) => {
                    let existing = to_item(key.clone(), row)?;
                    let version = existing.version;
                    (
                        NewItem {
                            expires_at: existing.expires_at,
                            ..NewItem::new(key.clone(), existing.attributes)
                        },
                        version + 1,
                    )
                }
                None => (
                    NewItem {
                        expires_at,
                        ..NewItem::new(key.clone(), Default::default())
                    },
                    1,
                ),
            };
            let mut totals = BTreeMap::new();
            for (name, delta) in &deltas {
                let current = match item.attributes.get(name) {
                    None => 0,
                    Some(value) => value.as_i64().ok_or_else(|| StoreError::Malformed {
                        key: key.clone(),
                        reason: format!("counter `{name}` is not an integer"),
                    })?,
                };
                let total = current + delta;
                item.attributes.insert(name.clone(), Value::from(total));
                totals.insert(name.clone(), total);
            }
            write_row(tx, &item, version)?;
            Ok(totals)
        })
        .await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        let key = key.clone();
        self.run(move |tx| {
            tx.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")
                .and_then(|mut statement| statement.execute(params![key.pk, key.sk]))
                .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::Duration;
    use serde_json::json;

    fn item(pk: &str, value: i64) -> NewItem {
        let attributes = json!({ "n": value })
            .as_object()
            .cloned()
            .unwrap_or_default();
        NewItem::new(Key::new(pk, "X"), attributes)
    }

    #[tokio::test]
    async fn purge_removes_only_items_past_their_expiry() {
        let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let clock = ManualClock::new(start);
        let store = SqliteStore::in_memory(Arc::new(clock.clone())).unwrap();
        store
            .put(item("A", 1).expiring_at(start + Duration::seconds(10)))
            .await
            .unwrap();
        store
            .put(item("B", 2).expiring_at(start + Duration::seconds(60)))
            .await
            .unwrap();
        store.put(item("C", 3)).await.unwrap();

        assert_eq!(store.purge_expired().await.unwrap(), 0, "nothing due yet");
        clock.advance(Duration::seconds(10));
        assert_eq!(store.purge_expired().await.unwrap(), 1, "A is due at 10 s");
        assert_eq!(store.purge_expired().await.unwrap(), 0, "and gone for good");
        clock.advance(Duration::days(400));
        assert_eq!(
            store.purge_expired().await.unwrap(),
            1,
            "B; C never expires"
        );
        assert!(store.get(&Key::new("C", "X")).await.unwrap().is_some());
    }
}
