//! Posting budget rules on the manual clock, on both adapters — SQLite (the embedded store)
//! and DynamoDB (on moto): a full window waits until it ends, the X app window is shared by
//! every account, Bluesky posts cost 3 points, a release gives a post back, the platform's
//! count raises ours but never lowers it, a 429 pauses the account until its reset, and
//! racing reservations never grant more than the limit.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use shared::clock::{Clock, ManualClock};
use shared::config::AccountId;
use shared::reply::budget::{Budget, Reservation};
use shared::social::{Platform, RateLimit};
use shared::store::Store;
use sitrep_tests::epoch;

fn account(id: &str) -> AccountId {
    AccountId::parse(id).unwrap()
}

/// The count of one window of `account` at `at`.
async fn used(
    store: &dyn Store,
    budget: &Budget,
    account: &AccountId,
    window: &str,
    at: DateTime<Utc>,
) -> i64 {
    budget
        .usage(store, account, at)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.window == window)
        .unwrap_or_else(|| panic!("no window {window}"))
        .used
}

/// Reserves `n` posts in a row, asserting each is granted.
async fn grant(
    store: &dyn Store,
    budget: &Budget,
    account: &AccountId,
    n: usize,
    clock: &ManualClock,
) {
    for i in 0..n {
        assert_eq!(
            budget.reserve(store, account, clock.now()).await.unwrap(),
            Reservation::Granted,
            "post {} of {n}",
            i + 1
        );
    }
}

async fn a_full_x_window_waits_until_it_ends_and_the_next_one_grants(
    store: Arc<dyn Store>,
    clock: ManualClock,
) {
    let store = store.as_ref();
    let x = Budget::of(Platform::X);
    let acme = account("acme-x");
    clock.advance(Duration::minutes(3));
    grant(store, &x, &acme, 100, &clock).await;

    let window_end = epoch() + Duration::minutes(15);
    assert_eq!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(window_end)
    );
    assert_eq!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(window_end),
        "asking again changes nothing"
    );
    assert_eq!(used(store, &x, &acme, "user-15m", clock.now()).await, 100);
    assert_eq!(
        used(store, &x, &acme, "app-24h", clock.now()).await,
        100,
        "a refused post is given back on every window"
    );

    clock.set(window_end - Duration::milliseconds(1));
    assert!(matches!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(_)
    ));
    clock.set(window_end);
    grant(store, &x, &acme, 1, &clock).await;
    assert_eq!(used(store, &x, &acme, "user-15m", clock.now()).await, 1);
    assert_eq!(used(store, &x, &acme, "app-24h", clock.now()).await, 101);
}

async fn the_x_app_window_is_shared_by_every_account(store: Arc<dyn Store>, clock: ManualClock) {
    let store = store.as_ref();
    let x = Budget::of(Platform::X);
    let (support, status) = (account("acme-support"), account("acme-status"));
    grant(store, &x, &support, 3, &clock).await;
    grant(store, &x, &status, 2, &clock).await;
    assert_eq!(used(store, &x, &support, "user-15m", clock.now()).await, 3);
    assert_eq!(used(store, &x, &status, "user-15m", clock.now()).await, 2);
    assert_eq!(used(store, &x, &support, "app-24h", clock.now()).await, 5);
    assert_eq!(used(store, &x, &status, "app-24h", clock.now()).await, 5);

    // The app's daily headers say one post is left today.
    let headers = RateLimit {
        limit: 10_000,
        remaining: 1,
        reset: clock.now() + Duration::hours(6),
    };
    x.correct(store, &support, &headers, clock.now())
        .await
        .unwrap();
    assert_eq!(
        used(store, &x, &status, "app-24h", clock.now()).await,
        9_999
    );

    grant(store, &x, &status, 1, &clock).await;
    let midnight = epoch() + Duration::hours(14);
    assert_eq!(
        x.reserve(store, &support, clock.now()).await.unwrap(),
        Reservation::WaitUntil(midnight),
        "the other account spent the app's last post, though this one's own window has room"
    );
    assert_eq!(
        used(store, &x, &support, "user-15m", clock.now()).await,
        3,
        "the refused post is given back on the account's own window too"
    );

    clock.set(midnight);
    grant(store, &x, &support, 1, &clock).await;
}

