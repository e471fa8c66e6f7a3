//! Flap damping and cross-region agreement.
//!
//! A check changes status only after enough consecutive results agree: `failure_threshold`
//! failures to go down (or that many slow results to become degraded), `success_threshold`
//! successes to come back. One blip never opens an incident and one good answer never
//! closes one. Each region keeps its own state; [`agree`] combines the regions that
//! reported recently by quorum.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::outcome::{Health, Outcome};
use crate::config::Quorum;

/// One region's damped view of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckState {
    /// The damped status.
    pub status: Health,
    /// When `status` began.
    pub since: DateTime<Utc>,
    /// Consecutive down results, up to now.
    pub consecutive_failures: u32,
    /// Consecutive up-or-degraded results, up to now.
    pub consecutive_successes: u32,
    /// Consecutive degraded results, up to now.
    pub consecutive_slow: u32,
    /// Consecutive up results, up to now.
    pub consecutive_fast: u32,
    /// The latest raw result.
    pub last: Outcome,
    /// The reason of the latest failing result, kept while the check is down.
    pub reason: Option<String>,
    /// The region this state belongs to.
    pub region: String,
}

/// How many consecutive results it takes to change status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Down (or degraded) results needed to enter that status.
    pub failure: u32,
    /// Good results needed to leave it.
    pub success: u32,
}

impl CheckState {
    /// Folds one more result into the state (`previous` is `None` for a check never seen,
    /// which starts as up: a new check must earn its way down like any other).
    pub fn advance(
        previous: Option<&CheckState>,
        outcome: Outcome,
        thresholds: Thresholds,
    ) -> CheckState {
        let (status, since, failures, successes, slow, fast, reason) = match previous {
            Some(p) => (
                p.status,
                p.since,
                p.consecutive_failures,
                p.consecutive_successes,
                p.consecutive_slow,
                p.consecutive_fast,
                p.reason.clone(),
            ),
            None => (Health::Up, outcome.at, 0, 0, 0, 0, None),
        };
        let (failures, successes) = match outcome.health {
            Health::Down => (failures.saturating_add(1), 0),
            Health::Up | Health::Degraded => (0, successes.saturating_add(1)),
        };
        let slow = if outcome.health == Health::Degraded {
            slow.saturating_add(1)
        } else {
            0
        };
        let fast = if outcome.health == Health::Up {
            fast.saturating_add(1)
        } else {
            0
        };

        let next = match (status, outcome.health) {
            (_, Health::Down) if failures >= thresholds.failure => Health::Down,
            (Health::Down, healthy)
                if healthy != Health::Down && successes >= thresholds.success =>
            {
                healthy
            }
            (Health::Up, Health::Degraded) if slow >= thresholds.failure => Health::Degraded,
            (Health::Degraded, Health::Up) if fast >= thresholds.success => Health::Up,
            (current, _) => current,
        };
        let reason = match next {
            Health::Up => None,
            _ if next != status || outcome.health == next => outcome.reason.clone().or(reason),
            _ => reason,
        };
        CheckState {
            since: if next == status { since } else { outcome.at },
            status: next,
            consecutive_failures: failures,
            consecutive_successes: successes,
            consecutive_slow: slow,
            consecutive_fast: fast,
            reason,
            region: outcome.region.clone(),
            last: outcome,
        }
    }
}

/// The status regions agree on, and the reason from a region that sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// The agreed status.
    pub status: Health,
    /// Why, from a region that sees that status.
    pub reason: Option<String>,
    /// How many regions counted.
    pub reporting: u32,
    /// How many of them see at least the agreed status.
    pub agreeing: u32,
}

