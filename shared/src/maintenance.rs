//! Planned maintenance windows in named time zones.
//!
//! While a window is active, the components it names are shown "under maintenance" and no
//! incident is opened for them. Vendors announce maintenance in their own local time
//! ("Sundays 02:00 to 04:00 Europe/London"), so windows are kept in local wall-clock time and
//! only turned into instants when evaluated, at an instant the caller passes in (from the
//! injected clock), which keeps every answer deterministic.
//!
//! # Daylight-saving rules
//!
//! Local times are mapped to instants with these rules, applied alike to one-off starts and
//! ends and to each day's start of a recurring window:
//!
//! - **A local time that does not exist** (it falls in the gap when clocks go forward) becomes
//!   the instant the clock jumps to, i.e. the first instant after the gap. 02:30 on
//!   2026-03-08 in America/New_York, where clocks go from 02:00 straight to 03:00, starts at
//!   03:00 EDT. Starting late rather than early means maintenance never begins before the time
//!   the vendor announced, and the window still happens that day instead of being skipped.
//! - **An ambiguous local time** (it happens twice when clocks go back) is the *earlier* of the
//!   two instants, and a recurring window still happens only once that day.
//! - **A recurring window lasts `duration` of elapsed time** from that resolved start, whatever
//!   the clocks do meanwhile: two hours from 00:30 on a night when clocks go back end two real
//!   hours later, at 01:30 on the second pass of the wall clock.
//! - A recurring window belongs to the local day it *starts* on: `days` filters start days, and
//!   a window that runs past midnight (or for up to seven days) stays active into the next days.
//!
//! Intervals are half-open, `[start, end)`: active from the start instant, no longer at the end.
//!
//! Windows are evaluated without trusting that [`Schedule::validate`] was called: a schedule it
//! would reject is simply never active, so no input can make evaluation panic or loop for long.

use chrono::{
    DateTime, Datelike, Duration, MappedLocalTime, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
use chrono_tz::{GapInfo, TZ_VARIANTS, Tz};

use crate::config::ComponentId;

/// The longest recurring window: a longer weekly window would run into the next one, so the
/// components would never leave maintenance.
const MAX_RECURRING_DURATION: Duration = Duration::days(7);

/// Extra local days searched around an instant for recurring starts. A UTC offset can change by
/// up to a whole day at once (Pacific/Apia skipped 2011-12-30), so an instant's local date can
/// be a day off from the date an occurrence "belongs" to; two days of slack covers that.
const SEARCH_MARGIN_DAYS: i64 = 2;

/// A `[start, end)` pair of instants.
type Interval = (DateTime<Utc>, DateTime<Utc>);

/// A planned maintenance window for some components.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    /// What the vendor calls it, shown to users.
    pub title: String,
    /// The components that are under maintenance while the window is active.
    pub components: Vec<ComponentId>,
    /// When the window is active.
    pub schedule: Schedule,
}

/// When a window is active.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// From `start` to `end`, wall-clock times in `zone`.
    OneOff {
        /// The zone `start` and `end` are read in.
        zone: Tz,
        /// First local time covered.
        start: NaiveDateTime,
        /// First local time no longer covered.
        end: NaiveDateTime,
    },
    /// On `days` (empty = every day) at local `at`, lasting `duration` of real (elapsed) time.
    Recurring {
        /// The zone `at` is read in.
        zone: Tz,
        /// The local weekdays a window starts on; empty means every day.
        days: Vec<Weekday>,
        /// Local time of day each window starts.
        at: NaiveTime,
        /// Elapsed time each window lasts, more than zero and at most seven days.
        duration: Duration,
    },
}

impl MaintenanceWindow {
    /// Whether the window covers instant `t`.
    pub fn active_at(&self, t: DateTime<Utc>) -> bool {
        self.occurrence_at(t).is_some()
    }

    /// Whether the window names this component.
    pub fn covers(&self, component: &ComponentId) -> bool {
        self.components.contains(component)
    }

    /// The active interval `[start, end)` containing `t`, if any (for "under maintenance until
    /// 04:00" messages). When occurrences of a recurring window overlap (a duration longer than
    /// the time between start days), the one that started last is returned, as it ends last.
    pub fn occurrence_at(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.schedule.occurrence_at(t)
    }

    /// The next occurrence that starts at or after `t`, if any (one-off windows in the past, or
    /// already under way, have none).
    pub fn next_start_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.next_start_after(t)
    }
}