async fn bluesky_posts_cost_three_points(store: Arc<dyn Store>, clock: ManualClock) {
    let store = store.as_ref();
    let bluesky = Budget::of(Platform::Bluesky);
    let acme = account("acme-bsky");
    // A few at a time: moto answers one request at a time, but the round trips overlap.
    let now = clock.now();
    let granted = futures::stream::iter(0..1_666)
        .map(|_| bluesky.reserve(store, &acme, now))
        .buffer_unordered(8)
        .filter(|r| futures::future::ready(*r.as_ref().unwrap() == Reservation::Granted))
        .count()
        .await;
    assert_eq!(granted, 1_666);
    assert_eq!(
        used(store, &bluesky, &acme, "points-1h", clock.now()).await,
        4_998
    );
    assert_eq!(
        bluesky.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(epoch() + Duration::hours(1)),
        "the 1,667th post would need 5,001 points"
    );
    assert_eq!(
        used(store, &bluesky, &acme, "points-1d", clock.now()).await,
        4_998
    );
}

async fn a_release_gives_one_post_back(store: Arc<dyn Store>, clock: ManualClock) {
    let store = store.as_ref();
    let x = Budget::of(Platform::X);
    let acme = account("acme-x");
    let first = clock.now();
    grant(store, &x, &acme, 100, &clock).await;
    assert!(matches!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(_)
    ));

    clock.advance(Duration::minutes(1));
    x.release(store, &acme, first).await.unwrap();
    assert_eq!(used(store, &x, &acme, "user-15m", clock.now()).await, 99);
    assert_eq!(used(store, &x, &acme, "app-24h", clock.now()).await, 99);
    grant(store, &x, &acme, 1, &clock).await;
    assert!(matches!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(_)
    ));

    // A release from an earlier window leaves the current one alone; its own window gives
    // the post back.
    clock.set(epoch() + Duration::minutes(20));
    grant(store, &x, &acme, 1, &clock).await;
    x.release(store, &acme, first).await.unwrap();
    assert_eq!(used(store, &x, &acme, "user-15m", clock.now()).await, 1);
    assert_eq!(used(store, &x, &acme, "user-15m", first).await, 99);

    // Nothing is given back where nothing was counted: no negative budget.
    let fresh = account("acme-quiet");
    x.release(store, &fresh, clock.now()).await.unwrap();
    assert_eq!(used(store, &x, &fresh, "user-15m", clock.now()).await, 0);
}

async fn the_platform_count_raises_ours_but_never_lowers_it(
    store: Arc<dyn Store>,
    clock: ManualClock,
) {
    let store = store.as_ref();
    let x = Budget::of(Platform::X);
    let acme = account("acme-x");
    grant(store, &x, &acme, 10, &clock).await;
    let headers = |remaining| RateLimit {
        limit: 100,
        remaining,
        reset: clock.now() + Duration::minutes(12),
    };

    x.correct(store, &acme, &headers(95), clock.now())
        .await
        .unwrap();
    assert_eq!(
        used(store, &x, &acme, "user-15m", clock.now()).await,
        10,
        "a lower platform count may just miss posts in flight"
    );

    x.correct(store, &acme, &headers(40), clock.now())
        .await
        .unwrap();
    assert_eq!(used(store, &x, &acme, "user-15m", clock.now()).await, 60);
    assert_eq!(
        used(store, &x, &acme, "app-24h", clock.now()).await,
        10,
        "the user headers say nothing about the app's day"
    );
    grant(store, &x, &acme, 40, &clock).await;
    assert!(matches!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(_)
    ));

    // Headers for no known window, or for a window already over, change nothing.
    let unknown = RateLimit {
        limit: 300,
        remaining: 0,
        reset: clock.now() + Duration::minutes(5),
    };
    let stale = RateLimit {
        reset: clock.now() - Duration::seconds(1),
        ..headers(0)
    };
    let other = account("acme-other");
    x.correct(store, &other, &unknown, clock.now())
        .await
        .unwrap();
    x.correct(store, &other, &stale, clock.now()).await.unwrap();
    assert_eq!(used(store, &x, &other, "user-15m", clock.now()).await, 0);

    // Mastodon's two windows share a limit of 300: the reset tells them apart.
    let mastodon = Budget::of(Platform::Mastodon);
    let toot = account("acme-mastodon");
    let polls = RateLimit {
        limit: 300,
        remaining: 120,
        reset: clock.now() + Duration::minutes(2),
    };
    mastodon
        .correct(store, &toot, &polls, clock.now())
        .await
        .unwrap();
    assert_eq!(
        used(store, &mastodon, &toot, "requests-5m", clock.now()).await,
        180
    );
    assert_eq!(
        used(store, &mastodon, &toot, "statuses-3h", clock.now()).await,
        0
    );
    let statuses = RateLimit {
        limit: 300,
        remaining: 290,
        reset: clock.now() + Duration::minutes(50),
    };
    mastodon
        .correct(store, &toot, &statuses, clock.now())
        .await
        .unwrap();
    assert_eq!(
        used(store, &mastodon, &toot, "statuses-3h", clock.now()).await,
        10
    );
}

