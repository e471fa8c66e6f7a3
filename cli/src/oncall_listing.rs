//! `sitrep oncall`: who every schedule has on call at an instant, and the shifts of the days
//! after it, each with its times in UTC and in the on-call person's own zone. The text is
//! built from an instant passed in, so it is the same on every machine and testable.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use shared::config::PersonId;
use shared::oncall::{OnCall, Schedule};

/// The most days listed; [`shared::oncall::schedule::MAX_LISTING`] caps the work the same way.
pub const MAX_DAYS: u32 = 366;

/// Parses `--at`: an RFC 3339 instant such as `2026-11-23T10:00:00Z` or
/// `2026-11-23T11:00:00+01:00`.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{text}` is not an RFC 3339 instant such as 2026-11-23T10:00:00Z: {e}")
        })
}

/// The listing of every schedule of `oncall`: who is on call at `at`, then the periods of the
/// following `days` days (at most [`MAX_DAYS`]), gaps included as "nobody (gap)".
pub fn listing(oncall: &OnCall, at: DateTime<Utc>, days: u32) -> String {
    if oncall.schedules.is_empty() {
        return "no [[schedules]] in this configuration\n".to_owned();
    }
    let days = days.clamp(1, MAX_DAYS);
    let to = at
        .checked_add_signed(Duration::days(i64::from(days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut out = String::new();
    for (i, schedule) in oncall.schedules.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        schedule_listing(&mut out, oncall, schedule, at, to, days);
    }
    out
}

/// One schedule's part of [`listing`].
fn schedule_listing(
    out: &mut String,
    oncall: &OnCall,
    schedule: &Schedule,
    at: DateTime<Utc>,
    to: DateTime<Utc>,
    days: u32,
) {
    let _ = writeln!(out, "{} ({})", schedule.name, schedule.id);
    let now = match schedule.on_call_at(at) {
        Some(id) => format!("{}{}", who(oncall, id), local(oncall, id, at, None)),
        None => "nobody (gap)".to_owned(),
    };
    let _ = writeln!(out, "  on call at {}: {now}", utc(at));
    let plural = if days == 1 { "" } else { "s" };
    let _ = writeln!(out, "  next {days} day{plural}:");

    // The shifts, with the gaps between them made explicit.
    let mut rows: Vec<(DateTime<Utc>, DateTime<Utc>, Option<&PersonId>)> = Vec::new();
    let mut cursor = at;
    let shifts = schedule.shifts(at, to);
    for shift in &shifts {
        if shift.start > cursor {
            rows.push((cursor, shift.start, None));
        }
        rows.push((shift.start, shift.end, Some(&shift.person)));
        cursor = shift.end;
    }
    if cursor < to {
        rows.push((cursor, to, None));
    }
    let labels: Vec<String> = rows
        .iter()
        .map(|(_, _, person)| match person {
            Some(id) => who(oncall, id),
            None => "nobody (gap)".to_owned(),
        })
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for ((start, end, person), label) in rows.iter().zip(&labels) {
        let zone = person.map_or_else(String::new, |id| local(oncall, id, *start, Some(*end)));
        let line = format!("    {} → {}  {label:<width$}{zone}", utc(*start), utc(*end));
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// `Name (id)`, or the id alone for someone not in `[[people]]`.
fn who(oncall: &OnCall, id: &PersonId) -> String {
    match oncall.person(id) {
        Some(person) => format!("{} ({id})", person.name),
        None => id.to_string(),
    }
}

/// `start` (and `end`) in the person's own zone, `  (… Zone/Name)`; empty for someone not in
/// `[[people]]`.
fn local(
    oncall: &OnCall,
    id: &PersonId,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
) -> String {
    let Some(person) = oncall.person(id) else {
        return String::new();
    };
    let format = "%Y-%m-%d %H:%M %Z";
    let start = start.with_timezone(&person.zone).format(format);
    match end {
        Some(end) => format!(
            "  ({start} → {} {})",
            end.with_timezone(&person.zone).format(format),
            person.zone.name()
        ),
        None => format!(" ({start} {})", person.zone.name()),
    }
}

/// An instant in UTC, to the minute (seconds only when there are some).
fn utc(t: DateTime<Utc>) -> String {
    if t.timestamp() % 60 == 0 && t.timestamp_subsec_nanos() == 0 {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::config::Config;

    const CONFIG: &str = r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"

[[people]]
id = "alice"
name = "Alice Smith"
timezone = "Europe/London"
email = "alice@example.com"

[[people]]
id = "bob"
name = "Bob Jones"
timezone = "America/New_York"
sms = "+12125550123"

[[schedules]]
id = "primary"
name = "Primary"

[[schedules.layers]]
name = "Office"
timezone = "Europe/London"
start = "2026-11-02 09:00"
rotation = "daily"
participants = ["alice", "bob"]
restrictions = [{ days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }]
"#;

    #[test]
    fn lists_who_is_on_call_and_the_next_shifts_with_gaps() {
        let config = Config::parse(CONFIG).expect("valid");
        let at = parse_instant("2026-11-06T10:00:00Z").expect("valid");
        let text = listing(&config.oncall, at, 3);
        let expected = "\
Primary (primary)
  on call at 2026-11-06 10:00 UTC: Alice Smith (alice) (2026-11-06 10:00 GMT Europe/London)
  next 3 days:
    2026-11-06 10:00 UTC → 2026-11-06 17:00 UTC  Alice Smith (alice)  (2026-11-06 10:00 GMT → 2026-11-06 17:00 GMT Europe/London)
    2026-11-06 17:00 UTC → 2026-11-09 09:00 UTC  nobody (gap)
    2026-11-09 09:00 UTC → 2026-11-09 10:00 UTC  Bob Jones (bob)      (2026-11-09 04:00 EST → 2026-11-09 05:00 EST America/New_York)
";
        assert_eq!(text, expected);

        let gap = listing(
            &config.oncall,
            parse_instant("2026-11-07T12:00:00+01:00").expect("valid"),
            1,
        );
        assert!(
            gap.contains("on call at 2026-11-07 11:00 UTC: nobody (gap)\n  next 1 day:\n"),
            "{gap}"
        );
    }

    #[test]
    fn rejects_instants_that_are_not_rfc_3339() {
        for bad in ["2026-11-23 10:00", "yesterday", "2026-11-23T10:00:00"] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn says_when_there_are_no_schedules() {
        let at = parse_instant("2026-11-23T10:00:00Z").expect("valid");
        assert_eq!(
            listing(&shared::oncall::OnCall::default(), at, 7),
            "no [[schedules]] in this configuration\n"
        );
    }
}
