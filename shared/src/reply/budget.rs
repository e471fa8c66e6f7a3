//! Posting budgets: how many posts each account may still make before a platform refuses
//! them, counted in the store so that every concurrent Lambda sees the same count.
//!
//! | platform | window | limit | a post costs | counted per |
//! |---|---|---|---|---|
//! | X | `user-15m` | 100 per 15 min | 1 | account |
//! | X | `app-24h` | 10,000 per 24 h | 1 | app: every X account of the deployment (scope `app`) |
//! | Mastodon | `requests-5m` | 300 per 5 min | 1 | account |
//! | Mastodon | `statuses-3h` | 300 per 3 h | 1 | account |
//! | Bluesky | `points-1h` | 5,000 points per hour | 3 | account |
//! | Bluesky | `points-1d` | 35,000 points per day | 3 | account |
//!
//! Windows are fixed and aligned to multiples of their length since the Unix epoch, so every
//! function computes the same window for the same instant without coordinating. The
//! platforms' own windows are not aligned with these, and Mastodon's request window also
//! counts the polls, which sitrep does not count here: [`Budget::correct`] raises a counter
//! to what the platform's response headers say was used, and [`Budget::pause`] stops an
//! account after a 429 until the platform's reset, so the platform's view always wins when
//! it is stricter.
//!
//! A reservation is an atomic increment followed by a check, and an increment past the limit
//! is given back: the count can therefore never grant more than the limit, even across
//! concurrent functions. While a refused increment is not yet given back, a racing request
//! may be refused although one slot was free; it waits for the next window, which errs on
//! the side the platform would.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::config::AccountId;
use crate::social::{Platform, RateLimit};
use crate::store::{self, Key, NewItem, Store, StoreError, keys};

/// Versioned writes a pause may lose before contention is reported.
const PAUSE_ATTEMPTS: usize = 8;
/// The counter attribute of a window item.
const USED: &str = "used";

/// The attribute of a pause item holding its end.
const UNTIL: &str = "until";

/// The scope of windows every account of the platform shares.
const APP_SCOPE: &str = "app";

/// How long a window's counter outlives the window: long enough for a late
/// [`Budget::release`] of a post reserved just before the window ended.
const COUNTER_GRACE: TimeDelta = TimeDelta::hours(1);

/// One posting limit of a platform: at most `limit` units per `length`, a post costing `cost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The window's name in keys and logs (`user-15m`).
    pub name: &'static str,
    /// How long one window lasts.
    pub length: TimeDelta,
    /// Units allowed in one window, in the platform's own units (requests or points).
    pub limit: u32,
    /// Units one post uses.
    pub cost: u32,
    /// Whether every account of the app shares the window rather than each having its own.
    pub shared_by_app: bool,
}

impl Window {
    /// The start of the window containing `at`.
    pub fn start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        // A zero or negative length would divide by zero; one millisecond keeps it harmless.
        let length = self.length.num_milliseconds().max(1);
        let millis = at.timestamp_millis();
        let start = millis - millis.rem_euclid(length);
        DateTime::from_timestamp_millis(start).unwrap_or(at)
    }

    /// The end of the window containing `at` (the start of the next one).
    pub fn end(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let start = self.start(at);
        start
            .checked_add_signed(self.length.max(TimeDelta::milliseconds(1)))
            .unwrap_or(start)
    }

    /// Whose count this window is: the account's, or the app's.
    fn scope<'a>(&self, account: &'a AccountId) -> &'a str {
        if self.shared_by_app {
            APP_SCOPE
        } else {
            account.as_str()
        }
    }

    fn cost(&self) -> i64 {
        i64::from(self.cost)
    }
}

/// The answer to a request to post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The post is counted: go ahead.
    Granted,
    /// Nothing is counted: the account may not post before this instant.
    WaitUntil(DateTime<Utc>),
}

/// One window's count, for logs and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The window's name.
    pub window: &'static str,
    /// Units used in the current window.
    pub used: i64,
    /// Units allowed in it.
    pub limit: u32,
    /// When the current window ends.
    pub resets: DateTime<Utc>,
}

/// The posting limits of one platform, with the counters that enforce them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    platform: Platform,
    windows: Vec<Window>,
}