async fn a_pause_stops_the_account_until_it_ends(store: Arc<dyn Store>, clock: ManualClock) {
    let store = store.as_ref();
    let x = Budget::of(Platform::X);
    let acme = account("acme-x");
    let until = clock.now() + Duration::minutes(10);
    x.pause(store, &acme, until).await.unwrap();
    assert_eq!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(until)
    );
    assert_eq!(
        used(store, &x, &acme, "user-15m", clock.now()).await,
        0,
        "a paused account counts nothing"
    );
    grant(store, &x, &account("acme-other"), 1, &clock).await;

    x.pause(store, &acme, until - Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(
        x.paused_until(store, &acme, clock.now()).await.unwrap(),
        Some(until),
        "an earlier end does not shorten a pause"
    );
    let later = until + Duration::minutes(10);
    x.pause(store, &acme, later).await.unwrap();
    assert_eq!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(later)
    );

    clock.set(later - Duration::seconds(1));
    assert_eq!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(later)
    );
    clock.set(later);
    grant(store, &x, &acme, 1, &clock).await;
    assert_eq!(
        x.paused_until(store, &acme, clock.now()).await.unwrap(),
        None
    );

    // The store keeps whole seconds: a pause ending mid-second still holds until then.
    let odd = clock.now() + Duration::seconds(30) + Duration::milliseconds(500);
    x.pause(store, &acme, odd).await.unwrap();
    clock.set(odd - Duration::milliseconds(300));
    assert_eq!(
        x.reserve(store, &acme, clock.now()).await.unwrap(),
        Reservation::WaitUntil(odd)
    );
    clock.set(odd);
    grant(store, &x, &acme, 1, &clock).await;
}

async fn racing_reservations_grant_exactly_the_limit(store: Arc<dyn Store>, clock: ManualClock) {
    let x = Budget::of(Platform::X);
    let acme = account("acme-x");
    let now = clock.now();
    let attempts = (0..150).map(|_| {
        let (store, x, acme) = (Arc::clone(&store), x.clone(), acme.clone());
        tokio::spawn(async move { x.reserve(store.as_ref(), &acme, now).await.unwrap() })
    });
    let results: Vec<Reservation> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();
    let granted = results
        .iter()
        .filter(|r| **r == Reservation::Granted)
        .count();
    assert_eq!(granted, 100, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| **r != Reservation::Granted)
            .all(|r| *r == Reservation::WaitUntil(epoch() + Duration::minutes(15)))
    );
    assert_eq!(used(store.as_ref(), &x, &acme, "user-15m", now).await, 100);
    assert_eq!(used(store.as_ref(), &x, &acme, "app-24h", now).await, 100);
}

macro_rules! rules {
    ($adapter:ident, $store:path, $($rule:ident),+ $(,)?) => {
        mod $adapter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $rule() {
                    let clock = shared::clock::ManualClock::new(sitrep_tests::epoch());
                    let store = $store(&clock).await;
                    super::$rule(store, clock).await;
                }
            )+
        }
    };
}

async fn sqlite(clock: &ManualClock) -> Arc<dyn Store> {
    sitrep_tests::sqlite_store(clock)
}

async fn dynamodb(clock: &ManualClock) -> Arc<dyn Store> {
    sitrep_tests::dynamo_store(clock).await
}

macro_rules! every_rule {
    ($adapter:ident, $store:path) => {
        rules!(
            $adapter,
            $store,
            a_full_x_window_waits_until_it_ends_and_the_next_one_grants,
            the_x_app_window_is_shared_by_every_account,
            bluesky_posts_cost_three_points,
            a_release_gives_one_post_back,
            the_platform_count_raises_ours_but_never_lowers_it,
            a_pause_stops_the_account_until_it_ends,
            racing_reservations_grant_exactly_the_limit,
        );
    };
}

every_rule!(on_sqlite, super::sqlite);
every_rule!(on_dynamodb, super::dynamodb);

#[test]
fn the_clock_starts_on_a_window_boundary() {
    // The expected window ends above are counted from here.
    assert_eq!(epoch().timestamp() % 3_600, 0);
    assert_eq!(epoch() + Duration::hours(14), {
        let next_day = epoch().date_naive().succ_opt().unwrap();
        next_day.and_hms_opt(0, 0, 0).unwrap().and_utc()
    });
}