impl Schedule {
    /// Checks what the types cannot: a one-off ends after it starts, a recurring window lasts
    /// more than zero and at most seven days and lists each weekday once.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Schedule::OneOff { zone, start, end } => {
                if end <= start {
                    return Err("`end` must be after `start`".to_owned());
                }
                match (resolve(*zone, *start), resolve(*zone, *end)) {
                    (Some(first), Some(last)) if first < last => Ok(()),
                    // Both ends moved to the same instant: the window would never be active.
                    (Some(_), Some(_)) => Err(format!(
                        "`start` and `end` both fall in the gap when clocks go forward in `{}`, \
                         so the window would be empty",
                        zone.name()
                    )),
                    _ => Err("`start` or `end` is outside the supported date range".to_owned()),
                }
            }
            Schedule::Recurring { days, duration, .. } => {
                if *duration <= Duration::zero() {
                    return Err("`duration` must be more than zero".to_owned());
                }
                if *duration > MAX_RECURRING_DURATION {
                    return Err("`duration` must be at most 7 days".to_owned());
                }
                for (index, day) in days.iter().enumerate() {
                    if days[..index].contains(day) {
                        return Err(format!("weekday `{}` is listed twice", weekday_name(*day)));
                    }
                }
                Ok(())
            }
        }
    }

    /// The occurrence containing `t`; the latest-starting one if several do.
    fn occurrence_at(&self, t: DateTime<Utc>) -> Option<Interval> {
        let contains = |&(start, end): &Interval| start <= t && t < end;
        match self {
            Schedule::OneOff { zone, start, end } => {
                one_off_interval(*zone, *start, *end).filter(contains)
            }
            Schedule::Recurring {
                zone,
                days,
                at,
                duration,
            } => {
                let duration = usable_duration(*duration)?;
                let today = local_of(*zone, t)?.date();
                // An occurrence that started `duration` ago began on a local date at most that
                // many whole days back, give or take an offset change; tomorrow is included for
                // zones whose offset jumps by a day.
                let lookback = duration.num_days() + SEARCH_MARGIN_DAYS;
                (-1..=lookback)
                    .filter_map(|back| shift(today, -back))
                    .filter_map(|date| recurring_on(*zone, days, *at, duration, date))
                    .filter(contains)
                    .max_by_key(|&(start, _)| start)
            }
        }
    }

    /// The earliest occurrence start at or after `t`.
    fn next_start_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::OneOff { zone, start, end } => one_off_interval(*zone, *start, *end)
                .map(|(start, _)| start)
                .filter(|start| *start >= t),
            Schedule::Recurring {
                zone,
                days,
                at,
                duration,
            } => {
                let duration = usable_duration(*duration)?;
                let today = local_of(*zone, t)?.date();
                // Every weekday comes round within a week; the margins absorb offset jumps.
                (-SEARCH_MARGIN_DAYS..=7 + SEARCH_MARGIN_DAYS)
                    .filter_map(|ahead| shift(today, ahead))
                    .filter_map(|date| recurring_on(*zone, days, *at, duration, date))
                    .map(|(start, _)| start)
                    .filter(|start| *start >= t)
                    .min()
            }
        }
    }
}

/// A one-off window's instants, or `None` if it is empty or cannot be placed in time.
fn one_off_interval(zone: Tz, start: NaiveDateTime, end: NaiveDateTime) -> Option<Interval> {
    let start = resolve(zone, start)?;
    let end = resolve(zone, end)?;
    (start < end).then_some((start, end))
}

/// The occurrence of a recurring window that starts on local `date`, if it runs that day.
fn recurring_on(
    zone: Tz,
    days: &[Weekday],
    at: NaiveTime,
    duration: Duration,
    date: NaiveDate,
) -> Option<Interval> {
    if !days.is_empty() && !days.contains(&date.weekday()) {
        return None;
    }
    let start = resolve(zone, date.and_time(at))?;
    let end = start.checked_add_signed(duration)?;
    Some((start, end))
}

/// `duration` if [`Schedule::validate`] would accept it. Evaluation refuses other durations
/// rather than guess, which also bounds how many days are searched.
fn usable_duration(duration: Duration) -> Option<Duration> {
    (duration > Duration::zero() && duration <= MAX_RECURRING_DURATION).then_some(duration)
}

/// Maps a local time in `zone` to an instant with the module's DST rules: a time in a gap is
/// the first instant after the gap, an ambiguous time the earlier instant. `None` only for
/// times too far out for chrono to represent.
pub(crate) fn resolve(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        MappedLocalTime::Single(instant) => Some(instant.with_timezone(&Utc)),
        // Ordered by value rather than trusting the pair's order.
        MappedLocalTime::Ambiguous(one, other) => {
            Some(one.with_timezone(&Utc).min(other.with_timezone(&Utc)))
        }
        MappedLocalTime::None => gap_end(zone, local),
    }
}

/// The instant the clock jumps to when `local` falls in a gap, i.e. the moment the offset
/// changes. `None` if `local` is not in a gap (chrono also answers "none" on overflow).
fn gap_end(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let gap = GapInfo::new(&local, &zone)?;
    if let Some(after) = gap.end {
        return Some(after.with_timezone(&Utc));
    }
    // chrono-tz leaves `end` out when the wall time right after the gap is itself ambiguous;
    // the gap's first wall time read with the offset before it is the same instant.
    let (first_missing, offset_before) = gap.begin?;
    first_missing
        .checked_sub_offset(offset_before.fix())
        .map(|utc| utc.and_utc())
}

/// The wall-clock time in `zone` at instant `t`; `None` only at the edges of chrono's range,
/// where `DateTime::naive_local` would panic.
pub(crate) fn local_of(zone: Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc().checked_add_offset(offset)
}

/// `date` moved by `days` days, `None` past chrono's calendar range.
pub(crate) fn shift(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    date.checked_add_signed(Duration::try_days(days)?)
}

/// The short lower-case name used in the config and in messages.
fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// Parses an IANA time zone name such as `Europe/London` (exact spelling, as in the tz
/// database).
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("time zone is empty: expected an IANA name such as `Europe/London`".to_owned());
    }
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    // Names are case-sensitive in the tz database; a case slip is the likeliest typo to hint at.
    match TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(name))
    {
        Some(zone) => Err(format!(
            "unknown time zone `{name}` (did you mean `{}`?)",
            zone.name()
        )),
        None => Err(format!("unknown time zone `{name}`")),
    }
}

/// Parses a local date and time: `2026-11-29T02:00` or `2026-11-29 02:00`, optionally with
/// `:SS`. No UTC offset: the zone is given separately.
pub fn parse_local_datetime(text: &str) -> Result<NaiveDateTime, String> {
    let text = text.trim();
    let invalid = |why: &str| format!("`{text}` is not a local date and time: {why}");
    let expected = "expected `YYYY-MM-DDTHH:MM`, optionally with `:SS`";
    let Some((date, time)) = text.split_once(['T', ' ']) else {
        return Err(invalid(expected));
    };
    if time.ends_with(['Z', 'z']) || time.contains(['+', '-']) {
        return Err(invalid(
            "a local time takes no UTC offset or `Z`; the time zone is given separately",
        ));
    }
    let date = parse_date(date).map_err(|why| invalid(why.unwrap_or(expected)))?;
    let time = parse_clock(time).map_err(|why| invalid(why.unwrap_or(expected)))?;
    Ok(date.and_time(time))
}

