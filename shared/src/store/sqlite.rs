//! The embedded store: SQLite through rusqlite, for the local runner and the demo.
//!
//! One table mirrors the DynamoDB layout (`pk`, `sk`, `version`, `expires_at`, and the domain
//! attributes as one JSON document). Each operation is one transaction (`BEGIN IMMEDIATE`),
//! so conditional writes are atomic even when two processes share the file. Calls run on
//! tokio's blocking pool because SQLite does disk I/O.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::Value;

use super::{
    Created, Item, Key, NewItem, Query, SortKeys, Store, StoreError, check_attributes, is_expired,
};
use crate::clock::Clock;

/// SQLite-backed [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
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
        PRIMARY KEY (pk, sk)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
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
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            clock,
        })
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

    /// Runs `work` in one immediate transaction on the blocking pool.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let value = work(&tx)?;
            tx.commit().map_err(backend)?;
            Ok(value)
        })
        .await
        .map_err(backend)?
    }
}

/// A row as read: version, expiry and attributes text.
type Row = (i64, Option<i64>, String);

fn read_row(tx: &rusqlite::Transaction<'_>, key: &Key) -> Result<Option<Row>, StoreError> {
    tx.query_row(
        "SELECT version, expires_at, attributes FROM items WHERE pk = ?1 AND sk = ?2",
        params![key.pk, key.sk],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
    .optional()
    .map_err(backend)
}

fn live_row(
    tx: &rusqlite::Transaction<'_>,
    key: &Key,
    now: DateTime<Utc>,
) -> Result<Option<Row>, StoreError> {
    Ok(read_row(tx, key)?.filter(|(_, expires_at, _)| !is_expired(*expires_at, now)))
}

fn to_item(key: Key, (version, expires_at, attributes): Row) -> Result<Item, StoreError> {
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
    })
}

fn write_row(
    tx: &rusqlite::Transaction<'_>,
    item: &NewItem,
    version: u64,
) -> Result<(), StoreError> {
    let attributes = serde_json::to_string(&item.attributes).map_err(backend)?;
    tx.execute(
        "INSERT INTO items (pk, sk, version, expires_at, attributes) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (pk, sk) DO UPDATE SET version = excluded.version,
             expires_at = excluded.expires_at, attributes = excluded.attributes",
        params![
            item.key.pk,
            item.key.sk,
            i64::try_from(version).map_err(backend)?,
            item.expires_at.map(|t| t.timestamp()),
            attributes
        ],
    )
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

    async fn create(&self, item: NewItem) -> Result<Created, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        self.run(move |tx| {
            if live_row(tx, &item.key, now)?.is_some() {
                return Ok(Created::AlreadyExists);
            }
            write_row(tx, &item, 1)?;
            Ok(Created::Yes)
        })
        .await
    }

    async fn update(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        self.run(move |tx| {
            let current = live_row(tx, &item.key, now)?.map(|(version, _, _)| version);
            if current != i64::try_from(expected_version).ok() {
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
                .map(|(version, _, _)| u64::try_from(version).unwrap_or(0) + 1)
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
                "SELECT sk, version, expires_at, attributes FROM items
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
            if let Some(limit) = query.limit {
                sql.push_str(&format!(" LIMIT {limit}"));
            }
            let mut statement = tx.prepare(&sql).map_err(backend)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(args), |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        (row.get(1)?, row.get(2)?, row.get(3)?),
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
                            key: key.clone(),
                            attributes: existing.attributes,
                            expires_at: existing.expires_at,
                        },
                        version + 1,
                    )
                }
                None => (
                    NewItem {
                        key: key.clone(),
                        attributes: Default::default(),
                        expires_at,
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
            tx.execute(
                "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
                params![key.pk, key.sk],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}
