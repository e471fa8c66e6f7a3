//! The store conformance suite: one set of cases, run against both adapters — SQLite (the
//! embedded store) and DynamoDB (on moto) — so the local runner and Lambda share semantics:
//! conditional create, versioned update, queries by prefix and range, atomic counters, expiry.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use shared::clock::{Clock, ManualClock};
use shared::store::{Attributes, Created, Key, NewItem, Query, Store, StoreError};
use sitrep_tests::epoch;

fn attrs(value: Value) -> Attributes {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn item(pk: &str, sk: &str, value: Value) -> NewItem {
    NewItem::new(Key::new(pk, sk), attrs(value))
}

async fn create_is_exactly_once(store: Arc<dyn Store>, _clock: ManualClock) {
    let key = Key::new("MENTION#x#1", "META");
    assert_eq!(
        store
            .create(item("MENTION#x#1", "META", json!({"n": 1})))
            .await
            .unwrap(),
        Created::Yes
    );
    assert_eq!(
        store
            .create(item("MENTION#x#1", "META", json!({"n": 2})))
            .await
            .unwrap(),
        Created::AlreadyExists
    );
    let stored = store.get(&key).await.unwrap().expect("stored");
    assert_eq!(
        stored.attributes,
        attrs(json!({"n": 1})),
        "the first write wins, the second changes nothing"
    );
    assert_eq!(stored.version, 1);
    assert!(
        store
            .get(&Key::new("MENTION#x#2", "META"))
            .await
            .unwrap()
            .is_none()
    );
}

/// A write that was applied and whose answer was lost is sent again, unchanged (the SDK's
/// retry): it must be recognised as the caller's own, never as someone else's.
async fn a_retried_write_recognises_its_own_earlier_attempt(
    store: Arc<dyn Store>,
    _clock: ManualClock,
) {
    let claim = item("PAGE#inc#0#0#0", "CLAIM", json!({"by": "us"}))
        .expiring_at(epoch() + Duration::hours(1));
    assert_eq!(store.create(claim.clone()).await.unwrap(), Created::Yes);
    assert_eq!(
        store.create(claim.clone()).await.unwrap(),
        Created::Yes,
        "the retry of our own create is ours"
    );
    let theirs = item("PAGE#inc#0#0#0", "CLAIM", json!({"by": "us"}));
    assert_eq!(
        store.create(theirs).await.unwrap(),
        Created::AlreadyExists,
        "an equal item from another write is someone else's"
    );

    let next = item("PAGE#inc#0#0#0", "CLAIM", json!({"by": "us", "sent": true}));
    assert_eq!(store.update(next.clone(), 1).await.unwrap(), 2);
    assert_eq!(
        store.update(next.clone(), 1).await.unwrap(),
        2,
        "the retry of our own update is ours"
    );
    let stale = item("PAGE#inc#0#0#0", "CLAIM", json!({"by": "them"}));
    assert!(
        matches!(
            store.update(stale, 1).await,
            Err(StoreError::Conflict { expected: 1, .. })
        ),
        "another writer holding the old version still conflicts"
    );
    let later = item(
        "PAGE#inc#0#0#0",
        "CLAIM",
        json!({"by": "us", "sent": false}),
    );
    assert_eq!(store.update(later, 2).await.unwrap(), 3);
    assert!(
        matches!(
            store.update(next, 1).await,
            Err(StoreError::Conflict { .. })
        ),
        "once someone wrote over it, our old write is no longer the item: a conflict"
    );
}

async fn racing_creates_have_one_winner(store: Arc<dyn Store>, _clock: ManualClock) {
    let attempts = (0..8).map(|i| {
        let store = Arc::clone(&store);
        async move {
            store
                .create(item("PAGE#inc#1#0", "CLAIM", json!({"by": i})))
                .await
                .unwrap()
        }
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| **r == Created::Yes).count(),
        1,
        "{results:?}"
    );
}

async fn versioned_update_fails_on_a_stale_version(store: Arc<dyn Store>, _clock: ManualClock) {
    let key = Key::new("CHECK#api", "STATE#eu");
    store
        .create(item("CHECK#api", "STATE#eu", json!({"status": "up"})))
        .await
        .unwrap();
    let v2 = store
        .update(item("CHECK#api", "STATE#eu", json!({"status": "down"})), 1)
        .await
        .unwrap();
    assert_eq!(v2, 2);
    let stale = store
        .update(item("CHECK#api", "STATE#eu", json!({"status": "up"})), 1)
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { expected: 1, .. })),
        "{stale:?}"
    );
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.str("status")), (2, Some("down")));
    let missing = store
        .update(item("CHECK#none", "STATE#eu", json!({})), 1)
        .await;
    assert!(
        matches!(missing, Err(StoreError::Conflict { .. })),
        "updating nothing is a conflict: {missing:?}"
    );
}