/// Combines per-region states: only regions whose latest result is at most `freshness` old
/// count; a status wins when at least the quorum of them see it (or worse).
pub fn agree(
    states: &[CheckState],
    quorum: Quorum,
    freshness: Duration,
    now: DateTime<Utc>,
) -> Agreement {
    let fresh: Vec<&CheckState> = states
        .iter()
        .filter(|s| now - s.last.at <= freshness)
        .collect();
    let reporting = u32::try_from(fresh.len()).unwrap_or(u32::MAX);
    if reporting == 0 {
        return Agreement {
            status: Health::Up,
            reason: None,
            reporting,
            agreeing: 0,
        };
    }
    let required = quorum.required(reporting);
    for level in [Health::Down, Health::Degraded] {
        let seeing: Vec<&&CheckState> = fresh.iter().filter(|s| s.status >= level).collect();
        let agreeing = u32::try_from(seeing.len()).unwrap_or(u32::MAX);
        if agreeing >= required {
            let reason = seeing
                .iter()
                .find(|s| s.status == level)
                .or(seeing.first())
                .and_then(|s| s.reason.clone());
            let reason = match (reason, reporting) {
                (Some(reason), n) if n > 1 => {
                    Some(format!("{reason} (seen from {agreeing} of {n} regions)"))
                }
                (reason, _) => reason,
            };
            return Agreement {
                status: level,
                reason,
                reporting,
                agreeing,
            };
        }
    }
    Agreement {
        status: Health::Up,
        reason: None,
        reporting,
        agreeing: u32::try_from(fresh.iter().filter(|s| s.status == Health::Up).count())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const T: Thresholds = Thresholds {
        failure: 3,
        success: 2,
    };

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap() + Duration::minutes(minute)
    }

    fn result(health: Health, minute: i64, region: &str) -> Outcome {
        Outcome {
            health,
            reason: (health != Health::Up).then(|| format!("{health} at minute {minute}")),
            elapsed_ms: 10,
            at: at(minute),
            region: region.into(),
        }
    }

    fn run(sequence: &[Health]) -> Vec<Health> {
        let mut state: Option<CheckState> = None;
        sequence
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let next =
                    CheckState::advance(state.as_ref(), result(*h, i as i64, "eu-west-1"), T);
                let status = next.status;
                state = Some(next);
                status
            })
            .collect()
    }

    use Health::{Degraded as S, Down as D, Up as U};

    #[test]
    fn one_blip_never_goes_down() {
        assert_eq!(run(&[U, D, U, D, D, U]), vec![U; 6]);
    }

    #[test]
    fn goes_down_on_the_third_consecutive_failure() {
        assert_eq!(run(&[U, D, D, D, D]), vec![U, U, U, D, D]);
    }

    #[test]
    fn one_good_answer_never_recovers() {
        assert_eq!(run(&[D, D, D, U, D, U, U]), vec![U, U, D, D, D, D, U]);
    }

    #[test]
    fn recovers_to_degraded_when_the_good_answers_are_slow() {
        assert_eq!(run(&[D, D, D, S, S]), vec![U, U, D, D, S]);
    }

    #[test]
    fn degraded_needs_its_own_streak_and_leaves_with_fast_answers() {
        assert_eq!(run(&[S, S, U, S, S, S, U, U]), vec![U, U, U, U, U, S, S, U]);
    }

    #[test]
    fn since_marks_the_transition_and_reason_is_the_failure() {
        let mut state = None;
        for (i, h) in [U, D, D, D, D].iter().enumerate() {
            state = Some(CheckState::advance(
                state.as_ref(),
                result(*h, i as i64, "r"),
                T,
            ));
        }
        let state = state.unwrap();
        assert_eq!(state.status, D);
        assert_eq!(state.since, at(3));
        assert_eq!(state.reason.as_deref(), Some("down at minute 4"));
        let up = CheckState::advance(Some(&state), result(U, 5, "r"), T);
        let up = CheckState::advance(Some(&up), result(U, 6, "r"), T);
        assert_eq!((up.status, up.since, up.reason), (U, at(6), None));
    }

    fn state(status: Health, minute: i64, region: &str) -> CheckState {
        let mut s = CheckState::advance(None, result(status, minute, region), T);
        s.status = status;
        s.reason = (status != U).then(|| format!("{status} in {region}"));
        s
    }

    #[test]
    fn one_region_is_the_plain_rule() {
        let a = agree(
            &[state(D, 0, "a")],
            Quorum::Majority,
            Duration::minutes(5),
            at(1),
        );
        assert_eq!((a.status, a.reason.as_deref()), (D, Some("down in a")));
    }

    #[test]
    fn a_minority_of_regions_does_not_make_it_down() {
        let states = [state(D, 0, "a"), state(U, 0, "b"), state(U, 0, "c")];
        assert_eq!(
            agree(&states, Quorum::Majority, Duration::minutes(5), at(1)).status,
            U
        );
    }

    #[test]
    fn a_majority_makes_it_down_and_says_how_many() {
        let states = [state(D, 0, "a"), state(D, 0, "b"), state(U, 0, "c")];
        let a = agree(&states, Quorum::Majority, Duration::minutes(5), at(1));
        assert_eq!(a.status, D);
        assert_eq!(
            a.reason.as_deref(),
            Some("down in a (seen from 2 of 3 regions)")
        );
    }

    #[test]
    fn stale_regions_do_not_count() {
        // Region c last reported 10 minutes ago: only a and b count, and both agree.
        let states = [
            state(D, 9, "a"),
            state(D, 9, "b"),
            state(U, 0, "c"),
            state(U, 0, "d"),
        ];
        assert_eq!(
            agree(&states, Quorum::Majority, Duration::minutes(5), at(10)).status,
            D
        );
    }

    #[test]
    fn down_counts_towards_degraded() {
        let states = [state(D, 0, "a"), state(S, 0, "b"), state(U, 0, "c")];
        assert_eq!(
            agree(&states, Quorum::Majority, Duration::minutes(5), at(1)).status,
            S
        );
    }

    #[test]
    fn explicit_quorum_is_capped_by_the_regions_reporting() {
        let states = [state(D, 0, "a"), state(U, 0, "b")];
        assert_eq!(
            agree(&states, Quorum::AtLeast(1), Duration::minutes(5), at(1)).status,
            D
        );
        assert_eq!(
            agree(&states, Quorum::AtLeast(2), Duration::minutes(5), at(1)).status,
            U
        );
        assert_eq!(
            agree(
                &states[..1],
                Quorum::AtLeast(2),
                Duration::minutes(5),
                at(1)
            )
            .status,
            D
        );
    }
}
