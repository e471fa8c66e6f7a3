//! The embedded store's change feed, delivered to the reply service the way DynamoDB Streams
//! delivers the table's changes to the acknowledge function: in order, in batches, and a
//! batch's failed change (and everything after it) delivered again next time.

use std::sync::Arc;

use shared::reply::service::{BatchReport, Responder};
use shared::store::StoreError;
use shared::store::sqlite::SqliteStore;
use tokio::time::Instant;

/// Changes read per batch (the acknowledge function's batch size).
const BATCH: usize = 25;

/// Where the local stream stands.
pub struct LocalStream {
    store: Arc<SqliteStore>,
    after: u64,
}

impl LocalStream {
    /// Starts recording `store`'s changes; the stream delivers those made from now on (and
    /// any a previous run left undelivered).
    pub async fn open(store: Arc<SqliteStore>) -> Result<Self, StoreError> {
        store.record_changes().await?;
        Ok(Self { store, after: 0 })
    }

    /// Delivers every recorded change to `responder` (then lets it drain the outboxes),
    /// stopping at the first failed change so that it is delivered again next time.
    pub async fn deliver(
        &mut self,
        responder: &Responder,
        deadline: Instant,
    ) -> Result<BatchReport, StoreError> {
        let mut all = BatchReport::default();
        loop {
            let changes = self.store.changes_after(self.after, BATCH).await?;
            if changes.is_empty() {
                break;
            }
            let report = responder.handle(&changes, deadline).await;
            let failed = report.failed.first().cloned();
            all.events.extend(report.events);
            all.errors.extend(report.errors);
            let handled: Vec<u64> = changes
                .iter()
                .map_while(|c| {
                    (Some(&c.id) != failed.as_ref()).then(|| c.id.parse::<u64>().unwrap_or(0))
                })
                .collect();
            if let Some(last) = handled.last() {
                self.after = *last;
                self.store.forget_changes(*last).await?;
            }
            if let Some(failed) = failed {
                all.failed.push(failed);
                break;
            }
        }
        Ok(all)
    }
}