/// Parses a time of day: `02:00`, `2:30` or `23:59:30`.
pub fn parse_time_of_day(text: &str) -> Result<NaiveTime, String> {
    let text = text.trim();
    parse_clock(text).map_err(|why| {
        format!(
            "`{text}` is not a time of day: {}",
            why.unwrap_or("expected `HH:MM` or `HH:MM:SS`")
        )
    })
}

/// Parses a weekday: `mon` to `sun` or `monday` to `sunday`, in any case.
pub fn parse_weekday(text: &str) -> Result<Weekday, String> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Ok(Weekday::Mon),
        "tue" | "tuesday" => Ok(Weekday::Tue),
        "wed" | "wednesday" => Ok(Weekday::Wed),
        "thu" | "thursday" => Ok(Weekday::Thu),
        "fri" | "friday" => Ok(Weekday::Fri),
        "sat" | "saturday" => Ok(Weekday::Sat),
        "sun" | "sunday" => Ok(Weekday::Sun),
        _ => Err(format!(
            "unknown weekday `{text}`: expected `mon` to `sun` or `monday` to `sunday`"
        )),
    }
}

/// `YYYY-MM-DD`. The error is a specific reason, or `None` for "not in the expected shape".
fn parse_date(text: &str) -> Result<NaiveDate, Option<&'static str>> {
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(None);
    };
    let (Some(year), Some(month), Some(day)) =
        (digits(year, 4, 4), digits(month, 2, 2), digits(day, 2, 2))
    else {
        return Err(None);
    };
    let year = i32::try_from(year).map_err(|_| None)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(Some("no such date in the calendar"))
}

/// `H:MM`, `HH:MM` or `HH:MM:SS`, 24-hour clock. Errors as for [`parse_date`]. Written by hand
/// because chrono's parser also accepts a leap second (`:60`), which has no place in a config.
fn parse_clock(text: &str) -> Result<NaiveTime, Option<&'static str>> {
    let mut parts = text.split(':');
    let (Some(hour), Some(minute), second, None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(None);
    };
    let (Some(hour), Some(minute)) = (digits(hour, 1, 2), digits(minute, 2, 2)) else {
        return Err(None);
    };
    let second = match second {
        None => 0,
        Some(second) => digits(second, 2, 2).ok_or(None)?,
    };
    if hour > 23 {
        return Err(Some("the hour must be 0 to 23"));
    }
    if minute > 59 {
        return Err(Some("the minutes must be 00 to 59"));
    }
    if second > 59 {
        return Err(Some("the seconds must be 00 to 59"));
    }
    NaiveTime::from_hms_opt(hour, minute, second).ok_or(None)
}

