//! Who is on call, from schedules written as TOML and parsed by the real config parser, at
//! fixed instants (never the system clock): daily handoffs that keep their local time across
//! the DST changes of London and New York (so those shifts last 23 or 25 hours), a 12-hour
//! rotation that counts elapsed time, follow-the-sun across Sydney, London and Los Angeles
//! including the weeks when only some of them have changed their clocks, overrides, gaps,
//! restrictions past midnight and on weekdays, and working hours across a weekend and a
//! DST change.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use shared::config::{Config, PersonId};
use shared::oncall::schedule::Shift;
use shared::oncall::{OnCall, Schedule};

/// A valid config: the service, one component, and `sections` (people and schedules).
fn on_call(sections: &str) -> OnCall {
    let text = format!(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"

{sections}
"#
    );
    Config::parse(&text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .oncall
}

/// People alice (London), bob (New York), carol (London), sam (Sydney) and lee (Los Angeles),
/// each reachable by email, default working hours.
const PEOPLE: &str = r#"
[[people]]
id = "alice"
name = "Alice"
timezone = "Europe/London"
email = "alice@example.com"

[[people]]
id = "bob"
name = "Bob"
timezone = "America/New_York"
email = "bob@example.com"
working_hours = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:30" }

[[people]]
id = "carol"
name = "Carol"
timezone = "Europe/London"
sms = "+447700900123"

[[people]]
id = "sam"
name = "Sam"
timezone = "Australia/Sydney"
topic = "arn:aws:sns:ap-southeast-2:123456789012:oncall-sam"

[[people]]
id = "lee"
name = "Lee"
timezone = "America/Los_Angeles"
email = "lee@example.com"
"#;

/// The only schedule of a config made of `PEOPLE` and `schedule`.
fn schedule(schedule: &str) -> Schedule {
    let mut oncall = on_call(&format!("{PEOPLE}\n{schedule}"));
    assert_eq!(oncall.schedules.len(), 1);
    oncall.schedules.remove(0)
}

/// An instant written as `YYYY-MM-DD HH:MM[:SS]` UTC.
fn utc(text: &str) -> DateTime<Utc> {
    let format = if text.len() > 16 {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M"
    };
    NaiveDateTime::parse_from_str(text, format)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .and_utc()
}

fn person(id: &str) -> PersonId {
    PersonId::parse(id).expect("valid id")
}

/// Who `schedule` has on call at `at` (UTC), by id.
fn who(schedule: &Schedule, at: &str) -> Option<String> {
    schedule.on_call_at(utc(at)).map(ToString::to_string)
}

/// Asserts who is on call at each instant.
#[track_caller]
fn assert_on_call(schedule: &Schedule, expected: &[(&str, Option<&str>)]) {
    let found: Vec<(&str, Option<String>)> = expected
        .iter()
        .map(|(at, _)| (*at, who(schedule, at)))
        .collect();
    let expected: Vec<(&str, Option<String>)> = expected
        .iter()
        .map(|(at, p)| (*at, p.map(str::to_owned)))
        .collect();
    assert_eq!(found, expected);
}

/// `(person, start, end)` triples as shifts, instants in UTC.
fn shifts(list: &[(&str, &str, &str)]) -> Vec<Shift> {
    list.iter()
        .map(|(p, start, end)| Shift {
            person: person(p),
            start: utc(start),
            end: utc(end),
        })
        .collect()
}

/// A one-layer schedule `primary` of `participants` in `zone` from local `start`, rotating
/// every `rotation`; `extra` ends the layer's table.
fn rotation(zone: &str, start: &str, rotation: &str, participants: &str, extra: &str) -> String {
    format!(
        r#"
[[schedules]]
id = "primary"
name = "Primary"

[[schedules.layers]]
name = "Rotation"
timezone = "{zone}"
start = "{start}"
rotation = "{rotation}"
participants = {participants}
{extra}
"#
    )
}

#[test]
fn daily_handoffs_in_london_stay_at_nine_across_both_changes() {
    // Europe/London: clocks go forward at 01:00 UTC on 2026-03-29 and back at 01:00 UTC on
    // 2026-10-25. Day 0 (2026-03-27) is alice's, day 1 bob's, and so on.
    let primary = schedule(&rotation(
        "Europe/London",
        "2026-03-27 09:00",
        "daily",
        r#"["alice", "bob"]"#,
        "",
    ));
    // 09:00 GMT is 09:00 UTC; 09:00 BST is 08:00 UTC: bob's Saturday shift lasts 23 hours.
    assert_eq!(
        primary.shifts(utc("2026-03-27 00:00"), utc("2026-03-31 00:00")),
        shifts(&[
            ("bob", "2026-03-27 00:00", "2026-03-27 09:00"),
            ("alice", "2026-03-27 09:00", "2026-03-28 09:00"),
            ("bob", "2026-03-28 09:00", "2026-03-29 08:00"),
            ("alice", "2026-03-29 08:00", "2026-03-30 08:00"),
            ("bob", "2026-03-30 08:00", "2026-03-31 00:00"),
        ])
    );
    let layer = &primary.layers[0];
    let saturday = layer.shift_at(utc("2026-03-28 12:00")).expect("a shift");
    assert_eq!(saturday.end - saturday.start, Duration::hours(23));

    // October: day 211 (2026-10-24) is bob's, from 09:00 BST to 09:00 GMT, 25 hours.
    let autumn = layer.shift_at(utc("2026-10-24 12:00")).expect("a shift");
    assert_eq!(
        autumn,
        Shift {
            person: person("bob"),
            start: utc("2026-10-24 08:00"),
            end: utc("2026-10-25 09:00"),
        }
    );
    assert_eq!(autumn.end - autumn.start, Duration::hours(25));
    assert_on_call(
        &primary,
        &[
            ("2026-03-29 07:59:59", Some("bob")),
            ("2026-03-29 08:00", Some("alice")),
            ("2026-10-25 08:59:59", Some("bob")),
            ("2026-10-25 09:00", Some("alice")),
            // Before the start date, the rotation runs backwards: day -1 is bob's.
            ("2026-03-26 12:00", Some("bob")),
        ],
    );
}

#[test]
fn daily_handoffs_in_new_york_follow_its_own_dst_dates() {
    // America/New_York: forward at 07:00 UTC on 2026-03-08, back at 06:00 UTC on 2026-11-01
    // (London changes on other dates, which must not matter here).
    let primary = schedule(&rotation(
        "America/New_York",
        "2026-03-06 09:00",
        "daily",
        r#"["alice", "bob"]"#,
        "",
    ));
    // 09:00 EST is 14:00 UTC, 09:00 EDT 13:00 UTC.
    assert_eq!(
        primary.shifts(utc("2026-03-07 14:00"), utc("2026-03-09 14:00")),
        shifts(&[
            ("bob", "2026-03-07 14:00", "2026-03-08 13:00"),
            ("alice", "2026-03-08 13:00", "2026-03-09 13:00"),
            ("bob", "2026-03-09 13:00", "2026-03-09 14:00"),
        ])
    );
    // Day 239 (2026-10-31) is bob's: 09:00 EDT to 09:00 EST, 25 hours.
    assert_eq!(
        primary.shifts(utc("2026-10-31 12:00"), utc("2026-11-01 18:00")),
        shifts(&[
            ("alice", "2026-10-31 12:00", "2026-10-31 13:00"),
            ("bob", "2026-10-31 13:00", "2026-11-01 14:00"),
            ("alice", "2026-11-01 14:00", "2026-11-01 18:00"),
        ])
    );
    // London's changes are no handoffs here: 2026-03-29 09:00 EDT is 13:00 UTC as before.
    assert_on_call(
        &primary,
        &[
            ("2026-03-29 12:59:59", Some("alice")),
            ("2026-03-29 13:00", Some("bob")),
        ],
    );
}

#[test]
fn a_twelve_hour_rotation_counts_elapsed_time_across_a_change() {
    let primary = schedule(&rotation(
        "Europe/London",
        "2026-03-28 08:00",
        "12h",
        r#"["alice", "bob"]"#,
        "",
    ));
    // Handoffs every 12 real hours: 08:00 and 20:00 UTC, which after the change are 09:00
    // and 21:00 local.
    assert_eq!(
        primary.shifts(utc("2026-03-28 08:00"), utc("2026-03-30 08:00")),
        shifts(&[
            ("alice", "2026-03-28 08:00", "2026-03-28 20:00"),
            ("bob", "2026-03-28 20:00", "2026-03-29 08:00"),
            ("alice", "2026-03-29 08:00", "2026-03-29 20:00"),
            ("bob", "2026-03-29 20:00", "2026-03-30 08:00"),
        ])
    );
    let night = primary.layers[0]
        .shift_at(utc("2026-03-29 01:30"))
        .expect("a shift");
    assert_eq!(night.end - night.start, Duration::hours(12));
}

/// Sydney, London and Los Angeles, each on call 8 hours of its own day, in that order: in
/// January they cover the day exactly (00–08, 08–16 and 16–24 UTC).
fn follow_the_sun() -> Schedule {
    let layer = |name: &str, zone: &str, start: &str, end: &str, who: &str| {
        format!(
            r#"
[[schedules.layers]]
name = "{name}"
timezone = "{zone}"
start = "2026-01-05 00:00"
rotation = "weekly"
participants = ["{who}"]
restrictions = [{{ start = "{start}", end = "{end}" }}]
"#
        )
    };
    schedule(&format!(
        "[[schedules]]\nid = \"sun\"\nname = \"Follow the sun\"\n{}{}{}",
        layer("Sydney", "Australia/Sydney", "11:00", "19:00", "sam"),
        layer("London", "Europe/London", "08:00", "16:00", "alice"),
        layer(
            "Los Angeles",
            "America/Los_Angeles",
            "08:00",
            "16:00",
            "lee"
        ),
    ))
}

#[test]
fn follow_the_sun_covers_the_day_in_january() {
    // Sydney is on AEDT (+11), London on GMT, Los Angeles on PST (-8).
    let sun = follow_the_sun();
    assert_on_call(
        &sun,
        &[
            ("2026-01-14 00:00", Some("sam")),
            ("2026-01-14 03:00", Some("sam")),
            ("2026-01-14 07:59:59", Some("sam")),
            ("2026-01-14 08:00", Some("alice")),
            ("2026-01-14 15:59:59", Some("alice")),
            ("2026-01-14 16:00", Some("lee")),
            ("2026-01-14 23:59:59", Some("lee")),
        ],
    );
    assert_eq!(
        sun.shifts(utc("2026-01-14 00:00"), utc("2026-01-15 00:00")),
        shifts(&[
            ("sam", "2026-01-14 00:00", "2026-01-14 08:00"),
            ("alice", "2026-01-14 08:00", "2026-01-14 16:00"),
            ("lee", "2026-01-14 16:00", "2026-01-15 00:00"),
        ])
    );
}

#[test]
fn follow_the_sun_when_only_some_zones_have_changed() {
    let sun = follow_the_sun();
    // 2026-03-18: Los Angeles is on PDT since 03-08; London (GMT until 03-29) and Sydney
    // (AEDT until 04-05) have not changed. Los Angeles now starts at 15:00 UTC, over London's
    // last hour (the later layer wins), and ends at 23:00: nobody until Sydney at 00:00.
    assert_on_call(
        &sun,
        &[
            ("2026-03-18 14:59:59", Some("alice")),
            ("2026-03-18 15:00", Some("lee")),
            ("2026-03-18 15:30", Some("lee")),
            ("2026-03-18 22:59:59", Some("lee")),
            ("2026-03-18 23:00", None),
            ("2026-03-18 23:30", None),
            ("2026-03-19 00:00", Some("sam")),
        ],
    );
    assert_eq!(
        sun.shifts(utc("2026-03-18 00:00"), utc("2026-03-19 01:00")),
        shifts(&[
            ("sam", "2026-03-18 00:00", "2026-03-18 08:00"),
            ("alice", "2026-03-18 08:00", "2026-03-18 15:00"),
            ("lee", "2026-03-18 15:00", "2026-03-18 23:00"),
            ("sam", "2026-03-19 00:00", "2026-03-19 01:00"),
        ])
    );

    // 2026-04-01: London is on BST too (07:00–15:00 UTC), Sydney still on AEDT: London takes
    // Sydney's last hour, being the later layer.
    assert_on_call(
        &sun,
        &[
            ("2026-04-01 06:59:59", Some("sam")),
            ("2026-04-01 07:00", Some("alice")),
            ("2026-04-01 14:59:59", Some("alice")),
            ("2026-04-01 15:00", Some("lee")),
            ("2026-04-01 23:30", None),
        ],
    );

    // 2026-04-15: Sydney is on AEST (+10), 01:00–09:00 UTC: the gap is now 23:00–01:00.
    assert_on_call(
        &sun,
        &[
            ("2026-04-15 00:30", None),
            ("2026-04-15 01:00", Some("sam")),
            ("2026-04-15 06:59:59", Some("sam")),
            ("2026-04-15 07:00", Some("alice")),
        ],
    );
}

#[test]
fn overrides_win_over_layers_and_end_before_their_end_instant() {
    // Office hours in London, alice and bob alternating daily from Monday 2026-11-02 (GMT).
    let mut text = rotation(
        "Europe/London",
        "2026-11-02 09:00",
        "daily",
        r#"["alice", "bob"]"#,
        r#"restrictions = [{ start = "09:00", end = "17:00" }]"#,
    );
    text.push_str(
        r#"
[[schedules.overrides]]
person = "carol"
timezone = "Europe/London"
start = "2026-11-03 12:00"
end = "2026-11-03 14:00"

[[schedules.overrides]]
person = "carol"
timezone = "America/New_York"
start = "2026-11-03 15:00"
end = "2026-11-03 17:00"

[[schedules.overrides]]
person = "sam"
timezone = "Europe/London"
start = "2026-11-03 21:00"
end = "2026-11-03 21:30"
"#,
    );
    let primary = schedule(&text);
    assert_on_call(
        &primary,
        &[
            ("2026-11-03 08:59:59", None),
            ("2026-11-03 09:00", Some("bob")),
            ("2026-11-03 11:59:59", Some("bob")),
            ("2026-11-03 12:00", Some("carol")),
            ("2026-11-03 13:59:59", Some("carol")),
            // Half-open: at its end the override no longer applies.
            ("2026-11-03 14:00", Some("bob")),
            ("2026-11-03 16:59:59", Some("bob")),
            ("2026-11-03 17:00", None),
            // 15:00 New York (EST) is 20:00 UTC: an override fills a gap; a later one wins.
            ("2026-11-03 20:00", Some("carol")),
            ("2026-11-03 21:00", Some("sam")),
            ("2026-11-03 21:30", Some("carol")),
            ("2026-11-03 22:00", None),
        ],
    );
    // The gaps are simply absent from the listing.
    assert_eq!(
        primary.shifts(utc("2026-11-03 00:00"), utc("2026-11-04 10:00")),
        shifts(&[
            ("bob", "2026-11-03 09:00", "2026-11-03 12:00"),
            ("carol", "2026-11-03 12:00", "2026-11-03 14:00"),
            ("bob", "2026-11-03 14:00", "2026-11-03 17:00"),
            ("carol", "2026-11-03 20:00", "2026-11-03 21:00"),
            ("sam", "2026-11-03 21:00", "2026-11-03 21:30"),
            ("carol", "2026-11-03 21:30", "2026-11-03 22:00"),
            ("alice", "2026-11-04 09:00", "2026-11-04 10:00"),
        ])
    );
}

#[test]
fn a_restriction_past_midnight_runs_into_the_next_day() {
    // Weekend nights only, Friday and Saturday 22:00 to 06:00 London time; weekly shifts from
    // Friday 2026-10-02 22:00: alice, bob, carol, alice (10-23), bob, carol (11-06).
    let nights = schedule(&rotation(
        "Europe/London",
        "2026-10-02 22:00",
        "weekly",
        r#"["alice", "bob", "carol"]"#,
        r#"restrictions = [{ days = ["fri", "sat"], start = "22:00", end = "06:00" }]"#,
    ));
    assert_on_call(
        &nights,
        &[
            // Friday 2026-11-06 (GMT) and the Saturday after.
            ("2026-11-05 23:00", None),
            ("2026-11-06 21:59:59", None),
            ("2026-11-06 22:00", Some("carol")),
            ("2026-11-07 05:59:59", Some("carol")),
            ("2026-11-07 06:00", None),
            ("2026-11-07 22:00", Some("carol")),
            ("2026-11-08 05:59:59", Some("carol")),
            // Sunday night is not listed.
            ("2026-11-08 22:00", None),
            // Saturday 2026-10-24: 22:00 BST is 21:00 UTC, and the night ends at 06:00 GMT,
            // nine hours later, as the clocks go back in between.
            ("2026-10-24 20:59:59", None),
            ("2026-10-24 21:00", Some("alice")),
            ("2026-10-25 05:59:59", Some("alice")),
            ("2026-10-25 06:00", None),
        ],
    );
    assert_eq!(
        nights.shifts(utc("2026-10-24 12:00"), utc("2026-10-25 12:00")),
        shifts(&[("alice", "2026-10-24 21:00", "2026-10-25 06:00")])
    );
}

#[test]
fn a_weekday_restricted_layer_sits_on_a_round_the_clock_one() {
    let mut text = rotation(
        "America/New_York",
        "2026-11-02 09:00",
        "weekly",
        r#"["lee"]"#,
        "",
    );
    text.push_str(
        r#"
[[schedules.layers]]
name = "Office"
timezone = "America/New_York"
start = "2026-11-02 09:00"
rotation = "daily"
participants = ["bob", "alice"]
restrictions = [{ days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }]
"#,
    );
    let primary = schedule(&text);
    assert_on_call(
        &primary,
        &[
            // Friday 2026-11-06 09:00 EST is 14:00 UTC: day 4, bob's.
            ("2026-11-06 13:59:59", Some("lee")),
            ("2026-11-06 14:00", Some("bob")),
            ("2026-11-06 21:59:59", Some("bob")),
            ("2026-11-06 22:00", Some("lee")),
            // The weekend belongs to the base layer.
            ("2026-11-07 15:00", Some("lee")),
            ("2026-11-08 15:00", Some("lee")),
            // Monday 2026-11-09, day 7: alice's.
            ("2026-11-09 14:00", Some("alice")),
        ],
    );
}

#[test]
fn working_hours_wait_for_monday_across_a_dst_change() {
    let oncall = on_call(PEOPLE);
    // Bob works 09:00–17:30 in New York; the clocks go back on Sunday 2026-11-01.
    let bob = oncall.person(&person("bob")).expect("bob");
    assert!(bob.in_working_hours(utc("2026-10-30 21:29:59")));
    assert!(!bob.in_working_hours(utc("2026-10-30 21:30")));
    assert!(!bob.in_working_hours(utc("2026-10-31 15:00")));
    // Friday 17:30 EDT: next is Monday 09:00 EST, 14:00 UTC.
    assert_eq!(
        bob.next_working_start(utc("2026-10-30 21:30")),
        utc("2026-11-02 14:00")
    );
    assert_eq!(
        bob.next_working_start(utc("2026-11-02 15:00")),
        utc("2026-11-02 15:00")
    );

    // Alice has the default hours, 09:00–17:00 in London, whose clocks go forward on Sunday
    // 2026-03-29: Friday 17:00 GMT waits for Monday 09:00 BST, 08:00 UTC.
    let alice = oncall.person(&person("alice")).expect("alice");
    assert!(alice.in_working_hours(utc("2026-03-27 16:59")));
    assert_eq!(
        alice.next_working_start(utc("2026-03-27 17:00")),
        utc("2026-03-30 08:00")
    );
    // Before work on a weekday.
    assert_eq!(
        alice.next_working_start(utc("2026-03-31 06:00")),
        utc("2026-03-31 08:00")
    );
}