async fn racing_updates_have_one_winner(store: Arc<dyn Store>, _clock: ManualClock) {
    store
        .create(item(
            "COMPONENT#api",
            "STATE",
            json!({"status": "operational"}),
        ))
        .await
        .unwrap();
    let attempts = (0..6).map(|i| {
        let store = Arc::clone(&store);
        async move {
            store
                .update(
                    item("COMPONENT#api", "STATE", json!({"status": "down", "by": i})),
                    1,
                )
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(2) | Err(StoreError::Conflict { .. })))
    );
}

async fn put_overwrites_and_bumps_the_version(store: Arc<dyn Store>, _clock: ManualClock) {
    assert_eq!(
        store
            .put(item("CONFIG", "CURRENT", json!({"toml": "a"})))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .put(item("CONFIG", "CURRENT", json!({"toml": "b"})))
            .await
            .unwrap(),
        2
    );
    let stored = store
        .get(&Key::new("CONFIG", "CURRENT"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.version, stored.str("toml")), (2, Some("b")));
}

async fn queries_by_prefix_range_order_and_limit(store: Arc<dyn Store>, _clock: ManualClock) {
    for sk in [
        "DAY#2026-11-01",
        "DAY#2026-11-02",
        "DAY#2026-11-03",
        "HOUR#2026-11-03T10",
        "STATE",
    ] {
        store
            .create(item("COMPONENT#api", sk, json!({"label": sk})))
            .await
            .unwrap();
    }
    store
        .create(item("COMPONENT#web", "DAY#2026-11-02", json!({})))
        .await
        .unwrap();
    let sks =
        |items: Vec<shared::store::Item>| items.into_iter().map(|i| i.key.sk).collect::<Vec<_>>();

    let all = store
        .query(&Query::partition("COMPONENT#api"))
        .await
        .unwrap();
    assert_eq!(sks(all).len(), 5, "another partition never leaks in");
    let days = store
        .query(&Query::prefix("COMPONENT#api", "DAY#"))
        .await
        .unwrap();
    assert_eq!(
        sks(days),
        ["DAY#2026-11-01", "DAY#2026-11-02", "DAY#2026-11-03"]
    );
    let range = store
        .query(&Query::between(
            "COMPONENT#api",
            "DAY#2026-11-02",
            "DAY#2026-11-03",
        ))
        .await
        .unwrap();
    assert_eq!(
        sks(range),
        ["DAY#2026-11-02", "DAY#2026-11-03"],
        "both ends inclusive"
    );
    let newest = store
        .query(&Query::prefix("COMPONENT#api", "DAY#").descending().limit(2))
        .await
        .unwrap();
    assert_eq!(sks(newest), ["DAY#2026-11-03", "DAY#2026-11-02"]);
    let none = store
        .query(&Query::prefix("COMPONENT#api", "MONTH#"))
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn large_partitions_are_read_across_pages(store: Arc<dyn Store>, _clock: ManualClock) {
    // 60 items of 20 KB exceed DynamoDB's 1 MB page: the adapter must follow the pages.
    let filler = "x".repeat(20_000);
    for i in 0..60 {
        store
            .create(item(
                "CHECK#big",
                &format!("RESULT#{i:03}"),
                json!({"filler": filler}),
            ))
            .await
            .unwrap();
    }
    let all = store
        .query(&Query::prefix("CHECK#big", "RESULT#"))
        .await
        .unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(all[59].key.sk, "RESULT#059");
    let some = store
        .query(&Query::prefix("CHECK#big", "RESULT#").limit(55))
        .await
        .unwrap();
    assert_eq!(some.len(), 55);
}

async fn counters_are_atomic(store: Arc<dyn Store>, clock: ManualClock) {
    let key = Key::new("BUDGET#x", "WINDOW#1");
    let expires = clock.now() + Duration::minutes(15);
    let increments = (0..20).map(|_| {
        let store = Arc::clone(&store);
        let key = key.clone();
        async move {
            store
                .increment(&key, &[("posts", 1), ("points", 3)], Some(expires))
                .await
                .unwrap()
        }
    });
    let results = futures::future::join_all(increments).await;
    let mut seen: Vec<i64> = results.iter().map(|r| r["posts"]).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<_>>(),
        "every increment saw a distinct total"
    );
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (stored.i64("posts"), stored.i64("points")),
        (Some(20), Some(60))
    );
    assert_eq!(
        stored.expires_at.map(|t| t.timestamp()),
        Some(expires.timestamp())
    );
    let back = store.increment(&key, &[("posts", -5)], None).await.unwrap();
    assert_eq!(back["posts"], 15);
}