impl Budget {
    /// The documented posting limits of `platform` (see the module table).
    pub fn of(platform: Platform) -> Self {
        let windows = match platform {
            Platform::X => vec![
                Window {
                    name: "user-15m",
                    length: TimeDelta::minutes(15),
                    limit: 100,
                    cost: 1,
                    shared_by_app: false,
                },
                Window {
                    name: "app-24h",
                    length: TimeDelta::hours(24),
                    limit: 10_000,
                    cost: 1,
                    shared_by_app: true,
                },
            ],
            Platform::Mastodon => vec![
                Window {
                    name: "requests-5m",
                    length: TimeDelta::minutes(5),
                    limit: 300,
                    cost: 1,
                    shared_by_app: false,
                },
                Window {
                    name: "statuses-3h",
                    length: TimeDelta::hours(3),
                    limit: 300,
                    cost: 1,
                    shared_by_app: false,
                },
            ],
            Platform::Bluesky => vec![
                Window {
                    name: "points-1h",
                    length: TimeDelta::hours(1),
                    limit: 5_000,
                    cost: 3,
                    shared_by_app: false,
                },
                Window {
                    name: "points-1d",
                    length: TimeDelta::days(1),
                    limit: 35_000,
                    cost: 3,
                    shared_by_app: false,
                },
            ],
        };
        Self { platform, windows }
    }

    /// The platform the budget is for.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Its windows.
    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    /// The counter item of `window` for `account` at `at`.
    pub fn counter_key(&self, window: &Window, account: &AccountId, at: DateTime<Utc>) -> Key {
        keys::budget_window(
            self.platform,
            window.scope(account),
            window.name,
            window.start(at),
        )
    }

    /// Counts one post on every window, unless the account is paused or a window is full.
    ///
    /// Each window's counter is incremented atomically by the post's cost; if any is then
    /// over its limit, every increment is given back and the answer is the latest end among
    /// the full windows, since posting earlier would still be refused by that one.
    pub async fn reserve(
        &self,
        store: &dyn Store,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        if let Some(until) = self.paused_until(store, account, now).await? {
            return Ok(Reservation::WaitUntil(until));
        }
        let mut counted: Vec<(Key, &Window)> = Vec::with_capacity(self.windows.len());
        let mut full_until: Option<DateTime<Utc>> = None;
        for window in &self.windows {
            let key = self.counter_key(window, account, now);
            let expiry = window.end(now) + COUNTER_GRACE;
            let used = match store
                .increment(&key, &[(USED, window.cost())], Some(expiry))
                .await
            {
                Ok(values) => values.get(USED).copied().unwrap_or(0),
                Err(error) => {
                    self.give_back(store, &counted, now).await;
                    return Err(error);
                }
            };
            counted.push((key, window));
            if used > i64::from(window.limit) {
                let end = window.end(now);
                full_until = Some(full_until.map_or(end, |until| until.max(end)));
            }
        }
        match full_until {
            Some(until) => {
                self.give_back(store, &counted, now).await;
                Ok(Reservation::WaitUntil(until))
            }
            None => Ok(Reservation::Granted),
        }
    }

    /// Gives back a granted reservation for a post that certainly did not happen, on the
    /// windows that contained `reserved_at`.
    ///
    /// A counter is never taken below zero: a window whose counter has already expired, or
    /// one released twice, gives nothing back rather than credit posts that were never
    /// counted.
    pub async fn release(
        &self,
        store: &dyn Store,
        account: &AccountId,
        reserved_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for window in &self.windows {
            let key = self.counter_key(window, account, reserved_at);
            let Some(item) = store.get(&key).await? else {
                continue;
            };
            let back = item.i64(USED).unwrap_or(0).min(window.cost());
            if back > 0 {
                // Should the item expire in between, the increment recreates it already
                // expired, so no negative count can outlive this call.
                let expiry = window.end(reserved_at) + COUNTER_GRACE;
                store
                    .increment(&key, &[(USED, -back)], Some(expiry))
                    .await?;
            }
        }
        Ok(())
    }

    /// Raises a counter to what the platform's response headers say was used, when that is
    /// more than sitrep counted (other clients of the account, polls on Mastodon, a window
    /// misaligned with ours). Never lowers a counter: a lower platform count may just not
    /// include posts in flight.
    ///
    /// The window is the one whose limit equals `rate.limit` and whose length is the shortest
    /// that still reaches `rate.reset`, which tells Mastodon's two 300-unit windows apart.
    /// Headers whose reset has passed describe a window that is over, and change nothing.
    pub async fn correct(
        &self,
        store: &dyn Store,
        account: &AccountId,
        rate: &RateLimit,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Some(window) = self.window_for(rate, now) else {
            return Ok(());
        };
        let platform_used = i64::from(rate.limit.saturating_sub(rate.remaining));
        let key = self.counter_key(window, account, now);
        let ours = match store.get(&key).await? {
            Some(item) => item.i64(USED).unwrap_or(0),
            None => 0,
        };
        if platform_used > ours {
            // An increment rather than a write of the value: reservations made meanwhile stay
            // counted, and two racing corrections can only over-count, never under-count.
            let expiry = window.end(now) + COUNTER_GRACE;
            store
                .increment(&key, &[(USED, platform_used - ours)], Some(expiry))
                .await?;
        }
        Ok(())
    }