/// `text` as a number if it is `min..=max` ASCII digits and nothing else (no sign, no spaces).
fn digits(text: &str, min: usize, max: usize) -> Option<u32> {
    let shaped = (min..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if shaped { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};

    /// The only constructor the real `ComponentId` offers.
    fn component(id: &str) -> ComponentId {
        ComponentId::parse(id).expect("test component ids are valid")
    }

    /// An instant written as `YYYY-MM-DD HH:MM[:SS]` UTC.
    fn utc(text: &str) -> DateTime<Utc> {
        naive(text).and_utc()
    }

    /// A wall-clock time written as `YYYY-MM-DD HH:MM[:SS]`, parsed independently of the
    /// module's own parser.
    fn naive(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
            .expect("test times are well formed")
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").expect("test times are well formed")
    }

    fn one_off(zone: Tz, start: &str, end: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            title: "Database upgrade".to_owned(),
            components: vec![component("api")],
            schedule: Schedule::OneOff {
                zone,
                start: naive(start),
                end: naive(end),
            },
        }
    }

    fn recurring(zone: Tz, days: &[Weekday], at: &str, duration: Duration) -> MaintenanceWindow {
        MaintenanceWindow {
            title: "Weekly patching".to_owned(),
            components: vec![component("api"), component("dashboard")],
            schedule: Schedule::Recurring {
                zone,
                days: days.to_vec(),
                at: time(at),
                duration,
            },
        }
    }

    /// Asserts `window` is active exactly on `[start, end)` around the given edges.
    fn assert_interval(window: &MaintenanceWindow, start: &str, end: &str) {
        let (start, end) = (utc(start), utc(end));
        let second = Duration::seconds(1);
        assert!(!window.active_at(start - second), "active before {start}");
        assert!(window.active_at(start), "not active at its start {start}");
        assert!(
            window.active_at(end - second),
            "not active just before {end}"
        );
        assert!(!window.active_at(end), "still active at its end {end}");
        assert_eq!(window.occurrence_at(start), Some((start, end)));
        assert_eq!(window.occurrence_at(end - second), Some((start, end)));
        assert_eq!(window.occurrence_at(end), None);
    }

    // One-off windows.

    #[test]
    fn one_off_is_active_from_start_inclusive_to_end_exclusive() {
        // British Summer Time: local 02:00 to 04:00 is 01:00 to 03:00 UTC.
        let window = one_off(Europe::London, "2026-06-10 02:00", "2026-06-10 04:00");
        assert_interval(&window, "2026-06-10 01:00", "2026-06-10 03:00");
        assert!(window.active_at(utc("2026-06-10 02:00")));
        assert!(!window.active_at(utc("2026-06-09 02:00")));
        assert!(!window.active_at(utc("2026-06-11 02:00")));
        assert!(!window.active_at(utc("2027-06-10 02:00")));
    }

    #[test]
    fn one_off_next_start_is_its_start_until_it_has_started() {
        let window = one_off(Europe::London, "2026-06-10 02:00", "2026-06-10 04:00");
        let start = utc("2026-06-10 01:00");
        assert_eq!(
            window.next_start_after(utc("2026-01-01 00:00")),
            Some(start)
        );
        assert_eq!(window.next_start_after(start), Some(start));
        assert_eq!(window.next_start_after(utc("2026-06-10 01:00:01")), None);
        assert_eq!(window.next_start_after(utc("2026-07-01 00:00")), None);
    }

    #[test]
    fn one_off_spanning_days_and_a_dst_change() {
        // Starts in GMT, ends in BST: 2026-03-28 22:00 GMT to 2026-03-29 10:00 BST (09:00 UTC).
        let window = one_off(Europe::London, "2026-03-28 22:00", "2026-03-29 10:00");
        assert_interval(&window, "2026-03-28 22:00", "2026-03-29 09:00");
    }

    #[test]
    fn covers_only_the_named_components() {
        let window = one_off(Europe::London, "2026-06-10 02:00", "2026-06-10 04:00");
        assert!(window.covers(&component("api")));
        assert!(!window.covers(&component("dashboard")));
        let weekly = recurring(Europe::London, &[], "02:00", Duration::hours(1));
        assert!(weekly.covers(&component("dashboard")));
        assert!(!weekly.covers(&component("billing")));
    }

    // Recurring windows without DST changes.

    #[test]
    fn weekly_window_runs_on_its_days_only() {
        // 2026-06-02 is a Tuesday; Berlin is on CEST (UTC+2).
        let window = recurring(
            Europe::Berlin,
            &[Weekday::Tue, Weekday::Thu],
            "02:00",
            Duration::hours(2),
        );
        assert_interval(&window, "2026-06-02 00:00", "2026-06-02 02:00");
        assert_interval(&window, "2026-06-04 00:00", "2026-06-04 02:00");
        assert_interval(&window, "2026-06-09 00:00", "2026-06-09 02:00");
        for day in [
            "2026-06-01",
            "2026-06-03",
            "2026-06-05",
            "2026-06-06",
            "2026-06-07",
        ] {
            assert!(!window.active_at(utc(&format!("{day} 01:00"))), "{day}");
        }
    }

    #[test]
    fn weekly_window_next_start() {
        let window = recurring(
            Europe::Berlin,
            &[Weekday::Tue, Weekday::Thu],
            "02:00",
            Duration::hours(2),
        );
        let tuesday = utc("2026-06-02 00:00");
        let thursday = utc("2026-06-04 00:00");
        assert_eq!(
            window.next_start_after(utc("2026-06-01 12:00")),
            Some(tuesday)
        );
        assert_eq!(window.next_start_after(tuesday), Some(tuesday));
        // Under way: the next one, not the current one.
        assert_eq!(
            window.next_start_after(utc("2026-06-02 00:30")),
            Some(thursday)
        );
        assert_eq!(
            window.next_start_after(utc("2026-06-04 00:00:01")),
            Some(utc("2026-06-09 00:00"))
        );
        let mondays = recurring(Europe::Berlin, &[Weekday::Mon], "02:00", Duration::hours(1));
        assert_eq!(
            mondays.next_start_after(utc("2026-06-01 00:00:01")),
            Some(utc("2026-06-08 00:00"))
        );
    }

    #[test]
    fn daily_window_runs_every_day() {
        // Tokyo is UTC+9 all year: 03:00 local is 18:00 UTC the day before.
        let window = recurring(Asia::Tokyo, &[], "03:00", Duration::hours(1));
        for day in 1..=14 {
            let start = format!("2026-06-{day:02} 18:00");
            let end = format!("2026-06-{day:02} 19:00");
            assert_interval(&window, &start, &end);
        }
        assert_eq!(
            window.next_start_after(utc("2026-06-01 18:30")),
            Some(utc("2026-06-02 18:00"))
        );
    }

    #[test]
    fn window_started_the_day_before_runs_past_midnight() {
        // Sunday 2026-06-07 23:00 CEST for 3h covers Monday 01:00 local (23:00 UTC Sunday).
        let window = recurring(Europe::Paris, &[Weekday::Sun], "23:00", Duration::hours(3));
        assert!(window.active_at(utc("2026-06-07 23:00")));
        assert_eq!(
            window.occurrence_at(utc("2026-06-07 23:00")),
            Some((utc("2026-06-07 21:00"), utc("2026-06-08 00:00")))
        );
        assert_interval(&window, "2026-06-07 21:00", "2026-06-08 00:00");
        // Monday 23:00 local is not a start: Monday is not listed.
        assert!(!window.active_at(utc("2026-06-08 21:30")));

        let daily = recurring(Asia::Tokyo, &[], "22:00", Duration::hours(4));
        // 01:00 local on 2026-06-10 is 16:00 UTC on 2026-06-09; started 22:00 local the 9th.
        assert_eq!(
            daily.occurrence_at(utc("2026-06-09 16:00")),
            Some((utc("2026-06-09 13:00"), utc("2026-06-09 17:00")))
        );
    }

    #[test]
    fn multi_day_durations() {
        // Monday 00:00 in Tokyo for six days: Saturday 23:59 covered, Sunday 00:00 not.
        // 2026-06-08 is a Monday; 00:00 JST is 15:00 UTC the day before.
        let window = recurring(Asia::Tokyo, &[Weekday::Mon], "00:00", Duration::days(6));
        assert_interval(&window, "2026-06-07 15:00", "2026-06-13 15:00");
        assert!(window.active_at(utc("2026-06-10 03:00")));
        assert!(!window.active_at(utc("2026-06-14 12:00")));

        // The maximum, seven days, is always active, and elapsed time runs across the change
        // to BST: Monday 2026-03-23 00:00 GMT plus 168h is 2026-03-30 00:00 UTC (01:00 BST),
        // an hour after the next Monday's 00:00 BST start (2026-03-29 23:00 UTC).
        let week = recurring(Europe::London, &[Weekday::Mon], "00:00", Duration::days(7));
        let first = (utc("2026-03-23 00:00"), utc("2026-03-30 00:00"));
        let second = (utc("2026-03-29 23:00"), utc("2026-04-05 23:00"));
        assert_eq!(week.occurrence_at(utc("2026-03-29 22:59")), Some(first));
        // Where they overlap, the later one (which ends later) is the answer.
        assert_eq!(week.occurrence_at(utc("2026-03-29 23:00")), Some(second));
        assert_eq!(week.occurrence_at(utc("2026-03-29 23:59")), Some(second));
        let mut t = utc("2026-03-16 00:00");
        while t < utc("2026-04-20 00:00") {
            assert!(week.active_at(t), "{t}");
            t += Duration::minutes(97);
        }
    }

    #[test]
    fn overlapping_daily_occurrences_report_the_latest() {
        let window = recurring(Asia::Tokyo, &[], "00:00", Duration::hours(25));
        // 00:30 JST on 2026-06-10 is covered by the 9th's and the 10th's windows.
        assert_eq!(
            window.occurrence_at(utc("2026-06-09 15:30")),
            Some((utc("2026-06-09 15:00"), utc("2026-06-10 16:00")))
        );
    }

    // Clocks going forward: local times in the gap start when the clock jumps.

    #[test]
    fn london_spring_forward_gap() {
        // 2026-03-29: 01:00 GMT jumps to 02:00 BST at 01:00 UTC, so 01:00-02:00 does not exist.
        let window = one_off(Europe::London, "2026-03-29 01:30", "2026-03-29 03:00");
        assert_interval(&window, "2026-03-29 01:00", "2026-03-29 02:00");

        // 02:30 does exist in London that night (it is New York that skips 02:xx).
        let window = one_off(Europe::London, "2026-03-29 02:30", "2026-03-29 03:30");
        assert_interval(&window, "2026-03-29 01:30", "2026-03-29 02:30");

        // A daily 01:30 window for one hour: the day of the change it starts at the jump and
        // still lasts one elapsed hour.
        let daily = recurring(Europe::London, &[], "01:30", Duration::hours(1));
        assert_interval(&daily, "2026-03-28 01:30", "2026-03-28 02:30");
        assert_interval(&daily, "2026-03-29 01:00", "2026-03-29 02:00");
        assert_interval(&daily, "2026-03-30 00:30", "2026-03-30 01:30");
    }

    #[test]
    fn new_york_spring_forward_gap() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
        let window = one_off(America::New_York, "2026-03-08 02:30", "2026-03-08 04:00");
        assert_interval(&window, "2026-03-08 07:00", "2026-03-08 08:00");

        let daily = recurring(America::New_York, &[], "02:30", Duration::hours(1));
        assert_interval(&daily, "2026-03-07 07:30", "2026-03-07 08:30");
        assert_interval(&daily, "2026-03-08 07:00", "2026-03-08 08:00");
        assert_interval(&daily, "2026-03-09 06:30", "2026-03-09 07:30");
    }

    #[test]
    fn one_off_entirely_inside_a_gap_is_empty_and_rejected() {
        let window = one_off(Europe::London, "2026-03-29 01:10", "2026-03-29 01:50");
        assert!(!window.active_at(utc("2026-03-29 01:00")));
        assert_eq!(window.occurrence_at(utc("2026-03-29 01:00")), None);
        assert_eq!(window.next_start_after(utc("2026-03-01 00:00")), None);
        assert_eq!(
            window.schedule.validate(),
            Err(
                "`start` and `end` both fall in the gap when clocks go forward in \
                 `Europe/London`, so the window would be empty"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_skipped_day_starts_when_the_clock_lands() {
        // Samoa went from UTC-10 to UTC+14 after 2011-12-29: 30 December never happened locally.
        let window = one_off(Pacific::Apia, "2011-12-30 12:00", "2011-12-31 12:00");
        // Starts at 2011-12-31 00:00 local (+14), which is 10:00 UTC on the 30th.
        assert_interval(&window, "2011-12-30 10:00", "2011-12-30 22:00");

        let daily = recurring(Pacific::Apia, &[], "12:00", Duration::hours(1));
        assert_interval(&daily, "2011-12-29 22:00", "2011-12-29 23:00");
        assert_interval(&daily, "2011-12-30 10:00", "2011-12-30 11:00");
        assert_interval(&daily, "2011-12-30 22:00", "2011-12-30 23:00");
        assert_eq!(
            daily.next_start_after(utc("2011-12-29 23:00")),
            Some(utc("2011-12-30 10:00"))
        );
    }

    // Clocks going back: ambiguous local times are the earlier instant.

    #[test]
    fn london_fall_back_ambiguity() {
        // 2026-10-25: 02:00 BST goes back to 01:00 GMT at 01:00 UTC; 01:00-02:00 happens twice.
        // 01:30 is taken at its first pass, 01:30 BST (00:30 UTC); 03:00 is GMT.
        let window = one_off(Europe::London, "2026-10-25 01:30", "2026-10-25 03:00");
        assert_interval(&window, "2026-10-25 00:30", "2026-10-25 03:00");

        // A daily 01:30 window runs once that night, on the first pass.
        let daily = recurring(Europe::London, &[], "01:30", Duration::minutes(30));
        assert_interval(&daily, "2026-10-25 00:30", "2026-10-25 01:00");
        assert!(!daily.active_at(utc("2026-10-25 01:30")));

        // Two elapsed hours from 00:30 BST end at 01:30 GMT: one hour on the wall clock.
        let night = recurring(Europe::London, &[], "00:30", Duration::hours(2));
        assert_interval(&night, "2026-10-24 23:30", "2026-10-25 01:30");
        assert!(night.active_at(utc("2026-10-25 01:15")));
    }

    #[test]
    fn new_york_fall_back_ambiguity() {
        // 2026-11-01: 02:00 EDT goes back to 01:00 EST at 06:00 UTC.
        let daily = recurring(America::New_York, &[], "01:30", Duration::hours(1));
        // 01:30 EDT (05:30 UTC) plus one hour is 01:30 EST (06:30 UTC).
        assert_interval(&daily, "2026-11-01 05:30", "2026-11-01 06:30");
        assert_interval(&daily, "2026-11-02 06:30", "2026-11-02 07:30");

        // Both ends ambiguous: both at their first pass.
        let window = one_off(America::New_York, "2026-11-01 01:00", "2026-11-01 01:59");
        assert_interval(&window, "2026-11-01 05:00", "2026-11-01 05:59");
        // Ending at an ambiguous time: the window ends at its first pass.
        let window = one_off(America::New_York, "2026-11-01 00:00", "2026-11-01 01:30");
        assert_interval(&window, "2026-11-01 04:00", "2026-11-01 05:30");
    }

    // The southern hemisphere: DST ends in April and starts in October.

    #[test]
    fn sydney_fall_back_in_april() {
        // Sunday 2026-04-05: 03:00 AEDT (+11) goes back to 02:00 AEST (+10) at 16:00 UTC on
        // the 4th. 02:30 is taken at its first pass, AEDT.
        let window = recurring(
            Australia::Sydney,
            &[Weekday::Sun],
            "02:30",
            Duration::hours(1),
        );
        assert_interval(&window, "2026-04-04 15:30", "2026-04-04 16:30");
        // The second pass of 02:15 (AEST) is still inside the one elapsed hour.
        assert!(window.active_at(utc("2026-04-04 16:15")));
        // The Sundays either side, in AEDT and AEST.
        assert_interval(&window, "2026-03-28 15:30", "2026-03-28 16:30");
        assert_interval(&window, "2026-04-11 16:30", "2026-04-11 17:30");
    }

    #[test]
    fn sydney_spring_forward_in_october() {
        // Sunday 2026-10-04: 02:00 AEST jumps to 03:00 AEDT at 16:00 UTC on the 3rd.
        let window = recurring(
            Australia::Sydney,
            &[Weekday::Sun],
            "02:30",
            Duration::hours(1),
        );
        assert_interval(&window, "2026-09-26 16:30", "2026-09-26 17:30");
        assert_interval(&window, "2026-10-03 16:00", "2026-10-03 17:00");
        assert_interval(&window, "2026-10-10 15:30", "2026-10-10 16:30");

        let one = one_off(Australia::Sydney, "2026-10-04 02:00", "2026-10-04 04:00");
        assert_interval(&one, "2026-10-03 16:00", "2026-10-03 17:00");
    }

    // Zones with half-hour offsets.

    #[test]
    fn kolkata_half_hour_offset() {
        // India is UTC+05:30 all year: 02:00 local is 20:30 UTC the day before.
        let window = recurring(Asia::Kolkata, &[], "02:00", Duration::minutes(30));
        assert_interval(&window, "2026-06-09 20:30", "2026-06-09 21:00");
        assert_eq!(
            window.next_start_after(utc("2026-06-09 21:00")),
            Some(utc("2026-06-10 20:30"))
        );
        let one = one_off(Asia::Kolkata, "2026-06-10 09:15", "2026-06-10 09:45");
        assert_interval(&one, "2026-06-10 03:45", "2026-06-10 04:15");
    }

    #[test]
    fn adelaide_half_hour_offset_with_dst() {
        // ACST is +09:30, ACDT +10:30.
        let winter = recurring(Australia::Adelaide, &[], "09:00", Duration::hours(1));
        assert_interval(&winter, "2026-06-09 23:30", "2026-06-10 00:30");

        // 2026-10-04: 02:00 ACST jumps to 03:00 ACDT at 16:30 UTC on the 3rd.
        let gap = one_off(Australia::Adelaide, "2026-10-04 02:15", "2026-10-04 04:00");
        assert_interval(&gap, "2026-10-03 16:30", "2026-10-03 17:30");

        // 2026-04-05: 03:00 ACDT goes back to 02:00 ACST at 16:30 UTC on the 4th.
        let back = one_off(Australia::Adelaide, "2026-04-05 02:15", "2026-04-05 03:15");
        assert_interval(&back, "2026-04-04 15:45", "2026-04-04 17:45");
    }

    // Next start across DST changes.

    #[test]
    fn next_start_across_dst_changes() {
        let daily = recurring(America::New_York, &[], "02:30", Duration::hours(1));
        assert_eq!(
            daily.next_start_after(utc("2026-03-07 08:00")),
            Some(utc("2026-03-08 07:00"))
        );
        assert_eq!(
            daily.next_start_after(utc("2026-03-08 07:00:01")),
            Some(utc("2026-03-09 06:30"))
        );
        assert_eq!(
            daily.next_start_after(utc("2026-10-31 07:00")),
            // 02:30 comes once that night, after the clocks went back: 02:30 EST.
            Some(utc("2026-11-01 07:30"))
        );
        assert_eq!(
            daily.next_start_after(utc("2026-11-01 07:30:01")),
            Some(utc("2026-11-02 07:30"))
        );

        let sundays = recurring(Europe::London, &[Weekday::Sun], "01:30", Duration::hours(1));
        assert_eq!(
            sundays.next_start_after(utc("2026-03-24 00:00")),
            Some(utc("2026-03-29 01:00"))
        );
        assert_eq!(
            sundays.next_start_after(utc("2026-10-20 00:00")),
            Some(utc("2026-10-25 00:30"))
        );
        assert_eq!(
            sundays.next_start_after(utc("2026-10-25 00:30:01")),
            Some(utc("2026-11-01 01:30"))
        );

        let sydney = recurring(
            Australia::Sydney,
            &[Weekday::Sun],
            "02:30",
            Duration::hours(1),
        );
        assert_eq!(
            sydney.next_start_after(utc("2026-10-03 12:00")),
            Some(utc("2026-10-03 16:00"))
        );
        assert_eq!(
            sydney.next_start_after(utc("2026-10-03 16:00:01")),
            Some(utc("2026-10-10 15:30"))
        );
    }

    // Parsing.

    #[test]
    fn parses_zones() {
        assert_eq!(parse_zone("Europe/London"), Ok(Europe::London));
        assert_eq!(parse_zone(" Asia/Kolkata "), Ok(Asia::Kolkata));
        assert_eq!(parse_zone("UTC"), Ok(Tz::UTC));
        assert_eq!(
            parse_zone("Europe/Londn"),
            Err("unknown time zone `Europe/Londn`".to_owned())
        );
        assert_eq!(
            parse_zone("europe/london"),
            Err("unknown time zone `europe/london` (did you mean `Europe/London`?)".to_owned())
        );
        assert_eq!(
            parse_zone(""),
            Err("time zone is empty: expected an IANA name such as `Europe/London`".to_owned())
        );
        assert!(parse_zone("+01:00").is_err());
    }

    #[test]
    fn parses_local_date_times() {
        let expected = naive("2026-11-29 02:00");
        assert_eq!(parse_local_datetime("2026-11-29T02:00"), Ok(expected));
        assert_eq!(parse_local_datetime("2026-11-29 02:00"), Ok(expected));
        assert_eq!(parse_local_datetime(" 2026-11-29T2:00 "), Ok(expected));
        assert_eq!(
            parse_local_datetime("2026-11-29T02:00:30"),
            Ok(naive("2026-11-29 02:00:30"))
        );
        assert_eq!(
            parse_local_datetime("2026-11-29 23:59:59"),
            Ok(naive("2026-11-29 23:59:59"))
        );
        // Leap day.
        assert_eq!(
            parse_local_datetime("2028-02-29T12:00"),
            Ok(naive("2028-02-29 12:00"))
        );
    }

    #[test]
    fn explains_bad_local_date_times() {
        let shape = "expected `YYYY-MM-DDTHH:MM`, optionally with `:SS`";
        let cases = [
            ("2026-11-29", shape),
            ("", shape),
            ("29/11/2026 02:00", shape),
            ("2026-11-29T0200", shape),
            ("26-11-29T02:00", shape),
            ("2026-11-29T02:00 extra", shape),
            ("2026-02-30T02:00", "no such date in the calendar"),
            ("2026-13-01T02:00", "no such date in the calendar"),
            ("2026-11-29T24:00", "the hour must be 0 to 23"),
            ("2026-11-29T02:60", "the minutes must be 00 to 59"),
            ("2026-11-29T23:59:60", "the seconds must be 00 to 59"),
            (
                "2026-11-29T02:00Z",
                "a local time takes no UTC offset or `Z`; the time zone is given separately",
            ),
            (
                "2026-11-29T02:00+01:00",
                "a local time takes no UTC offset or `Z`; the time zone is given separately",
            ),
        ];
        for (text, why) in cases {
            assert_eq!(
                parse_local_datetime(text),
                Err(format!("`{text}` is not a local date and time: {why}")),
                "{text}"
            );
        }
    }

    #[test]
    fn parses_times_of_day() {
        assert_eq!(parse_time_of_day("02:00"), Ok(time("02:00")));
        assert_eq!(parse_time_of_day("2:30"), Ok(time("02:30")));
        assert_eq!(parse_time_of_day(" 00:00 "), Ok(time("00:00")));
        assert_eq!(
            parse_time_of_day("23:59:30"),
            NaiveTime::from_hms_opt(23, 59, 30).ok_or_else(String::new)
        );
    }

    #[test]
    fn explains_bad_times_of_day() {
        let shape = "expected `HH:MM` or `HH:MM:SS`";
        let cases = [
            ("", shape),
            ("2", shape),
            ("0200", shape),
            ("2:3", shape),
            ("123:00", shape),
            ("+1:00", shape),
            ("-1:00", shape),
            ("02:00:00:00", shape),
            ("02:00:5", shape),
            ("02 :00", shape),
            ("٣:00", shape),
            ("2pm", shape),
            ("24:00", "the hour must be 0 to 23"),
            ("12:60", "the minutes must be 00 to 59"),
            ("12:30:60", "the seconds must be 00 to 59"),
        ];
        for (text, why) in cases {
            assert_eq!(
                parse_time_of_day(text),
                Err(format!("`{text}` is not a time of day: {why}")),
                "{text}"
            );
        }
    }

    #[test]
    fn parses_weekdays_short_long_and_in_any_case() {
        let all = [
            ("mon", "monday", Weekday::Mon),
            ("tue", "tuesday", Weekday::Tue),
            ("wed", "wednesday", Weekday::Wed),
            ("thu", "thursday", Weekday::Thu),
            ("fri", "friday", Weekday::Fri),
            ("sat", "saturday", Weekday::Sat),
            ("sun", "sunday", Weekday::Sun),
        ];
        for (short, long, day) in all {
            assert_eq!(parse_weekday(short), Ok(day));
            assert_eq!(parse_weekday(long), Ok(day));
            assert_eq!(parse_weekday(&short.to_uppercase()), Ok(day));
            assert_eq!(parse_weekday(&long.to_uppercase()), Ok(day));
            assert_eq!(weekday_name(day), short);
        }
        assert_eq!(parse_weekday("Tuesday"), Ok(Weekday::Tue));
        assert_eq!(parse_weekday(" Sun "), Ok(Weekday::Sun));
        for bad in ["tues", "mo", "", "1", "sundays"] {
            assert_eq!(
                parse_weekday(bad),
                Err(format!(
                    "unknown weekday `{bad}`: expected `mon` to `sun` or `monday` to `sunday`"
                ))
            );
        }
    }

    // Validation.

    #[test]
    fn validates_one_off_order() {
        let ok = one_off(Europe::London, "2026-06-10 02:00", "2026-06-10 04:00");
        assert_eq!(ok.schedule.validate(), Ok(()));
        let end_before = "`end` must be after `start`".to_owned();
        let equal = one_off(Europe::London, "2026-06-10 02:00", "2026-06-10 02:00");
        assert_eq!(equal.schedule.validate(), Err(end_before.clone()));
        let reversed = one_off(Europe::London, "2026-06-10 04:00", "2026-06-10 02:00");
        assert_eq!(reversed.schedule.validate(), Err(end_before));
        // An invalid window is never active rather than active "backwards".
        assert!(!reversed.active_at(utc("2026-06-10 02:00")));
        assert_eq!(reversed.next_start_after(utc("2026-01-01 00:00")), None);
        // Ending in a gap but starting before it is fine.
        let into_gap = one_off(Europe::London, "2026-03-29 00:30", "2026-03-29 01:30");
        assert_eq!(into_gap.schedule.validate(), Ok(()));
        assert_interval(&into_gap, "2026-03-29 00:30", "2026-03-29 01:00");
    }

    #[test]
    fn validates_recurring_duration_and_days() {
        let schedule = |days: &[Weekday], duration: Duration| {
            recurring(Europe::London, days, "02:00", duration).schedule
        };
        assert_eq!(schedule(&[], Duration::hours(2)).validate(), Ok(()));
        assert_eq!(
            schedule(&[Weekday::Mon], Duration::days(7)).validate(),
            Ok(())
        );
        assert_eq!(schedule(&[], Duration::seconds(1)).validate(), Ok(()));
        assert_eq!(
            schedule(&[], Duration::zero()).validate(),
            Err("`duration` must be more than zero".to_owned())
        );
        assert_eq!(
            schedule(&[], Duration::hours(-1)).validate(),
            Err("`duration` must be more than zero".to_owned())
        );
        assert_eq!(
            schedule(&[], Duration::days(7) + Duration::seconds(1)).validate(),
            Err("`duration` must be at most 7 days".to_owned())
        );
        assert_eq!(
            schedule(
                &[Weekday::Mon, Weekday::Sun, Weekday::Mon],
                Duration::hours(1)
            )
            .validate(),
            Err("weekday `mon` is listed twice".to_owned())
        );
        // Evaluation ignores durations validation would reject.
        let too_long = recurring(Europe::London, &[], "02:00", Duration::days(8));
        assert!(!too_long.active_at(utc("2026-06-10 01:30")));
        assert_eq!(too_long.next_start_after(utc("2026-06-10 00:00")), None);
        let zero = recurring(Europe::London, &[], "02:00", Duration::zero());
        assert!(!zero.active_at(utc("2026-06-10 01:00")));
    }

    // Robustness.

    #[test]
    fn never_panics_at_the_edges_of_time() {
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            utc("2026-06-10 00:00"),
        ];
        let zones = [Pacific::Kiritimati, Pacific::Pago_Pago, Tz::UTC];
        let times = [
            NaiveTime::MIN,
            time("23:59"),
            // A leap second, which NaiveTime can represent.
            NaiveTime::from_hms_milli_opt(23, 59, 59, 1_500).unwrap_or(NaiveTime::MIN),
        ];
        let durations = [
            Duration::MIN,
            Duration::MAX,
            Duration::zero(),
            Duration::nanoseconds(1),
            Duration::days(7),
        ];
        let mut schedules = Vec::new();
        for zone in zones {
            for (start, end) in [
                (NaiveDateTime::MIN, NaiveDateTime::MAX),
                (NaiveDateTime::MAX, NaiveDateTime::MIN),
                (NaiveDateTime::MIN, NaiveDateTime::MIN),
                (NaiveDateTime::MAX, NaiveDateTime::MAX),
            ] {
                schedules.push(Schedule::OneOff { zone, start, end });
            }
            for at in times {
                for duration in durations {
                    schedules.push(Schedule::Recurring {
                        zone,
                        days: vec![Weekday::Mon, Weekday::Mon],
                        at,
                        duration,
                    });
                    schedules.push(Schedule::Recurring {
                        zone,
                        days: Vec::new(),
                        at,
                        duration,
                    });
                }
            }
        }
        for schedule in schedules {
            let _ = schedule.validate();
            let window = MaintenanceWindow {
                title: String::new(),
                components: Vec::new(),
                schedule,
            };
            for t in instants {
                let _ = window.active_at(t);
                let _ = window.occurrence_at(t);
                let _ = window.next_start_after(t);
            }
        }
    }

    #[test]
    fn validation_reports_unplaceable_one_offs() {
        // At UTC-11 the last representable local time has no representable instant.
        let schedule = Schedule::OneOff {
            zone: Pacific::Pago_Pago,
            start: naive("2026-06-10 02:00"),
            end: NaiveDateTime::MAX,
        };
        assert_eq!(
            schedule.validate(),
            Err("`start` or `end` is outside the supported date range".to_owned())
        );
    }
}
