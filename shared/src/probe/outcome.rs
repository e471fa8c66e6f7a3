//! One judged result: an [`Observation`] measured against a check's conditions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::observation::Observation;
use crate::config::Check;

/// The health a single result shows, and the status a check or component is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Every condition holds, in good time.
    Up,
    /// Every condition holds, but slower than `degraded_after`.
    Degraded,
    /// A condition failed, or the probe could not complete.
    Down,
}

impl Health {
    /// The word shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Degraded => "degraded",
            Health::Down => "down",
        }
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One judged result of one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Up, degraded or down.
    pub health: Health,
    /// Why it is not up, in words a person understands; `None` when up.
    pub reason: Option<String>,
    /// How long the probe took, in milliseconds.
    pub elapsed_ms: u64,
    /// When the probe ran.
    pub at: DateTime<Utc>,
    /// The region that probed.
    pub region: String,
}

/// Judges `observation` by every condition of `check`; the first failing condition's reason
/// is the outcome's reason (a transport error comes first of all).
pub fn judge(check: &Check, observation: &Observation, at: DateTime<Utc>, region: &str) -> Outcome {
    let elapsed_ms = u64::try_from(observation.elapsed.as_millis()).unwrap_or(u64::MAX);
    let outcome = |health, reason| Outcome {
        health,
        reason,
        elapsed_ms,
        at,
        region: region.to_owned(),
    };
    if let Some(error) = &observation.error {
        // A failed probe may still answer `[CONNECTED] == false`-style conditions; only
        // when every condition expects success is the transport error the verdict.
        let all_pass = check
            .conditions
            .iter()
            .all(|c| c.evaluate(observation, at).passed);
        if !all_pass {
            return outcome(Health::Down, Some(error.clone()));
        }
    }
    for condition in &check.conditions {
        let verdict = condition.evaluate(observation, at);
        if !verdict.passed {
            let reason = verdict
                .reason
                .unwrap_or_else(|| format!("condition `{condition}` failed"));
            return outcome(Health::Down, Some(reason));
        }
    }
    if let Some(limit) = check.degraded_after
        && observation.elapsed > limit
    {
        return outcome(
            Health::Degraded,
            Some(format!(
                "slow: {} answered in {} ms (degraded after {} ms)",
                observation.target,
                elapsed_ms,
                limit.as_millis()
            )),
        );
    }
    outcome(Health::Up, None)
}
