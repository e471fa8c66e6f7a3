//! What sitrep decided for one customer's post, recorded once, so that every later delivery
//! of that post follows the first decision instead of judging it again.
//!
//! Lambda delivers a stream record more than once: after a reported item failure every later
//! record of the batch comes again, bisection repeats halves, a timeout repeats the batch, and
//! all of it can happen an hour later, when the incident the post was answered under has been
//! resolved. Judging the post again then would see a different world (no incident, an older
//! post) and reach a different decision: a second public reply under a new claim, a handoff
//! for a post already answered. So the first judgement is written with a conditional create on
//! `DECISION#<platform>#<post id>` before anything is done about it, and every delivery of the
//! post (the first included) carries out the recorded decision. Carrying it out is idempotent
//! in every step: the reply job's claim, its place in the outbox, the handoff claim and the
//! response record each absorb a repetition. The result is **one reply per post, ever**,
//! whatever the order, delay or repetition of the records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::reply::template::Situation;
use crate::store::Key;

/// The decision about one post, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Not answered, and nobody needs to look.
    Ignore {
        /// Why, as a word.
        reason: String,
    },
    /// A person answers it.
    HandOff {
        /// Why, as a word.
        reason: String,
    },
    /// An earlier answer (in its thread) covers it.
    Covered {
        /// Why, as a word.
        reason: String,
    },
    /// sitrep answers it with the reply job at `job`, unless that job already answers
    /// another post of the same author about the same incident.
    Answer {
        /// The reply job's partition key.
        job_pk: String,
        /// The reply job's sort key.
        job_sk: String,
        /// What the reply is written for.
        situation: Situation,
        /// The incident it is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<String>,
        /// When the decision was made: the job's place in its outbox.
        decided_at: DateTime<Utc>,
        /// When the job's claim expires.
        job_expires_at: DateTime<Utc>,
        /// A person must look as well (the reply says one is), and why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        also_hand_off: Option<String>,
    },
}

impl Decision {
    /// The reply job's key, for an answer.
    pub fn job_key(&self) -> Option<Key> {
        match self {
            Decision::Answer { job_pk, job_sk, .. } => Some(Key::new(job_pk, job_sk)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_decision_reads_back_as_written() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let decisions = [
            Decision::Ignore {
                reason: "not_outage".into(),
            },
            Decision::HandOff {
                reason: "vip".into(),
            },
            Decision::Covered {
                reason: "thread_answered".into(),
            },
            Decision::Answer {
                job_pk: "REPLIED#x#42#inc-1".into(),
                job_sk: "JOB".into(),
                situation: Situation::AllClear,
                incident: None,
                decided_at: at,
                job_expires_at: at + chrono::TimeDelta::days(1),
                also_hand_off: Some("all_clear".into()),
            },
        ];
        for decision in decisions {
            let json = serde_json::to_value(&decision).unwrap();
            assert!(json.is_object(), "stored as an item's attributes");
            assert_eq!(serde_json::from_value::<Decision>(json).unwrap(), decision);
        }
        let answer = Decision::Answer {
            job_pk: "P".into(),
            job_sk: "S".into(),
            situation: Situation::Incident,
            incident: Some("i".into()),
            decided_at: at,
            job_expires_at: at,
            also_hand_off: None,
        };
        assert_eq!(answer.job_key(), Some(Key::new("P", "S")));
        assert_eq!(Decision::Ignore { reason: "x".into() }.job_key(), None);
    }
}
