//! The embedded store's change feed, delivered to the reply service the way DynamoDB Streams
//! delivers the table's changes to the acknowledge function: in order, in batches, only the
//! changes its filter passes, and a batch's failed change (and everything after it) delivered
//! again next time.

use std::sync::Arc;

use shared::reply::service::{BatchReport, Responder};
use shared::store::sqlite::SqliteStore;
use shared::store::{ItemChange, StoreError};
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

    /// Delivers the recorded changes the acknowledge function acts on to `responder` (which
    /// drains the outboxes after each batch), stopping at the first failed change so that it
    /// is delivered again next time. When none arrived, the outboxes are drained anyway, as
    /// the acknowledge function's schedule does.
    pub async fn deliver(
        &mut self,
        responder: &Responder,
        deadline: Instant,
    ) -> Result<BatchReport, StoreError> {
        let mut all = BatchReport::default();
        let mut handled_any = false;
        loop {
            let changes = self.store.changes_after(self.after, BATCH).await?;
            if changes.is_empty() {
                break;
            }
            // The service's own writes (jobs, budget counters) are never delivered back to
            // it: a drain that writes while it waits would otherwise feed itself until the
            // deadline.
            let wanted: Vec<ItemChange> = changes.iter().filter(|c| acts_on(c)).cloned().collect();
            let report = if wanted.is_empty() {
                BatchReport::default()
            } else {
                handled_any = true;
                responder.handle(&wanted, deadline).await
            };
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
        if !handled_any {
            let drained = responder.drain(deadline).await;
            all.events.extend(drained.events);
            all.errors.extend(drained.errors);
        }
        Ok(all)
    }
}

/// Whether the acknowledge function's stream filter (`infra/template.yaml`) passes `change`:
/// a mention or an incident written (not removed). Nothing else invokes the function.
fn acts_on(change: &ItemChange) -> bool {
    let key = &change.key;
    change.new.is_some()
        && ((key.pk.starts_with("MENTION#") && key.sk == "MENTION")
            || (key.pk.starts_with("INCIDENT#") && key.sk == "META"))
}
