//! Doing a thing once that cannot itself be made conditional (publishing a handoff, answering
//! a text): a claim with a lease, marked done after the thing is done.
//!
//! A bare "create the marker, then act" loses the act when the marker's write is applied and
//! its invocation then fails (the answer lost, the function timed out): every redelivery finds
//! the marker and does nothing. So the marker says whether the act was done, and until when
//! its holder may still be doing it. A redelivery that finds it not done and its lease over
//! takes it over with a versioned write (one taker wins) and acts; one that finds it held
//! fails, to be retried after the lease; one that finds it done does nothing. Markers written
//! before this scheme carry no `done` field and count as done, as they meant.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::{Attributes, Created, Key, NewItem, Store, StoreError};

/// Attribute that says the act was done.
const DONE: &str = "done";
/// Attribute that says until when the holder may still be acting (Unix seconds).
const LEASE_UNTIL: &str = "lease_until";

/// Reads and writes a claim may take before contention is an error.
const ATTEMPTS: usize = 4;

/// What [`claim`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the claim (at this version) and must act, then call [`finish`], or
    /// [`release`] if acting failed.
    Ours(u64),
    /// The act was done already.
    Done,
}

/// Claims the act at `key` for `lease` from `now`; the marker (with `attributes`) lives until
/// `expires_at`. A claim held by someone else whose lease has not run out is an error, so
/// that the caller's invocation is retried after it.
pub async fn claim(
    store: &dyn Store,
    key: &Key,
    attributes: Attributes,
    now: DateTime<Utc>,
    lease: TimeDelta,
    expires_at: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let mut marker = attributes;
    marker.insert(DONE.into(), Value::Bool(false));
    marker.insert(LEASE_UNTIL.into(), Value::from((now + lease).timestamp()));
    for _ in 0..ATTEMPTS {
        match store.get(key).await? {
            None => {
                let item = NewItem::new(key.clone(), marker.clone()).expiring_at(expires_at);
                if store.create(item).await? == Created::Yes {
                    return Ok(Claim::Ours(1));
                }
            }
            Some(held) => {
                if held.attributes.get(DONE).and_then(Value::as_bool) != Some(false) {
                    return Ok(Claim::Done);
                }
                if held.i64(LEASE_UNTIL).unwrap_or(0) > now.timestamp() {
                    return Err(StoreError::Backend(format!(
                        "{key} is being handled by another invocation; try again after its lease"
                    )));
                }
                // Its holder died before acting: take it over.
                let item = NewItem::new(key.clone(), marker.clone()).expiring_at(expires_at);
                match store.update(item, held.version).await {
                    Ok(version) => return Ok(Claim::Ours(version)),
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Err(StoreError::Backend(format!(
        "{key} kept changing under contention"
    )))
}

/// Marks the act at `key` done; the claim was taken at `version`. A claim left unmarked is
/// taken over once its lease runs out and the act done again, so the mark is tried a few
/// times (the same write each time: one that was applied and only lost its answer is
/// recognised). A failure after that is only logged by callers: the act happened, and
/// failing would only repeat it sooner.
pub async fn finish(
    store: &dyn Store,
    key: &Key,
    version: u64,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut last = Ok(());
    for _ in 0..ATTEMPTS {
        let held = match store.get(key).await {
            Ok(Some(held)) => held,
            Ok(None) => return Ok(()),
            Err(e) => {
                last = Err(e);
                continue;
            }
        };
        if held.version != version {
            return Ok(());
        }
        let mut attributes = held.attributes;
        attributes.insert(DONE.into(), Value::Bool(true));
        let mark = NewItem::new(key.clone(), attributes).expiring_at(expires_at);
        for _ in 0..ATTEMPTS {
            match store.update(mark.clone(), version).await {
                Ok(_) | Err(StoreError::Conflict { .. }) => return Ok(()),
                Err(e) => last = Err(e),
            }
        }
    }
    last
}

/// Gives the claim up after the act failed for certain, so that a retry acts then.
pub async fn release(store: &dyn Store, key: &Key) -> Result<(), StoreError> {
    store.delete(key).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone;

    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::store::sqlite::SqliteStore;

    fn setup() -> (ManualClock, SqliteStore) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap());
        let store = SqliteStore::in_memory(Arc::new(clock.clone())).unwrap();
        (clock, store)
    }

    #[tokio::test]
    async fn a_claim_is_ours_once_and_done_after_finishing() {
        let (clock, store) = setup();
        let key = Key::new("SMSIN#m1", "SMS");
        let expires = clock.now() + TimeDelta::days(7);
        let lease = TimeDelta::seconds(20);
        let first = claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
            .await
            .unwrap();
        assert_eq!(first, Claim::Ours(1));
        assert!(
            claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
                .await
                .is_err(),
            "held by a live holder: try again later"
        );
        finish(&store, &key, 1, expires).await.unwrap();
        assert_eq!(
            claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
                .await
                .unwrap(),
            Claim::Done
        );
    }

    #[tokio::test]
    async fn a_claim_whose_holder_died_is_taken_over_after_its_lease() {
        let (clock, store) = setup();
        let key = Key::new("HANDOFF#x#1", "HANDOFF");
        let expires = clock.now() + TimeDelta::days(7);
        let lease = TimeDelta::seconds(20);
        claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
            .await
            .unwrap();
        clock.advance(TimeDelta::seconds(21));
        let taken = claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
            .await
            .unwrap();
        assert_eq!(taken, Claim::Ours(2));
        // The first holder, alive after all, cannot mark a claim it no longer holds.
        finish(&store, &key, 1, expires).await.unwrap();
        assert!(
            claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
                .await
                .is_err(),
            "still the taker's"
        );
    }

    #[tokio::test]
    async fn a_marker_from_before_leases_counts_as_done_and_a_release_frees_it() {
        let (clock, store) = setup();
        let key = Key::new("HANDOFF#x#2", "HANDOFF");
        let expires = clock.now() + TimeDelta::days(7);
        let mut old = Attributes::new();
        old.insert("reason".into(), "vip".into());
        store.create(NewItem::new(key.clone(), old)).await.unwrap();
        let lease = TimeDelta::seconds(20);
        assert_eq!(
            claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
                .await
                .unwrap(),
            Claim::Done
        );
        release(&store, &key).await.unwrap();
        assert_eq!(
            claim(&store, &key, Attributes::new(), clock.now(), lease, expires)
                .await
                .unwrap(),
            Claim::Ours(1)
        );
    }
}
