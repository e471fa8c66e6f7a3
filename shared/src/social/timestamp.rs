//! The one gate every time a platform sends passes through: post times, notification times
//! and rate-limit resets are accepted only within [`EARLIEST_YEAR`]..=[`LATEST_YEAR`].
//!
//! chrono reads dates as far out as the years -262143 and +262142, and sitrep adds windows
//! to the times it stores (the surge rules, the horizon, pauses): one such date from a
//! platform would make that arithmetic overflow and panic long after it was parsed. Every
//! parser of a platform's answer therefore reads times through this module, and a time
//! outside the range is treated as unreadable where it is read (the post is skipped as
//! malformed, a reset header is ignored), so the rest of sitrep only ever sees plausible
//! times and can add years to them safely.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Deserializer};

/// The earliest year a platform's time may fall in: older than any of the three platforms.
pub const EARLIEST_YEAR: i32 = 2000;

/// The latest year a platform's time may fall in: far beyond any real post or reset, far
/// within what chrono's arithmetic can hold.
pub const LATEST_YEAR: i32 = 2200;

/// `at`, when its year is within [`EARLIEST_YEAR`]..=[`LATEST_YEAR`].
pub fn plausible(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (EARLIEST_YEAR..=LATEST_YEAR)
        .contains(&at.year())
        .then_some(at)
}

/// An RFC 3339 time (any offset, read as UTC; chrono's reading, as serde's) within the
/// plausible range.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    text.trim()
        .parse::<DateTime<Utc>>()
        .ok()
        .and_then(plausible)
}

/// A Unix time in seconds within the plausible range.
pub fn from_unix_seconds(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single().and_then(plausible)
}

/// A Unix time in milliseconds within the plausible range.
pub fn from_unix_millis(millis: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .and_then(plausible)
}

/// Why a time field could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 time between the years {EARLIEST_YEAR} and {LATEST_YEAR}")]
pub struct Implausible(pub String);

/// Reads a required time field with serde: a string [`parse_rfc3339`] accepts.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_rfc3339(&text).ok_or_else(|| serde::de::Error::custom(Implausible(text)))
}

/// Reads an optional time field with serde: absent or `null` is `None`, anything else must
/// be a string [`parse_rfc3339`] accepts.
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) => parse_rfc3339(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(Implausible(text))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn chrono_reads_the_extreme_years_that_this_gate_refuses() {
        // What chrono (and so serde) reads, and why the gate exists: a window added to
        // such a date is out of chrono's range.
        for text in ["+262142-12-31T00:00:00Z", "-262143-01-01T00:00:00Z"] {
            let far: DateTime<Utc> = text.parse().unwrap();
            assert!(
                far.checked_add_signed(TimeDelta::days(1)).is_none()
                    || far.checked_sub_signed(TimeDelta::days(1)).is_none(),
                "{text}"
            );
        }
        for text in [
            "+262142-12-31T00:00:00Z",
            "-262143-01-01T00:00:00Z",
            "1999-12-31T23:59:59Z",
            "2201-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }

    #[test]
    fn times_within_the_range_are_read_in_utc() {
        let at = parse_rfc3339("2026-11-23T08:39:59.5+01:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-23T07:39:59.500+00:00");
        assert!(parse_rfc3339("2000-01-01T00:00:00Z").is_some());
        assert!(parse_rfc3339("2200-12-31T23:59:59Z").is_some());
        // Whatever is accepted leaves room for any window sitrep adds.
        let latest = parse_rfc3339("2200-12-31T23:59:59Z").unwrap();
        assert!(
            latest
                .checked_add_signed(TimeDelta::days(365 * 1000))
                .is_some()
        );
    }

    #[test]
    fn unix_times_are_held_to_the_same_range() {
        assert_eq!(
            from_unix_seconds(1_795_430_000).map(|at| at.timestamp()),
            Some(1_795_430_000)
        );
        assert_eq!(from_unix_seconds(0), None, "1970");
        assert_eq!(from_unix_seconds(8_210_266_876_799), None);
        assert_eq!(from_unix_seconds(i64::MAX), None);
        assert_eq!(from_unix_seconds(i64::MIN), None);
        assert!(from_unix_millis(1_795_430_000_000).is_some());
        assert_eq!(from_unix_millis(i64::MAX), None);
    }

    #[test]
    fn serde_fields_refuse_implausible_times() {
        #[derive(Deserialize)]
        struct Required {
            #[serde(deserialize_with = "deserialize")]
            at: DateTime<Utc>,
        }
        #[derive(Deserialize)]
        struct Optional {
            #[serde(default, deserialize_with = "deserialize_option")]
            at: Option<DateTime<Utc>>,
        }
        let read = |json: &str| serde_json::from_str::<Required>(json).map(|r| r.at);
        assert!(read(r#"{"at": "2026-11-23T10:00:00Z"}"#).is_ok());
        let error = read(r#"{"at": "+262142-01-01T00:00:00Z"}"#).unwrap_err();
        assert!(error.to_string().contains("2000 and 2200"), "{error}");
        assert!(read(r#"{"at": 5}"#).is_err());
        let read = |json: &str| serde_json::from_str::<Optional>(json).map(|r| r.at);
        assert_eq!(read("{}").unwrap(), None);
        assert_eq!(read(r#"{"at": null}"#).unwrap(), None);
        assert!(read(r#"{"at": "2026-11-23T10:00:00Z"}"#).unwrap().is_some());
        assert!(read(r#"{"at": "-262143-01-01T00:00:00Z"}"#).is_err());
    }
}