async fn expired_items_are_absent_everywhere(store: Arc<dyn Store>, clock: ManualClock) {
    let key = Key::new("REPLIED#x#alice#inc1", "CLAIM");
    let expiring = item("REPLIED#x#alice#inc1", "CLAIM", json!({"n": 1}))
        .expiring_at(clock.now() + Duration::seconds(10));
    assert_eq!(store.create(expiring).await.unwrap(), Created::Yes);
    clock.advance(Duration::seconds(9));
    assert!(
        store.get(&key).await.unwrap().is_some(),
        "alive until its time"
    );
    assert_eq!(
        store
            .query(&Query::partition("REPLIED#x#alice#inc1"))
            .await
            .unwrap()
            .len(),
        1
    );

    clock.advance(Duration::seconds(1));
    assert!(
        store.get(&key).await.unwrap().is_none(),
        "gone at its expiry, sweeper or not"
    );
    assert!(
        store
            .query(&Query::partition("REPLIED#x#alice#inc1"))
            .await
            .unwrap()
            .is_empty()
    );
    let stale = store
        .update(item("REPLIED#x#alice#inc1", "CLAIM", json!({"n": 2})), 1)
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "an expired item cannot be updated: {stale:?}"
    );
    assert_eq!(
        store
            .create(item("REPLIED#x#alice#inc1", "CLAIM", json!({"n": 3})))
            .await
            .unwrap(),
        Created::Yes,
        "an expired key can be claimed again"
    );
    let fresh = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (fresh.i64("n"), fresh.version, fresh.expires_at),
        (Some(3), 1, None)
    );

    let counter = Key::new("BUDGET#x", "WINDOW#2");
    store
        .increment(
            &counter,
            &[("posts", 7)],
            Some(clock.now() + Duration::seconds(5)),
        )
        .await
        .unwrap();
    clock.advance(Duration::seconds(5));
    let restarted = store
        .increment(
            &counter,
            &[("posts", 1)],
            Some(clock.now() + Duration::seconds(5)),
        )
        .await
        .unwrap();
    assert_eq!(restarted["posts"], 1, "an expired counter starts again");
}

async fn values_round_trip(store: Arc<dyn Store>, _clock: ManualClock) {
    let value = json!({
        "text": "Is @acme down? 🔥 ça marche pas",
        "empty": "",
        "int": -42,
        "big": 9_007_199_254_740_993_i64,
        "float": 0.25,
        "yes": true,
        "nothing": null,
        "list": [1, "two", {"three": 3}],
        "nested": {"a": {"b": [true, false]}}
    });
    store
        .create(item("MENTION#x#9", "META", value.clone()))
        .await
        .unwrap();
    let stored = store
        .get(&Key::new("MENTION#x#9", "META"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Value::Object(stored.attributes), value);
}

async fn reserved_names_and_deletes(store: Arc<dyn Store>, _clock: ManualClock) {
    let reserved = store.create(item("A", "B", json!({"version": 3}))).await;
    assert!(matches!(reserved, Err(StoreError::ReservedAttribute(name)) if name == "version"));
    store.create(item("A", "B", json!({"x": 1}))).await.unwrap();
    store.delete(&Key::new("A", "B")).await.unwrap();
    assert!(store.get(&Key::new("A", "B")).await.unwrap().is_none());
    store.delete(&Key::new("A", "B")).await.unwrap();
}

macro_rules! every_case {
    ($adapter:ident, $store:path) => {
        sitrep_tests::store_cases!(
            $adapter,
            $store,
            create_is_exactly_once,
            a_retried_write_recognises_its_own_earlier_attempt,
            racing_creates_have_one_winner,
            versioned_update_fails_on_a_stale_version,
            racing_updates_have_one_winner,
            put_overwrites_and_bumps_the_version,
            queries_by_prefix_range_order_and_limit,
            large_partitions_are_read_across_pages,
            counters_are_atomic,
            expired_items_are_absent_everywhere,
            values_round_trip,
            reserved_names_and_deletes,
        );
    };
}

every_case!(on_sqlite, sitrep_tests::sqlite_store_async);
every_case!(on_dynamodb, sitrep_tests::dynamo_store);

#[test]
fn the_clock_starts_where_the_cases_expect() {
    assert_eq!(epoch().timestamp() % 60, 0);
}
