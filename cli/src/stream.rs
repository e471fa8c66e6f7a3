//! The embedded store's change feed, delivered to the reply service and the pager the way
//! DynamoDB Streams delivers the table's changes to the acknowledge and page functions: in
//! order, in batches, only the changes their filters pass, and a batch's failed change (and
//! everything after it) delivered again next time.

use std::sync::Arc;

use shared::oncall::paging::{Pager, PagingReport};
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
    /// drains the outboxes after each batch), and incident changes to `pager`, stopping at
    /// the first failed change so that it is delivered again next time. When none arrived,
    /// the outboxes are drained anyway, as the acknowledge function's schedule does; the
    /// pager's escalation sweep runs every time, as the page function's schedule does.
    pub async fn deliver(
        &mut self,
        responder: Option<&Responder>,
        pager: Option<&Pager>,
        deadline: Instant,
    ) -> Result<(BatchReport, PagingReport), StoreError> {
        let mut all = BatchReport::default();
        let mut paging = PagingReport::default();
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
            let report = match responder {
                Some(responder) if !wanted.is_empty() => {
                    handled_any = true;
                    responder.handle(&wanted, deadline).await
                }
                _ => BatchReport::default(),
            };
            let incidents: Vec<ItemChange> =
                wanted.iter().filter(|c| is_incident(c)).cloned().collect();
            let paged = match pager {
                Some(pager) if !incidents.is_empty() => pager.handle(&incidents).await,
                _ => PagingReport::default(),
            };
            // The first change either service failed on, in stream order.
            let failed = changes
                .iter()
                .find(|c| report.failed.contains(&c.id) || paged.failed.contains(&c.id))
                .map(|c| c.id.clone());
            paging.events.extend(paged.events);
            paging.errors.extend(paged.errors);
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
        if let Some(responder) = responder.filter(|_| !handled_any) {
            let drained = responder.drain(deadline).await;
            all.events.extend(drained.events);
            all.errors.extend(drained.errors);
        }
        if let Some(pager) = pager {
            let swept = pager.sweep().await;
            paging.events.extend(swept.events);
            paging.errors.extend(swept.errors);
        }
        Ok((all, paging))
    }
}

/// Whether the page function's stream filter passes `change`: an incident record written.
fn is_incident(change: &ItemChange) -> bool {
    change.key.pk.starts_with("INCIDENT#") && change.key.sk == "META"
}

/// Whether the acknowledge function's stream filter (`infra/template.yaml`) passes `change`:
/// a mention or an incident written (not removed). Nothing else invokes the function.
fn acts_on(change: &ItemChange) -> bool {
    let key = &change.key;
    change.new.is_some()
        && ((key.pk.starts_with("MENTION#") && key.sk == "MENTION")
            || (key.pk.starts_with("INCIDENT#") && key.sk == "META"))
}