    /// The window a platform's rate-limit headers describe, if any.
    pub fn window_for(&self, rate: &RateLimit, now: DateTime<Utc>) -> Option<&Window> {
        let until_reset = rate.reset - now;
        if until_reset <= TimeDelta::zero() {
            return None;
        }
        self.windows
            .iter()
            .filter(|w| w.limit == rate.limit && w.length >= until_reset)
            .min_by_key(|w| w.length)
    }

    /// Stops all posting on `account` until `until` (after a 429). A pause ending later than
    /// the one asked for is kept.
    pub async fn pause(
        &self,
        store: &dyn Store,
        account: &AccountId,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = keys::budget_pause(self.platform, account.as_str());
        let mut attributes = Map::new();
        attributes.insert(UNTIL.to_owned(), Value::from(keys::timestamp(until)));
        // The store keeps whole seconds and drops an item at its expiry second: round up so
        // the pause never ends before `until`.
        let expiry = ceil_to_second(until);
        // Each lost race means another writer paused the account; a few are plenty.
        for _ in 0..PAUSE_ATTEMPTS {
            let existing = store.get(&key).await?;
            if let Some(item) = &existing
                && pause_end(item)? >= until
            {
                return Ok(());
            }
            // A versioned write: two functions pausing at once cannot let the earlier end
            // overwrite the later one.
            let item = NewItem::new(key.clone(), attributes.clone()).expiring_at(expiry);
            if store::write_over(store, item, existing.map(|i| i.version))
                .await?
                .is_some()
            {
                return Ok(());
            }
        }
        Err(StoreError::Backend(format!(
            "the pause of {account} kept changing under contention"
        )))
    }

    /// When the account's pause ends, if it is paused at `now`.
    pub async fn paused_until(
        &self,
        store: &dyn Store,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = keys::budget_pause(self.platform, account.as_str());
        match store.get(&key).await? {
            Some(item) => {
                let until = pause_end(&item)?;
                Ok((until > now).then_some(until))
            }
            None => Ok(None),
        }
    }

    /// Every window's count for `account` at `now`.
    pub async fn usage(
        &self,
        store: &dyn Store,
        account: &AccountId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Usage>, StoreError> {
        let mut usage = Vec::with_capacity(self.windows.len());
        for window in &self.windows {
            let key = self.counter_key(window, account, now);
            let used = match store.get(&key).await? {
                Some(item) => item.i64(USED).unwrap_or(0),
                None => 0,
            };
            usage.push(Usage {
                window: window.name,
                used,
                limit: window.limit,
                resets: window.end(now),
            });
        }
        Ok(usage)
    }

    /// Undoes the increments of a refused or failed reservation. A failure here only leaves
    /// the count too high until its window ends, which is the safe direction, so it is
    /// logged rather than returned over the answer already decided.
    async fn give_back(&self, store: &dyn Store, counted: &[(Key, &Window)], now: DateTime<Utc>) {
        for (key, window) in counted {
            let expiry = window.end(now) + COUNTER_GRACE;
            if let Err(error) = store
                .increment(key, &[(USED, -window.cost())], Some(expiry))
                .await
            {
                tracing::warn!(
                    platform = %self.platform,
                    %key,
                    %error,
                    "could not give back a refused posting reservation; the window stays over-counted"
                );
            }
        }
    }
}

/// The end of a stored pause.
fn pause_end(item: &store::Item) -> Result<DateTime<Utc>, StoreError> {
    let malformed = |reason: String| StoreError::Malformed {
        key: item.key.clone(),
        reason,
    };
    let text = item
        .str(UNTIL)
        .ok_or_else(|| malformed(format!("`{UNTIL}` is missing")))?;
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| malformed(format!("`{UNTIL}` is not a timestamp: {e}")))
}

/// `at`, rounded up to a whole second.
fn ceil_to_second(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
    if floor < at {
        floor + TimeDelta::seconds(1)
    } else {
        floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, s).unwrap()
    }

    fn window(budget: &Budget, name: &str) -> Window {
        budget
            .windows()
            .iter()
            .find(|w| w.name == name)
            .unwrap()
            .clone()
    }

    #[test]
    fn windows_are_aligned_to_multiples_of_their_length_since_the_epoch() {
        let x = Budget::of(Platform::X);
        let user = window(&x, "user-15m");
        assert_eq!(user.start(at(10, 14, 59)), at(10, 0, 0));
        assert_eq!(user.start(at(10, 15, 0)), at(10, 15, 0));
        assert_eq!(user.end(at(10, 15, 0)), at(10, 30, 0));
        assert_eq!(
            user.start(at(10, 29, 59) + TimeDelta::milliseconds(999)),
            at(10, 15, 0)
        );
        let app = window(&x, "app-24h");
        assert_eq!(app.start(at(23, 59, 59)), at(0, 0, 0));
        assert_eq!(
            app.end(at(0, 0, 0)),
            Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap()
        );

        // Three hours do not divide a day's boundary away: 2026-11-23 00:00 is 493,104 h
        // after the epoch, a multiple of 3.
        let statuses = window(&Budget::of(Platform::Mastodon), "statuses-3h");
        assert_eq!(statuses.start(at(10, 0, 0)), at(9, 0, 0));
        assert_eq!(statuses.end(at(10, 0, 0)), at(12, 0, 0));
    }

    #[test]
    fn windows_before_the_epoch_still_start_before_the_instant() {
        let user = window(&Budget::of(Platform::X), "user-15m");
        let before = Utc.with_ymd_and_hms(1969, 12, 31, 23, 50, 0).unwrap();
        assert_eq!(
            user.start(before),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 45, 0).unwrap()
        );
    }

    #[test]
    fn a_zero_length_window_does_not_panic() {
        let odd = Window {
            name: "odd",
            length: TimeDelta::zero(),
            limit: 1,
            cost: 1,
            shared_by_app: false,
        };
        assert_eq!(odd.start(at(10, 0, 0)), at(10, 0, 0));
        assert!(odd.end(at(10, 0, 0)) > at(10, 0, 0));
    }

    #[test]
    fn counter_keys_name_the_scope_window_and_start() {
        let x = Budget::of(Platform::X);
        let account = AccountId::parse("acme-x").unwrap();
        let user = window(&x, "user-15m");
        let app = window(&x, "app-24h");
        assert_eq!(
            x.counter_key(&user, &account, at(10, 7, 0)),
            Key::new("BUDGET#x#acme-x", "user-15m#2026-11-23T10:00:00.000Z")
        );
        assert_eq!(
            x.counter_key(&app, &account, at(10, 7, 0)),
            Key::new("BUDGET#x#app", "app-24h#2026-11-23T00:00:00.000Z")
        );
    }

    #[test]
    fn the_documented_limits() {
        let summary = |p| {
            Budget::of(p)
                .windows()
                .iter()
                .map(|w| {
                    (
                        w.name,
                        w.length.num_seconds(),
                        w.limit,
                        w.cost,
                        w.shared_by_app,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            summary(Platform::X),
            [
                ("user-15m", 900, 100, 1, false),
                ("app-24h", 86_400, 10_000, 1, true)
            ]
        );
        assert_eq!(
            summary(Platform::Mastodon),
            [
                ("requests-5m", 300, 300, 1, false),
                ("statuses-3h", 10_800, 300, 1, false)
            ]
        );
        assert_eq!(
            summary(Platform::Bluesky),
            [
                ("points-1h", 3_600, 5_000, 3, false),
                ("points-1d", 86_400, 35_000, 3, false)
            ]
        );
    }

    #[test]
    fn headers_pick_the_shortest_window_with_their_limit_that_reaches_the_reset() {
        let mastodon = Budget::of(Platform::Mastodon);
        let now = at(10, 0, 0);
        let rate = |limit, reset| RateLimit {
            limit,
            remaining: 0,
            reset,
        };
        let name = |rate: RateLimit| mastodon.window_for(&rate, now).map(|w| w.name);
        assert_eq!(
            name(rate(300, now + TimeDelta::minutes(4))),
            Some("requests-5m")
        );
        assert_eq!(
            name(rate(300, now + TimeDelta::minutes(5))),
            Some("requests-5m")
        );
        assert_eq!(
            name(rate(300, now + TimeDelta::minutes(6))),
            Some("statuses-3h")
        );
        assert_eq!(name(rate(300, now + TimeDelta::hours(4))), None);
        assert_eq!(name(rate(1_500, now + TimeDelta::minutes(4))), None);
        assert_eq!(name(rate(300, now)), None, "a reset already passed");

        let bluesky = Budget::of(Platform::Bluesky);
        let points = |limit, reset| bluesky.window_for(&rate(limit, reset), now).map(|w| w.name);
        assert_eq!(
            points(5_000, now + TimeDelta::minutes(30)),
            Some("points-1h")
        );
        assert_eq!(
            points(35_000, now + TimeDelta::minutes(30)),
            Some("points-1d")
        );
    }

    #[test]
    fn expiry_rounds_up_to_the_second() {
        let t = at(10, 0, 0);
        assert_eq!(ceil_to_second(t), t);
        assert_eq!(
            ceil_to_second(t + TimeDelta::milliseconds(1)),
            t + TimeDelta::seconds(1)
        );
    }
}
